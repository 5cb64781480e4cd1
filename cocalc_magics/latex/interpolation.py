"""From a ``%%cocalc_latex`` cell body to the document that is sent, with Python values substituted.

The syntax is PythonTeX's command form, so it never collides with LaTeX: braces, ``$``, ``%``, ``#`` and
``&`` stay what LaTeX makes of them, and only three commands are touched:

- ``\\py{expr}``    the value of ``expr``, escaped for LaTeX text (``50%`` becomes ``50\\%``, ``a_b``
  becomes ``a\\_b``), so data can never break the document;
- ``\\pyraw{expr}`` the value inserted as it is, for values that *are* LaTeX (a ``tabular``, a formula);
- ``\\pyfig{expr}`` / ``\\pyfig[options]{expr}`` a figure (anything with ``savefig``, e.g. a matplotlib
  Figure) saved as PDF, sent with the compile and included with ``\\includegraphics[options]``.

``expr`` is any Python expression over the notebook's variables; braces and quotes inside it are fine
(``\\py{d["k"]}``, ``\\py{f"{x:.2f}"}``). A ``\\py`` inside a LaTeX comment is left alone, and so is
``\\\\py`` (a line break followed by the text "py"). Every expression is evaluated before anything is
sent, so an undefined name is an error that names the line and costs no request.

A cell without ``\\documentclass`` is taken as a fragment and wrapped in a minimal ``article``.
:class:`LatexSource` keeps, for every line of the document sent, the line of the cell it came from, so TeX's
line numbers can be shown as line numbers of the cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InterpolationError
from ..text import one_line

# `\\` first, so that the backslash of an escaped backslash is never read as the start of `\py`;
# `\%` is an escaped percent sign, a bare `%` starts a comment that runs to the end of the line.
_TOKEN = re.compile(r"\\\\|\\%|%[^\n]*|\\py(?:(?P<raw>raw)|(?P<fig>fig)(?:\[(?P<options>[^\]\n]*)\])?)?\{")

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_LATEX_SPECIALS_PATTERN = re.compile("|".join(re.escape(char) for char in _LATEX_SPECIALS))

FRAGMENT_PREAMBLE = "\\documentclass{article}\n\\pagestyle{empty}\n\\begin{document}\n"
FRAGMENT_END = "\n\\end{document}\n"
_DOCUMENTCLASS = re.compile(r"^[^%\n]*\\documentclass\b", re.MULTILINE)


def latex_escape(value: Any) -> str:
    """``str(value)`` with LaTeX's special characters made literal (for text mode)."""
    return _LATEX_SPECIALS_PATTERN.sub(lambda match: _LATEX_SPECIALS[match.group()], str(value))


@dataclass(frozen=True)
class LatexSource:
    """The document to send and, for each of its lines, the cell line it came from (None: added by us)."""

    text: str
    line_map: tuple[int | None, ...]
    wrapped: bool = False  # a fragment, wrapped in FRAGMENT_PREAMBLE / FRAGMENT_END

    def cell_line(self, line: int | None) -> int | None:
        """The cell line behind line ``line`` (1-based) of the document sent."""
        if line is None or not 1 <= line <= len(self.line_map):
            return None
        return self.line_map[line - 1]


