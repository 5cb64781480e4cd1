"""Emulators for the reliability tests, and the client of the emulator's fault-control endpoint.

Each part of the reliability suite gets its own emulator (its own data directory), so injected faults,
fuzzed set-queries and load never reach the suite-wide ``emulator`` other tests share. Every key an
emulator prints is registered with the secret guard before anything else happens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cocalc_magics import CoCalcSession
from cocalc_magics.local_emulator import LocalEmulator, start_local_emulator
from secret_guard import register_secret

# How fast the fault matrix gives up, per call: small, so a matrix of ~200 faulted calls runs in seconds.
TIMEOUT = 0.5           # the session's wait for one HTTP answer
STATE_WAIT = 0.5        # how long start/stop wait for the new state (--timeout / state_timeout)
RETRIES, BACKOFF = 2, 0.05
PROJECT_CALL_TIMEOUT = 1.0  # the emulator's hub->project limit (CoCalc's is 60 s)


def start_test_emulator(data_dir: Path, *extra_args: str, transition_delay: float = 0.05,
                        stderr=None) -> LocalEmulator:
    running = start_local_emulator(data_dir, *extra_args, transition_delay=transition_delay, stderr=stderr)
    register_secret(running.api_key)
    register_secret(running.second["api_key"])
    return running


class FaultControl:
    """``/_emulator/faults`` of an emulator started with ``--enable-fault-injection`` (no credentials sent)."""

    def __init__(self, url: str):
        self.url = f"{url}/_emulator/faults"
        self._http = requests.Session()
        self._http.trust_env = False  # no proxy, no ~/.netrc: this endpoint gets no credentials at all

    def _post(self, body: dict) -> dict:
        response = self._http.post(self.url, json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def arm(self, endpoint: str, fault: str, count: int | None = None, delay: float | None = None) -> None:
        body = {"endpoint": endpoint, "fault": fault}
        body.update({k: v for k, v in (("count", count), ("delay", delay)) if v is not None})
        self._post(body)

    def hold(self, project_id: str, state: str) -> None:
        self._post({"project_id": project_id, "stuck": state})

    def release(self, project_id: str) -> None:
        self._post({"project_id": project_id, "stuck": None})

    def clear(self) -> None:
        self._post({"clear": True})

    def status(self) -> dict:
        response = self._http.get(self.url, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def fired(self, endpoint: str, fault: str) -> int:
        return self.status()["fired"].get(endpoint, {}).get(fault, 0)

    def close(self) -> None:
        self._http.close()


@dataclass
class Lab:
    """A fault-injecting emulator with a session tuned to give up fast, and helpers to make projects."""

    emulator: LocalEmulator
    session: CoCalcSession
    control: FaultControl
    default_project: str
    _helper: CoCalcSession = field(repr=False, default=None)

    @classmethod
    def start(cls, data_dir: Path, *extra_args: str) -> Lab:
        emulator = start_test_emulator(data_dir, "--enable-fault-injection", "--project-call-timeout",
                                       str(PROJECT_CALL_TIMEOUT), *extra_args)
        no_config = data_dir / "no-config.toml"
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id,
                                timeout=TIMEOUT, config_file=no_config, retries=RETRIES, backoff=BACKOFF,
                                state_timeout=STATE_WAIT)
        # Prepares projects with patience, whatever the tuned session would give up on.
        helper = CoCalcSession(api_key=emulator.api_key, host=emulator.url, timeout=30, config_file=no_config)
        return cls(emulator, session, FaultControl(emulator.url), emulator.project_id, helper)

    def new_project(self, running: bool = False) -> str:
        project_id = self._helper.create_project(f"fault {uuid.uuid4().hex[:8]}").project_id
        if running:
            self._helper.start(project_id, timeout=10)
        return project_id

    def put_in_state(self, project_id: str, running: bool) -> None:
        if running:
            self._helper.start(project_id, timeout=10)
        else:
            self._helper.stop(project_id, timeout=10)

    def state(self, project_id: str) -> str:
        return self._helper.state(project_id).state

    def intact(self, session: CoCalcSession | None = None) -> list[str]:
        """What is wrong with the session after a fault (nothing, normally)."""
        session = session or self.session
        problems = []
        if session.project_id != self.default_project:
            problems.append(f"default project changed to {session.project_id}")
        if not session.has_api_key:
            problems.append("the session lost its key")
        if session.host != self.emulator.url:
            problems.append(f"host changed to {session.host}")
        return problems

    def stop(self) -> None:
        self.control.close()
        self.session.close()
        self._helper.close()
        self.emulator.stop()
