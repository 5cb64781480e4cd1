"""What is sent to CoCalc's ``latex`` endpoint: the compile command (wrapped so the errors come back) and the
parameters. The document itself is built from the cell in :mod:`.interpolation`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from .log import MAX_PRINT_LINE_ENV

# CoCalc's DEFAULT_LATEX_COMMAND (next/lib/api/latex.ts); the server appends the file name.
DEFAULT_LATEX_COMMAND = "latexmk -pdf -f -g -bibtex -deps -interaction=nonstopmode"
# latex's compile timeout when none is given (pages/api/v2/latex.ts: `params.timeout ?? 30`).
DEFAULT_COMPILE_TIMEOUT = 30.0

# Printed after the compile by `reporting_command`, so the real exit status survives the wrapper's exit 0.
EXIT_STATUS_MARKER = "cocalc-magics: latexmk exit status "

# SyncTeX: asked for in the wrapped default command; after the compile the wrapper prints this marker line and
# the `.synctex.gz` base64-encoded on the next line (read off stdout by `reply.split_synctex`). Capped so that
# stdout stays within execute-code's default max_output of 2,000,000 characters, with room for the log.
SYNCTEX_OPTION = "-synctex=1"
SYNCTEX_MARKER = "cocalc-magics: synctex base64 "
SYNCTEX_LIMIT = 1_000_000

# What a compile under CoCalc's own command can tell (latex.ts runs it with err_on_exit; execute-code.ts keeps
# only the first 1024 characters of stderr in the error text), said whenever that is all there is.
LIMITED_DETAILS = "only the exit code and the first 1024 characters of stderr came back"
LIMITED_DETAILS_NOTE = ("details are limited: the server refused the error-reporting command, so CoCalc's "
                        "default ran and " + LIMITED_DETAILS)
CUSTOM_COMMAND_NOTE = ("the server refused the error-reporting wrapper, so the command ran as given: "
                       + LIMITED_DETAILS)


def reporting_command(filename: str, command: str | None = None) -> str:
    """CoCalc's default command (or ``command``), rearranged so that the TeX errors reach the caller.

    On a non-zero exit CoCalc returns only 1024 characters of *stderr*, while latexmk writes the TeX errors
    to *stdout*: a failed compile would come back with no error text at all. So the compile runs under bash
    (CoCalc runs a command with spaces that way), with ``-file-line-error`` for ``file:line: message``
    lines, with TeX's 79-column wrap turned off (``MAX_PRINT_LINE_ENV``), then prints its exit status and
    exits 0, which makes CoCalc return the whole of stdout.
    A ``command`` of the caller's is grouped in ``{ …\n}`` so that its own ``;``, ``&&`` or ``&`` still parse.
    """
    # TeX wraps its log at 79 columns unless kpathsea finds max_print_line (and friends) in the environment.
    no_wrap = "export " + " ".join(f"{name}={value}" for name, value in MAX_PRINT_LINE_ENV.items()) + "; "
    if command is not None:
        return f"{no_wrap}{{ {command}\n}}; echo \"{EXIT_STATUS_MARKER}$?\"{synctex_tail(filename)}"
    return (f"{no_wrap}{DEFAULT_LATEX_COMMAND} {SYNCTEX_OPTION} -file-line-error {shlex.quote(filename)}; "
            f"echo \"{EXIT_STATUS_MARKER}$?\"{synctex_tail(filename)}")


def synctex_tail(filename: str) -> str:
    """What the wrapper runs after the exit status: the ``.synctex.gz`` next to ``filename``, when the compile
    made one of at most :data:`SYNCTEX_LIMIT` bytes, as a marker line and one line of base64. Ends with status 0
    either way, so CoCalc still returns the whole of stdout."""
    stem = filename[:-4] if filename.endswith(".tex") else filename
    synctex = shlex.quote(f"{stem}.synctex.gz")
    return (f"; if [ -f {synctex} ] && [ \"$(wc -c < {synctex})\" -le {SYNCTEX_LIMIT} ]; then "
            f"echo; echo \"{SYNCTEX_MARKER}\"; base64 -w0 {synctex}; echo; fi; true")


def fresh_tmp_path() -> str:
    """A new ``/tmp/….tex``, which CoCalc deletes after the compile."""
    import secrets  # hashlib and its OpenSSL: loaded on the first compile, not at %load_ext

    return f"/tmp/cocalc-magics-{secrets.token_hex(4)}.tex"


@dataclass(frozen=True)
class LatexRequest:
    """One compile as the caller asked for it; ``project_id`` is already resolved (None: the server picks)."""

    path: str
    content: str | None = None
    project_id: str | None = None
    command: str | None = None
    timeout: float | None = None
    only_read_pdf: bool = False
    report_errors: bool = False

    @property
    def main_file(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def wants_wrapper(self) -> bool:
        """Whether the command is wrapped by :func:`reporting_command` (CoCalc's own, or on request)."""
        return not self.only_read_pdf and (self.command is None or self.report_errors)

    @property
    def compile_timeout(self) -> float:
        return DEFAULT_COMPILE_TIMEOUT if self.timeout is None else self.timeout

    def params(self, wrapped: bool) -> dict[str, Any]:
        """The endpoint's JSON body; ``wrapped=False`` sends the caller's command (or none: CoCalc's own)."""
        params: dict[str, Any] = {"path": self.path}
        if not self.only_read_pdf:
            command = reporting_command(self.main_file, self.command) if wrapped else self.command
            if command is not None:
                params["command"] = command
        optional = {"content": self.content, "timeout": self.timeout, "only_read_pdf": self.only_read_pdf or None,
                    "project_id": self.project_id}
        params.update({k: v for k, v in optional.items() if v is not None})
        return params
