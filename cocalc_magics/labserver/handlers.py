"""The sidebar's routes: account, projects and their start/stop/restart, the compile project, and sign-in.

Every route needs Jupyter's own authentication (``@tornado.web.authenticated``; APIHandler also checks
XSRF on writes). The blocking CoCalcSession calls run in a small thread pool, never on the server's IO
loop. Errors are one-line JSON ``{"message": ..., "error": <exception class>}``; no answer, log line or
message ever holds the API key (the session's errors never do, and the key is only ever read from a
request body, never echoed).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from ..config import ENV_API_KEY, config_file_path
from ..errors import (
    AuthenticationError,
    CoCalcError,
    CoCalcTimeoutError,
    ConfigurationError,
    ProjectNotFoundError,
)
from ..models import ProjectState, is_uuid
from ..session import CoCalcSession
from ..text import one_line
from .keyfile import store_api_key

ROUTE_PREFIX = "cocalc-magics"
# A sign-in body is one small JSON object; anything bigger is not a key.
MAX_BODY_BYTES = 4096
MAX_KEY_LENGTH = 256
# The sidebar's state changes return at once (the poll shows the transition); a restart waits for its stop.
STATE_TIMEOUT = 120.0
# The sidebar lists at most this many projects (most recently edited first): every answer has a size limit.
MAX_PROJECTS = 1000
_PRINTABLE_KEY = re.compile(r"^[\x21-\x7e]+$")
_ACTIONS = ("start", "stop", "restart")


class CoCalcBackend:
    """What the routes share: one session (built from the environment and config file on first use), the
    thread pool its blocking calls run in, and the project chosen in the sidebar for compiles."""

    def __init__(self, session_factory: Callable[..., CoCalcSession] = CoCalcSession):
        self._session_factory = session_factory
        self._session: CoCalcSession | None = None
        self._session_lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cocalc-magics")
        self.compile_project_id: str | None = None

    @property
    def session(self) -> CoCalcSession:
        """The shared session; built in a pool thread on first use (it reads the config file, which may be
        malformed: a ConfigurationError then becomes the route's one-line answer)."""
        with self._session_lock:
            if self._session is None:
                self._session = self._session_factory(state_timeout=STATE_TIMEOUT)
            return self._session

    async def call(self, function: Callable[..., Any], *args) -> Any:
        return await IOLoop.current().run_in_executor(self.executor, function, *args)

    def use_api_key(self, api_key: str) -> None:
        self.session.set_api_key(api_key)


def _account_json(account) -> dict:
    return {"account_id": account.account_id, "email_address": account.email_address,
            "first_name": account.first_name, "last_name": account.last_name}


def _state_json(state) -> dict:
    return {"state": state.state, "is_running": state.is_running, "is_stopped": state.is_stopped,
            "is_changing": state.is_changing, "error": one_line(state.error) if state.error else None}


def how_to_add_a_key() -> str:
    return (f"No CoCalc API key. Set {ENV_API_KEY} in the environment that starts Jupyter, put "
            f'api_key = "sk-..." in {config_file_path()}, or sign in here (the key stays in the Jupyter server).')


def _error_status(error: CoCalcError) -> int:
    if isinstance(error, ConfigurationError):
        return 409
    if isinstance(error, ProjectNotFoundError):
        return 404
    if isinstance(error, CoCalcTimeoutError):
        return 504
    # CoCalc refused or failed: a gateway error, so it is never mistaken for Jupyter's own 401/403.
    return 502


class CoCalcHandler(APIHandler):
    backend: CoCalcBackend

    def initialize(self, backend: CoCalcBackend) -> None:
        self.backend = backend

    def answer(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))

    def fail(self, status: int, message: str, error: str) -> None:
        self.answer({"message": one_line(message), "error": error}, status)

    def json_body(self) -> dict:
        if len(self.request.body) > MAX_BODY_BYTES:
            raise tornado.web.HTTPError(413, "request body too large")
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise tornado.web.HTTPError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "the body must be a JSON object")
        return body

    def write_error(self, status_code: int, **kwargs) -> None:
        # Jupyter's APIHandler adds a traceback when serve_traceback is on; ours are one line, always.
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.finish(json.dumps({"message": one_line(str(message)), "error": "HTTPError"}))

    async def cocalc(self, function: Callable[[], Any], refused_key_status: int = 502) -> Any:
        """Run a blocking session call in the pool; CoCalc's errors become a one-line JSON answer (None)."""
        try:
            return await self.backend.call(function)
        except CoCalcError as error:
            status = refused_key_status if isinstance(error, AuthenticationError) else _error_status(error)
            self.fail(status, str(error) or type(error).__name__, type(error).__name__)
            return None


