"""CoCalcSession: who (API key), where (host) and which project by default, plus the high-level calls.

The session is the one owner of the settings (key, host, default project, timeout, retries, backoff and TLS
``verify``); where each comes from is :mod:`cocalc_magics.config`. Changing a setting resets what depends on
it (the HTTP client, built again on the next call), so the magics, widgets and the server extension only
ever set the session.

A project's state, start / stop and the wait, and the files sent into it are in
:mod:`cocalc_magics.session_projects`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import (
    DEFAULT_BACKOFF,
    DEFAULT_HOST,
    DEFAULT_RETRIES,
    DEFAULT_STATE_TIMEOUT,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_HOST,
    ENV_PROJECT_ID,
    api_key_problem,
    checked_backoff,
    checked_retries,
    checked_timeout,
    config_file_path,
    normalize_host,
    read_config_file,
)
from .errors import (
    AmbiguousProjectError,
    ConfigurationError,
    NoAnswerError,
    PermissionDeniedError,
    ProjectNotFoundError,
)
from .models import (
    Account,
    ExecResult,
    LatexResult,
    Project,
    ProjectList,
    has_null_leaf,
    is_uuid,
    reply_object,
    reply_rows,
    reply_text,
)
from .session_projects import ProjectActions
from .text import key_hint, one_line

if TYPE_CHECKING:  # the client imports requests, which loads only on the first call
    from .client import CoCalcClient

# CoCalc's `projects` table shows projects edited in the last 6 weeks; `projects_all` shows them all.
RECENT_PROJECTS = timedelta(weeks=6)

_PROJECT_FIELDS = {"project_id": None, "title": None, "description": None, "state": None,
                   "last_edited": None, "deleted": None, "name": None}


class _ClientSetting:
    """A session setting the HTTP client is built from: checked when set, and the client dropped, so that the
    next call builds one with the new value (nothing else keeps a copy of it)."""

    def __init__(self, check: Callable[[Any], Any]):
        self.check = check

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = f"_{name}"

    def __get__(self, session: CoCalcSession | None, owner: type | None = None) -> Any:
        return self if session is None else getattr(session, self.attribute)

    def __set__(self, session: CoCalcSession, value: Any) -> None:
        setattr(session, self.attribute, self.check(value))
        session._reset_client()


class CoCalcSession(ProjectActions):
    """One CoCalc identity and endpoint, shared by the magics and widgets of a kernel.

    The key is kept private: it appears in no repr, str or error message (only as ``sk-…`` plus its last
    four characters). Missing settings are not an error until a call needs them.
    """

    def __init__(self, api_key: str | None = None, host: str | None = None, project_id: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, verify: bool | str | None = None,
                 config_file: str | Path | None = None, *, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF, state_timeout: float = DEFAULT_STATE_TIMEOUT):
        self._config_file = Path(config_file) if config_file else None
        config = read_config_file(self._config_file)
        self._client: CoCalcClient | None = None
        # Set once the server refused our error-reporting latex wrapper and took CoCalc's own command instead.
        self._refuses_latex_wrapper = False
        # Projects a LaTeX compile found running (or that started them): the next compile need not ask.
        self._compiled_in: set[tuple[str, str]] = set()
        self._api_key = api_key or os.environ.get(ENV_API_KEY) or config.get("api_key") or None
        self.host = host or os.environ.get(ENV_HOST) or config.get("host") or DEFAULT_HOST
        self.project_id = project_id or os.environ.get(ENV_PROJECT_ID) or config.get("project_id") or None
        # Timeout, retries and backoff, then the longest wait for a start/stop when the call names none:
        # together they bound how long any call can take.
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.state_timeout = float(state_timeout)
        self._verify: bool | str = config.get("verify", True) if verify is None else verify
        if self._verify is False:
            warnings.warn(f"TLS verification is off for {self.host}", stacklevel=2)

    # -- configuration: every setter drops the client, which the next call builds with the new setting -------

    def __repr__(self) -> str:
        return (f"CoCalcSession(host={self.host!r}, api_key={key_hint(self._api_key)!r}, "
                f"project_id={self.project_id!r})")

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a CoCalcSession holds an API key and cannot be pickled")

    # What the client is built from: the next call builds a client with the new value.
    host = _ClientSetting(normalize_host)
    timeout = _ClientSetting(checked_timeout)  # seconds for an ordinary API answer (each attempt, as a whole)
    retries = _ClientSetting(checked_retries)  # of calls that change nothing, after a transport failure or 5xx
    backoff = _ClientSetting(checked_backoff)  # seconds before the first retry, doubling after each

    @property
    def verify(self) -> bool | str:
        """TLS verification: True, a CA bundle path, or False (off, warned about)."""
        return self._verify

    @verify.setter
    def verify(self, value: bool | str) -> None:
        if value is False:
            warnings.warn(f"TLS verification is off for {self.host}", stacklevel=2)
        self._verify = value
        self._reset_client()

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    @property
    def key_hint(self) -> str:
        return key_hint(self._api_key)

    def set_api_key(self, api_key: str) -> None:
        """Use another key from now on (``%cocalc_login`` calls this after a hidden prompt)."""
        api_key = api_key.strip()
        problem = api_key_problem(api_key) if api_key else None
        if problem:
            raise ConfigurationError(f"{problem}; nothing changed")
        self._api_key = api_key or None
        self._reset_client()

    def check_key(self, api_key: str) -> Account:
        """Whose ``api_key`` is, asked of this session's host exactly as this session would ask it (same TLS
        ``verify``, timeout, retries and config file), without using or keeping the key."""
        api_key = api_key.strip()
        problem = api_key_problem(api_key)
        if problem:
            raise ConfigurationError(problem)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # verify=False was warned about when this session was made
            candidate = CoCalcSession(api_key=api_key, host=self.host, project_id=self.project_id,
                                      timeout=self.timeout, verify=self._verify, config_file=self._config_file,
                                      retries=self.retries, backoff=self.backoff,
                                      state_timeout=self.state_timeout)
        try:
            return candidate.whoami()
        finally:
            candidate.close()

    @property
    def refuses_latex_wrapper(self) -> bool:
        """Whether this host refused the error-reporting LaTeX command (it runs no custom commands), so that
        compiles here send CoCalc's own command."""
        return self._refuses_latex_wrapper

    @property
    def client(self) -> CoCalcClient:
        if self._api_key is None:
            raise ConfigurationError(
                f"no CoCalc API key: set {ENV_API_KEY}, put api_key in {config_file_path()}, "
                "or run %cocalc_login")
        if self._client is None:
            problem = api_key_problem(self._api_key)
            if problem:
                raise ConfigurationError(f"{problem} (it came from the api_key argument, {ENV_API_KEY}, "
                                         f"or {self._config_file or config_file_path()})")
            from .client import (
                CoCalcClient,  # requests loads here, on the first call, not at %load_ext
            )

            self._client = CoCalcClient(self.host, self._api_key, timeout=self.timeout, verify=self._verify,
                                        retries=self.retries, backoff=self.backoff)
        return self._client

    def _reset_client(self) -> None:
        self._refuses_latex_wrapper = False
        if self._client is not None:
            self._client.close()
        self._client = None

    def close(self) -> None:
        self._reset_client()

    # -- accounts and raw queries ----------------------------------------------------------------------------

    def query(self, query: dict) -> dict:
        """Run a raw ``user-query`` and return its ``query`` part (as CoCalc's ``hub.db.query`` does)."""
        if not isinstance(query, dict):
            raise TypeError(f"a user-query is a dict like {{'accounts': {{'first_name': None}}}}, "
                            f"not {type(query).__name__}")
        reply = self.client.post("user-query", {"query": query}, read_only=has_null_leaf(query))
        if not isinstance(reply, dict) or "query" not in reply:
            raise NoAnswerError("user-query: the server answered without a result", "user-query")
        return reply_object(reply["query"], "user-query")

    def whoami(self) -> Account:
        """The account the key belongs to."""
        result = self.query({"accounts": {"account_id": None, "email_address": None,
                                          "first_name": None, "last_name": None}})
        if not result.get("accounts"):
            raise NoAnswerError("user-query: no account came back for this key", "user-query")
        return Account.from_api(result["accounts"])

    # -- projects --------------------------------------------------------------------------------------------

    def projects(self, limit: int | None = None, include_deleted: bool = False, *,
                 recent: bool = False) -> ProjectList:
        """The account's projects, most recently edited first (``projects_all``: no 6-week cut-off).

        ``recent`` keeps those edited in the last 6 weeks (and those with no edit time), as CoCalc's own
        ``projects`` list does; ``limit`` then keeps the first N."""
        if limit is not None and limit < 1:
            raise ConfigurationError(f"limit must be at least 1, not {limit}")
        rows = reply_rows(self.query({"projects_all": [dict(_PROJECT_FIELDS)]}).get("projects_all"),
                          "user-query projects_all")
        projects = [Project.from_api(row) for row in rows if include_deleted or not row.get("deleted")]
        projects.sort(key=lambda p: p.last_edited.timestamp() if p.last_edited else 0, reverse=True)
        if recent:
            cutoff = datetime.now(timezone.utc) - RECENT_PROJECTS
            projects = [p for p in projects if p.last_edited is None or _as_utc(p.last_edited) >= cutoff]
        return ProjectList(projects[:limit] if limit else projects)

    def project(self, project: str | None = None) -> Project:
        """Look a project up by id or by title; without an argument, the default project."""
        ref = self._project_ref(project)
        if is_uuid(ref):
            row = self._project_row(ref, dict(_PROJECT_FIELDS))
            return Project.from_api(row)
        return self._project_by_title(ref)

    def resolve_project_id(self, project: str | None = None) -> str:
        """A project id from an id, a title, or the default project; a title costs one listing."""
        ref = self._project_ref(project)
        return ref.lower() if is_uuid(ref) else self._project_by_title(ref).project_id

    def create_project(self, title: str, description: str | None = None) -> Project:
        params = {"title": title, **({"description": description} if description is not None else {})}
        reply = self.client.post("projects/create", params)
        if not isinstance(reply, dict) or not reply.get("project_id"):
            raise NoAnswerError("projects/create: no project id came back", "projects/create")
        project_id = reply_text(reply, "project_id", "projects/create", required=True)
        return Project(project_id=project_id, title=title, description=description or "")

    # -- running things in a project -------------------------------------------------------------------------

    def exec(self, command: str, args: list[str] | None = None, project: str | None = None, *,
             path: str | None = None, timeout: float | None = None, bash: bool = False,
             err_on_exit: bool = False, env: dict | None = None) -> ExecResult:
        """Run a command in a project. Unlike CoCalc's default, a non-zero exit is a result, not an error."""
        params: dict[str, Any] = {"project_id": self.resolve_project_id(project), "command": command,
                                  "err_on_exit": err_on_exit}
        optional = {"args": args, "path": path, "timeout": timeout, "bash": bash or None, "env": env}
        params.update({k: v for k, v in optional.items() if v is not None})
        # CoCalc caps hub->project calls at 60 s, so the HTTP read waits for the command plus some slack.
        reply = self.client.post("exec", params, timeout=(timeout or 60) + self.timeout)
        if not isinstance(reply, dict) or "exit_code" not in reply:
            raise NoAnswerError("exec: no answer from the project (CoCalc's hub timed out waiting for it)", "exec")
        return ExecResult.from_api(reply)

    def latex(self, content: str | None = None, path: str | None = None, project_id: str | None = None, *,
              command: str | None = None, timeout: float | None = None, only_read_pdf: bool = False,
              report_errors: bool = False) -> LatexResult:
        """Compile a LaTeX document in a project with CoCalc's ``latex`` endpoint.

        Without ``path`` a fresh ``/tmp/….tex`` is used, which CoCalc deletes after the compile. Without
        ``project_id`` the default project is used, and without one the server picks the most recently
        used project (or creates one), as the API does.

        Without ``command`` CoCalc's default ``latexmk -pdf -f -g -bibtex -deps -interaction=nonstopmode``
        runs, wrapped so that the TeX errors come back (see :func:`cocalc_magics.latex.request.reporting_command`);
        a ``command`` of your own is sent as it is and runs in the directory of ``path`` (with ``report_errors``
        it is wrapped the same way, so that its output comes back even when it fails).
        """
        from .latex.endpoint import compile_latex
        from .latex.request import LatexRequest, fresh_tmp_path

        project_ref = project_id or self.project_id
        request = LatexRequest(
            path=path or fresh_tmp_path(), content=content, command=command, timeout=timeout,
            only_read_pdf=only_read_pdf, report_errors=report_errors,
            project_id=self.resolve_project_id(project_ref) if project_ref else None)
        result, self._refuses_latex_wrapper = compile_latex(
            self.client, request, answer_timeout=self.timeout, wrapper_refused=self._refuses_latex_wrapper)
        return result

    # -- helpers ---------------------------------------------------------------------------------------------

    def _project_ref(self, project: str | None) -> str:
        ref = (project or self.project_id or "").strip()
        if not ref:
            raise ConfigurationError(
                "no project given and no default project: name one (id or title), set "
                f"{ENV_PROJECT_ID}, or run %cocalc_project <id or title>")
        return ref

    def _project_row(self, project_id: str, fields: dict) -> dict:
        try:
            result = self.query({"projects_all": {**fields, "project_id": project_id}})
        except PermissionDeniedError:
            raise ProjectNotFoundError(
                f"project {project_id} is not one of this account's projects (or does not exist)") from None
        if not result.get("projects_all"):
            raise ProjectNotFoundError(f"project {project_id} is not one of this account's projects")
        return reply_object(result["projects_all"], "user-query projects_all")

    def _project_by_title(self, title: str) -> Project:
        projects = self.projects(include_deleted=False)
        matches = [p for p in projects if p.title == title] or [
            p for p in projects if p.title.casefold() == title.casefold()]
        if len(matches) == 1:
            return matches[0]
        shown = one_line(repr(title), 80)  # the title is echoed, and may be a whole pasted paragraph
        if matches:
            # Ids and titles are the server's text: they pass the client's redaction like any other.
            listing = ", ".join(self.client.server_text(f"{p.project_id} ({p.title})", 120) for p in matches)
            raise AmbiguousProjectError(f"{len(matches)} projects are titled {shown}: {listing}; use an id",
                                        matches)
        raise ProjectNotFoundError(f"no project titled {shown} among this account's {len(projects)} projects")

def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_default_session: CoCalcSession | None = None


def get_default_session() -> CoCalcSession:
    """The kernel-wide session shared by the magics and widgets, created on first use."""
    global _default_session
    if _default_session is None:
        _default_session = CoCalcSession()
    return _default_session


def set_default_session(session: CoCalcSession | None) -> None:
    global _default_session
    _default_session = session
