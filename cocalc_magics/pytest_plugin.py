"""A pytest plugin: the local CoCalc emulator as a fixture, so scripts that drive CoCalc can be tested offline.

Installing cocalc-magics registers it (entry point ``pytest11``). It adds one session-scoped fixture,
``cocalc_emulator``: the emulator is started the first time a test asks for it (never otherwise), on a free
loopback port with a temporary data directory and fault injection on, and stopped at the end of the run::

    def test_my_script(cocalc_emulator):
        hub = cocalc_api.Hub(api_key=cocalc_emulator.api_key, host=cocalc_emulator.url)
        assert hub.system.test()["account_id"] == cocalc_emulator.account_id

It holds two seeded accounts (``cocalc_emulator`` is the first, ``cocalc_emulator.second`` the other), each
with an API key minted at start-up and a project of its own; ``session()`` gives a ``CoCalcSession`` and
``with_fault(...)`` makes endpoints fail for the length of a ``with`` block. Its log is at ``log_path``.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .local_emulator import LocalEmulator
    from .session import CoCalcSession


@dataclass(frozen=True)
class EmulatorAccount:
    """One seeded account: its id, e-mail address, its own project and an API key (never shown in a repr)."""

    account_id: str
    email_address: str
    project_id: str
    api_key: str = field(repr=False)


class CoCalcEmulator:
    """A running emulator: its ``url`` and two accounts. The attributes of the first are available directly."""

    def __init__(self, running: LocalEmulator, log_path: Path):
        self._running = running
        self.url = running.url
        self.data_dir = running.data_dir
        self.log_path = log_path  # the emulator's log: one line per request, warnings, errors
        self.first = EmulatorAccount(running.account_id, running.email_address, running.project_id, running.api_key)
        self.second = EmulatorAccount(**{k: running.second[k] for k in
                                         ("account_id", "email_address", "project_id", "api_key")})
        self.account_id, self.email_address = self.first.account_id, self.first.email_address
        self.project_id, self.api_key = self.first.project_id, self.first.api_key

    def __repr__(self) -> str:
        return f"CoCalcEmulator(url={self.url!r}, account_id={self.account_id!r}, project_id={self.project_id!r})"

    def session(self, account: EmulatorAccount | None = None, **options: Any) -> CoCalcSession:
        """A ``CoCalcSession`` of ``account`` (default: the first) with its project as the default project."""
        from .session import CoCalcSession

        account = account or self.first
        options.setdefault("project_id", account.project_id)
        return CoCalcSession(api_key=account.api_key, host=self.url, **options)

    @contextlib.contextmanager
    def with_fault(self, endpoint: str | None = None, fault: str | None = None, *, count: int | None = None,
                   delay: float | None = None, project_id: str | None = None,
                   stuck: str | None = None) -> Iterator[dict]:
        """Make ``endpoint`` fail with ``fault`` (or hold ``project_id`` ``stuck`` in a state) inside the block.

        ``endpoint`` is the path after ``/api/v2/`` (``"user-query"``, ``"projects/start"``), ``"conat/hub"``,
        ``"blobs"`` or ``"*"``; ``fault`` one of ``500 502 503 413 reset slow invalid-json empty-object
        truncated``; ``count`` limits how many requests fail (default: all, until the block ends); ``delay``
        is the wait of ``slow``. ``stuck="starting"`` or ``"stopping"`` keeps a project in that state. The
        block receives the fault plan (what is armed, how often each fault fired so far); afterwards every
        fault is cleared and every stuck project released.
        """
        if stuck is not None:
            self._faults({"project_id": project_id, "stuck": stuck})
        else:
            request: dict[str, Any] = {"endpoint": endpoint, "fault": fault}
            if count is not None:
                request["count"] = count
            if delay is not None:
                request["delay"] = delay
            self._faults(request)
        try:
            yield self.faults()
        finally:
            self._faults({"clear": True})

    def faults(self) -> dict:
        """``GET /_emulator/faults``: what is armed, how often each fault fired, which projects are stuck."""
        with urllib.request.urlopen(f"{self.url}/_emulator/faults", timeout=10) as answer:
            return json.load(answer)

    def _faults(self, request: dict) -> dict:
        data = json.dumps(request).encode()
        call = urllib.request.Request(f"{self.url}/_emulator/faults", data=data, method="POST",
                                      headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(call, timeout=10) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as refused:
            raise ValueError(json.load(refused).get("error", "the emulator refused the fault")) from None


@pytest.fixture(scope="session")
def cocalc_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoCalcEmulator]:
    """A local CoCalc emulator (API v2, the conat bridge, real latexmk and Jupyter) for the whole test run."""
    from .local_emulator import start_local_emulator

    work = tmp_path_factory.mktemp("cocalc-emulator")
    # Its log goes to a file, not into the output of whichever test runs when it writes.
    with open(work / "emulator.log", "w") as log:
        running = start_local_emulator(work / "data", "--enable-fault-injection", transition_delay=0.1, stderr=log)
    try:
        yield CoCalcEmulator(running, work / "emulator.log")
    finally:
        running.stop()
