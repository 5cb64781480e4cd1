"""The project panel: per project its title, short id, a live state badge and Start / Stop / Restart.

A click never blocks the kernel: the start/stop call runs on a worker thread and the row shows progress,
then the outcome or the error as one line. A click while the project is already changing (a magic's
``%cocalc_start``, another panel, the CoCalc web app) is refused in one line instead of racing it.

The badges are kept current by the session's one poller (``polling.py``), shared by every panel of the
session: every ``poll_min`` seconds while something changes, backing off to ``poll_max`` while nothing
does. A panel is not polled while none of its views is on screen (its output cleared, scrolled away, the
tab hidden; the front end says so, see ``visibility.py``), and where the front end cannot say, at most
every ``IDLE_POLL_SECONDS`` after ``IDLE_AFTER_SECONDS`` without a click. Closing the panel
(``controls.close()`` or ``controls.widget.close()``), or re-running the cell that showed it, ends its polling.

Widget state (what a saved notebook keeps): seven small models per project row (title, badge, three
buttons, status line, the row), the view watcher (its ~1.5 KB of JavaScript) and a few shared layouts
and styles. No key: the session stays in the kernel.
"""

from __future__ import annotations

import dataclasses
import html
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .. import render
from ..models import Project, ProjectList, ProjectState
from ..text import one_line
from .base import SharedParts, WidgetView, ipywidgets_available
from .polling import ProjectPoller, subscribe
from .visibility import OFF_SCREEN, ON_SCREEN, UNKNOWN, ViewReports, build_watcher

ACTIONS = ("start", "stop", "restart")
_PROGRESS = {"start": "starting", "stop": "stopping", "restart": "restarting"}
_DONE = {"start": "started", "stop": "stopped", "restart": "restarted"}
# Where the front end cannot say whether a panel is on screen (no report ever came), a panel nobody has
# clicked for ten minutes is most likely gone from view: poll it at most once a minute.
IDLE_AFTER_SECONDS = 600.0
IDLE_POLL_SECONDS = 60.0


def enabled_actions(state: ProjectState | None, busy: bool = False) -> frozenset[str]:
    """Which buttons a state allows: none while anything is changing, Start when stopped, else Stop/Restart."""
    if busy or state is None or state.is_changing:
        return frozenset()
    if state.is_running:
        return frozenset({"stop", "restart"})
    if state.is_stopped:
        return frozenset({"start"})
    return frozenset(ACTIONS)


class ProjectRow:
    """One project's line in the panel. Its widgets exist once the panel's widget has been built."""

    def __init__(self, project: Project):
        self.project = project
        self.state: ProjectState | None = project.state
        self.busy = False
        self.message = ""
        self.pending: Future | None = None
        # The widgets exist once the panel is built (ipywidgets is imported only then).
        self.badge: Any = None
        self.status: Any = None
        self.start_button: Any = None
        self.stop_button: Any = None
        self.restart_button: Any = None

    @property
    def project_id(self) -> str:
        return self.project.project_id

    @property
    def buttons(self) -> dict:
        return {"start": self.start_button, "stop": self.stop_button, "restart": self.restart_button}


