"""Start the emulator for tests: the package's launcher, with its keys registered with the secret guard."""

from __future__ import annotations

from pathlib import Path

from cocalc_magics import CoCalcSession
from cocalc_magics.local_emulator import LocalEmulator, start_local_emulator
from secret_guard import register_secret

# The name the tests use for a started emulator.
RunningEmulator = LocalEmulator


def start_emulator(data_dir: Path, *extra_args: str, startup_timeout: float = 30.0) -> LocalEmulator:
    """Start ``python -m cocalc_magics.emulator`` with short state transitions, as tests want them."""
    running = start_local_emulator(data_dir, *extra_args, transition_delay=0.2, startup_timeout=startup_timeout)
    register_secret(running.api_key)
    register_secret(running.second["api_key"])
    return running


def corrupted_key(key: str) -> str:
    """The key with one character of its secret part changed: same shape and row id, wrong secret."""
    position = len(key) - 7
    replacement = "X" if key[position] != "X" else "Y"
    return key[:position] + replacement + key[position + 1:]


def seeded_session(emulator: LocalEmulator) -> CoCalcSession:
    """A session of the emulator's first seeded account, with its project as the default project."""
    return CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id)