def interpolate(body: str, evaluate: Callable[[str], Any], first_line: int = 1,
                figure: Callable[[Any, str], str] | None = None) -> LatexSource:
    """Replace every ``\\py{expr}`` / ``\\pyraw{expr}`` in ``body`` with ``evaluate(expr)``.

    ``first_line`` is the number of the body's first line: 2 in a ``%%cocalc_latex`` cell, whose line 1 (as the
    notebook editor numbers it) is the magic. Raises :class:`InterpolationError` (naming that line) when an
    expression fails or is not closed. ``figure(value, options)`` gives the LaTeX for ``\\pyfig[options]{expr}``.
    """
    builder = _Builder(first_line)
    position = scan = 0
    while match := _TOKEN.search(body, scan):
        scan = match.end()
        if not match.group().startswith("\\py"):
            continue  # `\\`, `\%` or a comment: literal text
        builder.add_source(body, position, match.start())
        line = body.count("\n", 0, match.start()) + first_line
        command = match.group()[:-1].split("[", 1)[0]
        end = _closing_brace(body, match.end())
        if end is None:
            raise InterpolationError(f"{command}{{ on line {line} of the cell is never closed with }}")
        expression = body[match.end():end]
        if not expression.strip():
            raise InterpolationError(f"{command}{{}} on line {line} of the cell is empty")
        try:
            value = evaluate(expression.strip())
        except Exception as error:  # noqa: BLE001 (whatever the expression raises is reported, not propagated)
            raise InterpolationError(
                f"{command}{{{one_line(expression, 60)}}} on line {line} of the cell: "
                f"{type(error).__name__}: {error}") from None
        if match.group("fig"):
            if figure is None:
                raise InterpolationError(f"\\pyfig on line {line}: figures are not available here")
            try:
                text = figure(value, match.group("options") or "")
            except Exception as error:  # noqa: BLE001 (a figure that cannot be saved is reported, not propagated)
                raise InterpolationError(f"\\pyfig{{{one_line(expression, 60)}}} on line {line} of the cell: "
                                         f"{error}") from None
        else:
            text = str(value) if match.group("raw") else latex_escape(value)
        builder.add_value(text, line)
        # The lines the expression itself spans collapse into the line it starts on.
        builder.source_line = body.count("\n", 0, end + 1) + first_line
        position = scan = end + 1
    builder.add_source(body, position, len(body))
    return builder.result()


def prepare_document(body: str, evaluate: Callable[[str], Any], first_line: int = 1,
                     figure: Callable[[Any, str], str] | None = None) -> LatexSource:
    """The cell as a complete document: interpolated, and wrapped when it is only a fragment."""
    source = interpolate(body, evaluate, first_line, figure)
    if _DOCUMENTCLASS.search(source.text):
        return source
    # The line after a final newline is empty: the cell's last line is the one before it.
    ends_with_newline = source.text.endswith("\n") and len(source.line_map) > 1
    last_line = source.line_map[-2] if ends_with_newline else source.line_map[-1]
    preamble = FRAGMENT_PREAMBLE
    if "\\includegraphics" in source.text:  # a \pyfig, or a figure of the cell's own: graphicx provides it
        preamble = preamble.replace("\\begin{document}", "\\usepackage{graphicx}\n\\begin{document}")
    # An error TeX reports at the added \end{document} is about the end of the cell (an unclosed $ or group).
    return LatexSource(preamble + source.text + FRAGMENT_END,
                       (None,) * preamble.count("\n") + source.line_map
                       + (last_line,) * FRAGMENT_END.count("\n"), wrapped=True)


def _closing_brace(text: str, start: int) -> int | None:
    """Index of the ``}`` that closes a ``{`` opened just before ``start``; Python string literals may hold braces."""
    depth, index = 1, start
    while index < len(text):
        char = text[index]
        if char in "'\"":
            index = _end_of_string(text, index)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _end_of_string(text: str, start: int) -> int:
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    index = start + len(quote)
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text.startswith(quote, index):
            return index + len(quote)
        else:
            index += 1
    return index


class _Builder:
    """Accumulates the output text and the cell line of each output line."""

    def __init__(self, first_line: int = 1):
        self.parts: list[str] = []
        self.line_map: list[int | None] = [first_line]
        self.source_line = first_line

    def add_source(self, body: str, start: int, end: int) -> None:
        chunk = body[start:end]
        self.parts.append(chunk)
        for _ in range(chunk.count("\n")):
            self.source_line += 1
            self.line_map.append(self.source_line)

    def add_value(self, value: str, line: int) -> None:
        self.parts.append(value)
        self.line_map.extend([line] * value.count("\n"))

    def result(self) -> LatexSource:
        return LatexSource("".join(self.parts), tuple(self.line_map))
