"""Fixtures shared by the whole suite: one real emulator process per test session."""

from __future__ import annotations

import pytest

from cocalc_magics import CoCalcSession
from emulator_helpers import Api
from emulator_process import RunningEmulator, seeded_session, start_emulator

# The suite-wide secret guard: any test that lets a known API key out (output, logs, failure text, exception
# texts, widget state, saved notebooks) fails. Its hooks live in secret_guard.py.
from secret_guard import pytest_configure, pytest_runtest_makereport, pytest_runtest_protocol  # noqa: F401

# What `make check` (the edit loop's fast tier, `-m "not slow"`, about a minute) leaves out: real browsers,
# the reliability suite (faults, fuzzing, load, attacks), whole kernels and notebooks, package builds,
# CoCalc's own client, and the modules that run many real TeX compiles or exec conformance cases.
SLOW_PATHS = ("browser/", "reliability/", "official_client/", "test_demo_notebook.py", "test_magics_kernel.py",
              "test_packaging.py", "test_pytest_plugin.py", "test_widgets_display.py", "test_magics_latex_wiring.py",
              "test_synctex.py", "test_live_preview.py", "test_tex_log.py", "test_latex_cache.py",
              "emulator/test_conat_jupyter.py", "emulator/test_upload.py", "emulator/test_persistence.py",
              "emulator/test_exec.py", "emulator/test_latex.py", "emulator/test_write_text_file.py")


def pytest_collection_modifyitems(config, items):
    tests_root = config.rootpath / "tests"
    for item in items:
        relative = item.path.relative_to(tests_root).as_posix() if item.path.is_relative_to(tests_root) else ""
        if relative.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> RunningEmulator:
    """A real emulator on 127.0.0.1 with two seeded accounts, shared by the tests of one run.

    Tests that need a project in a particular state create their own project, so they do not
    depend on the order in which other tests ran.
    """
    running = start_emulator(tmp_path_factory.mktemp("emulator-data"))
    yield running
    running.stop()


@pytest.fixture
def session(emulator) -> CoCalcSession:
    """``seeded_session`` for one test, closed after it (the magics tests have their own, shared one)."""
    with_key = seeded_session(emulator)
    yield with_key
    with_key.close()


@pytest.fixture(scope="session")
def ada(emulator) -> Api:
    """The first seeded account (owner of ``emulator.project_id``), as raw API calls."""
    return Api(emulator.url, emulator.api_key)


@pytest.fixture(scope="session")
def grace(emulator) -> Api:
    """The second seeded account (owner of ``emulator.second["project_id"]``, none of ada's)."""
    return Api(emulator.url, emulator.second["api_key"])


@pytest.fixture(scope="session")
def anonymous(emulator) -> Api:
    """Raw API calls with no key at all."""
    return Api(emulator.url, None)
