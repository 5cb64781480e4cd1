"""Load on loopback: N concurrent clients x 20 mixed requests against a fresh emulator, every answer checked.

Run: .venv/bin/python benchmarks/bench_load.py [--clients 50]
Prints requests, errors, requests/s, p50/p99 latency (overall and per kind of request) and the emulator's
resident memory before and after a warm-up round and at the end. Exit status 1 on any error. The same
run is tests/reliability/test_load.py (see benchmarks/load.py for what each client does).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

from cocalc_magics.local_emulator import start_local_emulator
from load import run_load  # benchmarks/load.py, beside this script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch, \
            start_local_emulator(scratch, transition_delay=0.02, stderr=subprocess.DEVNULL) as emulator:
        report = run_load(emulator, clients=args.clients)
    print(report.summary())
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
