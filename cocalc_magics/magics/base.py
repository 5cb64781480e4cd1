"""What every area's magics share: the options, the session, one-line errors and argument helpers."""

from __future__ import annotations

import argparse
import functools
import math
from urllib.parse import urlsplit

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics
from IPython.core.magic_arguments import argument, parse_argstring

from ..config import MAX_TIMEOUT_SECONDS
from ..display import can_update_in_place
from ..errors import CoCalcError
from ..session import CoCalcSession, get_default_session
from ..text import one_line
from .options import CoCalcMagics

# An error is shown as one line; past this many characters (a pasted document echoed back) it is cut.
ERROR_LINE_LIMIT = 500
_OUTPUT_HELP = "store the result in the variable VAR and show nothing"
_PROJECT_HELP = "project id or title (default: the default project, see %%cocalc_project)"


class AreaMagics(Magics):
    """One area's magics (account, projects, query, LaTeX); the options are the shared :class:`CoCalcMagics`."""

    shell: InteractiveShell  # always given: the magics are only made by load_ipython_extension

    def __init__(self, shell: InteractiveShell, options: CoCalcMagics):
        super().__init__(shell=shell)
        self.options = options

    @property
    def session(self) -> CoCalcSession:
        return get_default_session()

    @property
    def _live(self) -> bool:
        return can_update_in_place(self.shell)

    def _deliver(self, value, output: str | None):
        """``-o VAR``: store the value and show nothing; otherwise return it for IPython to show."""
        output = output_name(output)
        if output:
            self.shell.user_ns[output] = value
            return None
        return value


def reports_errors(magic):
    """Turn the package's errors (and Ctrl-C) into IPython's one-line ``UsageError``, as jupysql does.

    With ``short_errors`` off the original exception propagates, traceback and all.
    """

    @functools.wraps(magic)
    def wrapper(self: AreaMagics, *args, **kwargs):
        try:
            return magic(self, *args, **kwargs)
        except CoCalcError as error:
            if not self.options.short_errors:
                raise
            raise UsageError(one_line(str(error), ERROR_LINE_LIMIT)) from None
        except UsageError as error:
            # Option parsing echoes what it did not understand, which may be a whole pasted document.
            raise UsageError(one_line(str(error), ERROR_LINE_LIMIT)) from None
        except KeyboardInterrupt as interrupt:
            # A read cut short can leave a pooled connection mid-answer: start the next cell on fresh ones.
            self.session.close()
            if not self.options.short_errors:
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


def parse_line(magic, line: str):
    """IPython's parse_argstring, with an unbalanced quote reported as a UsageError like any other mistake."""
    try:
        return parse_argstring(magic, line)
    except ValueError as error:  # shlex: "No closing quotation", "No escaped character"
        raise UsageError(f"cannot split the line into options: {error}") from None


output_argument = argument("-o", "--output", metavar="VAR", help=_OUTPUT_HELP)
project_argument = argument("project", nargs="*", metavar="PROJECT", help=_PROJECT_HELP)


def unquote(text: str | None) -> str | None:
    """magic_arguments splits like shlex in non-POSIX mode, which keeps quotes (IPython's %%writefile strips
    them the same way)."""
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def project_reference(words: list[str]) -> str | None:
    return unquote(" ".join(words).strip()) or None


def output_name(name: str | None) -> str | None:
    if name is not None and not name.isidentifier():
        raise UsageError(f"-o needs a Python variable name, not {name[:40]!r}")
    return name


def project_label(project) -> str:
    return f"project {project.title!r}" if project.title else f"project {project.project_id}"


def host_name(host: str) -> str:
    return urlsplit(host).netloc or host
