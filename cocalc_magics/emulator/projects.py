"""The projects/* endpoints (the state machine they drive is ``project_control``).

Facts followed (``pages/api/v2/projects/*.ts``, ``server/projects/create.ts``, ``server/projects/get.ts``):

- start and stop answer ``{"status":"ok"}``, also when they return at once because the project is
  already in the target state or another start/stop is under way.
- Error checks run in this order: uuid, signed in, collaborator.
- touch answers ``{}`` and starts the project; its error text says "stop" (sic).
- create: ``title ?? "No Title"``, ``description ?? ""``, the caller becomes owner.
- get: newest ``last_edited`` first, deleted and hidden projects skipped, limit 50.
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .errors import ApiError
from .handler import ApiHandler
from .jsutil import is_valid_uuid, js_number, js_string, nullish
from .project_control import new_project
from .store import Store

OK_STATUS = {"status": "ok"}


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
