"""TeX and latexmk output → ``file:line: message`` errors, with the lines of the cell.

The home of TeX log reading: a fuller parser replaces these functions without touching their callers.
"""

from __future__ import annotations

import dataclasses
import re

from ..models import LatexResult, TexError
from .interpolation import LatexSource

# `-file-line-error` style: "./doc.tex:12: Undefined control sequence."
_FILE_LINE_ERROR = re.compile(r"^(?P<file>(?:\./|/)?[^\s:()][^:\n]*?\.(?:tex|sty|cls|bib|bbl|aux|def|cfg|clo|ltx)):(?P<line>\d{1,9}): (?P<message>.+)$", re.MULTILINE)
# Classic TeX style: "! Undefined control sequence." then, a few lines later, "l.12 \foo".
_BANG_ERROR = re.compile(r"^! (?P<message>.+)$", re.MULTILINE)
_LINE_MARK = re.compile(r"^l\.(?P<line>\d{1,9})\b", re.MULTILINE)

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


def errors_in_source_lines(result: LatexResult, source: LatexSource, shown_name: str) -> LatexResult:
    """TeX numbers the lines of the document sent; show them as lines of the cell (or local file) instead."""
    main_file = result.path.rsplit("/", 1)[-1]
    errors: list[TexError] = []
    for error in result.errors:
        if error.file == main_file:
            error = TexError(shown_name, source.cell_line(error.line), error.message)
        if error not in errors:
            errors.append(error)
    return dataclasses.replace(result, errors=errors)


def _clean_file(name: str) -> str:
    return name.removeprefix("./")
