"""The conat bridge: ``POST /api/conat/hub`` and ``POST /api/conat/project``, what CoCalc's official client uses.

Facts followed (``next/pages/api/conat/{hub,project}.ts``, ``server/api/{hub,project}-bridge.ts``,
``server/auth/api.ts``, ``server/conat/api/index.ts``, ``project/conat/api/index.ts``):

- Both routes answer every failure as HTTP 200 ``{"error": err.message}`` (``res.json``, no status).
- Only API keys count (cookies never): no ``Authorization`` header -> ``You must provide authentication via an
  API key.``; a scheme other than ``Basic``/``Bearer`` -> ``Unknown authorization type '<scheme>'``.
- hub: the key must resolve to an account, else ``must be signed in and MUST provide an api key (cookies are
  not allowed)`` (so a project key is refused). project: an account or a project key, else ``must sign in as
  project or account``; then ``must specify project_id or use project-specific api key``, ``project specific
  api key must match requested project``, ``user must be a collaborator on the project``.
- Body ``{name, args = [], timeout = 15000 (ms)}``. The called method's failure comes back as
  ``{error: `${err}`}`` -- an ``Error: `` prefix -- and a method that returns nothing as ``null``.
- A failure of the bridge itself (the call timing out, code 408) keeps ``err.message`` with the suffix
  `` - callHub: subject='<subject>', name='<name>', code='<code>' `` (trailing space included).
- The project route first touches (starts) the project, then calls it; the hub's subject is
  ``hub.account.<account_id>.api``, the project's ``project.<project_id>.<compute_server_id or 0>.api.-``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .conat_hub import call_hub_method
from .conat_project import call_project_method
from .errors import ApiError, MethodError, ProjectCallTimeout
from .handler import ApiHandler
from .jsutil import UNDEFINED, js_number, js_string, nullish
from .keys import key_from_authorization

DEFAULT_TIMEOUT_MS = 15000
# Emulator-only: CoCalc takes any timeout; here no request holds a connection longer than an hour.
MAX_TIMEOUT_MS = 3600 * 1000


class _Caller:
    """Who the API key belongs to: an account, or (project-specific key) a project."""

    def __init__(self, account_id: str | None = None, project_id: str | None = None):
        self.account_id, self.project_id = account_id, project_id


class ConatBridgeHandler(ApiHandler):
    def _key_owner(self) -> _Caller:
        """``getAccountFromApiKey``: throws for a missing header or an unknown scheme."""
        header = self.request.headers.get("Authorization")
        if header is None:
            raise ApiError("You must provide authentication via an API key.")
        parts = header.split()
        scheme = parts[0] if parts else ""
        if scheme not in ("Basic", "Bearer"):
            raise ApiError(f"Unknown authorization type '{scheme}'")
        owner = self.ctx.keys.resolve(key_from_authorization(header))
        if owner and self.ctx.store.get_account(owner) is not None:
            return _Caller(account_id=owner)
        if owner and self.ctx.store.get_project(owner) is not None:
            return _Caller(project_id=owner)
        return _Caller()

    def _call_params(self) -> tuple[Any, list, float]:
        name = self.param("name")
        args = self.param("args")
        args = [] if nullish(args) else args
        timeout = self.param("timeout")
        milliseconds = DEFAULT_TIMEOUT_MS if nullish(timeout) else js_number(timeout)
        if milliseconds is None or milliseconds <= 0:
            milliseconds = DEFAULT_TIMEOUT_MS
        return name, args, min(milliseconds, MAX_TIMEOUT_MS) / 1000

    async def _bridge(self, subject: str, name: Any, seconds: float, work) -> Any:
        try:
            result = await asyncio.wait_for(work, seconds)
        except (asyncio.TimeoutError, ProjectCallTimeout):
            return {"error": f"timeout - callHub: subject='{subject}', name='{js_string(name)}', code='408' "}
        except MethodError as err:
            return {"error": str(err)}
        return None if result is UNDEFINED else result


class HubBridgeHandler(ConatBridgeHandler):
    async def handle(self) -> Any:
        account_id = self._key_owner().account_id
        if not account_id:
            raise ApiError("must be signed in and MUST provide an api key (cookies are not allowed)")
        name, args, seconds = self._call_params()
        return await self._bridge(f"hub.account.{account_id}.api", name, seconds,
                                  call_hub_method(self.ctx, account_id, name, args))


class ProjectBridgeHandler(ConatBridgeHandler):
    async def handle(self) -> Any:
        caller = self._key_owner()
        if not caller.account_id and not caller.project_id:
            raise ApiError("must sign in as project or account")
        project_id = self.param("project_id")
        if nullish(project_id):
            project_id = caller.project_id
        if not project_id:
            raise ApiError("must specify project_id or use project-specific api key")
        if caller.project_id and caller.project_id != project_id:
            raise ApiError("project specific api key must match requested project")
        if caller.account_id and not self.ctx.is_collaborator(caller.account_id, project_id):
            raise ApiError("user must be a collaborator on the project")
        compute_server_id = self.param("compute_server_id")
        compute_server = 0 if nullish(compute_server_id) else js_string(compute_server_id)
        name, args, seconds = self._call_params()
        subject = f"project.{project_id}.{compute_server}.api.-"
        return await self._bridge(subject, name, seconds,
                                  self._touch_then_call(project_id, caller.account_id, compute_server, name, args))

    async def _touch_then_call(self, project_id: str, account_id: str | None, compute_server: Any, name: Any,
                               args: Any) -> Any:
        # project.touch(account_id) starts the project; the call then waits for it (waitForInterest).
        self.ctx.control.touch(project_id, account_id)
        await self.ctx.control.ensure_running(project_id)
        if compute_server not in (0, "0"):
            # The emulator has no compute servers: nobody ever subscribes to that subject, so the request
            # waits for interest until its timeout, as CoCalc's does for a compute server that is off.
            await asyncio.Event().wait()
        return await call_project_method(self.ctx, project_id, name, args)


ROUTES = [(r"/api/conat/hub", HubBridgeHandler), (r"/api/conat/project", ProjectBridgeHandler)]
