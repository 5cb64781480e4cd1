"""CoCalcSession: who (API key), where (host) and which project by default, plus the high-level calls.

Resolution order, the same for every setting:

- key:     ``api_key=`` argument > ``COCALC_API_KEY`` > config file ``api_key``
- host:    ``host=`` argument > ``COCALC_HOST`` > config file ``host`` > ``https://cocalc.com``
- project: ``project_id=`` argument > ``COCALC_PROJECT_ID`` > config file ``project_id`` > none

(``COCALC_API_KEY`` and ``COCALC_HOST`` are the names CoCalc's own Python client uses.) The config file is
TOML at ``$COCALC_MAGICS_CONFIG``, else ``$XDG_CONFIG_HOME/cocalc-magics/config.toml``, else
``~/.config/cocalc-magics/config.toml``; it may also set ``verify`` (false, or a CA bundle path).
"""

from __future__ import annotations

import os
import re
import secrets
import time
import tomllib
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

from .client import UPLOAD_SERVICE_NOT_RUNNING, CoCalcClient, blob_origin, key_hint, one_line
from .errors import (
    AmbiguousProjectError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    HTTPStatusError,
    NoAnswerError,
    PermissionDeniedError,
    ProjectNotFoundError,
    ProjectStateTimeoutError,
)
from .latex import (
    parse_exec_error,
    parse_tex_errors,
    reporting_command,
    split_exit_status,
)
from .models import (
    STOPPED_STATES,
    Account,
    ExecResult,
    LatexResult,
    Project,
    ProjectList,
    ProjectState,
    blob_url,
    reply_int,
    reply_object,
    reply_rows,
    reply_text,
)

DEFAULT_HOST = "https://cocalc.com"
ENV_API_KEY = "COCALC_API_KEY"
ENV_HOST = "COCALC_HOST"
ENV_PROJECT_ID = "COCALC_PROJECT_ID"
ENV_CONFIG = "COCALC_MAGICS_CONFIG"

# CoCalc's start wait on kucalc is 120 s (server/projects/control); a stop is quicker.
DEFAULT_STATE_TIMEOUT = 180.0
# latex's compile timeout when none is given (pages/api/v2/latex.ts: `params.timeout ?? 30`).
DEFAULT_COMPILE_TIMEOUT = 30.0

# What a compile under CoCalc's own command can tell (latex.ts runs it with err_on_exit; execute-code.ts keeps
# only the first 1024 characters of stderr in the error text), said whenever that is all there is.
LIMITED_DETAILS = "only the exit code and the first 1024 characters of stderr came back"
LIMITED_DETAILS_NOTE = ("details are limited: the server refused the error-reporting command, so CoCalc's "
                        "default ran and " + LIMITED_DETAILS)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_PROJECT_FIELDS = {"project_id": None, "title": None, "description": None, "state": None,
                   "last_edited": None, "deleted": None, "name": None}


# Characters a pasted key picks up on the way from a web page or a word processor, named for the message.
_PASTED_CHARACTERS = {
    "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner", "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner", "\ufeff": "a byte-order mark", "\u00a0": "a no-break space",
    "\u2018": "a curly quote", "\u2019": "a curly quote", "\u201c": "a curly quote", "\u201d": "a curly quote",
    "\u2010": "a Unicode hyphen", "\u2011": "a Unicode hyphen", "\u2013": "a dash", "\u2014": "a dash",
    " ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a line break",
}


