"""projects/* endpoints and the project start/stop state machine.

Facts followed (``pages/api/v2/projects/*.ts``, ``server/projects/control``,
``server/projects/create.ts``, ``server/projects/get.ts``, ``util/compute-states.ts``):

- A stopped project is ``opened``; start goes opened -> starting -> running, stop goes
  running -> stopping -> opened. ``state`` is stored as ``{"state", "time"}``.
- start and stop are synchronous: the reply comes after the transition, except that they
  return at once when the project is already in the target state or another start/stop
  is under way (``if (this.stateChanging != null) return;``) -- still ``{"status":"ok"}``.
- Error checks run in this order: uuid, signed in, collaborator.
- touch answers ``{}`` and starts the project; its error text says "stop" (sic).
- create: ``title ?? "No Title"``, ``description ?? ""``, the caller becomes owner.
- Fault injection (tests only, see ``faults``) can hold a project in ``starting`` or
  ``stopping``: as when a hub's transition never finishes, start/stop return at once and
  hub->project calls give up after the project-call limit.
- get: newest ``last_edited`` first, deleted and hidden projects skipped, limit 50.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from collections.abc import Awaitable

from .context import ApiError, Context
from .handler import ApiHandler
from .jsutil import UNDEFINED, iso_now, is_valid_uuid, js_number, js_string, nullish
from .store import Store

OK_STATUS = {"status": "ok"}


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


class ProjectCallTimeout(Exception):
    """The hub stopped waiting for the project: CoCalc rejects with the bare string "timeout"."""


def _consume_result(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


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
            task.add_done_callback(_consume_result)
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


def check_start_stop(ctx: Context, account_id: str | None, project_id: Any, verb: str) -> str:
    """The three checks of projects/start, stop and touch, in CoCalc's order."""
    if not is_valid_uuid(project_id):
        raise ApiError("project_id must be a valid uuid")
    if not account_id:
        raise ApiError("must be signed in")
    if not ctx.is_collaborator(account_id, project_id):
        raise ApiError(f"must be a collaborator to {verb} project")
    return project_id


def projects_for_listing(store: Store, account_id: str, limit: int) -> list[dict]:
    """server/projects/get.ts: not deleted, not hidden by this user, newest last_edited first."""
    if limit <= 0:
        return []
    visible = [
        p for p in store.projects_of(account_id)
        if not p.get("deleted") and not ((p.get("users") or {}).get(account_id) or {}).get("hide")
    ]
    return [{"project_id": p["project_id"], "title": p.get("title"), "description": p.get("description"),
             "name": p.get("name")} for p in visible[:limit]]


class StartHandler(ApiHandler):
    async def handle(self) -> Any:
        project_id = check_start_stop(self.ctx, self.caller, self.param("project_id"), "start")
        self.ctx.control.touch(project_id)
        await self.ctx.control.start(project_id)
        return OK_STATUS


class StopHandler(ApiHandler):
    async def handle(self) -> Any:
        project_id = check_start_stop(self.ctx, self.caller, self.param("project_id"), "stop")
        await self.ctx.control.stop(project_id)
        return OK_STATUS


class TouchHandler(ApiHandler):
    async def handle(self) -> Any:
        project_id = check_start_stop(self.ctx, self.caller, self.param("project_id"), "stop")  # sic
        self.ctx.control.touch(project_id, self.caller)
        await self.ctx.control.start(project_id)
        return {}


class CreateHandler(ApiHandler):
    async def handle(self) -> Any:
        if not self.caller:
            raise ApiError("user must be signed in")
        project = new_project(self.caller, self.param("title"), self.param("description"))
        self.ctx.store.insert_project(project)
        self.ctx.filesystem(project["project_id"])
        return {"project_id": project["project_id"]}


class GetHandler(ApiHandler):
    async def handle(self) -> Any:
        if not self.caller:
            raise ApiError("Must be signed in.")
        limit = self.param("limit")
        if nullish(limit):
            count = 50
        else:
            number = js_number(limit)
            if number is None:
                raise ApiError(f'invalid input syntax for type bigint: "{js_string(limit)}"')
            count = int(number)
        return projects_for_listing(self.ctx.store, self.caller, count)


class DeleteHandler(ApiHandler):
    async def handle(self) -> Any:
        project_id = self.param("project_id")
        if not is_valid_uuid(project_id):
            raise ApiError("project_id must be a valid UUID")
        if not self.caller:
            raise ApiError("must be signed in")
        if not self.ctx.is_collaborator(self.caller, project_id):
            raise ApiError("must be an owner to delete a project")
        await self.ctx.control.stop(project_id)
        project = self.ctx.store.get_project(project_id)
        if project is not None:
            project["deleted"] = True
            self.ctx.store.save_project(project)
        return OK_STATUS


ROUTES = [
    (r"/api/v2/projects/start", StartHandler),
    (r"/api/v2/projects/stop", StopHandler),
    (r"/api/v2/projects/touch", TouchHandler),
    (r"/api/v2/projects/create", CreateHandler),
    (r"/api/v2/projects/get", GetHandler),
    (r"/api/v2/projects/delete", DeleteHandler),
]
