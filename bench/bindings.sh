#!/usr/bin/env bash
# Benchmark 5: runs the bindings' own warm-path benchmarks (bindings/go bench_test.go,
# bindings/cpp/bench, bindings/csharp/Rapidata.Raptoken.Bench, written with each binding) under
# one OIDC test server, and saves each one's raw output as OUT_DIR/{go,cpp,csharp}.txt for
# bench/report.py. A binding whose benchmark is not in the tree gets "not landed" instead.
# Usage: bench/bindings.sh OUT_DIR   (after scripts/build.sh; BENCH_QUICK=1 for a short run)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=${BENCH_QUICK:-0}; [ "$quick" = 0 ] && quick=

if [ "${1:-}" != --with-server ]; then
  out=$(mkdir -p "${1:?usage: bindings.sh OUT_DIR}" && cd "$1" && pwd)
  rm -f "$out"/go.txt "$out"/cpp.txt "$out"/csharp.txt
  build="$root/target/bench/bindings"; mkdir -p "$build"
  # C++: the binding's CMake project, benchmark target only, optimized.
  if [ -f bindings/cpp/bench/token_bench.cpp ]; then
    { cmake -S bindings/cpp -B "$build/cpp" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
      cmake --build "$build/cpp" --target token_bench >/dev/null; } || echo "build failed" >"$out/cpp.txt"
  else
    echo "not landed" >"$out/cpp.txt"
  fi
  # C#: the library's sources (the csproj's Compile glob) and the benchmark, with mcs as in 50-csharp.
  if [ -d bindings/csharp/Rapidata.Raptoken.Bench ] && ls bindings/csharp/Rapidata.Raptoken.Bench/*.cs >/dev/null 2>&1; then
    mapfile -t lib < <(find bindings/csharp/Rapidata.Raptoken -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
    { mcs -langversion:7.2 -nologo -optimize+ -target:library -r:System.Net.Http.dll \
        -out:"$build/Rapidata.Raptoken.dll" "${lib[@]}" &&
      mcs -langversion:7.2 -nologo -optimize+ -target:exe -r:"$build/Rapidata.Raptoken.dll" \
        -out:"$build/bench.exe" bindings/csharp/Rapidata.Raptoken.Bench/*.cs; } >/dev/null ||
      echo "build failed" >"$out/csharp.txt"
  else
    echo "not landed" >"$out/csharp.txt"
  fi
  [ -f bindings/go/bench_test.go ] || echo "not landed" >"$out/go.txt"
  exec testing/with-oidc-server.sh bash "$0" --with-server "$out" "$build"
fi

out=$2 build=$3
if [ ! -s "$out/go.txt" ]; then
  echo "--- Go: go test -bench BenchmarkToken (bindings/go)"
  (cd bindings/go && timeout 300 go test -count=1 -run '^$' -bench BenchmarkToken -benchmem \
     ${quick:+-benchtime=2000x} .) 2>&1 | tee "$out/go.txt"
fi
if [ ! -s "$out/cpp.txt" ]; then
  echo "--- C++: token_bench (bindings/cpp/bench)"
  timeout 120 "$build/cpp/bench/token_bench" ${quick:+20000} 2>&1 | tee "$out/cpp.txt"
fi
if [ ! -s "$out/csharp.txt" ]; then
  echo "--- C#: bench.exe on Mono (bindings/csharp/Rapidata.Raptoken.Bench)"
  LD_LIBRARY_PATH="$root/target/release" timeout 120 mono "$build/bench.exe" ${quick:+0.05} 2>&1 | tee "$out/csharp.txt"
fi
exit 0
