"""Benchmark 4's Python column: client CPU and wall time per token fetch with authlib + httpx,
the stack Rapidata's own Python SDK uses, against the same local token server and in the same two
modes as bench/c/fetch_cost.c (one client kept alive; a new client, so a new connection, per
fetch). CPU is this process's getrusage, so the server's is not counted. Imports and one warm-up
fetch per mode happen before the clock starts.

    python fetch_cost.py URL CA_FILE N RESULTS.jsonl
"""

import json
import resource
import sys
import time

import authlib
import httpx
from authlib.integrations.httpx_client import OAuth2Client


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def client(ca):
    return OAuth2Client("bench-client", "bench-secret", scope="openid roles email", verify=ca)


def fetch(c, url):
    tok = c.fetch_token(url, grant_type="client_credentials")
    assert tok["access_token"]


def measure(n, once):
    once()  # warm-up
    c0, t0 = cpu_s(), time.perf_counter()
    for _ in range(n):
        once()
    return (cpu_s() - c0) / n * 1e6, (time.perf_counter() - t0) / n * 1e6


def main():
    url, ca, n, results = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    impl = f"Python authlib {authlib.__version__} + httpx {httpx.__version__}"
    kept = client(ca)

    def new_client():
        with client(ca) as c:
            fetch(c, url)

    for mode, once in (("kept-alive", lambda: fetch(kept, url)), ("new connection", new_client)):
        cpu_us, wall_us = measure(n, once)
        print(f"  {impl:22} {mode:14} {cpu_us:9.1f} us CPU  {wall_us:9.1f} us wall  per fetch ({n} fetches)")
        with open(results, "a") as f:
            f.write(json.dumps({"bench": "fetch_cost", "impl": impl, "mode": mode, "fetches": n,
                                "cpu_us": round(cpu_us, 2), "wall_us": round(wall_us, 2)}) + "\n")


if __name__ == "__main__":
    main()
