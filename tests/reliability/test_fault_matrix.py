"""Injected faults at every entry point: one line naming the problem, in time, safe retries, then recovery.

The table of faults x entry points lands in test-output/reliability/faults.txt (and
``benchmarks/fault_table.py`` prints it).
"""

from __future__ import annotations

import time

import pytest

from fault_matrix import format_table, run_matrix, start_labs
from figures import write_figure
from magics_helpers import ip  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """One fault-injecting emulator per group of the matrix, so the groups can run side by side."""
    started = start_labs(tmp_path_factory.mktemp)
    yield started
    for lab in started.values():
        lab.stop()


def test_every_fault_at_every_entry_point_is_one_line_in_time_and_then_recovers(labs, ip):  # noqa: F811
    started = time.monotonic()
    cells = run_matrix(labs, ip)
    write_figure("faults", format_table(cells, time.monotonic() - started))
    failed = [cell.describe() for cell in cells if not cell.passed]
    assert not failed, f"{len(failed)} of {len(cells)} cells failed:\n" + "\n".join(failed)
