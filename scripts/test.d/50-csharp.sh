#!/usr/bin/env bash
# C#: builds bindings/csharp/Rapidata.Raptoken with Mono's mcs (C# 7.2, the subset that also
# builds for netstandard2.0), runs its NUnit 2.6 tests against the real OIDC test server, and
# compiles and runs examples/csharp as a user would. Prints "N passed, N failed" from the NUnit
# XML and fails on any failed, errored or skipped test.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cs=bindings/csharp
out=target/csharp

# Second stage, under testing/with-oidc-server.sh: see the bottom of this file.
if [ "${1:-}" = "--with-server" ]; then
  shift
  in_server=1
else
  in_server=0
fi

if [ "$in_server" = 0 ]; then
  bash scripts/build.sh
  rm -rf "$out" && mkdir -p "$out"

  # The csproj uses the SDK's default globbing (every .cs under its folder); compiling that whole
  # folder here is what keeps it honest, so it must not add, remove or turn off Compile items.
  csproj=$cs/Rapidata.Raptoken/Rapidata.Raptoken.csproj
  if grep -Eq '<Compile[ >]|EnableDefaultCompileItems|EnableDefaultItems' "$csproj"; then
    echo "$csproj must rely on default Compile globbing (this script compiles the whole folder)"
    exit 1
  fi
  cargo_version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
  csproj_version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$csproj")
  if [ "$csproj_version" != "$cargo_version" ]; then
    echo "$csproj has Version $csproj_version, Cargo.toml $cargo_version"
    exit 1
  fi
  mapfile -t lib_sources < <(find "$cs/Rapidata.Raptoken" -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
  echo "csharp: compiling ${#lib_sources[@]} library sources (the csproj's Compile glob)"

  nunit_dll=$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll | head -n 1)
  mcs_flags=(-langversion:7.2 -warnaserror+ -nologo -debug)
  mcs "${mcs_flags[@]}" -target:library -doc:"$out/Rapidata.Raptoken.xml" -r:System.Net.Http.dll \
    -out:"$out/Rapidata.Raptoken.dll" "${lib_sources[@]}"
  # The README's complete files (its csharp blocks that open with a using directive): the tests
  # compile them as they stand and use them (the TokenCredential adapter runs against the stub
  # Azure.Core in Rapidata.Raptoken.Tests/AzureCoreStub.cs).
  python3 - "$cs/README.md" "$out/readme" <<'EOF'
import os, re, sys
text = open(sys.argv[1]).read()
os.makedirs(sys.argv[2], exist_ok=True)
blocks = [b for b in re.findall(r"^```csharp\n(.*?)^```$", text, re.S | re.M) if re.match(r"using [A-Z][\w.]*;\n", b)]
if len(blocks) < 2:
    sys.exit("bindings/csharp/README.md: expected the usage example and the TokenCredential adapter as complete files")
for i, b in enumerate(blocks):
    open(os.path.join(sys.argv[2], f"ReadmeBlock{i}.cs"), "w").write(b)
