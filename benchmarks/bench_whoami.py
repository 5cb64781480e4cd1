"""Median per-call latency of "who am I" against the local emulator: cocalc-magics vs raw requests vs curl.

Run: .venv/bin/python benchmarks/bench_whoami.py [--calls 200]
Goal: ours / raw keep-alive requests <= 1.10. curl is the documented way (a new process and connection per call).
"""

from __future__ import annotations

import argparse
import subprocess

import requests

from cocalc_magics import CoCalcSession
from cocalc_magics.local_emulator import start_local_emulator
from timing import interleaved_medians

WHOAMI = {"query": {"accounts": {"account_id": None, "email_address": None, "first_name": None, "last_name": None}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with start_local_emulator(stderr=subprocess.DEVNULL) as emulator:
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
        raw = requests.Session()
        url = f"{emulator.url}/api/v2/user-query"

        def raw_call():
            reply = raw.post(url, json=WHOAMI, auth=(emulator.api_key, ""), timeout=30)
            reply.raise_for_status()
            return reply.json()

        # The key goes to curl on stdin (-K -), not on its command line where `ps` would show it.
        curl_config = f'user = "{emulator.api_key}:"\n'

        def curl_call():
            subprocess.run(["curl", "-s", "-K", "-", "-H", "Content-Type: application/json", "-d",
                            '{"query":{"accounts":{"account_id":null,"email_address":null}}}', url],
                           input=curl_config, capture_output=True, text=True, check=True)

        assert session.whoami().account_id == raw_call()["query"]["accounts"]["account_id"]
        ours, plain, curl = (seconds * 1000 for seconds in
                             interleaved_medians([session.whoami, raw_call, curl_call], args.calls, warmup=10))
    print(f"whoami median over {args.calls} calls to the emulator:")
    print(f"  cocalc-magics session.whoami()   {ours:7.2f} ms")
    print(f"  raw requests.Session().post      {plain:7.2f} ms")
    print(f"  curl subprocess (documented way) {curl:7.2f} ms")
    print(f"  ours / raw = {ours / plain:.3f}  (goal <= 1.10)")
    print(f"  ours / curl = {ours / curl:.3f}")


if __name__ == "__main__":
    main()
