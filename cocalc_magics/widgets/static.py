"""Static HTML and text views of the PDF viewer (the project panel's are in :mod:`cocalc_magics.render`).

They are the fallback where widgets cannot run (nbconvert, GitHub, a kernel without ipywidgets) and they
also feed the live viewer, so a compile summary looks the same in both. Nothing here
imports ipywidgets, pypdfium2 or Pillow.
"""

from __future__ import annotations

import html
import re
import urllib.parse

from ..models import LatexResult, TexError

# TeX's own warning lines ("LaTeX Warning: ...", "Package hyperref Warning: ...") and box warnings.
_WARNING = re.compile(r"^(?:(?:LaTeX|Package \S+|Class \S+) Warning: (?P<message>.*)"
                      r"|(?:Over|Under)full \\[hv]box)", re.M)
# Summaries of warnings already counted one by one.
_SUMMARY_WARNINGS = ("There were undefined references", "There were multiply-defined labels")
# latexmk runs (pdf)latex several times and each run repeats the warnings: only the last run counts.
_LATEX_RUN = re.compile(r"^Run number \d+ of rule '[^'\n]*latex[^'\n]*'", re.M)
# TeX's first error line: "! Undefined control sequence." or, with -file-line-error, "./doc.tex:4: ...".
_FIRST_ERROR = re.compile(r"^(?:! |\S+\.(?:tex|sty|cls|ltx):\d+: )", re.M)


# -- LaTeX results ---------------------------------------------------------------------------------------------

def count_warnings(log: str) -> int:
    """The warnings of the last LaTeX run in a (latexmk) log, not counting TeX's summary warnings."""
    log = log or ""
    runs = list(_LATEX_RUN.finditer(log))
    return len(_warning_lines(log[runs[-1].end():] if runs else log))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def compile_summary(result: LatexResult | None, page_count: int | None) -> str:
    """One line: outcome, compile time, pages, warnings, e.g. ``compiled in 1.2 s · 2 pages · 0 warnings``."""
    parts = []
    if result is not None:
        outcome = "compiled" if result.ok else f"failed with {plural(len(result.errors), 'error')}"
        # A cache hit shows a result made earlier: its compile time is not this run's.
        parts.append(f"{outcome}, from cache" if getattr(result, "from_cache", False)
                     else f"{outcome} in {result.elapsed:.1f} s")
    if page_count is not None:
        parts.append(plural(page_count, "page"))
    elif result is not None and not result.url:
        parts.append("no PDF")
    if result is not None:
        parts.append(plural(len(result_warnings(result)), "warning"))
    return " · ".join(parts)


def summary_html(result: LatexResult | None, page_count: int | None, problem: str | None = None,
                 notice: str | None = None) -> str:
    """The summary line, then the problem (red) and what is shown smaller than the PDF has (grey)."""
    ok = result is None or result.ok
    mark = "<span style='color:#2e7d32'>✓</span>" if ok else "<span style='color:#c62828'>✗</span>"
    problem_html = (f"<div style='color:#c62828'>{html.escape(problem)}</div>" if problem else "")
    notice_html = (f"<div class='cocalc-pdf-notice' style='opacity:0.75'>{html.escape(notice)}</div>"
                   if notice else "")
    summary = html.escape(compile_summary(result, page_count))
    return f"<div class='cocalc-pdf-summary'>{mark} {summary}{problem_html}{notice_html}</div>"


# CoCalc deletes a compile's PDF blob after a day (the latex endpoint stores it with a 1-day TTL).
BLOB_LIFETIME_NOTE = "CoCalc keeps this PDF for 1 day: in a saved notebook the link may have expired"
# A link in JupyterLab's light and dark themes alike; the fallback is for front ends without its variables.
LINK_STYLE = "color:var(--jp-content-link-color,#1976d2);text-decoration:underline;cursor:pointer"
DEFAULT_PDF_NAME = "document.pdf"
_TITLE = re.compile(r"\\title\s*(?:\[[^\]]*\])?\s*\{")
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