print(f"csharp: {len(blocks)} README blocks compiled with the tests")
EOF
  # The tests also check the example's CA validation, so they compile its CustomCa.cs.
  mcs "${mcs_flags[@]}" -target:library -r:"$out/Rapidata.Raptoken.dll" -r:"$nunit_dll" -r:System.Net.Http.dll \
    -out:"$out/Rapidata.Raptoken.Tests.dll" $cs/Rapidata.Raptoken.Tests/*.cs examples/csharp/CustomCa.cs "$out"/readme/*.cs
  mcs "${mcs_flags[@]}" -target:exe -r:"$out/Rapidata.Raptoken.dll" -r:System.Net.Http.dll \
    -out:"$out/example.exe" examples/csharp/*.cs
  mcs "${mcs_flags[@]}" -optimize+ -target:exe -r:"$out/Rapidata.Raptoken.dll" \
    -out:"$out/bench.exe" $cs/Rapidata.Raptoken.Bench/*.cs
  cp "$nunit_dll" "$out/"
  # For LogCallbackTests: a pthread the runtime did not create fetches, so the log callback is
  # entered from a foreign thread.
  cc -shared -fPIC -O2 -Wall -Werror -Iinclude -o "$out/libraptoken_cs_native_thread.so" \
    $cs/testing/native-thread.c -Ltarget/release -lraptoken -lpthread

  exec testing/with-oidc-server.sh testing/with-jwt-clients.sh testing/with-redis.sh timeout 240 bash "$0" --with-server
fi

# --- with the OIDC test server up ------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/raptoken-cs.XXXXXX")
front_pid=""
cleanup() {
  if [ -n "$front_pid" ]; then
    kill "$front_pid" 2>/dev/null || true
    wait "$front_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export LD_LIBRARY_PATH="$root/target/release:$root/$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Mono's HttpClient cannot check an ECDSA chain from a private CA (its managed X509Chain has no
# ECDSA), and the test server's certificates are ECDSA: the C# HttpClient calls reach the API
# through an RSA front (testing/rsa-front.mjs). libraptoken itself talks to the server directly.
cat >"$work/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
(
  cd "$work"
  openssl req -x509 -config openssl.cnf -newkey rsa:2048 -nodes -keyout front-ca-key.pem \
    -subj "/O=raptoken tests/CN=raptoken C# front CA" -extensions v3_ca -days 2 -out front-ca.pem
  openssl req -new -config openssl.cnf -newkey rsa:2048 -nodes -keyout front-key.pem \
    -subj "/O=raptoken tests/CN=localhost" -out front.csr
  openssl x509 -req -in front.csr -CA front-ca.pem -CAkey front-ca-key.pem -set_serial 0x5a17 -days 2 \
    -extfile openssl.cnf -extensions v3_server -out front.pem
) 2>/dev/null
upstream=$(node -e 'const u = new URL(process.argv[1]); console.log(u.origin)' "$RAPTOKEN_TEST_API")
mkfifo "$work/front-stdin"
exec {front_in}<>"$work/front-stdin"
node $cs/testing/rsa-front.mjs "$work/front.pem" "$work/front-key.pem" "$upstream" "$RAPTOKEN_TEST_CA_FILE" \
  <"$work/front-stdin" >"$work/front-port" &
front_pid=$!
for _ in $(seq 100); do
  [ -s "$work/front-port" ] && break
  sleep 0.05
done
front_port=$(head -n 1 "$work/front-port")
[ -n "$front_port" ] || { echo "csharp: the RSA front did not start"; exit 1; }
api_path=$(node -e 'const u = new URL(process.argv[1]); console.log(u.pathname)' "$RAPTOKEN_TEST_API")
export RAPTOKEN_CS_FRONT_API="https://localhost:$front_port$api_path"
export RAPTOKEN_CS_FRONT_CA_FILE="$work/front-ca.pem"
cat "$RAPTOKEN_TEST_CA_FILE" "$work/front-ca.pem" >"$work/ca-bundle.pem"

# NUnit, with no credentials in the environment and an empty HOME (the NoCredentials test), but
# with the issuer and CA in RAPIDATA_* (the id+secret constructor test).
mkdir -p "$work/home"
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
nunit_status=0
env -u RAPIDATA_CLIENT_ID -u RAPIDATA_CLIENT_SECRET -u RAPIDATA_ENVIRONMENT -u RAPIDATA_TOKEN_ENDPOINT \
    -u RAPIDATA_SCOPE -u RAPIDATA_CREDENTIALS_FILE -u RAPIDATA_AUTH_METHOD -u RAPIDATA_TOKEN_FILE \
    -u RAPIDATA_SHARED_CACHE \
    HOME="$work/home" RAPIDATA_ISSUER="$RAPTOKEN_TEST_ISSUER" RAPIDATA_CA_FILE="$RAPTOKEN_TEST_CA_FILE" \
    RAPTOKEN_EXPECTED_VERSION="$version" \
  timeout 180 nunit-console -nologo -noshadow -xml="$out/TestResult.xml" "$out/Rapidata.Raptoken.Tests.dll" \
  >"$out/nunit.log" 2>&1 || nunit_status=$?

# The plain summary line CI reads, from the XML; a skipped or not-run test counts as failed.
summary_status=0
python3 - "$out/TestResult.xml" <<'EOF' || summary_status=$?
import sys, xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("test-case")
except (OSError, ET.ParseError) as e:
    print(f"no NUnit result: {e}"); print("0 passed, 1 failed"); sys.exit(1)
passed, failed = [], []
for c in cases:
    ok = c.get("executed") == "True" and c.get("success") == "True"
    (passed if ok else failed).append(c)
for c in failed:
    msg = c.findtext("failure/message") or c.findtext("reason/message") or c.get("result")
    print(f"FAILED {c.get('name')}: {(msg or '').strip()}")
print(f"{len(passed)} passed, {len(failed)} failed")
sys.exit(1 if failed or not passed else 0)
EOF
if [ "$nunit_status" != 0 ] || [ "$summary_status" != 0 ]; then
  cat "$out/nunit.log"
  echo "csharp: NUnit failed (exit $nunit_status)"
  exit 1
fi

# The example, as a user runs it: credentials and server from the environment.
example_out=$(env -u RAPIDATA_TOKEN_FILE -u RAPIDATA_SHARED_CACHE RAPIDATA_CLIENT_ID=demo-client RAPIDATA_CLIENT_SECRET=demo-secret \
  RAPIDATA_ISSUER="$RAPTOKEN_TEST_ISSUER" RAPIDATA_CA_FILE="$work/ca-bundle.pem" \
  RAPTOKEN_EXAMPLE_API="$RAPTOKEN_CS_FRONT_API" timeout 60 mono "$out/example.exe" 2>&1) || {
  echo "$example_out"; echo "csharp: the example failed"; exit 1; }
echo "$example_out"
grep -Eq '^GET .*: 200 ' <<<"$example_out" || { echo "csharp: the example did not get 200"; exit 1; }
grep -Eq '^token: [^ ]{8}\.\.\.$' <<<"$example_out" || { echo "csharp: the example must print 8 token characters"; exit 1; }
grep -Eq '^expires: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$example_out" ||
  { echo "csharp: the example must print the expiry as ISO 8601 UTC"; exit 1; }

# The benchmark, briefly, so it keeps building and running (numbers: see bindings/csharp/README.md).
RAPTOKEN_BENCH_CLIENT=basic-63 RAPTOKEN_BENCH_SECRET=secret-basic-63 timeout 60 mono "$out/bench.exe" 0.2
