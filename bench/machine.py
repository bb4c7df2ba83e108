"""Writes what a benchmark run ran on to a JSON file: CPU, cores, kernel, load average (other
work on the machine skews every number), tool versions and the commit.

    python3 bench/machine.py OUT.json
"""

import json
import os
import platform
import subprocess
import sys


def run(*cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not found"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main():
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "commit": run("git", "rev-parse", "--short", "HEAD") + (" (with local changes)" if dirty.strip() else ""),
        "versions": {
            "rustc": run("rustc", "--version"),
            "cc": run("cc", "--version"),
            "go": run("go", "version"),
            "python": run("python3", "--version"),
            "curl": run("curl", "--version"),
            "mono": run("mono", "--version"),
        },
    }
    with open(sys.argv[1], "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
