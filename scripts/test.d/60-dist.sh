#!/usr/bin/env bash
# The release artifacts (`make dist`), installed the way each ecosystem installs things, from a
# temporary directory outside the checkout, offline, each program getting a token from the real
# OIDC test server:
#  - listings of the archive, the Go module zip and the .nupkg against the expected layout;
#    sizes; SHA256SUMS; one version everywhere; no absolute build path; no debug info or
#    bitcode in libraptoken.a; no RPATH in the packaged libraptoken.so;
#  - archive: extracted elsewhere, a C program with only PKG_CONFIG_PATH (shared, run with
#    LD_LIBRARY_PATH unset; static via raptoken-static, ldd shows no libraptoken), C++ and a
#    static C program with only CMAKE_PREFIX_PATH, bin/raptoken;
#  - Go: PATH without cargo or rustc, `go get` from the GOPROXY=file:// directory, go build, run;
#    again from `go mod vendor` with -mod=vendor and an empty module cache; -tags raptoken_system
#    through pkg-config against the extracted archive (go vet and a run);
#  - NuGet: `nuget install` from a folder feed; an app built by xbuild (mcs) the way a
#    packages.config project imports the package (build/net462 targets, lib/net462 reference);
#    run on Mono with no LD_LIBRARY_PATH.
# Negative controls: each must fail for the right reason (no PKG_CONFIG_PATH; the archive's .so
# moved away; the native library missing from the C# app, with the binding's message).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ "${1:-}" != --with-server ]; then
  bash scripts/dist.sh
  exec testing/with-oidc-server.sh timeout 600 bash "$0" --with-server
fi

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=$(rustc -vV | sed -n 's/^host: //p')
goplat=$(go env GOOS)_$(go env GOARCH)
name=raptoken-$version-$target
modpath=github.com/rapidata/raptoken-go

tmp=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-dist.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# Users have the artifacts, not the checkout: copy them out first and use only the copies.
cp -r target/dist "$tmp/dist"
dist=$tmp/dist
mkdir -p "$tmp/src" "$tmp/home"
cp examples/c/call_api.c examples/go/main.go "$tmp/src/"
cp -r examples/cpp "$tmp/src/cpp"
cd "$tmp"

passed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { echo "FAIL $*"; echo "dist: $passed passed, 1 failed"; exit 1; }
# expect NAME REGEX CMD...: CMD succeeds and prints a line matching REGEX.
expect() {
  local what=$1 regex=$2 out
  shift 2
  local rc=0
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" = 0 ] || { echo "$out"; fail "$what: exit status $rc"; }
  grep -Eq "$regex" <<<"$out" || { echo "$out"; fail "$what: no line matching /$regex/"; }
  ok "$what"
}
# refuse NAME REGEX CMD...: CMD fails and its output matches REGEX (a negative control).
refuse() {
  local what=$1 regex=$2 out
  shift 2
  if out=$("$@" 2>&1); then echo "$out"; fail "$what: succeeded, must fail"; fi
  grep -Eq "$regex" <<<"$out" || { echo "$out"; fail "$what: failed, but without /$regex/"; }
  ok "$what (fails as it must)"
}
# Credentials and server for the programs, through the library's variables only.
as_client() {
  local id=$1
  shift
  env -u RAPIDATA_TOKEN_FILE -u RAPIDATA_CREDENTIALS_FILE -u RAPIDATA_SHARED_CACHE RAPIDATA_CLIENT_ID="$id" RAPIDATA_CLIENT_SECRET="secret-$id" RAPIDATA_ISSUER="$RAPTOKEN_TEST_ISSUER" \
    RAPIDATA_CA_FILE="$RAPTOKEN_TEST_CA_FILE" SSL_CERT_FILE="$RAPTOKEN_TEST_CA_FILE" \
    RAPTOKEN_EXAMPLE_API="$RAPTOKEN_TEST_API" "$@"
}
# loads_archive_so BIN: BIN's libraptoken.so resolves (rpath) to the extracted archive's.
loads_archive_so() {
  local so
  so=$(ldd "$1" | awk '/libraptoken\.so/ { print $3 }')
  [ -n "$so" ] && [ "$(realpath "$so")" = "$x/lib/libraptoken.so.$version" ] ||
    { ldd "$1"; fail "$1 does not load $x/lib/libraptoken.so.$version"; }
}
kb() { echo "$(( $(stat -c %s "$1") / 1024 )) KB"; }
token_line='^token: [^ .]{8}\.\.\. \('

