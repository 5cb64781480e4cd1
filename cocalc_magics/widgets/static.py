"""Static HTML and text views of the project panel and the PDF viewer.

They are the fallback where widgets cannot run (nbconvert, GitHub, a kernel without ipywidgets) and they
also feed the live widgets, so a state badge or a compile summary looks the same in both. Nothing here
imports ipywidgets, pypdfium2 or Pillow.
"""

from __future__ import annotations

import html
import re
from typing import Iterable

from ..models import LatexResult, Project, ProjectState, TexError

# Enough for any ordinary latexmk run; a runaway log is cut from the front, where the preamble noise is.
STATIC_LOG_LIMIT = 20_000

# How CoCalc's compute states (util/compute-states.ts) are shown: "opened" is CoCalc's word for stopped.
_STATE_LABELS = {"opened": "stopped", "closed": "stopped", "archived": "archived"}
_BADGE_COLORS = {"running": "#2e7d32", "stopped": "#616161", "archived": "#616161", "error": "#c62828",
                 "changing": "#ef6c00", "unknown": "#9e9e9e"}
# TeX's own warning lines ("LaTeX Warning: ...", "Package hyperref Warning: ...") and box warnings.
_WARNING = re.compile(r"^(?:(?:LaTeX|Package \S+|Class \S+) Warning: (?P<message>.*)"
                      r"|(?:Over|Under)full \\[hv]box)", re.M)
# Summaries of warnings already counted one by one.
_SUMMARY_WARNINGS = ("There were undefined references", "There were multiply-defined labels")
# latexmk runs (pdf)latex several times and each run repeats the warnings: only the last run counts.
_LATEX_RUN = re.compile(r"^Run number \d+ of rule '[^'\n]*latex[^'\n]*'", re.M)


# -- project state ---------------------------------------------------------------------------------------------

def state_label(state: ProjectState | None) -> str:
    """The word a badge shows: CoCalc's state, with "opened"/"closed" shown as "stopped"."""
    if state is None:
        return "unknown"
    return _STATE_LABELS.get(state.state, state.state)


def _badge_color(state: ProjectState | None) -> str:
    if state is None:
        return _BADGE_COLORS["unknown"]
    if state.error:
        return _BADGE_COLORS["error"]
    if state.is_changing:
        return _BADGE_COLORS["changing"]
    return _BADGE_COLORS.get(state_label(state), _BADGE_COLORS["unknown"])


def state_badge_html(state: ProjectState | None) -> str:
    """A coloured pill with the state; the raw state (and any error) is in its tooltip."""
    label = state_label(state) + ("…" if state is not None and state.is_changing else "")
    tooltip = str(state) if state is not None else "state not known yet"
    return (f"<span class='cocalc-state-badge' title='{html.escape(tooltip)}' style='background:{_badge_color(state)};"
            "color:white;border-radius:0.8em;padding:0.1em 0.7em;font-size:0.9em;white-space:nowrap'>"
            f"{html.escape(label)}</span>")


def project_title_html(project: Project) -> str:
    return (f"<b title='{html.escape(project.project_id)}'>{html.escape(project.title or '(untitled)')}</b> "
            f"<code style='opacity:0.7'>{html.escape(project.short_id)}</code>")


def projects_html(projects: Iterable[tuple[Project, ProjectState | None]], note: str = "") -> str:
    rows = "".join(
        f"<tr><td>{project_title_html(project)}</td><td>{state_badge_html(state)}</td></tr>"
        for project, state in projects)
    note_html = f"<div style='opacity:0.7;font-size:0.9em'>{html.escape(note)}</div>" if note else ""
    return f"<div class='cocalc-project-controls-static'><table>{rows}</table>{note_html}</div>"


def projects_text(projects: Iterable[tuple[Project, ProjectState | None]]) -> str:
    lines = [f"  {project.title or '(untitled)'} ({project.short_id})  {state_label(state)}"
             for project, state in projects]
    return "\n".join(["CoCalc projects:", *lines]) if lines else "CoCalc projects: (none)"


# -- LaTeX results ---------------------------------------------------------------------------------------------

def count_warnings(log: str) -> int:
    """The warnings of the last LaTeX run in a (latexmk) log, not counting TeX's summary warnings."""
    log = log or ""
    runs = list(_LATEX_RUN.finditer(log))
    last_run = log[runs[-1].end():] if runs else log
    return sum(1 for match in _WARNING.finditer(last_run)
               if not (match.group("message") or "").startswith(_SUMMARY_WARNINGS))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def compile_summary(result: LatexResult | None, page_count: int | None) -> str:
    """One line: outcome, compile time, pages, warnings, e.g. ``compiled in 1.2 s · 2 pages · 0 warnings``."""
    parts = []
    if result is not None:
        outcome = "compiled" if result.ok else f"failed with {plural(len(result.errors), 'error')}"
        parts.append(f"{outcome} in {result.elapsed:.1f} s")
    if page_count is not None:
        parts.append(plural(page_count, "page"))
    elif result is not None and not result.url:
        parts.append("no PDF")
    if result is not None:
        parts.append(plural(count_warnings(result.log), "warning"))
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


def download_link_html(url: str | None) -> str:
    # CoCalc blobs are public by uuid and served as attachments: the URL needs (and holds) no key.
    if not url:
        return ""
    return f"<a href='{html.escape(url)}' target='_blank' rel='noopener' download>download PDF</a>"


def errors_html(errors: list[TexError]) -> str:
    if not errors:
        return "<i>no TeX errors</i>"
    items = "".join(f"<li><code>{html.escape(str(error))}</code></li>" for error in errors)
    return f"<ul class='cocalc-tex-errors' style='margin:0'>{items}</ul>"


def log_html(log: str, limit: int | None = None) -> str:
    if limit is not None and len(log) > limit:
        log = f"… (first {len(log) - limit:,} characters left out)\n" + log[-limit:]
    return ("<pre class='cocalc-tex-log' style='max-height:30em;overflow:auto;font-size:0.85em;margin:0'>"
            f"{html.escape(log or '(empty log)')}</pre>")


def page_label(page: int, page_count: int) -> str:
    return f"page {page} of {page_count}"


def pdf_html(result: LatexResult | None, page_count: int | None, png_base64: str | None,
             problem: str | None = None, notice: str | None = None) -> str:
    """Summary, page 1 as an inline image, the download link, and the errors and log in <details>."""
    parts = [summary_html(result, page_count, problem, notice)]
    if png_base64 and page_count:
        parts.append(f"<div><img src='data:image/png;base64,{png_base64}' alt='{page_label(1, page_count)}' "
                     "style='max-width:100%;border:1px solid #ddd'></div>")
        parts.append(f"<div>{page_label(1, page_count)}</div>")
    if result is not None:
        parts.append(download_link_html(result.url))
        if result.errors:
            parts.append(f"<details open><summary>{plural(len(result.errors), 'error')}</summary>"
                         f"{errors_html(result.errors)}</details>")
        if result.log:
            parts.append(f"<details><summary>log</summary>{log_html(result.log, STATIC_LOG_LIMIT)}</details>")
    return f"<div class='cocalc-pdf-static'>{''.join(parts)}</div>"


def pdf_text(result: LatexResult | None, page_count: int | None, problem: str | None = None,
             notice: str | None = None) -> str:
    lines = [compile_summary(result, page_count)]
    lines.extend(line for line in (problem, notice) if line)
    if result is not None:
        lines.extend(str(error) for error in result.errors)
        if result.url:
            lines.append(f"PDF: {result.url}")
    return "\n".join(lines)
