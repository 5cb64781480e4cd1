"""Fixtures of the reliability suite: emulators of its own (faults, fuzzing, load, HTTPS), never the shared one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# lab, figures, fault_matrix; and the load driver, which lives with the benchmark that shares it
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "benchmarks")]

from lab import Lab  # noqa: E402


@pytest.fixture(scope="session")
def fault_lab(tmp_path_factory) -> Lab:
    """An emulator with fault injection on, and a session tuned to give up fast (see lab.py)."""
    lab = Lab.start(tmp_path_factory.mktemp("fault-lab"))
    yield lab
    lab.stop()


@pytest.fixture
def faults(fault_lab):
    """The fault lab's control endpoint, with every fault cleared again after the test."""
    yield fault_lab.control
    fault_lab.control.clear()