def api_key_problem(api_key: str) -> str | None:
    """What is wrong with the text of a key, without repeating any of it; None when it has CoCalc's form.

    CoCalc's keys are ``sk-`` plus ASCII letters and digits (legacy ones ``sk_``), sent as the Basic user name
    (latin-1 in requests, which is where a pasted zero-width space used to escape as UnicodeEncodeError).
    """
    if not api_key:
        return "the API key is empty"
    for position, character in enumerate(api_key, start=1):
        if not "\x21" <= character <= "\x7e":
            name = _PASTED_CHARACTERS.get(character, "a character that is not printable ASCII")
            return (f"the API key has {name} (U+{ord(character):04X}) at character {position} of "
                    f"{len(api_key)}; a CoCalc key is plain ASCII: copy it again from CoCalc's account settings "
                    "(API keys), not from a formatted document")
    if not api_key.startswith(("sk-", "sk_")):
        quoted = " (are there quotes around it?)" if api_key[0] in "'\"`" else ""
        return f"the API key does not start with sk- or sk_ as CoCalc's keys do{quoted}"
    return None


def config_file_path() -> Path:
    """Where the optional TOML config file lives (it need not exist)."""
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "cocalc-magics" / "config.toml"


def read_config_file(path: Path | None = None) -> dict:
    path = path or config_file_path()
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        # The parser's message may quote the offending line, which could be the key: name only the file.
        raise ConfigurationError(f"cannot read the config file {path}: {type(error).__name__}") from None


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text or ""))


