"""One look per result: the HTML (and plain text) of every result type, in one place.

Used by the results' own ``_repr_html_`` (so ``-o var`` then ``var`` looks as the magic did), by the project
panel's static fallback and by its live badges alike; a LaTeX result looks the same in its own
``_repr_html_``, in ``LatexSummary``, in the PDF viewer's static fallback and in the live viewer's parts. It
imports no result class (they import it), so it reads them by their attributes.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

# How CoCalc's compute states (util/compute-states.ts) are shown: "opened" is CoCalc's word for stopped.
_STATE_LABELS = {"opened": "stopped", "closed": "stopped", "archived": "archived"}
_BADGE_COLORS = {"running": "#2e7d32", "stopped": "#616161", "archived": "#616161", "error": "#c62828",
                 "changing": "#ef6c00", "unknown": "#9e9e9e"}


# -- project state -----------------------------------------------------------------------------------------------

def state_label(state: Any) -> str:
    """The word a badge shows: CoCalc's state, with "opened"/"closed" shown as "stopped"."""
    if state is None:
        return "unknown"
    return _STATE_LABELS.get(state.state, state.state)


def _badge_color(state: Any) -> str:
    if state is None:
        return _BADGE_COLORS["unknown"]
    if state.error:
        return _BADGE_COLORS["error"]
    if state.is_changing:
        return _BADGE_COLORS["changing"]
    return _BADGE_COLORS.get(state_label(state), _BADGE_COLORS["unknown"])


def state_badge_html(state: Any) -> str:
    """A coloured pill with the state; the raw state (and any error) is in its tooltip."""
    label = state_label(state) + ("…" if state is not None and state.is_changing else "")
    tooltip = str(state) if state is not None else "state not known yet"
    return (f"<span class='cocalc-state-badge' title='{html.escape(tooltip)}' style='background:{_badge_color(state)};"
            "color:white;border-radius:0.8em;padding:0.1em 0.7em;font-size:0.9em;white-space:nowrap'>"
            f"{html.escape(label)}</span>")


def project_title_html(project: Any) -> str:
    return (f"<b title='{html.escape(project.project_id)}'>{html.escape(project.title or '(untitled)')}</b> "
            f"<code style='opacity:0.7'>{html.escape(project.short_id)}</code>")


def projects_html(projects: Iterable[tuple[Any, Any]], note: str = "") -> str:
    rows = "".join(
        f"<tr><td>{project_title_html(project)}</td><td>{state_badge_html(state)}</td></tr>"
        for project, state in projects)
    note_html = f"<div style='opacity:0.7;font-size:0.9em'>{html.escape(note)}</div>" if note else ""
    return f"<div class='cocalc-project-controls-static'><table>{rows}</table>{note_html}</div>"


def projects_text(projects: Iterable[tuple[Any, Any]]) -> str:
    lines = [f"  {project.title or '(untitled)'} ({project.short_id})  {state_label(state)}"
             for project, state in projects]
    return "\n".join(["CoCalc projects:", *lines]) if lines else "CoCalc projects: (none)"


# -- accounts, single projects, command output -------------------------------------------------------------------

def table(title: str, rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows
    )
    return f"<div class='cocalc-magics'><b>{html.escape(title)}</b><table>{cells}</table></div>"


def account_html(account: Any) -> str:
    return table("CoCalc account", [
        ("name", html.escape(account.name or "(no name)")),
        ("email", html.escape(account.email_address or "")),
        ("account id", f"<code>{html.escape(account.account_id)}</code>"),
    ])


def project_html(project: Any) -> str:
    return table(f"CoCalc project {project.title or '(untitled)'}", [
        ("project id", f"<code>{html.escape(project.project_id)}</code>"),
        ("state", state_badge_html(project.state)),
        ("description", html.escape(project.description)),
    ])


def exec_html(result: Any) -> str:
    rows = [("exit code", str(result.exit_code))]
    rows += [(name, f"<pre style='margin:0'>{html.escape(text)}</pre>")
             for name, text in (("stdout", result.stdout), ("stderr", result.stderr)) if text]
    return table("CoCalc exec", rows)


# -- LaTeX results ---------------------------------------------------------------------------------------------

# TeX's own warning lines ("LaTeX Warning: ...", "Package hyperref Warning: ...") and box warnings.
_WARNING = re.compile(r"^(?:(?:LaTeX|Package \S+|Class \S+) Warning: (?P<message>.*)"
                      r"|(?:Over|Under)full \\[hv]box)", re.M)
# Summaries of warnings already counted one by one.
_SUMMARY_WARNINGS = ("There were undefined references", "There were multiply-defined labels")
# latexmk runs (pdf)latex several times and each run repeats the warnings: only the last run counts.
_LATEX_RUN = re.compile(r"^Run number \d+ of rule '[^'\n]*latex[^'\n]*'", re.M)
# TeX's first error line: "! Undefined control sequence." or, with -file-line-error, "./doc.tex:4: ...".
_FIRST_ERROR = re.compile(r"^(?:! |\S+\.(?:tex|sty|cls|ltx):\d+: )", re.M)


def count_warnings(log: str) -> int:
    """The warnings of the last LaTeX run in a (latexmk) log, not counting TeX's summary warnings."""
    log = log or ""
    runs = list(_LATEX_RUN.finditer(log))
    return len(_warning_lines(log[runs[-1].end():] if runs else log))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def compile_summary(result: Any, page_count: int | None) -> str:
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


def summary_html(result: Any, page_count: int | None, problem: str | None = None,
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


def errors_html(errors: list[Any]) -> str:
    if not errors:
        return "<i>no TeX errors</i>"
    items = "".join(diagnostic_html(error) for error in errors)
    # A long macro name or context must wrap in a narrow output, not run out of it.
    return f"<ul class='cocalc-tex-errors' style='margin:0;padding-left:1.2em;overflow-wrap:anywhere'>{items}</ul>"


def diagnostic_html(diagnostic: Any, severity: str = "error") -> str:
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
SAVED_WARNINGS = 20  # warnings listed in the static HTML (all are in the viewer and in result.warnings)


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


def result_warnings(result: Any) -> list[Any]:
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


def warnings_html(warnings: list[Any]) -> str:
    if not warnings:
        return "<i>no warnings</i>"
    items = "".join(diagnostic_html(warning, "warning") for warning in warnings)
    return f"<ul class='cocalc-tex-warnings' style='margin:0;padding-left:1.2em;overflow-wrap:anywhere'>{items}</ul>"


def page_label(page: int, page_count: int) -> str:
    return f"page {page} of {page_count}"


def pdf_html(result: Any, page_count: int | None, png_base64: str | None,
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


def pdf_text(result: Any, page_count: int | None, problem: str | None = None,
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


def latex_result_html(result: Any, *, with_note: bool = False) -> str:
    """A LaTeX result without its pages: the summary, errors, warnings and the download link; ``with_note``
    adds the result's note (the magic says it on its own line, a bare result has only this view to say it)."""
    return pdf_html(result, None, None, notice=(getattr(result, "note", "") or None) if with_note else None)
