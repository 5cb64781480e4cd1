"""IPython magics that drive CoCalc over the kernel's shared session.

Load them in a notebook with::

    %load_ext cocalc_magics

To load them in every IPython session and kernel, list the extension in your IPython profile
(``ipython profile create`` makes ``~/.ipython/profile_default/ipython_config.py``) and set options there::

    c.InteractiveShellApp.extensions = ["cocalc_magics"]
    c.CoCalcMagics.preview_dpi = 120

The magics (``%cocalc_latex?`` and so on print each one's full help):

- ``%cocalc_login [--host URL] [--prompt]``: check the API key (``COCALC_API_KEY``, the config file, or a
  hidden prompt) and show whose it is. A key typed on the line is refused: the line is saved in the notebook.
- ``%cocalc_whoami [-o VAR]``: the account (id, email, name).
- ``%cocalc_start|stop|restart [PROJECT] [--no-wait] [--timeout S] [-o VAR]``: change a project's state and
  wait for it, showing one status line; Ctrl-C stops the wait (not the project) and says where it stands.
- ``%cocalc_project [PROJECT]``: show, or set, the default project.
- ``%cocalc_projects [--all] [--limit N] [-o VAR]``: the projects with their state.
- ``%cocalc_query [-o VAR] JSON`` (or ``$var``, or a ``%%cocalc_query`` cell): a raw ``user-query``.
- ``%%cocalc_latex [--path P] [--project P] [--command C] [--timeout S] [--no-preview] [--dpi N] [-o VAR]``:
  compile the cell (``%cocalc_latex FILE.tex`` compiles a local file). ``\\py{expr}`` inserts a Python value
  escaped for LaTeX, ``\\pyraw{expr}`` inserts it as LaTeX (see :mod:`cocalc_magics.interpolation`).

PROJECT is a project id or title; without it the default project is used. ``-o VAR`` stores the typed
result (Account, ProjectState, ProjectList, dict, LatexResult) in VAR and shows nothing; without it the
result is shown (``x = %cocalc_whoami`` works too, for the magics that return one).

Options, set with ``%config CoCalcMagics.<name> = value`` or in the profile as ``c.CoCalcMagics.<name>``:
``host``, ``timeout``, ``project`` (the default project), ``preview_dpi`` and ``short_errors``. The first
three are handed to the shared session (:func:`cocalc_magics.get_default_session`) at once.

Errors are one line with no traceback, saying what went wrong and what to do;
``%config CoCalcMagics.short_errors = False`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import getpass
import json
import math
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Float, Int, TraitError, Unicode, observe, validate

from .client import one_line
from .display import LatexSummary, StatusLine, can_update_in_place, say
from .errors import AuthenticationError, CoCalcError
from .interpolation import LatexSource, prepare_document
from .models import LatexResult, ProjectList, TexError
from .history import forget_in_history
from .session import ENV_PROJECT_ID, CoCalcSession, api_key_problem, get_default_session

# CoCalc's `projects` table shows projects edited in the last 6 weeks; `projects_all` shows them all.
RECENT_PROJECTS = timedelta(weeks=6)
_KEY_SHAPED = re.compile(r"^['\"]?sk[-_]")
_OUTPUT_HELP = "store the result in the variable VAR and show nothing"
_PROJECT_HELP = "project id or title (default: the default project, see %%cocalc_project)"
# An error is shown as one line; past this many characters (a pasted document echoed back) it is cut.
ERROR_LINE_LIMIT = 500
# The longest wait a --timeout may ask for: a day is already far past any CoCalc limit.
MAX_TIMEOUT_SECONDS = 86400.0


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C during a wait: the message says what the project (or compile) may still be doing."""


class _Cancelled(Exception):
    """Raised from an on_poll callback to end a wait nobody is watching any more."""


def _reports_errors(magic):
    """Turn the package's errors (and Ctrl-C) into IPython's one-line ``UsageError``, as jupysql does.

    With ``short_errors`` off the original exception propagates, traceback and all.
    """

    @functools.wraps(magic)
    def wrapper(self, *args, **kwargs):
        try:
            return magic(self, *args, **kwargs)
        except CoCalcError as error:
            if not self.short_errors:
                raise
            raise UsageError(one_line(str(error), ERROR_LINE_LIMIT)) from None
        except UsageError as error:
            # Option parsing echoes what it did not understand, which may be a whole pasted document.
            raise UsageError(one_line(str(error), ERROR_LINE_LIMIT)) from None
        except KeyboardInterrupt as interrupt:
            # A read cut short can leave a pooled connection mid-answer: start the next cell on fresh ones.
            self.session.close()
            if not self.short_errors:
                raise
            raise UsageError(str(interrupt) or "Interrupted: stopped waiting for CoCalc's answer") from None

    return wrapper


