#!/usr/bin/env bash
# The README's examples must stay true: the C++ one is the file the GoogleTest build compiles
# and runs, the Go and C# ones must compile against the bindings as shown. (The C one is
# compiled and run by suite 20-c.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/build.sh >/dev/null
out=target/readme
rm -rf "$out" && mkdir -p "$out/go"
block() { awk -v h="$1" -v l="$2" '$0==h{f=1;next} f&&$0=="```"l{p=1;next} p&&/^```$/{exit} p' README.md; }

block '### C++ (`bindings/cpp`, header-only, `find_package(raptoken)` → `raptoken::cpp`)' cpp > "$out/example.cpp"
diff -u bindings/cpp/tests/readme_example.cpp "$out/example.cpp" \
  || { echo "README's C++ example differs from bindings/cpp/tests/readme_example.cpp (the compiled one)"; exit 1; }
echo "README C++ example: identical to the tested file"

block '### Go (`bindings/go`: replaces a `clientcredentials.Config` in two lines)' go > "$out/go/main.go"
sed "s#=> ../../bindings/go#=> $root/bindings/go#; s#examples/go#readme/go#" examples/go/go.mod > "$out/go/go.mod"
cp examples/go/go.sum "$out/go/go.sum"
(cd "$out/go" && go vet . && go build -o example .) || { echo "README's Go example does not build"; exit 1; }
echo "README Go example: builds"

block '### C# (`bindings/csharp`, netstandard2.0; built and tested here with Mono)' csharp > "$out/Example.cs"
mcs -langversion:7.2 -nologo -target:library -r:System.Net.Http.dll -out:"$out/Rapidata.Raptoken.dll" \
  bindings/csharp/Rapidata.Raptoken/*.cs
mcs -langversion:7.2 -nologo -warnaserror+ -target:exe -r:"$out/Rapidata.Raptoken.dll" -r:System.Net.Http.dll \
  -out:"$out/example.exe" "$out/Example.cs" || { echo "README's C# example does not compile"; exit 1; }
echo "README C# example: compiles"
echo "readme: 3 passed, 0 failed"
