"""What the PDF viewer adds to a LaTeX result's look: the downloaded file's name and the output contract.

The look itself (summary, errors, warnings, log, download link, the static page) is
:mod:`cocalc_magics.render`'s, shared by the viewer, its static fallback, ``LatexSummary`` and
``LatexResult``'s own ``_repr_html_``. Nothing here imports ipywidgets, pypdfium2 or Pillow.
"""

from __future__ import annotations

import re

from ..models import LatexResult, TexError
from ..render import DEFAULT_PDF_NAME

_TITLE = re.compile(r"\\title\s*(?:\[[^\]]*\])?\s*\{")
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


def pdf_file_name(name: str | None = None, document: str | None = None) -> str:
    """The name a downloaded PDF is saved under: ``name``, else the document's first ``\\title{}``, else
    ``document.pdf``; reduced to letters, digits, ``.-_`` and spaces, at most 80 characters."""
    wanted = name or _first_title(document or "")
    wanted = _UNSAFE_NAME.sub("", wanted or "").strip(" .")[:80].strip(" .")
    if not wanted:
        return DEFAULT_PDF_NAME
    return wanted if wanted.lower().endswith(".pdf") else f"{wanted}.pdf"


def _first_title(document: str) -> str:
    """The text of the first ``\\title{...}`` (balanced braces, TeX commands and braces dropped)."""
    match = _TITLE.search(document)
    if match is None:
        return ""
    depth, end = 1, match.end()
    while end < len(document) and depth:
        depth += {"{": 1, "}": -1}.get(document[end], 0)
        end += 1
    title = document[match.end():end - 1]
    title = re.sub(r"\\\\|\\(?:thanks|footnote)\s*\{[^{}]*\}|\\[A-Za-z]+\*?|[{}~$^_]", " ", title)
    return " ".join(title.split())


LATEX_MIMETYPE = "application/vnd.cocalc-magics.latex+json"


def latex_contract(result: LatexResult | None, cell_id: str | None, live: bool = False) -> dict:
    """The output contract's (v1) entry of every ``%%cocalc_latex`` display: what the JupyterLab extension
    reads to mark the cell's lines (no renderer is registered for it). Nothing for PDF bytes without a result."""
    if result is None:
        return {}
    diagnostics = [
        {"severity": item.severity, "line": item.line, "file": item.file, "message": item.message,
         "context": item.context}
        for item in [*result.errors, *result.warnings] if isinstance(item, TexError)]
    return {LATEX_MIMETYPE: {"version": 1, "cell_id": cell_id or None, "ok": bool(result.ok),
                             "live": bool(live), "diagnostics": diagnostics}}
