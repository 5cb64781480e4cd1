"""What a session does to a project beyond asking about it: its state, start / stop / restart and the wait
for the new state, and files sent into it (with a LaTeX compile).

:class:`ProjectActions` is mixed into :class:`~cocalc_magics.session.CoCalcSession`; what it uses of the
session is declared here (the session sets or overrides each).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .errors import APIError, ProjectStateTimeoutError
from .models import STOPPED_STATES, ProjectState

if TYPE_CHECKING:  # the client imports requests, which loads only on the first call
    from .client import CoCalcClient


class ProjectActions:
    """State, start / stop / restart with the wait, and files sent into a project."""

    host: str
    timeout: float
    state_timeout: float
    _compiled_in: set[tuple[str, str]]

    @property
    def client(self) -> CoCalcClient:
        raise NotImplementedError

    def resolve_project_id(self, project: str | None = None) -> str:
        raise NotImplementedError

    def _project_row(self, project_id: str, fields: dict) -> dict:
        raise NotImplementedError

    def state(self, project: str | None = None) -> ProjectState:
        project_id = self.resolve_project_id(project)
        return ProjectState.from_api(self._project_row(project_id, {"project_id": None, "state": None}).get("state"))

    def start(self, project: str | None = None, wait: bool = True, timeout: float | None = None,
              on_poll: Callable[[ProjectState], None] | None = None) -> ProjectState:
        """Start a project; with ``wait``, poll until it is running (CoCalc may answer before it is)."""
        return self._change_state("start", project, {"running"}, wait, timeout, on_poll)

    def stop(self, project: str | None = None, wait: bool = True, timeout: float | None = None,
             on_poll: Callable[[ProjectState], None] | None = None) -> ProjectState:
        """Stop a project; with ``wait``, poll until it is stopped (``opened`` in CoCalc's words)."""
        return self._change_state("stop", project, STOPPED_STATES, wait, timeout, on_poll)

    def restart(self, project: str | None = None, timeout: float | None = None,
                on_poll: Callable[[ProjectState], None] | None = None, wait: bool = True) -> ProjectState:
        """Stop, then start: API v2 has no restart endpoint. The stop is always waited for; ``wait``
        says whether to wait for the project to be running again."""
        project_id = self.resolve_project_id(project)
        self.stop(project_id, wait=True, timeout=timeout, on_poll=on_poll)
        return self.start(project_id, wait=wait, timeout=timeout, on_poll=on_poll)

    def wait_for_state(self, project_id: str, targets: Iterable[str], timeout: float | None = None,
                       on_poll: Callable[[ProjectState], None] | None = None) -> ProjectState:
        """Poll ``projects_all`` with backoff until the project's state is one of ``targets``."""
        targets = frozenset(targets)
        timeout = self.state_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            state = self.state(project_id)
            if on_poll is not None:
                on_poll(state)
            if state.state in targets:
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                wanted = " or ".join(sorted(targets))
                raise ProjectStateTimeoutError(
                    f"project {project_id} is still {state.state} after waiting "
                    f"{timeout:g} s for {wanted}", state.state)
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, 2.0)

    def needs_start(self, project_id: str) -> bool:
        """Whether a compile in ``project_id`` will start it: asked once (one ``user-query``), then known until
        the project's state is changed through this session. Used for the status line, never to decide."""
        if (self.host, project_id) in self._compiled_in:
            return False
        return self.state(project_id).is_stopped

    def compiled_in(self, project_id: str) -> None:
        """A compile ran in ``project_id``: it is running now."""
        self._compiled_in.add((self.host, project_id))

    def _change_state(self, action: str, project: str | None, targets: frozenset | set, wait: bool,
                      timeout: float | None, on_poll) -> ProjectState:
        project_id = self.resolve_project_id(project)
        self._compiled_in.discard((self.host, project_id))
        wait_timeout = self.state_timeout if timeout is None else timeout
        # CoCalc's start/stop answer after the transition, so the read may take as long as the wait.
        # Older servers answer {} and newer {"status": "ok"}: both are success.
        self.client.post(f"projects/{action}", {"project_id": project_id}, timeout=wait_timeout + self.timeout)
        if not wait:
            return self.state(project_id)
        # CoCalc returns at once when another transition is under way, so check rather than trust.
        return self.wait_for_state(project_id, targets, wait_timeout, on_poll)

    def write_text_file(self, path: str, content: str, project: str | None = None) -> None:
        """Write a text file into a project (``projects/write-text-file``, which starts the project; a relative
        ``path`` is relative to its home and parent directories are made)."""
        self.client.post("projects/write-text-file",
                         {"project_id": self.resolve_project_id(project), "path": path, "content": content})

    def upload_file(self, directory: str, name: str, data: bytes, project: str | None = None) -> None:
        """Put a binary file into ``directory`` of a project with the hub's ``POST /upload``.

        CoCalc's upload does not start the project (a stopped one answers ``upload service not running``):
        then the project is started and the file sent once more."""
        from .client import UPLOAD_SERVICE_NOT_RUNNING  # the client module loads requests: only when used

        project_id = self.resolve_project_id(project)
        try:
            self.client.upload(project_id, directory, name, data)
        except APIError as error:
            if UPLOAD_SERVICE_NOT_RUNNING not in str(error):
                raise
            self.start(project_id)
            self.client.upload(project_id, directory, name, data)