class AccountHandler(CoCalcHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        def account_or_none():
            session = self.backend.session
            return session.host, session.whoami() if session.has_api_key else None

        answer = await self.cocalc(account_or_none)
        if answer is None:
            return
        host, account = answer
        if account is None:
            self.answer({"signed_in": False, "host": host, "how_to": how_to_add_a_key(),
                         "config_file": str(config_file_path())})
        else:
            self.answer({"signed_in": True, "host": host, "account": _account_json(account)})


class ApiKeyHandler(CoCalcHandler):
    """Sign-in: the key comes once in a POST body, is checked against CoCalc, then stored (mode 0600)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        api_key = self.json_body().get("api_key")
        if not isinstance(api_key, str) or not _PRINTABLE_KEY.match(api_key.strip()) \
                or len(api_key.strip()) > MAX_KEY_LENGTH:
            self.fail(400, "api_key must be a CoCalc API key (one word, printable characters)", "ValueError")
            return
        api_key = api_key.strip()

        def check_key():
            # A session of its own: the shared one keeps its key until this one is known to work.
            host = self.backend.session.host
            candidate = CoCalcSession(api_key=api_key, host=host)
            try:
                return host, candidate.whoami()
            finally:
                candidate.close()

        # A key CoCalc refuses is bad input to this route (400), not a failure of CoCalc.
        checked = await self.cocalc(check_key, refused_key_status=400)
        if checked is None:
            return
        host, account = checked
        path = config_file_path()
        try:
            await self.backend.call(store_api_key, path, api_key)
        except (OSError, ValueError) as error:
            self.fail(500, f"the key works but could not be saved to {path}: {type(error).__name__}",
                      type(error).__name__)
            return
        self.backend.use_api_key(api_key)
        self.answer({"signed_in": True, "host": host, "account": _account_json(account), "config_file": str(path)})


class ProjectsHandler(CoCalcHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        projects = await self.cocalc(lambda: self.backend.session.projects())
        if projects is None:
            return
        rows = [{"project_id": project.project_id, "title": project.title[:500],
                 **_state_json(project.state or ProjectState.from_api(None))} for project in projects[:MAX_PROJECTS]]
        self.answer({"projects": rows, "truncated": len(projects) > MAX_PROJECTS,
                     "compile_project_id": self.backend.compile_project_id})


class ProjectActionHandler(CoCalcHandler):
    @tornado.web.authenticated
    async def post(self, project_id: str, action: str) -> None:
        def change_state():
            session = self.backend.session
            if action == "restart":
                return session.restart(project_id, wait=False)  # waits for the stop, not for the start
            return getattr(session, action)(project_id, wait=False)

        state = await self.cocalc(change_state)
        if state is not None:
            self.answer({"project_id": project_id, **_state_json(state)})


class CompileProjectHandler(CoCalcHandler):
    """The project the sidebar marks "compile with this project". Kept in this server process (a kernel's
    session cannot be changed from here); ``GET`` tells the front end which one it is."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.answer({"project_id": self.backend.compile_project_id})

    @tornado.web.authenticated
    async def put(self) -> None:
        project_id = self.json_body().get("project_id")
        if project_id is not None:
            if not isinstance(project_id, str) or not is_uuid(project_id):
                self.fail(400, "project_id must be a project's UUID or null", "ValueError")
                return
            # Only a project this account can see may be chosen.
            wanted = project_id.lower()
            project = await self.cocalc(lambda: self.backend.session.project(wanted))
            if project is None:
                return
            project_id = project.project_id
        self.backend.compile_project_id = project_id
        self.answer({"project_id": project_id})


def setup_handlers(web_app, backend: CoCalcBackend | None = None) -> CoCalcBackend:
    backend = backend or CoCalcBackend()
    base = url_path_join(web_app.settings["base_url"], ROUTE_PREFIX)
    uuid = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    routes = [
        (url_path_join(base, "account"), AccountHandler),
        (url_path_join(base, "api-key"), ApiKeyHandler),
        (url_path_join(base, "projects"), ProjectsHandler),
        (url_path_join(base, "projects", f"({uuid})", f"({'|'.join(_ACTIONS)})"), ProjectActionHandler),
        (url_path_join(base, "compile-project"), CompileProjectHandler),
    ]
    web_app.add_handlers(".*$", [(pattern, handler, {"backend": backend}) for pattern, handler in routes])
    return backend