def download_link_html(url: str | None, file_name: str = DEFAULT_PDF_NAME, note: bool = False) -> str:
    """The link that saves the PDF as ``file_name``; with ``note``, the plain word that it may have expired."""
    # CoCalc blobs are public by uuid and served as attachments: the URL needs (and holds) no key.
    if not url:
        return ""
    link = (f"<a class='cocalc-pdf-download' href='{html.escape(named_blob_url(url, file_name))}' "
            "target='_blank' rel='noopener' "
            f"download='{html.escape(file_name)}' style='{LINK_STYLE}'>download PDF</a>")
    if note:
        link += f" <span class='cocalc-pdf-link-note' style='opacity:0.75'>({BLOB_LIFETIME_NOTE})</span>"
    return f"<span class='cocalc-pdf-link'>{link}</span>"


def named_blob_url(url: str, file_name: str) -> str:
    """The blob URL with ``file_name`` as its last path part, so the download is saved under that name.

    CoCalc's hub serves ``/blobs/{*splat}`` by the ``uuid`` alone and names the attachment after the last
    path part (``hub/servers/app/blobs.ts``); a browser ignores the ``download`` attribute of a link to
    another origin, so the name must be in the URL. Spaces become ``_`` (the path is not decoded).
    """
    parts = urllib.parse.urlsplit(url)
    if "/blobs/" not in parts.path or "uuid=" not in parts.query:
        return url
    prefix = parts.path[:parts.path.index("/blobs/") + len("/blobs/")]
    path = prefix + urllib.parse.quote(file_name.replace(" ", "_"))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


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


def errors_html(errors: list[TexError]) -> str:
    if not errors:
        return "<i>no TeX errors</i>"
    items = "".join(diagnostic_html(error) for error in errors)
    return f"<ul class='cocalc-tex-errors' style='margin:0'>{items}</ul>"


def diagnostic_html(diagnostic: TexError | str, severity: str = "error") -> str:
    """One error or warning as the output contract's ``cocalc-diagnostic`` element: the JupyterLab extension
    makes it a link to ``data-cocalc-line`` of the cell (or of the file ``data-cocalc-file``)."""
    if isinstance(diagnostic, str):  # a warning line read from a log the parser did not see
        return (f"<li class='cocalc-diagnostic' data-cocalc-file='cell' data-cocalc-severity='{severity}'>"
                f"<code>{html.escape(diagnostic)}</code></li>")
    line = f" data-cocalc-line='{diagnostic.line}'" if diagnostic.line is not None else ""
    # TeX's "l.N" counts the lines of the document sent, not the editor's: the text alone is shown.
    shown_context = _TEX_LINE_PREFIX.sub("", diagnostic.context)
    context = (f"<div class='cocalc-diagnostic-context' style='opacity:0.75'><code>{html.escape(shown_context)}"
               "</code></div>" if shown_context else "")
    return (f"<li class='cocalc-diagnostic'{line} data-cocalc-file='{html.escape(diagnostic.file)}' "
            f"data-cocalc-severity='{html.escape(diagnostic.severity)}'>"
            f"<code>{html.escape(str(diagnostic))}</code>{context}</li>")


_TEX_LINE_PREFIX = re.compile(r"^l\.\d+ ")
LATEX_MIMETYPE = "application/vnd.cocalc-magics.latex+json"
SAVED_WARNINGS = 20  # warnings listed in the static HTML (all are in the viewer and in result.warnings)


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


