"""Fixtures shared by the whole suite: one real emulator process per test session."""

from __future__ import annotations

import pytest

from emulator_process import RunningEmulator, start_emulator
from secret_guard import places_holding_a_secret


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fail any test whose captured output, logs or failure text holds an API key the suite knows."""
    outcome = yield
    report = outcome.get_result()
    leaked_in = places_holding_a_secret(report)
    if leaked_in:
        report.outcome = "failed"
        report.longrepr = f"an API key appeared in: {', '.join(leaked_in)} (the key itself is not shown)"
        report.sections = [(name, content) for name, content in report.sections if name not in leaked_in]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> RunningEmulator:
    """A real emulator on 127.0.0.1 with two seeded accounts, shared by the tests of one run.

    Tests that need a project in a particular state create their own project, so they do not
    depend on the order in which other tests ran.
    """
    running = start_emulator(tmp_path_factory.mktemp("emulator-data"))
    yield running
    running.stop()
