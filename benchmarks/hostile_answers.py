"""Seconds and peak memory of one client call against a hostile local server (issue 8, items 10 and 11).

Run: .venv/bin/python benchmarks/hostile_answers.py [--tree DIR]
Each scenario runs in a fresh Python process (so its peak RSS is its own) with the cocalc_magics found in
DIR (default: this checkout), e.g. a `git archive` of an older commit to get the "before" figures. A process
is killed after --limit seconds and reported as such; the gzip bomb and 200 MB JSON are the issue's cases.

Measured 2026-12-02 (2 shared cores; whoami, timeout 2 s, 2 retries, backoff 0.5 s):
    scenario          before (c956466)                         after
    trickle (body)    91.7 s (the test server's own 30 s cap   7.5 s, CoCalcTimeoutError
                      per connection ended each attempt)
    trickle (headers) 30.1 s, "not JSON"                       7.5 s, CoCalcTimeoutError
    gzip bomb 2 GiB   50.5 s, peak RSS 8269 MB                 0.2 s, peak RSS 97 MB, AnswerTooLargeError
    JSON 200 MB       2.0 s, peak RSS 689 MB                   0.0 s, peak RSS 66 MB, AnswerTooLargeError
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import hostile_server as hs
from cocalc_magics import CoCalcSession
scenario = sys.argv[3]
behaviour = {"trickle": hs.trickle(), "trickle-headers": hs.trickle(headers_too=True),
             "gzip-bomb": hs.gzip_bomb(2048), "json-200MB": hs.huge_json(200)}[scenario]
with hs.HostileServer(behaviour) as server:
    session = CoCalcSession(api_key="sk-" + "B3nchm4rkK3y" + "000000", host=server.url,
                            config_file="/nonexistent.toml", timeout=2, backoff=0.5)
    started = time.monotonic()
    try:
        session.whoami()
        outcome = "answered"
    except BaseException as error:
        outcome = f"{type(error).__name__}: {str(error)[:90]}"
    elapsed = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": round(elapsed, 1), "peak_rss_mb": round(peak), "outcome": outcome}))
"""


def run(tree: Path, scenario: str, limit: float) -> dict:
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(ROOT / "tests" / "reliability"), scenario],
                              capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"seconds": f">{limit:g}", "peak_rss_mb": "?", "outcome": "still waiting, killed"}
    if done.returncode != 0:
        return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mb": "?",
                "outcome": f"process died ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="directory holding the cocalc_magics to measure")
    parser.add_argument("--limit", type=float, default=120.0, help="kill a scenario after this many seconds")
    parser.add_argument("scenarios", nargs="*", default=["trickle", "trickle-headers", "gzip-bomb", "json-200MB"])
    args = parser.parse_args()
    for scenario in args.scenarios:
        figures = run(args.tree.resolve(), scenario, args.limit)
        print(f"{scenario:16} {figures['seconds']:>7} s  peak RSS {figures['peak_rss_mb']:>5} MB  {figures['outcome']}")


if __name__ == "__main__":
    main()
