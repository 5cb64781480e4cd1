"""TeX's log (or latexmk's terminal output) -> errors and warnings, each with its file, line and cause.

What TeX writes, and what is kept of it:

- An error starts ``! message`` (or ``./file.tex:12: message`` with ``-file-line-error``). The message may go on
  over the following lines until TeX's context: ``l.12 <text before the error>`` then, one line down and
  indented, ``<text after it>``. The text before is where TeX stopped, so its last control sequence is the
  culprit of an "Undefined control sequence".
- LaTeX's help ("See the LaTeX manual…", ``Type  H <return>…``, ``Enter file name:``) is dropped, and so is the
  "Emergency stop." / "==> Fatal error occurred" that only repeats an error already listed.
- ``File `x.sty' not found`` names the missing file; ``PACKAGE_FOR_FILE`` says which TeX Live package has it.
- An error TeX gives no line (a runaway argument, a missing ``\\end{document}``) has ``line`` None; the caller
  points it at the last line of the document and says so.
- TeX wraps its log at ``max_print_line`` (79) characters. The compile command sets ``max_print_line`` high
  (``MAX_PRINT_LINE_ENV``) so nothing is wrapped; for logs made without it, a line of exactly 79 characters
  is joined with the next.
- Warnings: undefined references and citations, multiply defined labels, over/underfull boxes (with the
  amount), missing characters, and other ``LaTeX``/``Package``/``Class`` warnings with their line. The
  "Rerun to get cross-references right" and "There were undefined references" summaries are not listed (the
  compile reruns, and each undefined reference is listed by itself).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, replace

from ..models import LatexResult, TexError
from .interpolation import LatexSource

# Environment for the compile: kpathsea reads texmf.cnf variables from the environment, so TeX does not wrap.
MAX_PRINT_LINE_ENV = {"max_print_line": "10000", "error_line": "254", "half_error_line": "238"}
TEX_WRAP_COLUMNS = 79

# Which TeX Live package (Debian package in brackets) provides a file people often miss.
PACKAGE_FOR_FILE = {
    "tikz.sty": "pgf (Debian: texlive-pictures)",
    "pgfplots.sty": "pgfplots (Debian: texlive-pictures)",
    "siunitx.sty": "siunitx (Debian: texlive-science)",
    "algorithm2e.sty": "algorithm2e (Debian: texlive-science)",
    "algorithmic.sty": "algorithms (Debian: texlive-science)",
    "biblatex.sty": "biblatex (Debian: texlive-bibtex-extra)",
    "minted.sty": "minted (Debian: texlive-latex-extra)",
    "tcolorbox.sty": "tcolorbox (Debian: texlive-latex-extra)",
    "cleveref.sty": "cleveref (Debian: texlive-latex-extra)",
    "titlesec.sty": "titlesec (Debian: texlive-latex-extra)",
    "enumitem.sty": "enumitem (Debian: texlive-latex-extra)",
    "fontawesome5.sty": "fontawesome5 (Debian: texlive-fonts-extra)",
    "mathtools.sty": "mathtools (Debian: texlive-latex-recommended)",
    "booktabs.sty": "booktabs (Debian: texlive-latex-recommended)",
    "xcolor.sty": "xcolor (Debian: texlive-latex-recommended)",
    "hyperref.sty": "hyperref (Debian: texlive-latex-recommended)",
    "beamer.cls": "beamer (Debian: texlive-latex-recommended)",
    "fontspec.sty": "fontspec (Debian: texlive-latex-recommended; needs xelatex or lualatex)",
    "babel.sty": "babel (Debian: texlive-latex-base)",
}


@dataclass(frozen=True)
class TexMessage:
    """One error or warning. ``line`` is the line in ``file`` (None when TeX gave none)."""

    severity: str  # "error" or "warning"
    file: str
    line: int | None
    message: str
    context: str = ""  # TeX's "l.N …" context, or the runaway text
    missing_file: str | None = None
    package_hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        text = f"{where}: {self.message}"
        if self.context:
            text += f" [{self.context}]"
        if self.package_hint:
            text += f" (provided by {self.package_hint})"
        return text


_FILE_LINE_START = re.compile(r"^(?P<file>(?:\.{1,2}/|/)?[^\s:()!][^:\n]*?\.[A-Za-z]{1,4}):(?P<line>\d+): (?P<message>.*)$")
_BANG_START = re.compile(r"^! (?P<message>.*)$")
_CONTEXT = re.compile(r"^l\.(?P<line>\d+) ?(?P<before>.*)$")
_MISSING_FILE = re.compile(r"File `(?P<name>[^']+)' not found")
_CONTROL_SEQUENCE = re.compile(r"(\\(?:[A-Za-z@]+|.))\s*$")
_HELP_LINES = (
    "See the LaTeX manual", "Type  H <return>", "Type X to quit", "or enter new name", "Enter file name:",
    "You're in trouble here", "Try typing", "...", "<read *>", "<*>", "<inserted text>", "<to be read again>",
)
_CONSEQUENTIAL = ("Emergency stop.", "==> Fatal error occurred, no output PDF file produced!",
                  "Fatal error occurred, no output PDF file produced!")
_NO_END = "*** (job aborted, no legal \\end found)"

_WARNING_START = re.compile(r"^(?:(?:LaTeX|Package (?P<package>\S+)|Class (?P<class_>\S+))(?: Font)? Warning: )"
                            r"(?P<message>.*)$")
_WARNING_CONTINUATION = re.compile(r"^\((?P<who>[^)]+)\)\s+(?P<text>.*)$")
_INPUT_LINE = re.compile(r"on input line (?P<line>\d+)\.?")
_BOX = re.compile(r"^(?P<kind>Overfull|Underfull) \\(?P<box>[hv]box) \((?P<amount>[^)]*)\) "
                  r"(?P<where>in paragraph at lines|in alignment at lines|detected at line|has occurred while "
                  r"\\output is active)\s*(?P<line>\d+)?")
_MISSING_CHARACTER = re.compile(r"^Missing character: There is no (?P<char>.+?) in font (?P<font>[^!]+)!")
_SUMMARIES = ("There were undefined references", "There were multiply-defined labels",
              "Label(s) may have changed", "Rerun to get", "Citation(s) may have changed")


def unwrap(text: str, columns: int = TEX_WRAP_COLUMNS) -> list[str]:
    """The log's lines, with TeX's hard wrap at ``columns`` characters undone."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        pending += raw
        # A context line that TeX cut itself ends in "..." and may be exactly as long: not a wrap.
        if len(raw) == columns and not raw.endswith("..."):
            continue
        lines.append(pending)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def parse_log(text: str, main_file: str) -> tuple[list[TexMessage], list[TexMessage]]:
    """(errors, warnings) in the order TeX met them, without duplicates."""
    lines = unwrap(text or "")
    errors: list[TexMessage] = []
    warnings: list[TexMessage] = []
    index = 0
    runaway = ""
    while index < len(lines):
        line = lines[index]
        if line.startswith("Runaway argument?"):
            runaway = lines[index + 1].strip() if index + 1 < len(lines) else ""
            index += 2
            continue
        start = _FILE_LINE_START.match(line) or _BANG_START.match(line)
        if start:
            error, index = _read_error(lines, index, start, main_file, runaway)
            runaway = ""
            if not error.message:
                # "Emergency stop." after an error with no line (a missing file): TeX's line is where it stopped.
                if errors and errors[-1].line is None and error.line is not None:
                    errors[-1] = replace(errors[-1], line=error.line, context=errors[-1].context or error.context)
            elif error.message.startswith("the document ended") and errors and errors[-1].context.startswith(
                    "Runaway argument?"):
                pass  # the runaway argument already says why the file ended
            elif _adds_information(error, errors):
                errors.append(error)
            continue
        if _NO_END in line:
            _append_unique(errors, TexMessage("error", main_file, None,
                                              "the document ended before \\end{document} (job aborted, "
                                              "no legal \\end found)"))
        warning, index = _read_warning(lines, index, main_file)
        if warning is not None:
            _append_unique(warnings, warning)
    return errors, warnings