class ProjectControls(WidgetView):
    """A live Start / Stop / Restart panel for one or more projects of ``session``.

    ``projects`` is a project id or title, a :class:`Project`, a list of those (e.g. ``session.projects()``),
    or None for the session's default project. Ids and titles are looked up once, here.
    """

    def __init__(self, session, projects=None, *, poll_min: float = 0.5, poll_max: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.session = session
        self.rows = [ProjectRow(project) for project in _resolve_projects(session, projects)]
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.poll_interval = poll_min
        self.poll_count = 0
        self.poll_error: str | None = None
        # ``clock`` measures the time without interaction and since a view last reported (tests turn it).
        self._clock = clock
        self.views = ViewReports(clock)
        self._last_interaction = clock()
        self._next_poll = 0.0  # on time.monotonic: the poller sleeps in real time
        self.poller: ProjectPoller | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.RLock()
        self._footer: Any = None

    @property
    def projects(self) -> ProjectList:
        """The panel's projects, each with the state its badge shows now."""
        return ProjectList(dataclasses.replace(row.project, state=row.state) if row.state else row.project
                           for row in self.rows)

    def __repr__(self) -> str:
        return f"<ProjectControls {', '.join(row.project.short_id for row in self.rows) or '(no projects)'}>"

    # -- what is shown ---------------------------------------------------------------------------------------

    def static_bundle(self) -> dict:
        pairs = [(row.project, row.state) for row in self.rows]
        note = "" if ipywidgets_available() else "Start / Stop / Restart buttons need ipywidgets."
        return {"text/plain": render.projects_text(pairs), "text/html": render.projects_html(pairs, note)}

    def _build_widget(self):
        import ipywidgets as w

        parts = SharedParts(w)
        lines = [self._build_row(w, parts, row) for row in self.rows] or [self._html(w, parts, "<i>no projects</i>")]
        self._footer = self._html(w, parts)
        watcher = build_watcher(self._view_reported)
        panel = w.VBox([*lines, *([watcher] if watcher is not None else []), self._footer], layout=parts.layout())
        panel.add_class("cocalc-project-controls")
        # Closing the widget directly (not through self.close) must stop the polling as well.
        panel.observe(lambda change: self.close() if change["new"] is None else None, names="comm")
        self.poller = subscribe(self.session, self)
        return panel

    @staticmethod
    def _html(w, parts: SharedParts, value: str = "", **layout):
        return w.HTML(value, layout=parts.layout(**layout), style=parts.style(w.HTML))

    def _build_row(self, w, parts: SharedParts, row: ProjectRow):
        title = self._html(w, parts, render.project_title_html(row.project), min_width="14em")
        row.badge = self._html(w, parts, render.state_badge_html(row.state), min_width="7em")
        row.badge.add_class("cocalc-project-badge")
        for action, icon, style in (("start", "play", "success"), ("stop", "stop", "danger"),
                                    ("restart", "refresh", "warning")):
            button = w.Button(description=action.capitalize(), icon=icon, button_style=style,
                              tooltip=f"{action} project {row.project.short_id}",
                              layout=parts.layout(width="auto"), style=parts.style(w.Button))
            button.add_class(f"cocalc-project-{action}")
            button.on_click(lambda _button, action=action: self.request(row, action))
            setattr(row, f"{action}_button", button)
        row.status = self._html(w, parts)
        row.status.add_class("cocalc-project-status")
        self._show(row)
        line = w.HBox([title, row.badge, row.start_button, row.stop_button, row.restart_button, row.status],
                      layout=parts.layout(align_items="center", grid_gap="0.5em"))
        line.add_class("cocalc-project-row")
        return line

    def _show(self, row: ProjectRow) -> None:
        """Bring the row's widgets in line with its state, busy flag and message."""
        if row.badge is None:
            return
        with self._lock:
            row.badge.value = render.state_badge_html(row.state)
            allowed = enabled_actions(row.state, row.busy)
            for action, button in row.buttons.items():
                button.disabled = action not in allowed
            row.status.value = row.message

    def _set_message(self, row: ProjectRow, text: str, failed: bool = False) -> None:
        color = "#c62828" if failed else "inherit"
        row.message = (f"<span style='color:{color};white-space:nowrap' title='{html.escape(text)}'>"
                       f"{html.escape(one_line(text, 160))}</span>")

    # -- clicks ----------------------------------------------------------------------------------------------

    def request(self, row: ProjectRow, action: str) -> Future:
        """Run ``action`` ("start", "stop" or "restart") on a worker thread; what a button click does."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        with self._lock:
            self._last_interaction = self._clock()
            if row.pending is not None and not row.pending.done():
                return row.pending
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=min(4, max(1, len(self.rows))),
                                                    thread_name_prefix="cocalc-project-action")
            row.busy = True
            self._set_message(row, f"{_PROGRESS[action]}…")
            self._show(row)
            row.pending = self._executor.submit(self._run, row, action)
        self._poll_soon()
        return row.pending

    def _run(self, row: ProjectRow, action: str) -> ProjectState | None:
        started = time.monotonic()

        def progress(state: ProjectState) -> None:
            row.state = state
            self._set_message(row, f"{_PROGRESS[action]}… {time.monotonic() - started:.0f} s")
            self._show(row)

        try:
            refusal = self._refusal(row, action)
            if refusal:
                self._set_message(row, refusal, failed=True)
                return None
            call = getattr(self.session, action)
            final = call(row.project_id, on_poll=progress)
        except Exception as error:  # any failure is shown in the row, as one line
            self._set_message(row, f"{action} failed: {type(error).__name__}: {error}", failed=True)
            final = None
        else:
            row.state = final
            self._set_message(row, f"{_DONE[action]} in {time.monotonic() - started:.1f} s")
        finally:
            if self.poller is not None:  # a no-op when another panel holds the project
                self.poller.release(row.project_id, self)
            self._show(row)  # the outcome line first: whoever sees the row idle sees its outcome too
            row.busy = False
            self._show(row)
            self._poll_soon()
        return final

    def _refusal(self, row: ProjectRow, action: str) -> str | None:
        """Why ``action`` must not run now, as one line, or None (then this panel holds the project).

        CoCalc answers a start or stop at once while another transition is under way and then does not
        do it, so a click that raced a magic's wait would show "stopping…" for the whole wait and end in
        a timeout. One panel at a time, and none while the project is changing for someone else.
        """
        if self.poller is not None:
            other = self.poller.claim(row.project_id, self)
            if other is not None:
                return (f"{action} refused: another panel is changing {row.project.short_id} now; "
                        "try again when it is done")
        state = self.session.state(row.project_id)
        row.state = state
        if state.is_changing:
            return (f"{action} refused: {row.project.short_id} is still {state.state} (a change started "
                    "elsewhere, e.g. by a %cocalc_ magic); try again when it is done")
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Block until every requested action has finished (for scripts and tests; clicks never block)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for row in self.rows:
            if row.pending is not None:
                row.pending.result(None if deadline is None else max(0.0, deadline - time.monotonic()))

    # -- polling (the shared poller calls next_poll_in, polled and poll_failed) -------------------------------

    @property
    def project_ids(self) -> list[str]:
        return [row.project_id for row in self.rows]

    @property
    def polling(self) -> bool:
        """True while the poller reads this panel's states: it is shown, open and not known to be off screen."""
        return (not self._closed and self.poller is not None and self.poller.running
                and self.views.mode != OFF_SCREEN)

    def next_poll_in(self) -> float | None:
        """Seconds until this panel wants fresh states (≤ 0: now), or None while it wants none."""
        if self._closed or not self.rows or self.views.mode == OFF_SCREEN:
            return None
        return self._next_poll - time.monotonic()

    def refresh(self) -> bool:
        """Read every project's state once and update the badges; True when any state changed."""
        if len(self.rows) == 1:
            states = {self.rows[0].project_id: self.session.state(self.rows[0].project_id)}
        else:
            states = {p.project_id: p.state for p in self.session.projects(include_deleted=True)}
        return self._apply(states)

    def _apply(self, states: dict[str, ProjectState]) -> bool:
        changed = False
        for row in self.rows:
            if row.project_id not in states:
                continue
            state = states[row.project_id]
            if state != row.state:
                changed = True
                row.state = state
                self._show(row)
        return changed

    def polled(self, states: dict[str, ProjectState]) -> None:
        """Fresh states from the poller. A panel that was not due but whose projects were all read takes
        them as its own poll, so panels of the same project keep polling in step, one read for all."""
        changed = self._apply(states)
        if not all(project_id in states for project_id in self.project_ids):
            return
        self.poll_count += 1
        if self.poll_error:
            self.poll_error = None
            self._footer.value = ""
        moving = any(row.busy or (row.state is not None and row.state.is_changing) for row in self.rows)
        interval = self.poll_min if changed or moving else min(self.poll_interval * 2, self.poll_max)
        self._schedule(interval)

    def poll_failed(self, error: Exception) -> None:
        """A failed read must not end the polling: say so and back off."""
        self.poll_count += 1
        self.poll_error = f"state check failed: {type(error).__name__}: {one_line(str(error), 160)}"
        self._footer.value = f"<span style='color:#c62828'>{html.escape(self.poll_error)}</span>"
        self._schedule(self.poll_max)

    def _schedule(self, interval: float) -> None:
        if self.views.mode == UNKNOWN and self._clock() - self._last_interaction >= IDLE_AFTER_SECONDS:
            interval = max(interval, IDLE_POLL_SECONDS)
        self.poll_interval = interval
        self._next_poll = time.monotonic() + interval

    def _poll_soon(self) -> None:
        self.poll_interval = self.poll_min
        self._next_poll = 0.0
        if self.poller is not None:
            self.poller.wake()

    def _view_reported(self, view: str, event: str) -> None:
        """A message of the view watcher; a panel coming back on screen is refreshed at once."""
        before = self.views.mode
        self.views.report(view, event)
        if self.views.mode == ON_SCREEN and before != ON_SCREEN:
            self._poll_soon()

    def _on_close(self) -> None:
        if self.poller is not None:
            self.poller.unsubscribe(self)
        if self._executor is not None:
            self._executor.shutdown(wait=False)


def _resolve_projects(session, projects) -> list[Project]:
    if projects is None or isinstance(projects, (str, Project)):
        projects = [projects]
    return [project if isinstance(project, Project) else session.project(project) for project in projects]