def seconds(text: str) -> float:
    """An option's number of seconds: more than 0, at most a day (nan, inf and 1e300 would break the wait)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {one_line(text, 40)!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_SECONDS):
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds, "
                                         f"not {one_line(text, 40)}")
    return value


def _parse_argstring(magic, line: str):
    """IPython's parse_argstring, with an unbalanced quote reported as a UsageError like any other mistake."""
    try:
        return parse_argstring(magic, line)
    except ValueError as error:  # shlex: "No closing quotation", "No escaped character"
        raise UsageError(f"cannot split the line into options: {error}") from None


_output = argument("-o", "--output", metavar="VAR", help=_OUTPUT_HELP)
_project = argument("project", nargs="*", metavar="PROJECT", help=_PROJECT_HELP)
_no_wait = argument("--no-wait", action="store_true",
                    help="return as soon as CoCalc has the request, without waiting for the new state")
_wait_timeout = argument("--timeout", type=seconds, metavar="S",
                         help="stop waiting after S seconds (default: 180)")

_ACTIONS = {"start": ("starting", "start"), "stop": ("stopping", "stop"), "restart": ("restarting", "restart")}


@magics_class
class CoCalcMagics(Magics):
    """The ``%cocalc_*`` magics; configurable with ``%config CoCalcMagics.<option> = value``."""

    host = Unicode(None, allow_none=True, help=(
        "CoCalc server URL, e.g. https://cocalc.com. Unset: the session's own choice "
        "(COCALC_HOST, the config file, or https://cocalc.com).")).tag(config=True)
    timeout = Float(None, allow_none=True, help=(
        "Seconds to wait for an ordinary API answer. Unset: the session's (30).")).tag(config=True)
    project = Unicode(None, allow_none=True, help=(
        "Default project (id or title) for the magics that take a PROJECT. Unset: the session's "
        "(COCALC_PROJECT_ID or the config file).")).tag(config=True)
    preview_dpi = Int(100, help="Resolution (dpi) of the page-1 preview that %cocalc_latex shows.").tag(config=True)
    short_errors = Bool(True, help=(
        "Show errors as one line. False: show the full traceback.")).tag(config=True)

    # -- configuration reaches the shared session ---------------------------------------------------------

    @property
    def session(self) -> CoCalcSession:
        return get_default_session()

    @validate("host")
    def _validate_host(self, proposal):
        if proposal.value is None:
            return None
        try:
            self.session.host = proposal.value  # the session checks and normalises it
        except CoCalcError as error:
            raise TraitError(str(error)) from None
        return self.session.host

    @validate("timeout")
    def _validate_timeout(self, proposal):
        if proposal.value is not None and not (math.isfinite(proposal.value) and 0 < proposal.value
                                               <= MAX_TIMEOUT_SECONDS):
            raise TraitError(f"timeout must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds, "
                             f"not {proposal.value}")
        return proposal.value

    @observe("timeout")
    def _timeout_changed(self, change):
        self._apply_timeout(change.new)

    @observe("project")
    def _project_changed(self, change):
        self.session.project_id = change.new or None

    def _apply_timeout(self, timeout: float | None) -> None:
        if timeout is not None:
            self.session.timeout = float(timeout)
            self.session.close()  # the next call builds a client with the new timeout

    def update_config(self, config):
        super().update_config(config)
        # traitlets notifies only on a change; `%config` must reach the session even when the value is the
        # same as before (the session may have been replaced or changed since).
        section = config[type(self).__name__] if type(self).__name__ in config else {}
        if "host" in section and self.host is not None:
            self.session.host = self.host
        if "timeout" in section:
            self._apply_timeout(self.timeout)
        if "project" in section:
            self.session.project_id = self.project or None

    # -- account ---------------------------------------------------------------------------------------------

    @magic_arguments()
    @argument("--host", metavar="URL", help="the CoCalc server (default: COCALC_HOST, the config file, "
                                            "or https://cocalc.com)")
    @argument("--prompt", action="store_true",
              help="ask for a key even when COCALC_API_KEY or the config file has one")
    @line_magic
    @_reports_errors
    def cocalc_login(self, line=""):
        """Sign in to CoCalc: check an API key and show whose account it is.

        The key comes from COCALC_API_KEY or the config file when one is set; otherwise (or with --prompt)
        it is asked for with a hidden prompt and kept in memory for this kernel only. Never type the key on
        this line: the line is saved in the notebook, so such a line is refused. Make a key in CoCalc's
        account settings, under API keys.
        """
        _refuse_key_on_line(line, self.shell)
        args = _parse_argstring(self.cocalc_login, line)
        session = self.session
        if args.host:
            session.host = _unquote(args.host)  # a malformed URL is a ConfigurationError, shown as one line
            self.host = session.host
        if args.prompt or not session.has_api_key:
            key = getpass.getpass(f"CoCalc API key for {session.host} (input hidden): ").strip()
            if not key:
                raise UsageError("no key entered; nothing changed")
            problem = api_key_problem(key)
            if problem:
                raise UsageError(f"{problem}; nothing changed")
            try:
                account = session.check_key(key)  # with the session's own TLS setting, retries and config
            except AuthenticationError:
                raise UsageError(f"{session.host} did not accept that key; nothing changed "
                                 "(make a key in CoCalc's account settings, under API keys)") from None
            except CoCalcError as error:
                # One line even with short_errors off: a traceback's frames hold the key, and %xmode Verbose
                # prints their variables.
                raise UsageError(f"{one_line(str(error), ERROR_LINE_LIMIT)}; nothing changed") from None
            session.set_api_key(key)
        else:
            account = session.whoami()
        say(f"Signed in to {session.host} as {account}")

    @magic_arguments()
    @_output
    @line_magic
    @_reports_errors
    def cocalc_whoami(self, line=""):
        """Show the account the API key belongs to: account id, email and name."""
        args = _parse_argstring(self.cocalc_whoami, line)
        return self._deliver(self.session.whoami(), args.output)

    # -- projects --------------------------------------------------------------------------------------------

    @magic_arguments()
    @argument("project", nargs="*", metavar="PROJECT", help="project id or title to make the default")
    @line_magic
    @_reports_errors
    def cocalc_project(self, line=""):
        """Show the default project, or set it, as a panel with its live state and Start / Stop / Restart.

        The default project is the one the other magics use when no PROJECT is given. It can also be set
        with %config CoCalcMagics.project = "<id or title>" or the COCALC_PROJECT_ID environment variable.
        """
        args = _parse_argstring(self.cocalc_project, line)
        reference = _project_reference(args.project)
        if not reference:
            if not self.session.project_id:
                say("No default project. Set one with %cocalc_project <id or title>, "
                    f"%config CoCalcMagics.project = '<id or title>', or {ENV_PROJECT_ID}.")
                return None
            return self.session.controls(self.session.project())
        project = self.session.project(reference)
        self.session.project_id = project.project_id
        self.project = project.project_id  # keeps %config CoCalcMagics.project in step
        say(f"Default project: {_project_label(project)} ({project.project_id})")
        return self.session.controls(project)

    @magic_arguments()
    @argument("--all", action="store_true",
              help="every project, not only those edited in the last 6 weeks (as CoCalc's projects list)")
    @argument("--limit", type=int, metavar="N", help="show at most N projects, most recently edited first")
    @_output
    @line_magic
    @_reports_errors
    def cocalc_projects(self, line=""):
        """List your projects, most recently edited first, each with its live state and Start / Stop / Restart.

        With -o VAR the list (of Project, each with its state) is stored instead."""
        args = _parse_argstring(self.cocalc_projects, line)
        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be at least 1")
        projects = self.session.projects()
        if not args.all:
            cutoff = datetime.now(timezone.utc) - RECENT_PROJECTS
            projects = [p for p in projects if p.last_edited is None or _as_utc(p.last_edited) >= cutoff]
        projects = ProjectList(projects[: args.limit] if args.limit else projects)
        if args.output or not projects:
            return self._deliver(projects, args.output)
        from .widgets import ProjectControls

        return ProjectControls(self.session, list(projects))

    @magic_arguments()
    @_project
    @_no_wait
    @_wait_timeout
    @_output
    @line_magic
    @_reports_errors
    def cocalc_start(self, line=""):
        """Start a project and wait until it is running."""
        return self._change_state("start", _parse_argstring(self.cocalc_start, line))

    @magic_arguments()
    @_project
    @_no_wait
    @_wait_timeout
    @_output
    @line_magic
    @_reports_errors
    def cocalc_stop(self, line=""):
        """Stop a project and wait until it is stopped (CoCalc calls that state "opened")."""
        return self._change_state("stop", _parse_argstring(self.cocalc_stop, line))

    @magic_arguments()
    @_project
    @argument("--no-wait", action="store_true",
              help="after the stop, do not wait for the project to be running again")
    @_wait_timeout
    @_output
    @line_magic
    @_reports_errors
    def cocalc_restart(self, line=""):
        """Restart a project: stop it, wait, start it and wait until it is running (API v2 has no restart)."""
        return self._change_state("restart", _parse_argstring(self.cocalc_restart, line))

    def _change_state(self, action: str, args):
        output = _output_name(args.output)
        session = self.session
        project = session.project(_project_reference(args.project))
        label, host = _project_label(project), _host_name(session.host)
        doing = _ACTIONS[action][0]
        last_seen: list[str] = []
        cancelled = threading.Event()

        def on_poll(state):
            if cancelled.is_set():
                raise _Cancelled()
            last_seen.append(state.state)

        def work():
            call = getattr(session, action)
            return call(project.project_id, wait=not args.no_wait, timeout=args.timeout, on_poll=on_poll)

        def describe(elapsed: float) -> str:
            seen = f" ({last_seen[-1]})" if last_seen else ""
            return f"{doing} {label} on {host}… {elapsed:.1f} s{seen}"

        status = StatusLine(self._live)
        started = time.monotonic()
        try:
            state = status.run(work, describe)
        except KeyboardInterrupt as interrupt:
            cancelled.set()  # the worker stops at its next poll; CoCalc carries on with what it was asked
            status.clear()
            raise WaitInterrupted(_interrupted_wait(action, label, time.monotonic() - started, last_seen)) \
                from interrupt
        except BaseException:
            status.clear()
            raise
        elapsed = time.monotonic() - started
        if output:
            status.clear()
            return self._deliver(state, output)
        waited = "" if args.no_wait else f" after {elapsed:.1f} s"
        # "opened" is CoCalc's word for a project that is not running.
        described = f"stopped ({state})" if state.state == "opened" else str(state)
        status.finish(f"{label[:1].upper()}{label[1:]} is {described}{waited}")
        return None

    # -- raw queries -----------------------------------------------------------------------------------------

    @magic_arguments()
    @_output
    @argument("query", nargs="*", metavar="JSON",
              help="the query as JSON (or a Python literal), or $name of a dict; in the cell form, the cell")
    @no_var_expand
    @line_cell_magic
    @_reports_errors
    def cocalc_query(self, line="", cell=None):
        """Run a raw CoCalc user-query and return its result (without the {"query": ...} wrapper).

        A query with a null (None) anywhere is a get; one without is a set. For example:

            %cocalc_query {"accounts": {"first_name": null, "last_name": null}}
            %cocalc_query {"projects_all": [{"project_id": null, "title": null, "state": null}]}
            %cocalc_query $q
            %cocalc_query -o result {"accounts": {"email_address": null}}

        -o VAR comes before the query.
        """
        # Parsed by hand: argparse would split the JSON at its spaces and drop its quotes.
        match = re.match(r"\s*(?:(?:-o|--output)\s+(?P<var>\S+))?\s*(?P<rest>.*)$", line, re.S)
        output = _output_name(match.group("var"))
        text = (match.group("rest") + "\n" + (cell or "")).strip()
        if not text:
            raise UsageError('%cocalc_query needs a query, e.g. %cocalc_query {"accounts": {"account_id": null}}')
        query = self._query_value(text)
        if not isinstance(query, dict):
            raise UsageError(f"a user-query is a JSON object such as {{\"accounts\": {{\"account_id\": null}}}}, "
                             f"not a {type(query).__name__}")
        return self._deliver(self.session.query(query), output)

    def _query_value(self, text: str):
        if text.startswith("$"):
            try:
                return self.shell.ev(text[1:])
            except Exception as error:
                raise UsageError(f"%cocalc_query {text[:60]}: {type(error).__name__}: {error}") from None
        try:
            return json.loads(text)
        except RecursionError:
            raise UsageError("%cocalc_query: the query is nested too deeply to read") from None
        except ValueError as json_error:
            try:
                return ast.literal_eval(text)
            except (ValueError, SyntaxError, RecursionError, MemoryError):
                raise UsageError(f"%cocalc_query: not JSON ({json_error}) and not a Python literal; "
                                 "give a JSON object or $name of a dict") from None

    # -- LaTeX -----------------------------------------------------------------------------------------------

    @magic_arguments()
    @argument("file", nargs="?", metavar="FILE.tex", help="line form: compile this local file")
    @argument("--path", metavar="P", help="where the document is written in the project, ending in .tex "
                                          "(default: a fresh /tmp/….tex, which CoCalc deletes afterwards)")
    @argument("--project", metavar="P", help="project id or title (default: the default project; without "
                                             "one, CoCalc uses your most recently edited project)")
    @argument("--command", metavar="C", help="compile command instead of CoCalc's latexmk; it runs in the "
                                             "directory of --path, which it therefore needs")
    @argument("--timeout", type=seconds, metavar="S", help="compile time limit in seconds (CoCalc's default: 30)")
    @argument("--no-preview", action="store_true", help="show no page-1 preview (the PDF is not downloaded)")
    @argument("--dpi", type=int, metavar="N", help="resolution of the preview (default: CoCalcMagics.preview_dpi)")
    @_output
    @no_var_expand
    @line_cell_magic
    @_reports_errors
    def cocalc_latex(self, line="", cell=None):
        """Compile LaTeX in a CoCalc project and show page 1 of the PDF, or the TeX errors.

        The cell is the document; a cell without \\documentclass is wrapped in a plain article. Python values
        enter it through \\py{expr} (escaped for LaTeX: 50% stays "50%" on the page) and \\pyraw{expr}
        (inserted as LaTeX). Nothing else is touched: braces, $, % and # are LaTeX's. Every expression is
        evaluated before anything is sent.

        A failed compile is a result, not an exception: the TeX errors are shown as file:line: message, with
        the line numbers of the cell, and the full log is one click away (result.log). The PDF that latexmk
        still makes is shown too. With -o VAR the LatexResult is stored (result.ok, .errors, .pdf, .log,
        .save(name)) and nothing is shown.
        """
        args = _parse_argstring(self.cocalc_latex, line)
        for option in ("file", "path", "project", "command"):
            setattr(args, option, _unquote(getattr(args, option)))
        output = _output_name(args.output)
        source, shown_name = self._latex_source(args, cell)
        if args.command and not args.path:
            raise UsageError("--command needs --path, so that the command can name the file it compiles")
        if args.dpi is not None and not 10 <= args.dpi <= 600:
            raise UsageError("--dpi must be between 10 and 600")
        session = self.session
        project = session.project(args.project) if (args.project or session.project_id) else None
        where = f"{_host_name(session.host)}, " + (f"{_project_label(project)}" if project
                                                    else "the project CoCalc picks")
        status = StatusLine(self._live)
        started = time.monotonic()
        try:
            result = status.run(
                lambda: session.latex(source.text, path=args.path, project_id=project and project.project_id,
                                      command=args.command, timeout=args.timeout, report_errors=True),
                lambda elapsed: f"compiling on {where}… {elapsed:.1f} s")
        except KeyboardInterrupt as interrupt:
            status.clear()
            raise WaitInterrupted(
                f"Interrupted after {time.monotonic() - started:.1f} s: the compile may still finish in "
                f"{_project_label(project) if project else 'the project'}, but nothing will be shown") from interrupt
        except BaseException:
            status.clear()
            raise
        result = _point_errors_at_source(result, source, shown_name)
        if output:
            status.clear()
            return self._deliver(result, output)
        dpi = None if args.no_preview else (args.dpi or self.preview_dpi)
        if result.note:
            say(f"Note: {result.note}.")  # e.g. the server refused the error-reporting command
        status.finish(self._latex_view(result, dpi, status) if dpi and result.url else LatexSummary(result))
        return None

    @staticmethod
    def _latex_view(result: LatexResult, dpi: int, status: StatusLine):
        """The PDF viewer, with the PDF fetched now so that Ctrl-C during the download still shows the result."""
        from .widgets import PdfViewer

        status.show("fetching the PDF…")
        viewer = PdfViewer(result, dpi=dpi)
        try:
            viewer.pages  # noqa: B018 (fetches the blob; a failure becomes viewer.problem, shown in the viewer)
        except KeyboardInterrupt:
            return LatexSummary(result)
        return viewer

    def _latex_source(self, args, cell: str | None) -> tuple[LatexSource, str]:
        """The document to send and the file name its errors should carry."""
        if cell is None:
            if not args.file:
                raise UsageError("%cocalc_latex needs a local FILE.tex; use %%cocalc_latex to compile a cell")
            try:
                text = Path(args.file).expanduser().read_text()
            except (OSError, ValueError, RuntimeError) as error:  # ValueError: a NUL or undecodable text; ~nosuchuser
                raise UsageError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
            return LatexSource(text, tuple(range(1, text.count("\n") + 2))), args.file
        if args.file:
            raise UsageError(f"%%cocalc_latex compiles the cell; give {args.file} with --path, or use the line "
                             f"form %cocalc_latex {args.file}")
        if not cell.strip():
            raise UsageError("the cell is empty: write the LaTeX document (or a fragment) below %%cocalc_latex")
        name = args.path.rsplit("/", 1)[-1] if args.path else "cell"
        return prepare_document(cell, self._evaluate), name

    def _evaluate(self, expression: str):
        # Parenthesised, so an expression may span lines as it would inside a call.
        return self.shell.ev(f"({expression}\n)")

    # -- helpers ---------------------------------------------------------------------------------------------

    @property
    def _live(self) -> bool:
        return can_update_in_place(self.shell)

    def _deliver(self, value, output: str | None):
        """``-o VAR``: store the value and show nothing; otherwise return it for IPython to show."""
        output = _output_name(output)
        if output:
            self.shell.user_ns[output] = value
            return None
        return value