def log_html(log: str, limit: int | None = None, open_at_first_error: bool = False) -> str:
    """The log in a scrolling ``<pre>``; with ``open_at_first_error`` the lines before TeX's first error
    are folded into a ``<details>`` above it, so the log opens at the error."""
    if limit is not None and len(log) > limit:
        log = f"… (first {len(log) - limit:,} characters left out)\n" + log[-limit:]
    before = ""
    first_error = _FIRST_ERROR.search(log) if open_at_first_error else None
    if first_error is not None and first_error.start() > 0:
        earlier, log = log[:first_error.start()], log[first_error.start():]
        before = (f"<details class='cocalc-tex-log-before'><summary>{plural(earlier.count(chr(10)), 'line')} "
                  f"before the first error</summary><pre style='margin:0'>{html.escape(earlier)}</pre></details>")
    return ("<div class='cocalc-tex-log' style='max-height:30em;overflow:auto;font-size:0.85em'>"
            f"{before}<pre style='margin:0'>{html.escape(log or '(empty log)')}</pre></div>")


def result_warnings(result: LatexResult | None) -> list[TexError | str]:
    """The compile's warnings: ``result.warnings`` when the log was parsed, else the warning lines of the
    last LaTeX run in the log."""
    if result is None:
        return []
    warnings = getattr(result, "warnings", None)
    if warnings:
        return list(warnings)
    log = result.log or ""
    runs = list(_LATEX_RUN.finditer(log))
    return [*_warning_lines(log[runs[-1].end():] if runs else log)]


def _warning_lines(log: str) -> list[str]:
    lines = []
    for match in _WARNING.finditer(log):
        if (match.group("message") or "").startswith(_SUMMARY_WARNINGS):
            continue
        end = log.find("\n", match.start())
        lines.append(log[match.start():end if end >= 0 else len(log)])
    return lines


def warnings_html(warnings: list[TexError | str]) -> str:
    if not warnings:
        return "<i>no warnings</i>"
    items = "".join(diagnostic_html(warning, "warning") for warning in warnings)
    return f"<ul class='cocalc-tex-warnings' style='margin:0'>{items}</ul>"


def page_label(page: int, page_count: int) -> str:
    return f"page {page} of {page_count}"


def pdf_html(result: LatexResult | None, page_count: int | None, png_base64: str | None,
             problem: str | None = None, notice: str | None = None, *, file_name: str = DEFAULT_PDF_NAME) -> str:
    """What a saved notebook shows without widgets: the summary, the errors, page 1 as an inline image and
    the download link with the word that it may have expired. No log: it stays in the kernel."""
    parts = [summary_html(result, page_count, problem, notice)]
    if result is not None and result.errors:
        parts.append(f"<details open><summary>{plural(len(result.errors), 'error')}</summary>"
                     f"{errors_html(result.errors)}</details>")
    warnings = result_warnings(result)
    if warnings:
        # A document can have hundreds of box warnings: the saved notebook keeps the first few.
        more = (f"<div>… and {len(warnings) - SAVED_WARNINGS:,} more in the viewer</div>"
                if len(warnings) > SAVED_WARNINGS else "")
        parts.append(f"<details><summary>{plural(len(warnings), 'warning')}</summary>"
                     f"{warnings_html(warnings[:SAVED_WARNINGS])}{more}</details>")
    if png_base64 and page_count:
        parts.append(f"<div><img src='data:image/png;base64,{png_base64}' alt='{page_label(1, page_count)}' "
                     "style='max-width:100%;border:1px solid #ddd'></div>")
        parts.append(f"<div>{page_label(1, page_count)}</div>")
    if result is not None:
        parts.append(download_link_html(result.url, file_name, note=True))
    return f"<div class='cocalc-pdf-static'>{''.join(parts)}</div>"


def pdf_text(result: LatexResult | None, page_count: int | None, problem: str | None = None,
             notice: str | None = None) -> str:
    lines = [compile_summary(result, page_count)]
    lines.extend(line for line in (problem, notice) if line)
    if result is not None:
        lines.extend(str(error) for error in result.errors)
        warnings = result_warnings(result)
        lines.extend(f"warning: {warning}" for warning in warnings[:SAVED_WARNINGS])
        if len(warnings) > SAVED_WARNINGS:
            lines.append(f"… and {len(warnings) - SAVED_WARNINGS:,} more warnings")
        if result.url:
            lines.append(f"PDF: {result.url} ({BLOB_LIFETIME_NOTE})")
    return "\n".join(lines)