echo "--- listings, sizes, checksums, versions"
expected_tar=$(sed "s|^|$name/|" <<EOF
LICENSE
README.md
bin/
bin/raptoken
include/
include/raptoken.h
include/raptoken.hpp
lib/
lib/cmake/
lib/cmake/raptoken/
lib/cmake/raptoken/raptokenConfig.cmake
lib/cmake/raptoken/raptokenConfigVersion.cmake
lib/libraptoken.a
lib/libraptoken.so
lib/libraptoken.so.${version%.*}
lib/libraptoken.so.$version
lib/pkgconfig/
lib/pkgconfig/raptoken-static.pc
lib/pkgconfig/raptoken.pc
EOF
)
expected_tar=$(printf '%s/\n%s\n' "$name" "$expected_tar")
diff <(echo "$expected_tar") <(tar -tzf "$dist/$name.tar.gz") || fail "tar -tzf $name.tar.gz differs from the expected layout"
ok "tar -tzf $name.tar.gz: the expected $(wc -l <<<"$expected_tar") entries"

expected_nupkg="LICENSE
Rapidata.Raptoken.nuspec
[Content_Types].xml
_rels/.rels
build/net462/Rapidata.Raptoken.targets
buildTransitive/net462/Rapidata.Raptoken.targets
lib/net462/Rapidata.Raptoken.dll
lib/net462/Rapidata.Raptoken.dll.config
lib/net462/Rapidata.Raptoken.xml
package/services/metadata/core-properties/*.psmdcp
runtimes/linux-x64/native/libraptoken.so"
nupkg=$dist/Rapidata.Raptoken.$version.nupkg
diff <(echo "$expected_nupkg") <(unzip -Z1 "$nupkg" | sed 's|core-properties/.*\.psmdcp$|core-properties/*.psmdcp|' | LC_ALL=C sort) ||
  fail "unzip -l Rapidata.Raptoken.$version.nupkg differs from the expected layout"
ok "unzip -l Rapidata.Raptoken.$version.nupkg: the expected $(wc -l <<<"$expected_nupkg") entries"

gozip=$dist/goproxy/$modpath/@v/v$version.zip
prefix="$modpath@v$version/"
# The module: the binding's non-test sources but link_dev.go (they come from bindings/go, which
# others extend), plus what the generator adds.
expected_go=$( (cd "$root/bindings/go" && ls ./*.go | sed 's|^\./||' | grep -v '_test\.go$' | grep -vx link_dev.go
  printf '%s\n' LICENSE README.md go.mod go.sum include/keep.go include/raptoken.h keep.go \
    "lib/$goplat/keep.go" "lib/$goplat/libraptoken.a" link_static.go platform.go) | LC_ALL=C sort)
diff <(echo "$expected_go") <(unzip -Z1 "$gozip" | sed "s|^$prefix||" | LC_ALL=C sort) ||
  fail "unzip -l v$version.zip differs from the expected module layout"
ok "unzip -l $modpath@v$version.zip: $(wc -l <<<"$expected_go") files, no tests, no link_dev.go, no vendor/"

(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the artifacts"
[ "$(wc -l <"$dist/SHA256SUMS")" = 3 ] || fail "SHA256SUMS should list the archive, the module zip and the package"
ok "sha256sum -c SHA256SUMS (archive, Go module zip, nupkg)"

mkdir -p "$tmp/opt" "$tmp/nupkg" "$tmp/gozip"
tar -xzf "$dist/$name.tar.gz" -C "$tmp/opt"
x=$tmp/opt/$name
unzip -q "$nupkg" -d "$tmp/nupkg"
unzip -q "$gozip" -d "$tmp/gozip"
golib=$tmp/gozip/$prefix/lib/$goplat/libraptoken.a

echo "  sizes:"
echo "    $name.tar.gz                $(kb "$dist/$name.tar.gz")"
echo "      lib/libraptoken.a                 $(kb "$x/lib/libraptoken.a") (unstripped in target/release: $(kb "$root/target/release/libraptoken.a"))"
echo "      lib/libraptoken.so.$version          $(kb "$x/lib/libraptoken.so.$version") (unstripped: $(kb "$root/target/release/libraptoken.so"))"
echo "      bin/raptoken                      $(kb "$x/bin/raptoken")"
echo "    Rapidata.Raptoken.$version.nupkg    $(kb "$nupkg")"
echo "    $modpath@v$version.zip  $(kb "$gozip")"
echo "      lib/$goplat/libraptoken.a        $(kb "$golib")"
(( $(stat -c %s "$golib") <= 15 * 1024 * 1024 )) || fail "the Go module's $goplat archive is over the 15 MB budget"
ok "the Go module's $goplat archive is within 15 MB"

# Neither debug info nor LLVM bitcode in the static archives.
for a in "$x/lib/libraptoken.a" "$golib"; do
  sections=$(size -A "$a" | awk '{print $1}' | sort -u)
  if grep -Eq '^\.(debug_|llvmbc|llvmcmd)' <<<"$sections"; then fail "$a still has debug or bitcode sections"; fi
done
grep -q '^\.text' <<<"$sections" || fail "size -A read no sections from the archive"
ok "libraptoken.a (archive and Go module): no .debug_*, .llvmbc or .llvmcmd sections"

packaged_so=$tmp/nupkg/runtimes/linux-x64/native/libraptoken.so
if readelf -d "$packaged_so" | grep -qE 'R(UN)?PATH'; then fail "the packaged libraptoken.so has an RPATH"; fi
readelf -d "$packaged_so" | grep "SONAME.*libraptoken.so.${version%.*}" >/dev/null || fail "the packaged libraptoken.so lacks its SONAME"
ok "runtimes/linux-x64/native/libraptoken.so: SONAME, no RPATH/RUNPATH"

# Nothing may name the checkout (or where make dist staged): everything is relocatable.
if grep -rlF -e "$root" "$x" "$tmp/nupkg" "$tmp/gozip" "$dist/goproxy"; then fail "the files above contain the build path $root"; fi
ok "no file in the archive, the package or the module contains $root"

# One version, from Cargo.toml, everywhere.
versions=(
  "archive name:$(sed -E 's/^raptoken-([^-]+)-.*/\1/' <<<"$name")"
  "raptoken.pc:$(sed -n 's/^Version: //p' "$x/lib/pkgconfig/raptoken.pc")"
  "raptoken-static.pc:$(sed -n 's/^Version: //p' "$x/lib/pkgconfig/raptoken-static.pc")"
  "CMake package:$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")/\1/p' "$x/lib/cmake/raptoken/raptokenConfigVersion.cmake")"
  "raptoken.h:$(sed -n 's/^#define RAPTOKEN_VERSION "\(.*\)"/\1/p' "$x/include/raptoken.h")"
  "bin/raptoken --version:$("$x/bin/raptoken" --version | sed 's/^raptoken //')"
  "Go module list:$(sed 's/^v//' "$dist/goproxy/$modpath/@v/list")"
  "Go module .info:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Version"][1:])' "$dist/goproxy/$modpath/@v/v$version.info")"
  "nuspec:$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$tmp/nupkg/Rapidata.Raptoken.nuspec")"
)
for v in "${versions[@]}"; do
  [ "${v#*:}" = "$version" ] || fail "version mismatch: ${v%%:*} says '${v#*:}', Cargo.toml $version"