def _unquote(text: str | None) -> str | None:
    """magic_arguments splits like shlex in non-POSIX mode, which keeps quotes (IPython's %%writefile strips
    them the same way)."""
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _project_reference(words: list[str]) -> str | None:
    return _unquote(" ".join(words).strip()) or None


def _output_name(name: str | None) -> str | None:
    if name is not None and not name.isidentifier():
        raise UsageError(f"-o needs a Python variable name, not {name[:40]!r}")
    return name


def _refuse_key_on_line(line: str, shell) -> None:
    """Allow only ``--host URL`` and ``--prompt``; anything else might be a key, so it is not echoed, and it is
    taken out of IPython's history."""
    tokens = line.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--host" and index + 1 < len(tokens) and not _KEY_SHAPED.match(tokens[index + 1]):
            index += 2
            continue
        if token == "--prompt" or (token.startswith("--host=") and not _KEY_SHAPED.match(token[7:])):
            index += 1
            continue
        suspects = [word for word in tokens[index:] if word not in ("--prompt", "--host")]
        cleaned = forget_in_history(shell, suspects)
        raise UsageError(
            "%cocalc_login takes no API key on its line, because the line is saved in the notebook; the line "
            f"was refused and is not repeated here. {cleaned} Run %cocalc_login alone and paste the key into the "
            "hidden prompt (or set COCALC_API_KEY), delete that line from the cell, and revoke the key if the "
            "notebook was saved or shared.")


