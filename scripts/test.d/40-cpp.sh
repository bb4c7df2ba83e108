#!/usr/bin/env bash
# C++ binding (bindings/cpp) and the C/C++ examples:
#  - header hygiene: no macros but the include guard, no `using namespace`, warning-free
#    under g++ and clang++; the README example is the file the tests build;
#  - GoogleTest via ctest against the real OIDC server, built twice: g++, and clang++ with
#    -fsanitize=address,undefined and leak detection;
#  - scripts/install.sh into a temporary prefix, then a consumer project via
#    find_package(raptoken), a C program via pkg-config, and both examples against the server;
#  - the warm-path benchmark (numbers only).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

bash scripts/build.sh

cpp=bindings/cpp
out=target/cpp
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 2)

echo "--- header hygiene"
if grep -n 'using namespace' "$cpp/include/raptoken.hpp"; then
  echo "raptoken.hpp must not contain 'using namespace'"; exit 1
fi
# Every macro raptoken.hpp defines beyond raptoken.h and the standard headers it includes.
std_headers=$(sed -n 's/^#include \(<[a-z_]*>\)$/#include \1/p' "$cpp/include/raptoken.hpp" | grep -v raptoken)
macros() { g++ -std=c++17 -dM -E -x c++ -Iinclude -I"$cpp/include" - | sort; }
leaked=$(comm -13 <(printf '%s\n#include <raptoken.h>\n' "$std_headers" | macros) \
                  <(printf '%s\n#include <raptoken.hpp>\n' "$std_headers" | macros))
if [ "$leaked" != "#define RAPTOKEN_HPP " ]; then
  echo "raptoken.hpp defines macros besides its include guard:"; echo "$leaked"; exit 1
fi
for cxx in g++ clang++; do
  for std in c++17 c++20; do
    echo '#include <raptoken.hpp>' | $cxx -std=$std -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion \
      -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor -Iinclude -I"$cpp/include" -fsyntax-only -x c++ -
  done
done
# The README's first example is the program the tests build and run.
if ! diff <(awk '/^```cpp$/{f=1; next} f && /^```$/{exit} f' "$cpp/README.md") "$cpp/tests/readme_example.cpp"; then
  echo "the example in $cpp/README.md differs from $cpp/tests/readme_example.cpp"; exit 1
fi
echo "ok"

echo "--- build: g++ and clang++ with address,undefined sanitizers"
cmake -S "$cpp" -B "$out/gcc" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build "$out/gcc" -j "$jobs"
cmake -S "$cpp" -B "$out/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRAPTOKEN_CPP_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$out/asan" -j "$jobs"

echo "--- install into a temporary prefix; build the consumer and the examples from it"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
bash scripts/install.sh "$prefix" >/dev/null
# The version file: 0.x minors are separate ABIs (separate SONAMEs).
version=$(sed -n 's/^#define RAPTOKEN_VERSION "\(.*\)"/\1/p' include/raptoken.h)
IFS=. read -r vmaj vmin _ <<<"$version"
printf '%s\n' "include(\"$prefix/lib/cmake/raptoken/raptokenConfigVersion.cmake\")" \
  'message("${PACKAGE_VERSION_COMPATIBLE}")' >"$tmp/version-check.cmake"
check_version() {  # check_version REQUESTED EXPECTED_COMPATIBLE
  local got
  got=$(cmake -DPACKAGE_FIND_VERSION="$1" -DPACKAGE_FIND_VERSION_MAJOR="$(cut -d. -f1 <<<"$1")" \
    -DPACKAGE_FIND_VERSION_MINOR="$(cut -d. -f2 <<<"$1")" -P "$tmp/version-check.cmake" 2>&1)
  [ "$got" = "$2" ] || { echo "find_package(raptoken $1) against $version: compatible=$got, want $2"; exit 1; }
}
check_version "$vmaj.$vmin" TRUE
check_version "$version" TRUE
check_version "$vmaj.$((vmin + 1))" FALSE
check_version "$((vmaj + 1)).0" FALSE

cmake -S "$cpp/tests/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_INSTALL_PREFIX="$tmp/consumer-installed" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
cmake --install "$tmp/consumer" >/dev/null  # run the installed copy: its runtime path comes from the package

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists raptoken
# shellcheck disable=SC2046  # word splitting of pkg-config output is intended
cc -std=c11 -Wall -Wextra -Werror -Wpedantic $(pkg-config --cflags raptoken) "$cpp/tests/consumer/consumer.c" \
  $(pkg-config --libs raptoken) -o "$tmp/consumer_c_pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags raptoken libcurl) examples/c/call_api.c \
  $(pkg-config --libs raptoken libcurl) -o "$tmp/call_api_c"
cmake -S examples/cpp -B "$tmp/example-cpp" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/example-cpp" >/dev/null

echo "--- tests (g++)"
testing/with-oidc-server.sh testing/with-jwt-clients.sh testing/with-redis.sh ctest --test-dir "$out/gcc" -j "$jobs" --output-on-failure

echo "--- tests (clang++, -fsanitize=address,undefined, leak detection on)"
# A sanitizer report fails the test (UBSan aborts, LeakSanitizer exits non-zero at exit).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  testing/with-oidc-server.sh testing/with-jwt-clients.sh testing/with-redis.sh ctest --test-dir "$out/asan" -j "$jobs" --output-on-failure

echo "--- installed package, pkg-config, examples, benchmark"
testing/with-oidc-server.sh bash "$cpp/tests/run_installed.sh" "$tmp/consumer-installed/bin" \
  "$tmp/consumer_c_pkgconfig" "$tmp/call_api_c" "$tmp/example-cpp/call_api" "$out/gcc/bench/token_bench"