def _read_error(lines: list[str], index: int, start: re.Match, main_file: str,
                runaway: str) -> tuple[TexMessage, int]:
    groups = start.groupdict()
    file = _clean_file(groups["file"]) if groups.get("file") else main_file
    line = int(groups["line"]) if groups.get("line") else None
    message = _tidy(groups["message"])
    context, ended_early = "", False
    index += 1
    # What follows an error line: TeX's context lines, help text, then "l.N before" / "after". Only the
    # first line is the message (TeX's own wrapping is undone already); the rest is read for its facts.
    while index < len(lines):
        current = lines[index]
        if _FILE_LINE_START.match(current) or _BANG_START.match(current) or _WARNING_START.match(current) \
                or current.startswith("Runaway argument?"):
            break
        if _NO_END in current or current.startswith("<*>"):
            ended_early = True
        context_match = _CONTEXT.match(current)
        if context_match:
            before = context_match.group("before")
            after = lines[index + 1].strip() if index + 1 < len(lines) else ""
            context = f"l.{context_match.group('line')} {before}".rstrip()
            if after:
                context += f" ⟨here⟩ {after}"
            line = line if line is not None else int(context_match.group("line"))
            if message.startswith("Undefined control sequence"):
                culprit = _CONTROL_SEQUENCE.search(before)
                if culprit:
                    message = f"Undefined control sequence {culprit.group(1)}."
            index += 2
            break
        index += 1
    if message.startswith(_CONSEQUENTIAL) or message.lstrip(" =>").startswith("Fatal error occurred"):
        if ended_early and message.startswith("Emergency stop") and not context:
            return TexMessage("error", file, None, "the document ended before \\end{document} "
                              "(TeX met the end of the file with the document still open)"), index
        return TexMessage("error", file, line, "", context), index  # only lends its line, see parse_log
    missing = _MISSING_FILE.search(message)
    missing_file = missing.group("name") if missing else None
    if runaway and not context:
        context = f"Runaway argument? {runaway}"
    return TexMessage("error", file, line, message, context, missing_file,
                      PACKAGE_FOR_FILE.get(missing_file or "")), index