done
ok "version $version in the archive name, both .pc files, the CMake package, the header, the CLI, the Go module and the nuspec"

echo "--- archive: C with pkg-config, C/C++ with CMake, the CLI (extracted to $x)"
export PKG_CONFIG_PATH=$x/lib/pkgconfig
refuse "pkg-config without PKG_CONFIG_PATH" "raptoken.*not found|No package 'raptoken' found" \
  env -u PKG_CONFIG_PATH pkg-config --cflags --libs raptoken
cc_flags=(-std=c11 -Wall -Wextra -Werror)
# shellcheck disable=SC2046  # pkg-config output is meant to be split
cc "${cc_flags[@]}" $(pkg-config --cflags raptoken libcurl) src/call_api.c $(pkg-config --libs raptoken libcurl) -o c_shared
loads_archive_so c_shared
expect "C, shared (pkg-config raptoken), LD_LIBRARY_PATH unset: token, API 200" "$token_line" \
  as_client basic-60 env -u LD_LIBRARY_PATH ./c_shared
# shellcheck disable=SC2046
cc "${cc_flags[@]}" $(pkg-config --cflags raptoken-static libcurl) src/call_api.c \
  $(pkg-config --libs --static raptoken-static) $(pkg-config --libs libcurl) -o c_static
if ldd c_static | grep -q libraptoken; then ldd c_static; fail "c_static depends on libraptoken.so"; fi
expect "C, static (pkg-config --static raptoken-static), ldd shows no libraptoken" "$token_line" \
  as_client basic-61 env -u LD_LIBRARY_PATH ./c_static

