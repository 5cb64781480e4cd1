"""The ``exec`` endpoint (``pages/api/v2/exec.ts``): check who asks, then run it in the project.

- Errors, in order: ``must be signed in``; an invalid id gives ``invalid account_id or
  project_id -- all must be valid uuid's``; ``user must be a collaborator on the project``.
- The project's reply is returned without its ``event`` and ``id``, so a project-side
  failure becomes ``{"error": "Error executing command ..."}``.
- The hub waits at most 60 s for the project; then the handler's `` `${err.message}` ``
  of the bare string ``"timeout"`` answers ``{"error":"undefined"}``.
- Emulator-only: bound to a non-loopback address without ``--allow-remote-exec``, exec is
  refused (it runs commands on this machine), and so it is where bubblewrap cannot sandbox it,
  unless ``--allow-unsandboxed-exec`` (see ``sandbox``).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, ProjectCallTimeout
from .execute import project_exec
from .handler import ApiHandler
from .jsutil import UNDEFINED

EXEC_PARAMS = ("command", "args", "path", "timeout", "max_output", "bash", "err_on_exit", "env",
               "async_call", "async_get", "async_stats", "async_await")


class ExecHandler(ApiHandler):
    async def handle(self) -> Any:
        account_id = self.caller
        if not account_id:
            raise ApiError("must be signed in")
        project_id = self.param("project_id")
        if not self.ctx.is_collaborator(account_id, project_id):
            raise ApiError("user must be a collaborator on the project")
        if not self.ctx.allow_exec:
            raise ApiError(self.ctx.exec_refusal)
        mesg = {name: self.param(name) for name in EXEC_PARAMS if self.param(name) is not UNDEFINED}
        fs = self.ctx.filesystem(project_id)
        try:
            reply = await self.ctx.control.call(project_id, project_exec(fs, mesg))
        except ProjectCallTimeout:
            return {"error": "undefined"}
        reply.pop("event", None)
        reply.pop("id", None)
        return reply


ROUTES = [(r"/api/v2/exec", ExecHandler)]
