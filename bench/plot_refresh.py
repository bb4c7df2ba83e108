"""Draws benchmark 2: per-call latency over time across a token renewal that the server answers
in 200 ms, raptoken beside golang.org/x/oauth2's ReuseTokenSource. Each line is the slowest (or mean)
call of the callers that did not renew, per 5 ms (from the CSVs of bench/c/under_refresh.c and
bench/go/cmd/refresh); time 0 is when the renewal starts.

    python plot_refresh.py RAPTOKEN.csv OAUTH2.csv OUT.png
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


BIN_MS = 5  # the CSVs have 1 ms buckets; 5 ms keeps the lines readable


def load(path):
    """(start ms, slowest us, mean us) per BIN_MS bin."""
    bins = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            b = bins.setdefault(int(r["ms"]) // BIN_MS * BIN_MS, [0, 0.0, 0])
            calls = int(r["calls"])
            b[0], b[1], b[2] = b[0] + calls, b[1] + float(r["mean_ns"]) * calls, max(b[2], int(r["max_ns"]))
    ms = sorted(bins)
    return ms, [bins[m][2] / 1000.0 for m in ms], [bins[m][1] / bins[m][0] / 1000.0 for m in ms]


def main():
    raptoken, oauth2, out = sys.argv[1:4]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    for path, label, color in ((oauth2, "Go oauth2.ReuseTokenSource", "tab:red"), (raptoken, "raptoken (C ABI)", "tab:blue")):
        ms, mx, mean = load(path)
        ax.step(ms, mx, where="post", color=color, lw=1.0, label=f"{label}: slowest call per {BIN_MS} ms")
        ax.step(ms, mean, where="post", color=color, lw=0.8, ls=":", label=f"{label}: mean per {BIN_MS} ms")
    ax.axvspan(0, 200, color="0.9", zorder=0, label="renewal in flight (server answers in 200 ms)")
    ax.set_yscale("log")
    ax.set_xlim(-300, 800)
    ax.set_xlabel("ms since the renewal started")
    ax.set_ylabel("latency of a token call (us, log)")
    ax.set_title("Token calls of the other callers while one caller renews (4 callers, one call each per 100 us)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