cmake -S src/cpp -B cpp -G Ninja -DCMAKE_PREFIX_PATH="$x" >cmake.log 2>&1 || { cat cmake.log; fail "cmake (examples/cpp)"; }
cmake --build cpp >>cmake.log 2>&1 || { cat cmake.log; fail "cmake --build (examples/cpp)"; }
expect "C++ (find_package, raptoken::cpp): token, API 200" "$token_line" as_client basic-62 env -u LD_LIBRARY_PATH cpp/call_api
mkdir -p src/cstatic
cp src/call_api.c src/cstatic/
cat >src/cstatic/CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(raptoken_static_consumer LANGUAGES C)
find_package(raptoken CONFIG REQUIRED)
find_package(CURL REQUIRED)
add_executable(call_api call_api.c)
target_link_libraries(call_api PRIVATE raptoken::static CURL::libcurl)
EOF
cmake -S src/cstatic -B cstatic -G Ninja -DCMAKE_PREFIX_PATH="$x" >cmake.log 2>&1 || { cat cmake.log; fail "cmake (raptoken::static)"; }
cmake --build cstatic >>cmake.log 2>&1 || { cat cmake.log; fail "cmake --build (raptoken::static)"; }
if ldd cstatic/call_api | grep -q libraptoken; then fail "the raptoken::static program depends on libraptoken.so"; fi
expect "C (find_package, raptoken::static), no libraptoken.so needed" "$token_line" as_client basic-63 cstatic/call_api
expect "bin/raptoken token" '^[^ ]{20,}$' as_client basic-59 "$x/bin/raptoken" token

# The shared programs really use the extracted library: without it they cannot start.
mv "$x/lib/libraptoken.so.$version" "$x/lib/moved-away"
refuse "C, shared, with the archive's libraptoken.so moved away" "libraptoken.so.${version%.*}" ./c_shared
refuse "C++, with the archive's libraptoken.so moved away" "libraptoken.so.${version%.*}" cpp/call_api
mv "$x/lib/moved-away" "$x/lib/libraptoken.so.$version"

echo "--- Go: go get from GOPROXY=file://, no Rust toolchain on PATH"
go_bin=$(dirname "$(command -v go)")
gopath_dirs="$go_bin:/usr/local/bin:/usr/bin:/bin"
if PATH=$gopath_dirs command -v cargo >/dev/null || PATH=$gopath_dirs command -v rustc >/dev/null; then
  fail "cargo or rustc is on $gopath_dirs: cannot test the Go install without a Rust toolchain"
fi
warm_modcache=$(go env GOMODCACHE)
# The build cache stays shared (it is keyed by content; the module's path is new on every run).
gocache=$(go env GOCACHE)
mkdir -p gomod-empty
# A fresh module cache: the module really comes from the proxy directory. golang.org/x/oauth2,
# which the binding requires, comes from the machine's module cache (a proxy layout too).
go_env=(env -u CARGO_HOME -u RUSTUP_HOME PATH="$gopath_dirs" HOME="$tmp/home" GOCACHE="$gocache" GOMODCACHE="$tmp/gomod"
  GOFLAGS=-modcacherw GOPROXY="file://$dist/goproxy,file://$warm_modcache/cache/download" GOSUMDB=off
  GOTOOLCHAIN=local CGO_ENABLED=1)
# goin CMD...: CMD in the consumer module, in that environment.
goin() { (cd "$tmp/goapp" && "${go_env[@]}" "$@"); }
mkdir -p goapp
cp src/main.go goapp/
{ goin go mod init example.com/consumer && goin go get "$modpath@v$version" && goin go mod tidy &&
  goin go build -o ../go_app .; } >goget.log 2>&1 || { cat goget.log; fail "go get $modpath@v$version && go build"; }
grep -q "^require $modpath v$version\$\|^	$modpath v$version\$" goapp/go.mod || { cat goapp/go.mod; fail "go.mod does not require $modpath v$version"; }
if ldd go_app | grep -q libraptoken; then fail "the Go program depends on libraptoken.so"; fi
expect "Go: go get $modpath@v$version, go build, run: token, API 200" "$token_line" \
  as_client basic-58 env -u LD_LIBRARY_PATH ./go_app
expect "Go: the program prints the expiry" '^expires: [0-9]{4}-[0-9]{2}-[0-9]{2}T' as_client basic-57 ./go_app