def has_null_leaf(value: Any) -> bool:
    """CoCalc's rule (misc.has_null_leaf): a query with any null leaf is a get, otherwise a set."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null_leaf(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null_leaf(v) for v in value)
    return False


class CoCalcSession:
    """One CoCalc identity and endpoint, shared by the magics and widgets of a kernel.

    The key is kept private: it appears in no repr, str or error message (only as ``sk-…`` plus its last
    four characters). Missing settings are not an error until a call needs them.
    """

    def __init__(self, api_key: str | None = None, host: str | None = None, project_id: str | None = None,
                 timeout: float = 30.0, verify: bool | str | None = None, config_file: str | Path | None = None,
                 *, retries: int = 2, backoff: float = 0.5, state_timeout: float = DEFAULT_STATE_TIMEOUT):
        self._config_file = Path(config_file) if config_file else None
        config = read_config_file(self._config_file)
        self._api_key = api_key or os.environ.get(ENV_API_KEY) or config.get("api_key") or None
        self._host = _normalize_host(host or os.environ.get(ENV_HOST) or config.get("host") or DEFAULT_HOST)
        self.project_id = project_id or os.environ.get(ENV_PROJECT_ID) or config.get("project_id") or None
        self.timeout = float(timeout)
        # Retries (of calls that change nothing) and their backoff, then the longest wait for a start/stop
        # when the call names none: together they bound how long any call can take.
        self.retries = retries
        self.backoff = backoff
        self.state_timeout = float(state_timeout)
        self._verify = config.get("verify", True) if verify is None else verify
        if self._verify is False:
            warnings.warn(f"TLS verification is off for {self._host}", stacklevel=2)
        self._client: CoCalcClient | None = None
        # Set once the server refused our error-reporting latex wrapper and took CoCalc's own command instead.
        self._refuses_latex_wrapper = False

    # -- configuration ---------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (f"CoCalcSession(host={self._host!r}, api_key={key_hint(self._api_key)!r}, "
                f"project_id={self.project_id!r})")

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a CoCalcSession holds an API key and cannot be pickled")

    @property
    def host(self) -> str:
        return self._host

    @host.setter
    def host(self, value: str) -> None:
        self._host = _normalize_host(value)
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
            candidate = CoCalcSession(api_key=api_key, host=self._host, project_id=self.project_id,
                                      timeout=self.timeout, verify=self._verify, config_file=self._config_file,
                                      retries=self.retries, backoff=self.backoff, state_timeout=self.state_timeout)
        try:
            return candidate.whoami()
        finally:
            candidate.close()

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
            self._client = CoCalcClient(self._host, self._api_key, timeout=self.timeout, verify=self._verify,
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

    def projects(self, limit: int | None = None, include_deleted: bool = False) -> ProjectList:
        """The account's projects, most recently edited first (``projects_all``: no 6-week cut-off)."""
        rows = reply_rows(self.query({"projects_all": [dict(_PROJECT_FIELDS)]}).get("projects_all"),
                          "user-query projects_all")
        projects = [Project.from_api(row) for row in rows if include_deleted or not row.get("deleted")]
        projects.sort(key=lambda p: p.last_edited.timestamp() if p.last_edited else 0, reverse=True)
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

    def controls(self, project=None):
        """A live panel with the project's state and Start / Stop / Restart buttons (ipywidgets).

        ``project`` is an id, a title, a :class:`Project` or a list of them; without it, the default project.
        """
        from .widgets.controls import ProjectControls  # ipywidgets loads only when the panel is shown

        return ProjectControls(self, project)

    def create_project(self, title: str, description: str | None = None) -> Project:
        params = {"title": title, **({"description": description} if description is not None else {})}
        reply = self.client.post("projects/create", params)
        if not isinstance(reply, dict) or not reply.get("project_id"):
            raise NoAnswerError("projects/create: no project id came back", "projects/create")
        project_id = reply_text(reply, "project_id", "projects/create", required=True)
        return Project(project_id=project_id, title=title, description=description or "")

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
        runs, wrapped so that the TeX errors come back (see :func:`cocalc_magics.latex.reporting_command`);
        a ``command`` of your own is sent as it is and runs in the directory of ``path`` (with ``report_errors``
        it is wrapped the same way, so that its output comes back even when it fails).
        """
        path = path or f"/tmp/cocalc-magics-{secrets.token_hex(4)}.tex"
        main_file = path.rsplit("/", 1)[-1]
        project_ref = project_id or self.project_id
        params: dict[str, Any] = {"path": path}
        reported = not only_read_pdf and (command is None or report_errors)
        if not only_read_pdf:
            params["command"] = reporting_command(main_file, command) if reported else command
        optional = {"content": content, "timeout": timeout, "only_read_pdf": only_read_pdf or None,
                    "project_id": self.resolve_project_id(project_ref) if project_ref else None}
        params.update({k: v for k, v in optional.items() if v is not None})
        compile_timeout = DEFAULT_COMPILE_TIMEOUT if timeout is None else timeout
        started = time.monotonic()
        note = ""
        if reported and command is None and self._refuses_latex_wrapper:
            del params["command"]  # this server refused the wrapper before: do not ask again
            reported, note = False, LIMITED_DETAILS_NOTE
        try:
            reply = self.client.post("latex", params, timeout=compile_timeout + self.timeout)
        except (AuthenticationError, PermissionDeniedError, NoAnswerError):
            raise
        except APIError:
            # A top-level {"error"} to a request that carried our own wrapper command: a server that runs no
            # custom commands (an emulator bound off loopback, a locked-down CoCalc) refuses the wrapper, not
            # the document. CoCalc's own command (no `command`) is tried once; its failures come back as the
            # exec error text, which holds the exit code and at most 1024 characters of stderr.
            if not reported:
                raise
            params.pop("command")
            if command is not None:
                params["command"] = command
            reported = False
            note = (LIMITED_DETAILS_NOTE if command is None else
                    "the server refused the error-reporting wrapper, so the command ran as given: " + LIMITED_DETAILS)
            reply = self.client.post("latex", params, timeout=compile_timeout + self.timeout)
            if command is None:
                self._refuses_latex_wrapper = True
        elapsed = time.monotonic() - started
        if not isinstance(reply, dict) or not reply:
            # CoCalc's hub gives up on the project after 60 s and then answers {}.
            raise NoAnswerError(
                "latex: no answer from the project (CoCalc's hub timed out); the compile may still finish: "
                "compile into a path outside /tmp and fetch it later with only_read_pdf=True", "latex")
        result = self._latex_result(reply, path, params.get("project_id"), elapsed, reported=reported)
        if note:
            result.note = note
        return result

    def _latex_result(self, reply: dict, path: str, project_id: str | None, elapsed: float,
                      reported: bool) -> LatexResult:
        compile_reply = reply_object(reply["compile"], "latex compile") if reply.get("compile") is not None else {}
        pdf_reply = reply_object(reply.get("pdf"), "latex pdf") if reply.get("pdf") is not None else {}
        stdout = reply_text(compile_reply, "stdout", "latex compile", default="")
        stderr = reply_text(compile_reply, "stderr", "latex compile", default="")
        event = compile_reply.get("event")
        compile_error = reply_text(compile_reply, "error", "latex compile") if event == "error" else None
        exit_code = reply_int(compile_reply, "exit_code", "latex compile") if compile_reply else None
        if compile_error is not None:
            exit_code, stderr = parse_exec_error(compile_error)
        elif reported and compile_reply:
            status, stdout = split_exit_status(stdout)
            exit_code = exit_code if status is None else status
        url = blob_url(reply.get("url"), "latex")
        main_file = path.rsplit("/", 1)[-1]
        errors = parse_tex_errors("\n".join(filter(None, [stdout, stderr, compile_error])), main_file)
        compiled = exit_code == 0 if compile_reply else True
        return LatexResult(
            path=path, project_id=project_id, ok=bool(url) and compiled and compile_error is None,
            url=url, pdf_uuid=reply_text(pdf_reply, "data_uuid", "latex pdf"), exit_code=exit_code,
            stdout=stdout, stderr=stderr, compile_error=compile_error, errors=errors, elapsed=elapsed,
            _fetch_blob=self._fetch_pdf)

    def _fetch_pdf(self, url: str) -> bytes:
        """The compiled PDF from its blob URL; a 200 that is no PDF (a proxy's or portal's page) is an error.

        The error names the blob's host and the size, never the bytes: they are whatever that host sent."""
        data = self.client.fetch_blob(url)
        if b"%PDF-" not in data[:1024]:  # PDF 1.7 (ISO 32000-1, 7.5.2) wants the header in the first 1024 bytes
            raise HTTPStatusError(f"blob download from {blob_origin(url)}: "
                                  f"the server answered 200 with {len(data):,} bytes that are not a PDF", 200)
        return data

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

    def _change_state(self, action: str, project: str | None, targets: frozenset | set, wait: bool,
                      timeout: float | None, on_poll) -> ProjectState:
        project_id = self.resolve_project_id(project)
        wait_timeout = self.state_timeout if timeout is None else timeout
        # CoCalc's start/stop answer after the transition, so the read may take as long as the wait.
        # Older servers answer {} and newer {"status": "ok"}: both are success.
        self.client.post(f"projects/{action}", {"project_id": project_id}, timeout=wait_timeout + self.timeout)
        if not wait:
            return self.state(project_id)
        # CoCalc returns at once when another transition is under way, so check rather than trust.
        return self.wait_for_state(project_id, targets, wait_timeout, on_poll)

    # -- files in a project (sent with a LaTeX compile) ------------------------------------------------------

    def write_text_file(self, path: str, content: str, project: str | None = None) -> None:
        """Write a text file into a project (``projects/write-text-file``, which starts the project; a relative
        ``path`` is relative to its home and parent directories are made)."""
        self.client.post("projects/write-text-file",
                         {"project_id": self.resolve_project_id(project), "path": path, "content": content})

    def upload_file(self, directory: str, name: str, data: bytes, project: str | None = None) -> None:
        """Put a binary file into ``directory`` of a project with the hub's ``POST /upload``.

        CoCalc's upload does not start the project (a stopped one answers ``upload service not running``):
        then the project is started and the file sent once more."""
        project_id = self.resolve_project_id(project)
        try:
            self.client.upload(project_id, directory, name, data)
        except APIError as error:
            if UPLOAD_SERVICE_NOT_RUNNING not in str(error):
                raise
            self.start(project_id)
            self.client.upload(project_id, directory, name, data)


def _normalize_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", host):
        shown = "a value shaped like an API key" if re.match(r"^sk[-_]", host) else repr(host[:80])
        raise ConfigurationError(f"host must be an http(s) URL such as {DEFAULT_HOST}, not {shown}")
    return host


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
