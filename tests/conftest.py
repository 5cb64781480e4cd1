"""Fixtures shared by the whole suite: one real emulator process per test session."""

from __future__ import annotations

import pytest

from emulator_process import RunningEmulator, start_emulator


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> RunningEmulator:
    """A real emulator on 127.0.0.1 with two seeded accounts, shared by the tests of one run.

    Tests that need a project in a particular state create their own project, so they do not
    depend on the order in which other tests ran.
    """
    running = start_emulator(tmp_path_factory.mktemp("emulator-data"))
    yield running
    running.stop()