def _tidy(message: str) -> str:
    """TeX's spacing after a control word before punctuation (``\\textbf .``) and LaTeX's prefix removed."""
    message = re.sub(r"(\\[A-Za-z@]+) (?=[.,;:])", r"\1", message.strip())
    return re.sub(r"^LaTeX Error: ", "", message)


def _read_warning(lines: list[str], index: int, main_file: str) -> tuple[TexMessage | None, int]:
    line = lines[index]
    start = _WARNING_START.match(line)
    if start:
        who = start.group("package") or start.group("class_")
        parts = [start.group("message").strip()]
        index += 1
        while index < len(lines):
            continuation = _WARNING_CONTINUATION.match(lines[index])
            if not continuation or (who and continuation.group("who") != who):
                break
            parts.append(continuation.group("text").strip())
            index += 1
        message = " ".join(parts)
        if any(summary in message for summary in _SUMMARIES):
            return None, index
        line_match = _INPUT_LINE.search(message)
        prefix = f"{who}: " if who else ""
        return TexMessage("warning", main_file, int(line_match.group("line")) if line_match else None,
                          prefix + message), index
    box = _BOX.match(line)
    if box:
        amount = box.group("amount")
        message = f"{box.group('kind')} \\{box.group('box')} ({amount})"
        return TexMessage("warning", main_file, int(box.group("line")) if box.group("line") else None,
                          message), index + 1
    missing = _MISSING_CHARACTER.match(line)
    if missing:
        return TexMessage("warning", main_file, None,
                          f"Missing character: there is no {missing.group('char')} in font "
                          f"{missing.group('font').strip()}"), index + 1
    return None, index + 1