# The build tag that marks platforms without an archive.
expect "Go: platform.go is off on $goplat" 'platform\.go' goin go list -f '{{.IgnoredGoFiles}}' "$modpath"
expect "Go: platform.go is on for darwin/arm64 (no archive in this build)" 'platform\.go' \
  goin env GOOS=darwin GOARCH=arm64 go list -f '{{.GoFiles}}' "$modpath"

echo "--- Go: -tags raptoken_system through pkg-config (the extracted archive)"
refuse "go vet -tags raptoken_system without PKG_CONFIG_PATH" "raptoken.*not found" \
  goin env -u PKG_CONFIG_PATH go vet -tags raptoken_system .
expect "go vet -tags raptoken_system with PKG_CONFIG_PATH=<archive>/lib/pkgconfig" '' \
  goin env PKG_CONFIG_PATH="$x/lib/pkgconfig" go vet -tags raptoken_system .
goin env PKG_CONFIG_PATH="$x/lib/pkgconfig" go build -tags raptoken_system -o ../go_system . >gosys.log 2>&1 ||
  { cat gosys.log; fail "go build -tags raptoken_system"; }
loads_archive_so go_system
expect "Go -tags raptoken_system: links the archive's libraptoken.so, token" "$token_line" \
  as_client basic-56 env -u LD_LIBRARY_PATH ./go_system

echo "--- Go: go mod vendor, then -mod=vendor with an empty module cache and no proxy"
goin go mod vendor >govendor.log 2>&1 || { cat govendor.log; fail "go mod vendor"; }
for f in include/raptoken.h "lib/$goplat/libraptoken.a" link_static.go; do
  [ -f "goapp/vendor/$modpath/$f" ] || fail "go mod vendor dropped $f (the keep files should keep it)"
done
goin env GOMODCACHE="$tmp/gomod-empty" GOPROXY=off GOFLAGS=-mod=vendor go build -o ../go_vendored . >govendor.log 2>&1 || { cat govendor.log; fail "go build -mod=vendor"; }
expect "Go, vendored (-mod=vendor, GOPROXY=off, empty module cache): token" "$token_line" \
  as_client basic-55 env -u LD_LIBRARY_PATH ./go_vendored

echo "--- Go: a release with another platform's archive (RAPTOKEN_GO_ARCHIVES)"
# The generator as a release runs it, with an archive made elsewhere (a stand-in copy here: only
# where it lands and what the generated files say is under test).
other=$([ "$goplat" = linux_arm64 ] && echo linux_amd64 || echo linux_arm64)
mkdir -p "extra/$other" "extra/$goplat"
cp "$golib" "extra/$other/libraptoken.a"
echo "not an archive" >"extra/$goplat/libraptoken.a"  # this platform's must come from this build
RAPTOKEN_GO_ARCHIVES=$tmp/extra bash "$root/scripts/dist/go-module.sh" "$version" "$golib" "$tmp/multi" "$tmp/multi-proxy" \
  >multi.log 2>&1 || { cat multi.log; fail "go-module.sh with RAPTOKEN_GO_ARCHIVES"; }
cmp -s "$golib" "multi/lib/$goplat/libraptoken.a" || fail "RAPTOKEN_GO_ARCHIVES replaced this platform's archive"
unzip -Z1 "multi-proxy/$modpath/@v/v$version.zip" | grep -x "$prefix""lib/$other/libraptoken.a" >/dev/null ||
  fail "the module zip lacks lib/$other/libraptoken.a"
grep -q "\"$modpath/lib/$other\"" multi/keep.go || fail "keep.go does not keep lib/$other"
expect "Go: with lib/$other added, keep.go keeps it and platform.go is off for ${other/_//}" 'platform\.go' \
  env -C multi GOOS="${other%_*}" GOARCH="${other#*_}" CGO_ENABLED=1 GOFLAGS=-mod=mod go list -f '{{.IgnoredGoFiles}}' .

echo "--- NuGet: nuget install from a folder feed, an xbuild (mcs) app, Mono"
mkdir -p feed nuget-home
cp "$nupkg" feed/
HOME=$tmp/nuget-home XDG_CONFIG_HOME=$tmp/nuget-home/.config nuget install Rapidata.Raptoken -Version "$version" \
  -Source "$tmp/feed" -OutputDirectory packages -NonInteractive >nuget.log 2>&1 || { cat nuget.log; fail "nuget install"; }
