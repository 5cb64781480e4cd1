"""Whether a panel's views are on screen, as the front end reports it, so its polling can stop.

The kernel cannot see a cleared output or a closed tab: a panel whose output was cleared would poll
CoCalc until the kernel dies. A tiny custom widget (:class:`ViewWatcher`, an ``anywidget``) sits in
the panel; each of its views tells the kernel "visible" or "hidden" as an IntersectionObserver and the
page's visibility see it, "visible" again every few seconds while on screen, and "gone" when the view
is removed (the output cleared, the cell re-run, the notebook closed).

:class:`ViewReports` keeps those reports and says which of three modes a panel is in:

- ``on screen``: some view said "visible" recently. Poll as usual.
- ``off screen``: every view said "hidden" or "gone". Do not poll.
- ``unknown``: no report ever arrived (a front end without the widget: nbclient, an export), or the
  views went silent while visible (a busy kernel handles comm messages only between cells, so silence
  is not proof of absence). Poll, and slow down after a long time without interaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

ON_SCREEN, OFF_SCREEN, UNKNOWN = "on screen", "off screen", "unknown"
# The front end repeats "visible" this often while a view is on screen ...
HEARTBEAT_SECONDS = 5
# ... and a view not heard from for this long is no longer counted as on screen.
SILENCE_SECONDS = 20.0

WATCHER_ESM = """
const HEARTBEAT_MS = HEARTBEAT_SECONDS * 1000;
export default {
  render({ model, el }) {
    const view = Math.random().toString(36).slice(2);
    let intersecting = false, shown = null, observer = null, done = false, tries = 0;
    const report = (event) => { try { model.send({ event, view }); } catch (error) { /* model closed */ } };
    const update = () => {
      const now = intersecting && document.visibilityState === "visible";
      if (now !== shown) { shown = now; report(now ? "visible" : "hidden"); }
    };
    const watch = () => {
      if (done) return;
      const target = el.isConnected && el.closest(".cocalc-project-controls");
      if (!target) { if (tries++ < 100) setTimeout(watch, 100); return; }
      observer = new IntersectionObserver((entries) => {
        intersecting = entries[entries.length - 1].isIntersecting;
        update();
      });
      observer.observe(target);
    };
    watch();
    document.addEventListener("visibilitychange", update);
    const heartbeat = setInterval(() => { if (shown) report("visible"); }, HEARTBEAT_MS);
    return () => {
      done = true;
      clearInterval(heartbeat);
      if (observer) observer.disconnect();
      document.removeEventListener("visibilitychange", update);
      report("gone");
    };
  },
};
""".replace("HEARTBEAT_SECONDS", str(HEARTBEAT_SECONDS))


class ViewReports:
    """What the views of one panel last said, with the time each was heard (on ``clock``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._views: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()
        self.heard = False

    def report(self, view: str, event: str) -> None:
        """Record one message of a view: "visible", "hidden" or "gone" (anything else is ignored)."""
        if not isinstance(view, str) or event not in ("visible", "hidden", "gone"):
            return
        with self._lock:
            self.heard = True
            if event == "gone":
                self._views.pop(view, None)
            elif view in self._views or len(self._views) < 1000:  # a front end cannot grow this unbounded
                self._views[view] = (event == "visible", self._clock())

    @property
    def mode(self) -> str:
        """``ON_SCREEN``, ``OFF_SCREEN`` or ``UNKNOWN`` (see the module's docstring)."""
        with self._lock:
            if not self.heard:
                return UNKNOWN
            now = self._clock()
            visible = [heard_at for on_screen, heard_at in self._views.values() if on_screen]
        if any(now - heard_at <= SILENCE_SECONDS for heard_at in visible):
            return ON_SCREEN
        return UNKNOWN if visible else OFF_SCREEN

    @property
    def views_on_screen(self) -> int:
        now = self._clock()
        with self._lock:
            return sum(1 for on_screen, heard_at in self._views.values()
                       if on_screen and now - heard_at <= SILENCE_SECONDS)


def build_watcher(on_report: Callable[[str, str], None]):
    """The watcher widget for a panel, or None where ``anywidget`` is not installed (the panel then
    polls in the ``unknown`` mode)."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        return None

    class ViewWatcher(anywidget.AnyWidget):
        _esm = traitlets.Unicode(WATCHER_ESM).tag(sync=True)

    watcher = ViewWatcher(layout={"width": "0px", "height": "0px", "overflow": "hidden"})

    def received(_widget, content, _buffers) -> None:
        view, event = (content.get("view"), content.get("event")) if isinstance(content, dict) else (None, None)
        if isinstance(view, str) and isinstance(event, str):  # a front end's message: anything else is ignored
            on_report(view, event)

    watcher.on_msg(received)
    return watcher