def _point_errors_at_source(result: LatexResult, source: LatexSource, shown_name: str) -> LatexResult:
    """TeX numbers the lines of the document sent; show them as lines of the cell (or local file) instead."""
    main_file = result.path.rsplit("/", 1)[-1]
    errors: list[TexError] = []
    for error in result.errors:
        if error.file == main_file:
            error = TexError(shown_name, source.cell_line(error.line), error.message)
        if error not in errors:
            errors.append(error)
    return dataclasses.replace(result, errors=errors)


def _interrupted_wait(action: str, label: str, elapsed: float, last_seen: list[str]) -> str:
    """One line for a Ctrl-C during a state change: what was seen, and what the project may be doing now."""
    doing, verb = _ACTIONS[action]
    seen = f"it was last seen {last_seen[-1]!r}" if last_seen else f"the {verb} request was sent"
    if action == "restart":
        # The wait is also what would have started it again after the stop.
        outlook = "it may end up stopped or running; see %cocalc_projects, and %cocalc_start it if it stays stopped"
    else:
        outlook = f"so it may still be {doing}; see its state with %cocalc_projects"
    return f"Interrupted after {elapsed:.1f} s of waiting for {label} to {verb}: {seen}, {outlook}"


def _project_label(project) -> str:
    return f"project {project.title!r}" if project.title else f"project {project.project_id}"


def _host_name(host: str) -> str:
    return urlsplit(host).netloc or host


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_loaded: dict[int, CoCalcMagics] = {}


def load_ipython_extension(ipython) -> None:
    magics = CoCalcMagics(shell=ipython)
    ipython.register_magics(magics)
    _loaded[id(ipython)] = magics


def unload_ipython_extension(ipython) -> None:
    magics = _loaded.pop(id(ipython), None)
    if magics is None:
        return
    manager = ipython.magics_manager
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(type(magics).__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
