"""One look per result: the HTML (and plain text) of every result type but the LaTeX one, in one place.

Used by the results' own ``_repr_html_`` (so ``-o var`` then ``var`` looks as the magic did), by the project
panel's static fallback and by its live badges alike. It imports no result class (they import it), so it
reads them by their attributes; the LaTeX result's look is :mod:`cocalc_magics.widgets.static`'s, which the
PDF viewer owns.
"""

from __future__ import annotations

import html
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
