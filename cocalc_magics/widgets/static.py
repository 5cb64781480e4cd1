"""Static HTML and text views of the PDF viewer (the project panel's are in :mod:`cocalc_magics.render`).

They are the fallback where widgets cannot run (nbconvert, GitHub, a kernel without ipywidgets) and they
also feed the live viewer, so a compile summary looks the same in both. Nothing here
imports ipywidgets, pypdfium2 or Pillow.
"""

from __future__ import annotations

import html
import re

from ..models import LatexResult, TexError

# Enough for any ordinary latexmk run; a runaway log is cut from the front, where the preamble noise is.
STATIC_LOG_LIMIT = 20_000

# TeX's own warning lines ("LaTeX Warning: ...", "Package hyperref Warning: ...") and box warnings.
_WARNING = re.compile(r"^(?:(?:LaTeX|Package \S+|Class \S+) Warning: (?P<message>.*)"
                      r"|(?:Over|Under)full \\[hv]box)", re.M)
# Summaries of warnings already counted one by one.
_SUMMARY_WARNINGS = ("There were undefined references", "There were multiply-defined labels")
# latexmk runs (pdf)latex several times and each run repeats the warnings: only the last run counts.
_LATEX_RUN = re.compile(r"^Run number \d+ of rule '[^'\n]*latex[^'\n]*'", re.M)


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
