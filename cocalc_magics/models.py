"""Typed results of CoCalc calls: small dataclasses with a readable repr and an HTML view for notebooks.

They are built from CoCalc's JSON by the ``from_api`` class methods, which are the one place that knows each
payload's shape. Nothing here does I/O except :attr:`LatexResult.pdf`, which fetches the blob on first use
through the fetcher it was made with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, overload
from urllib.parse import urlsplit

from . import render
from .errors import UnexpectedReplyError

# CoCalc's compute states (util/compute-states.ts) in which a project is not running and not changing.
STOPPED_STATES = frozenset({"opened", "closed", "archived"})
TRANSITION_STATES = frozenset({"starting", "stopping", "opening", "closing", "archiving", "unarchiving", "pending"})


# A compute state is a short lower-case word (util/compute-states.ts); anything else is not CoCalc's.
_STATE_WORD = re.compile(r"^[a-z_]{1,40}$")


def parse_time(value: Any) -> datetime | None:
    """CoCalc sends dates as ISO strings (``2026-11-27T16:00:00.000Z``); always UTC-aware here."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None


# -- the shape of a reply: checked where it is read, so that only the package's errors come out ---------------

def _kind(value: Any) -> str:
    """What a value is, never what it holds (a server's text may hold anything, even the key)."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def reply_object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise UnexpectedReplyError(f"{where}: the server sent {_kind(value)} where CoCalc sends an object")
    return value


def reply_rows(value: Any, where: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnexpectedReplyError(f"{where}: the server sent {_kind(value)} where CoCalc sends a list")
    return [reply_object(row, f"{where}[{index}]") for index, row in enumerate(value)]


@overload
def reply_text(row: dict, key: str, where: str, *, required: Literal[True]) -> str: ...
@overload
def reply_text(row: dict, key: str, where: str, *, default: str) -> str: ...
@overload
def reply_text(row: dict, key: str, where: str) -> str | None: ...
def reply_text(row: dict, key: str, where: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = row.get(key)
    if value is None and not required:
        return default
    if not isinstance(value, str):
        raise UnexpectedReplyError(f"{where}: {key} is {_kind(value)} where CoCalc sends a string")
    return value


@overload
def reply_int(row: dict, key: str, where: str, *, default: int) -> int: ...
@overload
def reply_int(row: dict, key: str, where: str) -> int | None: ...
def reply_int(row: dict, key: str, where: str, *, default: int | None = None) -> int | None:
    value = row.get(key)
    if value is None:
        return default
    # JSON numbers only: a bool is not one, and a float must be whole and within range.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**53:
        raise UnexpectedReplyError(f"{where}: {key} is {_kind(value)} where CoCalc sends a whole number")
    return value


# -- CoCalc's rules for ids and queries ------------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)

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


def blob_url(value: Any, where: str) -> str | None:
    """A blob URL is http(s) with a host, or it is not shown: a javascript: or file: link is never a download."""
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"a {parts.scheme}: URL" if parts is not None and parts.scheme else _kind(value)
        raise UnexpectedReplyError(f"{where}: url is {shown}; only an http(s) blob URL is accepted")
    return value


def short_id(uuid: str) -> str:
    return uuid.split("-")[0] if uuid else ""


@dataclass(frozen=True)
class Account:
    """Who the API key belongs to (``user-query`` on ``accounts``)."""

    account_id: str
    email_address: str | None = None
    first_name: str = ""
    last_name: str = ""

    @classmethod
    def from_api(cls, row: Any) -> Account:
        where = "user-query accounts"
        row = reply_object(row, where)
        return cls(
            account_id=reply_text(row, "account_id", where, required=True),
            email_address=reply_text(row, "email_address", where),
            first_name=reply_text(row, "first_name", where, default=""),
            last_name=reply_text(row, "last_name", where, default=""),
        )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        who = self.name or "(no name)"
        return f"{who} <{self.email_address or 'no email'}> account {self.account_id}"

    def _repr_html_(self) -> str:
        return render.account_html(self)


@dataclass(frozen=True)
class ProjectState:
    """A project's compute state, e.g. ``running`` or ``opened`` (CoCalc's word for stopped)."""

    state: str
    time: datetime | None = None
    error: str | None = None

    @classmethod
    def from_api(cls, value: Any) -> ProjectState:
        # A project that never ran has no state row; CoCalc shows such a project as "opened".
        where = "project state"
        value = reply_object(value, where) if value is not None else {}
        state = reply_text(value, "state", where) or "opened"
        if not _STATE_WORD.match(state):
            raise UnexpectedReplyError(f"{where}: a state of {len(state)} characters that is not a compute state")
        return cls(state=state, time=parse_time(value.get("time")), error=reply_text(value, "error", where))

    @property
    def is_running(self) -> bool:
        return self.state == "running"

    @property
    def is_stopped(self) -> bool:
        return self.state in STOPPED_STATES

    @property
    def is_changing(self) -> bool:
        return self.state in TRANSITION_STATES

    def __str__(self) -> str:
        return self.state if not self.error else f"{self.state} (error: {self.error})"

    def _repr_html_(self) -> str:
        return render.state_badge_html(self)


@dataclass(frozen=True)
class Project:
    """One project of the account, as listed by ``user-query`` on ``projects_all``."""

    project_id: str
    title: str = ""
    description: str = ""
    state: ProjectState | None = None
    last_edited: datetime | None = None
    name: str | None = None

    @classmethod
    def from_api(cls, row: Any) -> Project:
        where = "user-query projects_all"
        row = reply_object(row, where)
        return cls(
            project_id=reply_text(row, "project_id", where, required=True),
            title=reply_text(row, "title", where, default=""),
            description=reply_text(row, "description", where, default=""),
            state=ProjectState.from_api(row.get("state")) if "state" in row else None,
            last_edited=parse_time(row.get("last_edited")),
            name=reply_text(row, "name", where),
        )

    @property
    def short_id(self) -> str:
        return short_id(self.project_id)

    def __str__(self) -> str:
        state = f" [{self.state}]" if self.state else ""
        return f"{self.title or '(untitled)'} ({self.project_id}){state}"

    def _repr_html_(self) -> str:
        return render.project_html(self)


class ProjectList(list):
    """A list of :class:`Project` that shows itself as a table in a notebook."""

    def _repr_html_(self) -> str:
        return render.projects_html((project, project.state) for project in self)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self) or "(no projects)"


@dataclass(frozen=True)
class ExecResult:
    """The outcome of a command run in a project with ``exec`` (blocking mode)."""

    stdout: str
    stderr: str
    exit_code: int

    @classmethod
    def from_api(cls, reply: Any) -> ExecResult:
        reply = reply_object(reply, "exec")
        return cls(stdout=reply_text(reply, "stdout", "exec", default=""),
                   stderr=reply_text(reply, "stderr", "exec", default=""),
                   exit_code=reply_int(reply, "exit_code", "exec", default=0))

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def _repr_html_(self) -> str:
        return render.exec_html(self)


@dataclass(frozen=True)
class TexError:
    """One TeX error (or warning), located as ``line N: message`` in a cell or ``file:N: message`` in a file.

    ``file`` is ``"cell"`` for the notebook cell (its lines are the editor's: line 1 is ``%%cocalc_latex``),
    else the file's name; ``line`` is None when TeX gave no line. ``context`` is TeX's ``l.N …`` context line,
    ``missing_file`` the file TeX could not find and ``package_hint`` the TeX Live package that provides it.
    """

    file: str
    line: int | None
    message: str
    context: str = ""
    missing_file: str | None = None
    package_hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    @property
    def where(self) -> str:
        if self.file == "cell":
            return "cell" if self.line is None else f"line {self.line}"
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        hint = f" (provided by {self.package_hint})" if self.package_hint else ""
        return f"{self.where}: {self.message}{hint}"


@dataclass
class LatexResult:
    """What the ``latex`` endpoint made of a document.

    ``ok`` is true when the compile command exited 0 and a PDF was made. A failed compile is a result, not
    an exception: ``errors`` lists the TeX errors and ``url``/``pdf`` may still be set, because CoCalc's
    latexmk runs with ``-f`` and often writes a PDF anyway. ``note`` says when the details are limited (the
    server refused the error-reporting command, so only the exit code and 1024 characters of stderr came back).
    """

    path: str
    project_id: str | None
    ok: bool
    url: str | None
    pdf_uuid: str | None
    exit_code: int | None
    stdout: str
    stderr: str
    compile_error: str | None
    errors: list[TexError]
    elapsed: float
    note: str = ""
    warnings: list[TexError] = field(default_factory=list)
    from_cache: bool = False  # shown at once from the cache, not compiled again
    # How this result downloads its PDF (a client's PdfFetcher): the result asks, no view plants a callback.
    fetch_pdf: Callable[[str], bytes] | None = field(default=None, repr=False, compare=False)
    # The compile's `.synctex.gz` (when the wrapper carried it back), for the viewer's SyncTeX; never shown.
    synctex: bytes | None = field(default=None, repr=False, compare=False)
    _pdf: bytes | None = field(default=None, repr=False, compare=False)
    # Why the download the cache tried right after the compile failed: the viewer shows it rather than ask a
    # failing server again (``pdf`` itself still tries again when asked).
    pdf_problem: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        # The compile output can run to thousands of lines: it is in .log, not in the repr.
        return (f"LatexResult(path={self.path!r}, ok={self.ok}, exit_code={self.exit_code}, url={self.url!r}, "
                f"errors={[str(e) for e in self.errors]!r}, elapsed={self.elapsed:.2f})")

    @property
    def log(self) -> str:
        """Everything the compile said: stdout, stderr and CoCalc's error text."""
        return "\n".join(part for part in (self.stdout, self.stderr, self.compile_error) if part)

    @property
    def pdf_downloaded(self) -> bool:
        """Whether the PDF's bytes are here already, or there is none (so ``pdf`` makes no request)."""
        return self._pdf is not None or not self.url

    @property
    def pdf(self) -> bytes | None:
        """The compiled PDF, downloaded from the blob URL on first use (None when no PDF was made)."""
        if self._pdf is None and self.url and self.fetch_pdf is not None:
            self._pdf = self.fetch_pdf(self.url)
        return self._pdf

    def save(self, filename: str) -> str:
        """Write the PDF to ``filename`` and return that name."""
        data = self.pdf
        if data is None:
            raise FileNotFoundError(f"no PDF was produced for {self.path}")
        with open(filename, "wb") as out:
            out.write(data)
        return filename

    @property
    def summary(self) -> str:
        status = "ok" if self.ok else f"failed ({len(self.errors)} error{'s' if len(self.errors) != 1 else ''})"
        pdf = "PDF ready" if self.url else "no PDF"
        note = f" ({self.note})" if self.note else ""
        timing = "from cache" if self.from_cache else f"{self.elapsed:.1f} s"
        return f"LaTeX {self.path}: {status}, {pdf}, {timing}{note}"

    def __str__(self) -> str:
        return "\n".join([self.summary, *(str(e) for e in self.errors)])

    def _repr_html_(self) -> str:
        # The same look as the magic's summary and the PDF viewer's static view.
        return render.latex_result_html(self, with_note=True)
