"""The credentials file, both ways, against Rapidata's own Python SDK (PyPI `rapidata`, installed
by scripts/setup.d/60-python-sdk.sh) and the test server's login bridge:

1. `raptoken login` writes (into a file the SDK already holds another environment in); the
   SDK's CredentialManager reads the new entry and the old one, and rewrites the file as it
   does on every use; `raptoken token` with no arguments still works after that.
2. The SDK stores a client (`_store_credential`); `raptoken token` with no arguments uses it.
3. The SDK's own browser login (`get_client_credentials`); `raptoken token` uses the client it
   created; `raptoken logout --client-id` removes one entry and the SDK still reads the file.

Run: testing/with-oidc-server.sh target/python-sdk/bin/python tests/python/sdk_compat.py RAPTOKEN
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ["RAPIDATA_DISABLE_OTLP"] = "1"  # the SDK must not try to send telemetry
RAPTOKEN = sys.argv[1]
ISSUER = os.environ["RAPTOKEN_TEST_ISSUER"]
CA = os.environ["RAPTOKEN_TEST_CA_FILE"]
ADMIN = os.environ["RAPTOKEN_TEST_ADMIN"]
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        sys.exit(f"sdk_compat: FAILED: {what}")


def admin(path):
    with urllib.request.urlopen(urllib.request.Request(ADMIN + path, data=b"", method="POST"), timeout=10) as r:
        return json.load(r)


def raptoken(home, *args, env=None):
    e = {"PATH": os.environ["PATH"], "HOME": home, "RAPIDATA_ISSUER": ISSUER, "RAPIDATA_CA_FILE": CA}
    e.update(env or {})
    return subprocess.run([RAPTOKEN, *args], env=e, capture_output=True, text=True, timeout=60)


def use_home(home):
    # The SDK finds the file through Path.home(), which reads HOME.
    os.environ["HOME"] = home
    from rapidata.service.credential_manager import CredentialManager

    return CredentialManager


def file_of(home):
    return Path(home) / ".config" / "rapidata" / "credentials.json"


def main():
    from rapidata.service.credential_manager import ClientCredential

    now = datetime.now(timezone.utc)

    # 1. raptoken login writes, the SDK reads.
    home = tempfile.mkdtemp(prefix="raptoken-sdk-")
    CredentialManager = use_home(home)
    other = CredentialManager(endpoint="https://auth.rabbitdata.ch")
    other._store_credential(ClientCredential(display_name="ci - Python API Client", client_id="r-1", client_secret="rabbit-secret",
                                             endpoint="https://auth.rabbitdata.ch", created_at=now, last_used=now))
    admin("/login/auto?after=1")  # one 202, then approved
    out = raptoken(home, "login", "--no-browser")
    check(out.returncode == 0, f"raptoken login: {out.stdout}{out.stderr}")
    cm = CredentialManager(endpoint=ISSUER, cert_path=CA)
    stored = cm.stored_credential()
    check(stored is not None, "the SDK finds the entry raptoken login wrote")
    raw = json.loads(file_of(home).read_text())[ISSUER][0]
    check(stored.client_id == raw["client_id"] and stored.client_id in out.stdout, "the SDK reads the same client id")
    check(stored.display_name.endswith(" - raptoken") and stored.endpoint == ISSUER, f"display name and endpoint: {stored}")
    check(stored.created_at.tzinfo is not None and abs(stored.last_used - datetime.now(timezone.utc)) < timedelta(minutes=5),
          f"timestamps the SDK parses as aware UTC: {stored.created_at!r} {stored.last_used!r}")
    check(other.stored_credential().client_id == "r-1", "the other environment is kept, readable by the SDK")
    # The SDK rewrites the file on every use (last_used); raptoken reads its rewrite.
    check(cm.get_client_credentials().client_id == stored.client_id, "the SDK uses the stored client without a new login")
    out = raptoken(home, "token")
    check(out.returncode == 0 and len(out.stdout.strip()) > 10, f"raptoken token after the SDK's rewrite: {out.stderr}")

    # 2. The SDK stores a client, raptoken uses it (newest last_used wins in both).
    cm._store_credential(ClientCredential(display_name="sdk - Python API Client", client_id="basic-45", client_secret="secret-basic-45",
                                          endpoint=ISSUER, created_at=now, last_used=now + timedelta(hours=1)))
    out = raptoken(home, "check")
    check(out.returncode == 0 and "client id basic-45" in out.stdout, f"raptoken check uses the SDK's newest entry: {out.stdout}")
    check(cm.stored_credential().client_id == "basic-45", "the SDK agrees on the newest entry")

    # 3. The SDK's own browser login, then raptoken.
    home2 = tempfile.mkdtemp(prefix="raptoken-sdk-")
    CredentialManager = use_home(home2)
    os.environ["BROWSER"] = "true"  # webbrowser.open runs `true URL`: nothing opens
    admin("/login/auto?after=0")
    cm2 = CredentialManager(endpoint=ISSUER, cert_path=CA, poll_timeout=60)
    created = cm2.get_client_credentials()
    check(created is not None and created.client_id, "the SDK's own login created a client")
    out = raptoken(home2, "check")
    check(out.returncode == 0 and f"client id {created.client_id}" in out.stdout and "Python API Client" in out.stdout,
          f"raptoken uses the client the SDK's login stored: {out.stdout}")
    out = raptoken(home2, "login", "--no-browser")
    check(out.returncode == 0, f"a second login, by raptoken: {out.stderr}")
    newest = cm2.stored_credential()
    check(newest.client_id != created.client_id and newest.display_name.endswith(" - raptoken"), "the SDK now picks raptoken's newer entry")
    out = raptoken(home2, "logout", "--client-id", created.client_id)
    check(out.returncode == 0 and created.client_id in out.stdout, f"raptoken logout --client-id: {out.stdout}{out.stderr}")
    left = json.loads(file_of(home2).read_text())[ISSUER]
    check([e["client_id"] for e in left] == [newest.client_id], f"only that entry was removed: {left}")
    check(cm2.stored_credential().client_id == newest.client_id, "the SDK still reads the file after the logout")
    admin("/login/auto?after=off")
    print(f"sdk_compat: {checks} checks passed (rapidata {__import__('importlib.metadata').metadata.version('rapidata')})")


if __name__ == "__main__":
    main()