pkgdir=packages/Rapidata.Raptoken.$version
[ -f "$pkgdir/lib/net462/Rapidata.Raptoken.dll" ] || { find packages; fail "nuget install: no lib/net462/Rapidata.Raptoken.dll"; }
cmp -s "$pkgdir/build/net462/Rapidata.Raptoken.targets" "$pkgdir/buildTransitive/net462/Rapidata.Raptoken.targets" ||
  fail "build/ and buildTransitive/ targets differ"
ok "nuget install Rapidata.Raptoken $version -Source <folder feed>"
mkdir -p csapp
cat >csapp/Program.cs <<'EOF'
using System;
using Rapidata.Raptoken;

static class Program
{
    static int Main()
    {
        Console.WriteLine("raptoken " + RaptokenClient.NativeVersion);
        using (var client = RaptokenClient.FromEnvironment())
        {
            var token = client.GetToken();
            Console.WriteLine("token: " + token.Substring(0, Math.Min(8, token.Length)) + "... (" + token.Length + " characters)");
        }
        return 0;
    }
}
EOF
# A project as packages.config-era NuGet writes it for Mono and .NET Framework: a reference to
# lib/net462 and an Import of build/net462/<id>.targets. Debian's Mono has no reference-assembly
# packs, so TargetFrameworkDirectory (on the command line: a global property wins over the one
# the framework targets compute) points xbuild at Mono's own class libraries.
cat >csapp/app.csproj <<EOF
<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="4.0" DefaultTargets="Build" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <AssemblyName>app</AssemblyName>
    <TargetFrameworkVersion>v4.6.2</TargetFrameworkVersion>
    <OutputPath>bin/</OutputPath>
  </PropertyGroup>
  <ItemGroup>
    <Reference Include="System" />
    <Reference Include="Rapidata.Raptoken"><HintPath>../$pkgdir/lib/net462/Rapidata.Raptoken.dll</HintPath></Reference>
    <Compile Include="Program.cs" />
  </ItemGroup>
  <Import Project="\$(MSBuildToolsPath)/Microsoft.CSharp.targets" />
  <Import Project="../$pkgdir/build/net462/Rapidata.Raptoken.targets" />
</Project>
EOF
(cd csapp && HOME=$tmp/home xbuild /nologo /v:minimal /p:TargetFrameworkDirectory=/usr/lib/mono/4.5/ app.csproj >../xbuild.log 2>&1) || { cat xbuild.log; fail "xbuild app.csproj"; }
for f in app.exe Rapidata.Raptoken.dll Rapidata.Raptoken.dll.config libraptoken.so; do
  [ -f "csapp/bin/$f" ] || { ls -la csapp/bin; fail "the build output lacks $f (the package's targets file copies it)"; }
done
ok "xbuild: app.exe next to Rapidata.Raptoken.dll, its .dll.config and libraptoken.so (from the package's targets)"
cs_env=(env -u LD_LIBRARY_PATH -u MONO_PATH HOME="$tmp/home")
expect "C#: the app on Mono, LD_LIBRARY_PATH unset: token" '^token: [^ .]{8}\.\.\. \(' \
  as_client basic-54 "${cs_env[@]}" mono csapp/bin/app.exe
expect "C#: the version the app loaded" "^raptoken $version\$" as_client basic-53 "${cs_env[@]}" mono csapp/bin/app.exe
# Mono's loader log: the dllmap turns DllImport("raptoken") into libraptoken.so (without it Mono
# would try "raptoken" first), found next to the app.
mono_log=(MONO_LOG_LEVEL=debug MONO_LOG_MASK=dll mono csapp/bin/app.exe)
expect "C#: Mono applies the package's dllmap (raptoken -> libraptoken.so)" \
  "DllImport attempting to load: 'libraptoken.so'" as_client basic-52 "${cs_env[@]}" "${mono_log[@]}"
expect "C#: Mono loads the libraptoken.so next to the app" \
  "DllImport loaded library '$tmp/csapp/bin/libraptoken.so'" as_client basic-50 "${cs_env[@]}" "${mono_log[@]}"
rm csapp/bin/libraptoken.so
refuse "C#: the app without libraptoken.so: the binding's message, not a bare DllNotFoundException" \
  "DllNotFoundException: raptoken: the native library libraptoken.so could not be loaded.*Rapidata.Raptoken NuGet package" \
  as_client basic-51 "${cs_env[@]}" mono csapp/bin/app.exe

echo "dist: $passed passed, 0 failed"
