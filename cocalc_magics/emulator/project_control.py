"""The project start/stop state machine, and what a new project looks like.

Facts followed (``server/projects/control``, ``server/projects/create.ts``, ``util/compute-states.ts``):

- A stopped project is ``opened``; start goes opened -> starting -> running, stop goes
  running -> stopping -> opened. ``state`` is stored as ``{"state", "time"}``.
- start and stop are synchronous: the reply comes after the transition, except that they
  return at once when the project is already in the target state or another start/stop
  is under way (``if (this.stateChanging != null) return;``).
- A hub->project call (exec, latex, Jupyter) starts the project, then waits at most 60 s.
- Fault injection (tests only, see ``faults``) can hold a project in ``starting`` or
  ``stopping``: as when a hub's transition never finishes, start/stop return at once and
  hub->project calls give up after the project-call limit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Any

from .background import consume_result
from .errors import ApiError, ProjectCallTimeout
from .jsutil import UNDEFINED, iso_now, js_string, nullish
from .store import Store


def new_project(owner_id: str, title: Any = UNDEFINED, description: Any = UNDEFINED) -> dict:
    now = iso_now()
    return {
        "project_id": str(uuid.uuid4()),
        "title": "No Title" if nullish(title) else js_string(title),
        "description": "" if nullish(description) else js_string(description),
        "name": None,
        "users": {owner_id: {"group": "owner"}},
        "deleted": None,
        "created": now,
        "last_edited": now,
        "compute_image": "ubuntu2404",
        # CoCalc leaves state unset until the first state check; a stopped project reads
        # as "opened", so the emulator records that at once.
        "state": {"state": "opened", "time": now},
    }


class ProjectControl:
    """Start/stop transitions, one at a time per project, with the state saved in SQLite."""

    def __init__(self, store: Store, transition_delay: float, call_timeout: float = 60.0):
        self.store = store
        self.transition_delay = transition_delay
        # callProjectMessage's timeoutSeconds = 60; tests may lower it.
        self.call_timeout = call_timeout
        self._changing: dict[str, asyncio.Future] = {}
        # project_id -> "starting" / "stopping": held there by fault injection until released.
        self.stuck: dict[str, str] = {}

    async def call(self, project_id: str, work: Awaitable) -> Any:
        """A hub->project call (exec, latex): start the project first, then wait at most 60 s.

        On timeout the work goes on in the project; only the hub stops listening.
        """
        try:
            await self.ensure_running(project_id)
        except BaseException:
            if asyncio.iscoroutine(work):
                work.close()  # never started: close it, or Python warns it was never awaited
            raise
        self.touch(project_id)
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.call_timeout)
        except asyncio.TimeoutError:
            task.add_done_callback(consume_result)
            raise ProjectCallTimeout() from None

    def state(self, project_id: str) -> str:
        project = self.store.get_project(project_id) or {}
        return (project.get("state") or {}).get("state") or "opened"

    def recover_after_restart(self) -> None:
        """A transition cut short by shutdown cannot finish: leave the project stopped."""
        for project in list(self.store.all_projects()):
            if (project.get("state") or {}).get("state") not in ("opened", "running"):
                project["state"] = {"state": "opened", "time": iso_now()}
                self.store.save_project(project)

    def hold(self, project_id: str, state: str) -> None:
        """Fault injection: leave the project in ``state`` ("starting" or "stopping") until released."""
        self.stuck[project_id] = state
        self._set_state(project_id, state)

    def release(self, project_id: str) -> None:
        """Let a held transition finish: starting -> running, stopping -> opened."""
        state = self.stuck.pop(project_id, None)
        if state is not None:
            self._set_state(project_id, "running" if state == "starting" else "opened")

    def release_all(self) -> None:
        for project_id in list(self.stuck):
            self.release(project_id)

    async def start(self, project_id: str) -> None:
        if project_id in self._changing or project_id in self.stuck or self.state(project_id) == "running":
            return
        await self._transition(project_id, "starting", "running")

    async def stop(self, project_id: str) -> None:
        if project_id in self._changing or project_id in self.stuck or self.state(project_id) != "running":
            return
        await self._transition(project_id, "stopping", "opened")

    async def restart(self, project_id: str) -> None:
        await self.stop(project_id)
        await self.start(project_id)

    async def ensure_running(self, project_id: str) -> None:
        """What a hub->project call waits for: a running project, whatever is under way now."""
        if self.store.get_project(project_id) is None:
            raise ApiError(f"no project with id {project_id}")
        while True:
            if project_id in self.stuck:
                # The project never comes up: the hub's call gives up after its limit, as CoCalc's does.
                await asyncio.sleep(self.call_timeout)
                raise ProjectCallTimeout()
            pending = self._changing.get(project_id)
            if pending is not None:
                await asyncio.shield(pending)
            elif self.state(project_id) == "running":
                return
            else:
                await self.start(project_id)

    def touch(self, project_id: str, account_id: str | None = None) -> None:
        project = self.store.get_project(project_id)
        if project is None:
            return
        now = iso_now()
        project["last_edited"] = now
        if account_id:
            project.setdefault("last_active", {})[account_id] = now
        self.store.save_project(project)

    async def _transition(self, project_id: str, via: str, target: str) -> None:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._changing[project_id] = done
        try:
            self._set_state(project_id, via)
            await asyncio.sleep(self.transition_delay)
            if project_id not in self.stuck:
                self._set_state(project_id, target)
        finally:
            del self._changing[project_id]
            done.set_result(None)

    def _set_state(self, project_id: str, state: str) -> None:
        project = self.store.get_project(project_id)
        if project is not None:
            project["state"] = {"state": state, "time": iso_now()}
            self.store.save_project(project)