def _adds_information(error: TexMessage, errors: list[TexMessage]) -> bool:
    return all((error.file, error.line, error.message) != (e.file, e.line, e.message) for e in errors)


def _append_unique(messages: list[TexMessage], message: TexMessage) -> None:
    if message not in messages:
        messages.append(message)


def _clean_file(name: str) -> str:
    return name[2:] if name.startswith("./") else name


# -- from the parser's messages to the result's errors and warnings, in the lines the user edits -------------

NO_LINE_NOTE = "(no line in TeX's log: shown at the last line)"


# latexmk runs (pdf)latex several times and each run repeats the warnings: the last run's are those that stand
# (an undefined citation of the first run is resolved once BibTeX has run).
_LATEX_RUN = re.compile(r"^Run number \d+ of rule '[^'\n]*latex[^'\n]*'", re.MULTILINE)


def parse_tex_errors(output: str, main_file: str) -> tuple[list[TexError], list[TexError]]:
    """(errors, warnings) of a compile's output as :class:`TexError` values, lines of the document sent."""
    output = output or ""
    errors, warnings = parse_log(output, main_file)
    runs = list(_LATEX_RUN.finditer(output))
    if runs:
        warnings = parse_log(output[runs[-1].end():], main_file)[1]
    return [_as_tex_error(message) for message in errors], [_as_tex_error(message) for message in warnings]


def _as_tex_error(message: TexMessage) -> TexError:
    return TexError(message.file, message.line, message.message, context=message.context,
                    missing_file=message.missing_file, package_hint=message.package_hint,
                    severity=message.severity)


def errors_in_source_lines(result: LatexResult, source: LatexSource, shown_name: str) -> LatexResult:
    """TeX numbers the lines of the document sent; show them as the lines the user edits.

    For a cell those are the notebook editor's lines (``source`` already counts the ``%%cocalc_latex`` line as
    line 1, see :func:`~cocalc_magics.latex.interpolation.prepare_document`); for a local ``FILE.tex`` the
    file's own. An error TeX gave no line for points at the last line and says so; an ``\\input`` file keeps
    its own name and lines.
    """
    main_file = result.path.rsplit("/", 1)[-1]
    document_lines = source.text.split("\n")
    # The last line with text: a cell's final newline makes no line the user sees as the document's end.
    last_line = next((source.cell_line(number) for number in range(len(document_lines), 0, -1)
                      if document_lines[number - 1].strip() and source.cell_line(number) is not None), None)

    def located(error: TexError) -> TexError:
        if error.file != main_file:
            return error
        line = source.cell_line(_line_naming(document_lines, error))
        message = error.message
        if line is None and error.severity == "error" and last_line is not None:
            line, message = last_line, f"{message} {NO_LINE_NOTE}"
        return dataclasses.replace(error, file=shown_name, line=line, message=message)

    return dataclasses.replace(result, errors=_unique(located(e) for e in result.errors),
                               warnings=_unique(located(w) for w in result.warnings))


def _line_naming(document_lines: list[str], error: TexError) -> int | None:
    """The line of a missing file's ``\\usepackage``/``\\input``: TeX reports the line it had read on to
    (``\\usepackage`` looks ahead for an optional date), often the next one."""
    if not error.missing_file or error.line is None:
        return error.line
    stem = error.missing_file.rsplit(".", 1)[0]
    for number in range(min(error.line, len(document_lines)), max(error.line - 5, 0), -1):
        if stem in document_lines[number - 1].split("%", 1)[0]:
            return number
    return error.line


def _unique(messages) -> list[TexError]:
    kept: list[TexError] = []
    for message in messages:
        if message not in kept:
            kept.append(message)
    return kept
