"""Fixtures of the reliability suite: emulators of its own (faults, fuzzing, load, HTTPS), never the shared one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "emulator")]  # lab, figures, fault_matrix; emulator_helpers

from emulator_helpers import Api  # noqa: E402
from lab import Lab  # noqa: E402


@pytest.fixture(scope="session")
def ada(emulator) -> Api:
    """The first seeded account of the shared emulator, as raw API calls."""
    return Api(emulator.url, emulator.api_key)


@pytest.fixture(scope="session")
def grace(emulator) -> Api:
    """The second seeded account (owns none of ada's projects)."""
    return Api(emulator.url, emulator.second["api_key"])


@pytest.fixture(scope="session")
def anonymous(emulator) -> Api:
    return Api(emulator.url, None)


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
