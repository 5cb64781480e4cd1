"""What the emulator-hardening tests share: an emulator started the way a careless user starts it, and probes.

``exposed_emulator`` starts an emulator whose own environment holds a (fake, minted here) ``COCALC_API_KEY``
and whose ``HOME`` holds a cocalc-magics config file with another fake key: the two secrets a document or a
command must never reach. ``processes_matching`` finds processes on this machine by a unique text in their
command line (to prove none is left behind).
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator_helpers import Api
from lab import start_test_emulator
from secret_guard import register_secret


@dataclass
class Exposed:
    emulator: object = field(repr=False)  # cocalc_magics.local_emulator.LocalEmulator
    ada: Api = field(repr=False)
    grace: Api = field(repr=False)
    # (kept out of the repr: pytest prints fixtures in failure reports, and the secret guard would fail them)
    env_key: str = field(repr=False)     # what the emulator's own environment held as COCALC_API_KEY at start
    config_file: Path = field(repr=False)  # the user's config file, holding config_key
    config_key: str = field(repr=False)

    @property
    def pid(self) -> int:
        return self.emulator.process.pid

    def project_dir(self, project_id: str) -> Path:
        return Path(self.emulator.data_dir) / "projects" / project_id

    def secrets(self) -> list[str]:
        return [self.env_key, self.config_key]


def start_exposed(tmp: Path, *extra_args: str) -> Exposed:
    env_key, config_key = f"sk-env-{secrets.token_hex(12)}", f"sk-config-{secrets.token_hex(12)}"
    register_secret(env_key)
    register_secret(config_key)
    home = tmp / "user-home"
    config_file = home / ".config" / "cocalc-magics" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'api_key = "{config_key}"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COCALC_API_KEY", env_key)
        patch.setenv("HOME", str(home))
        emulator = start_test_emulator(tmp / "data", *extra_args)
    return Exposed(emulator, Api(emulator.url, emulator.api_key), Api(emulator.url, emulator.second["api_key"]),
                   env_key, config_file, config_key)


WHOAMI = {"query": {"accounts": {"account_id": None}}}  # what the client's whoami asks (user-query)


def processes_matching(text: str) -> list[int]:
    """Live (not zombie) processes whose command line contains ``text``."""
    found = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def wait_until_gone(text: str, within: float) -> list[int]:
    """The processes matching ``text`` still alive after ``within`` seconds (empty as soon as none is)."""
    deadline = time.monotonic() + within
    while True:
        left = processes_matching(text)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def kill_leftovers(text: str) -> None:
    """Clean up after a failed test, so one failure does not leave a busy process on a shared machine."""
    for pid in processes_matching(text):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_probe(path: str) -> str:
    r"""A document that tries to read ``path`` with TeX primitives and reports the first line in its log."""
    return (r"\documentclass{article}\begin{document}"
            r"\newread\probe\openin\probe=" + path + r" "
            r"\ifeof\probe\typeout{PROBE-UNREADABLE}\else\read\probe to\line\typeout{PROBE-READ:\line}\fi"
            r"\closein\probe Done.\end{document}")
