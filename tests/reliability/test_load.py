"""A bounded load on loopback: 50 concurrent clients x 20 mixed requests against an emulator of its own.

No errors, no lost or mixed-up state, and the emulator's memory stays flat after a warm-up. The figures
(requests/s, p50/p99 latency, RSS) land in test-output/reliability/load.txt; benchmarks/bench_load.py
prints the same.
"""

from __future__ import annotations

import subprocess

import pytest

from figures import write_figure
from lab import start_test_emulator
from load import REQUESTS_PER_CLIENT, run_load

CLIENTS = 50
MAX_GROWTH_MIB = 30


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    running = start_test_emulator(tmp_path_factory.mktemp("load-emulator"), transition_delay=0.02,
                                  stderr=subprocess.DEVNULL)  # 2,000 access-log lines are no figure
    report = run_load(running, clients=CLIENTS)
    alive = running.process.poll() is None
    running.stop()
    write_figure("load", report.summary())
    return report, alive


def test_every_request_of_every_client_is_answered_correctly(loaded):
    report, alive = loaded
    assert alive, "the emulator died under load"
    assert report.errors == [], "\n".join(report.errors[:20])
    assert report.requests == CLIENTS * REQUESTS_PER_CLIENT


def test_the_emulators_memory_stays_flat_after_the_warm_up(loaded):
    report, _ = loaded
    assert report.growth_mib < MAX_GROWTH_MIB, report.summary()


def test_no_request_waits_anywhere_near_a_timeout(loaded):
    report, _ = loaded
    assert report.percentile(0.99) < 10.0, report.summary()
