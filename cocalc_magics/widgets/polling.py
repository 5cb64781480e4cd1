"""One poller per session for every project panel of it: panels of the same project share its reads.

Each panel says when it next wants fresh states (:meth:`ProjectControls.next_poll_in`): soon while
something changes, backing off while nothing does, never while none of its views is on screen, and at
most once a minute after ten minutes without interaction where the front end cannot tell. The poller
reads the states of every project some due panel shows, in one request (one ``projects_all`` listing,
or one state read for a single project), and hands them to every panel of those projects.

The poller also knows which project a panel is changing right now (:meth:`claim`), so a second click
elsewhere is refused instead of racing the first.
"""

from __future__ import annotations

import threading
import weakref

# How often a poller with nothing due re-checks its panels (no request is sent for that).
IDLE_RECHECK_SECONDS = 5.0

_pollers: dict[int, ProjectPoller] = {}
_pollers_lock = threading.Lock()


def subscribe(session, panel) -> ProjectPoller:
    """Add ``panel`` to the poller of ``session`` (made, and its thread started, on first use)."""
    with _pollers_lock:
        poller = _pollers.get(id(session))
        if poller is None or poller.session is not session:
            poller = _pollers[id(session)] = ProjectPoller(session)
        poller._add(panel)
    poller.wake()
    return poller


class ProjectPoller:
    """Reads project states for the panels subscribed to it, on one daemon thread while any is."""

    def __init__(self, session):
        self.session = session
        self.rounds = 0  # state reads done, for all panels together
        self._panels: weakref.WeakSet = weakref.WeakSet()
        self._claims: dict[str, object] = {}  # project id -> the panel changing it
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def panels(self) -> list:
        with self._lock:
            return list(self._panels)

    def _add(self, panel) -> None:
        with self._lock:
            self._panels.add(panel)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="cocalc-project-poller", daemon=True)
                self._thread.start()

    def unsubscribe(self, panel) -> None:
        with self._lock:
            self._panels.discard(panel)
            for project_id, holder in list(self._claims.items()):
                if holder is panel:
                    del self._claims[project_id]
        self.wake()

    def wake(self) -> None:
        """Re-check the panels now (after a click, or a view coming on screen)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- who is changing a project ---------------------------------------------------------------------------

    def claim(self, project_id: str, panel) -> object | None:
        """Mark ``panel`` as changing the project; returns the other panel already doing so, else None."""
        with self._lock:
            holder = self._claims.get(project_id)
            if holder is not None and holder is not panel:
                return holder
            self._claims[project_id] = panel
            return None

    def release(self, project_id: str, panel) -> None:
        with self._lock:
            if self._claims.get(project_id) is panel:
                del self._claims[project_id]

    # -- the loop --------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with _pollers_lock, self._lock:
                panels = list(self._panels)
                if not panels:  # the last panel closed: end the thread and forget the session
                    self._thread = None
                    if _pollers.get(id(self.session)) is self:
                        del _pollers[id(self.session)]
                    return
            waits = {panel: panel.next_poll_in() for panel in panels}
            due = [panel for panel, wait in waits.items() if wait is not None and wait <= 0]
            if due:
                self._poll(due, panels)
                continue
            pending = [wait for wait in waits.values() if wait is not None]
            self._wake.wait(min([*pending, IDLE_RECHECK_SECONDS]))
            self._wake.clear()

    def _poll(self, due: list, panels: list) -> None:
        project_ids = list(dict.fromkeys(project_id for panel in due for project_id in panel.project_ids))
        try:
            if len(project_ids) == 1:
                states = {project_ids[0]: self.session.state(project_ids[0])}
            else:
                states = {project.project_id: project.state
                          for project in self.session.projects(include_deleted=True)}
        except Exception as error:  # a failed read must not end the polling: each due panel says so
            for panel in due:
                panel.poll_failed(error)
            return
        finally:
            self.rounds += 1
        for panel in panels:
            panel.polled(states)
