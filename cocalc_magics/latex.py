"""LaTeX specifics: CoCalc's default compile command, and turning TeX/latexmk output into ``file:line: message``."""

from __future__ import annotations

import re
import shlex

from .models import TexError

# CoCalc's DEFAULT_LATEX_COMMAND (next/lib/api/latex.ts); the server appends the file name.
DEFAULT_LATEX_COMMAND = "latexmk -pdf -f -g -bibtex -deps -interaction=nonstopmode"

# Printed after the compile by `reporting_command`, so the real exit status survives the wrapper's exit 0.
EXIT_STATUS_MARKER = "cocalc-magics: latexmk exit status "
_EXIT_STATUS = re.compile(r"^" + re.escape(EXIT_STATUS_MARKER) + r"(?P<code>-?\d{1,9})\s*$", re.M)

# `-file-line-error` style: "./doc.tex:12: Undefined control sequence."
_FILE_LINE_ERROR = re.compile(r"^(?P<file>(?:\./|/)?[^\s:()][^:\n]*?\.(?:tex|sty|cls|bib|bbl|aux|def|cfg|clo|ltx)):(?P<line>\d{1,9}): (?P<message>.+)$", re.M)
# Classic TeX style: "! Undefined control sequence." then, a few lines later, "l.12 \foo".
_BANG_ERROR = re.compile(r"^! (?P<message>.+)$", re.M)
_LINE_MARK = re.compile(r"^l\.(?P<line>\d{1,9})\b", re.M)

# CoCalc's execute-code error text (backend/execute-code.ts) when a command exits non-zero.
_EXEC_ERROR = re.compile(r"exited with nonzero code (?P<code>-?\d{1,9}) -- stderr='(?P<stderr>.*)'\s*$", re.S)


def reporting_command(filename: str, command: str | None = None) -> str:
    """CoCalc's default command (or ``command``), rearranged so that the TeX errors reach the caller.

    On a non-zero exit CoCalc returns only 1024 characters of *stderr*, while latexmk writes the TeX errors
    to *stdout*: a failed compile would come back with no error text at all. So the compile runs under bash
    (CoCalc runs a command with spaces that way), with ``-file-line-error`` for ``file:line: message``
    lines, then prints its exit status and exits 0, which makes CoCalc return the whole of stdout.
    A ``command`` of the caller's is grouped in ``{ …\n}`` so that its own ``;``, ``&&`` or ``&`` still parse.
    """
    if command is not None:
        return f"{{ {command}\n}}; echo \"{EXIT_STATUS_MARKER}$?\""
    return f"{DEFAULT_LATEX_COMMAND} -file-line-error {shlex.quote(filename)}; echo \"{EXIT_STATUS_MARKER}$?\""


def split_exit_status(stdout: str) -> tuple[int | None, str]:
    """Take the status line that `reporting_command` printed off stdout: (status or None, remaining stdout)."""
    match = _EXIT_STATUS.search(stdout or "")
    if not match:
        return None, stdout
    return int(match.group("code")), stdout[: match.start()] + stdout[match.end():].lstrip("\n")


def parse_exec_error(text: str) -> tuple[int | None, str]:
    """Pull the exit code and the (at most 1024 characters of) stderr out of CoCalc's exec error text."""
    match = _EXEC_ERROR.search(text or "")
    if not match:
        return None, ""
    return int(match.group("code")), match.group("stderr")


def parse_tex_errors(output: str, main_file: str) -> list[TexError]:
    """Find the TeX errors in compiler output, in order, without duplicates.

    ``-file-line-error`` lines are used when present; otherwise classic ``! message`` blocks are paired with
    the ``l.N`` line that TeX prints after them and attributed to ``main_file``.
    """
    if not output:
        return []
    errors: list[TexError] = []
    for match in _FILE_LINE_ERROR.finditer(output):
        error = TexError(_clean_file(match.group("file")), int(match.group("line")), match.group("message").strip())
        if error not in errors:
            errors.append(error)
    if errors:
        return errors
    bangs = list(_BANG_ERROR.finditer(output))
    for index, match in enumerate(bangs):
        block_end = bangs[index + 1].start() if index + 1 < len(bangs) else len(output)
        line_mark = _LINE_MARK.search(output, match.end(), block_end)
        line = int(line_mark.group("line")) if line_mark else None
        error = TexError(main_file, line, match.group("message").strip())
        if error not in errors:
            errors.append(error)
    return errors


def _clean_file(name: str) -> str:
    return name[2:] if name.startswith("./") else name
