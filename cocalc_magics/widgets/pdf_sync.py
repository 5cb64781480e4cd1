"""The viewer's SyncTeX and live preview, kernel side (the front end's part is in ``pdf_viewer.js``).

- :func:`cell_sync`: the SyncTeX index of a result, in editor lines, or None when the compile carried none.
- :class:`LiveCompiles`: recompiles of a live cell, one at a time in a worker thread; texts that arrive while
  one compiles wait as one (the newest), so three texts in a row make at most two compiles and the last
  text is the one shown.
- :func:`page_click` / :func:`mark_message`: between fractions of the page image and PDF points.
- :class:`SyncAndLive`: the viewer's side of it (click to line, line to page, the live toggle), mixed into
  the viewer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..latex.interpolation import LatexSource
    from ..latex.synctex import CellSync, Mark
    from ..models import LatexResult
    from .rendering import PdfPages

# A live text is the whole cell; anything larger is not a cell someone is typing in.
LIVE_TEXT_LIMIT = 1_000_000
# What a live recompile returns: the result and the document that was sent (for the SyncTeX line map).
Recompile = Callable[[str], "tuple[LatexResult, LatexSource]"]


def cell_sync(result: LatexResult | None, source: LatexSource | None, shown_name: str) -> CellSync | None:
    """SyncTeX for a compiled cell; None without SyncTeX data (a cache hit, CoCalc's own command) or a map."""
    if result is None or source is None or not result.synctex:
        return None
    from ..latex.synctex import CellSync, SyncTex, SyncTexError

    try:
        return CellSync(SyncTex.from_gz(result.synctex), source, result.path.rsplit("/", 1)[-1], shown_name)
    except SyncTexError:
        return None


def page_click(content: dict, page_count: int) -> tuple[int, float, float] | None:
    """(page, x fraction, y fraction) of a front end's ``click`` message, or None for a malformed one."""
    try:
        page, x, y = int(content["page"]), float(content["x"]), float(content["y"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not 1 <= page <= page_count or not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        return None  # NaN fails both comparisons
    return page, x, y


def mark_message(mark: Mark, page_size: tuple[float, float]) -> dict:
    """What the front end needs to draw ``mark`` over the page image: fractions of its width and height."""
    width, height = (max(size, 1.0) for size in page_size)
    return {"event": "mark", "x": mark.x / width, "y": mark.y / height, "width": mark.width / width,
            "height": mark.height / height}


class LiveCompiles:
    """One worker at a time per viewer; ``submit`` returns at once. ``compile`` runs in the worker and
    ``show`` gets each result with the text it came from; a failure goes to ``failed`` as one line."""

    def __init__(self, compile: Recompile, show: Callable[[Any, Any], None], failed: Callable[[str], None]):
        self._compile, self._show, self._failed = compile, show, failed
        self._lock = threading.Lock()
        self._waiting: str | None = None
        self._running = False
        self._last_text: str | None = None
        self.compiles = 0
        self.closed = False

    def submit(self, text: str) -> None:
        with self._lock:
            if self.closed:
                return
            self._waiting = text
            if self._running:
                return  # the worker takes the newest text when its compile ends
            self._running = True
        threading.Thread(target=self._work, name="cocalc-live-preview", daemon=True).start()

    def idle(self, timeout: float) -> bool:
        """Wait until no compile runs or waits (for tests and the benchmark); False when ``timeout`` passed."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        with self._lock:
            self.closed, self._waiting = True, None

    def _work(self) -> None:
        while True:
            with self._lock:
                text, self._waiting = self._waiting, None
                if text is None or self.closed:
                    self._running = False
                    return
            if text == self._last_text:
                continue  # unchanged since the last compile: nothing to do
            self._last_text = text
            try:
                self.compiles += 1
                result, source = self._compile(text)
            except Exception as error:  # noqa: BLE001 (shown in the viewer; the worker goes on with newer text)
                from ..text import one_line

                self._last_text = None
                self._failed(f"live preview: {type(error).__name__}: {one_line(str(error), 200)}")
                continue
            if self.closed:
                continue
            try:
                self._show(result, source)
            except Exception as error:  # noqa: BLE001 (the worker must end cleanly, or no compile would run again)
                from ..text import one_line

                self._failed(f"live preview could not be shown: {type(error).__name__}: {one_line(str(error), 200)}")


class SyncAndLive:
    """The viewer's SyncTeX and live-preview part, mixed into :class:`~cocalc_magics.widgets.pdf_viewer.PdfViewer`.

    What it reads of the viewer is declared here (the viewer sets or overrides each), so the checker sees
    the whole contract without this module importing the viewer.
    """

    cropped: bool
    result: LatexResult | None
    latex_source: LatexSource | None
    shown_name: str
    page: int
    live: bool
    live_compiles: LiveCompiles | None
    problem: str | None
    _sync: CellSync | None
    _sync_read: bool
    # Widget parts, None until the widget is built.
    live_button: Any = None
    frontend: Any = None
    summary: Any = None

    @property
    def pages(self) -> PdfPages | None:
        raise NotImplementedError

    @property
    def page_count(self) -> int:
        raise NotImplementedError

    def show_page(self, page: int) -> None:
        raise NotImplementedError

    def _summary_html(self) -> str:
        raise NotImplementedError

    @property
    def sync(self) -> CellSync | None:
        """The SyncTeX index of what is shown (a :class:`~cocalc_magics.latex.synctex.CellSync`), or None."""
        if not self._sync_read:
            self._sync_read = True
            self._sync = None if self.cropped else cell_sync(self.result, self.latex_source, self.shown_name)
        return self._sync

    def line_at(self, page: int, x_fraction: float, y_fraction: float) -> tuple[str, int] | None:
        """(file, editor line) behind a spot of a page given as fractions of its width and height."""
        pages = self.pages
        if self.sync is None or pages is None or not 1 <= page <= self.page_count:
            return None
        width, height = pages.page_size(page)
        return self.sync.line_at(page, x_fraction * width, y_fraction * height)

    def show_line(self, line: int) -> dict | None:
        """Turn to the page that editor line ``line`` made and return the front end's ``mark`` message."""
        mark = self.sync.mark_for(line) if self.sync is not None and self.page_count else None
        pages = self.pages
        if mark is None or pages is None or mark.page > self.page_count:
            return None
        if mark.page != self.page:
            self.show_page(mark.page)
        return mark_message(mark, pages.page_size(mark.page))

    def set_live(self, live: bool) -> None:
        """Live preview on or off (the toolbar toggle); the front end tells the extension (``live-state``)."""
        self.live = bool(live) and self.live_compiles is not None
        if self.live_button is not None and self.live_button.value != self.live:
            self.live_button.value = self.live
        if self.frontend is not None and getattr(self.frontend, "live", None) is not None:
            self.frontend.live = self.live

    def _on_sync_message(self, content: dict) -> None:
        event = content["event"]
        if event == "click":
            click = page_click(content, self.page_count)
            found = self.line_at(*click) if click else None
            if found is not None:
                self._send({"event": "goto-line", "file": found[0], "line": found[1]})
        elif event == "show-line":
            line = content.get("line")
            if isinstance(line, int) and not isinstance(line, bool) and line >= 1:
                mark = self.show_line(line)
                if mark is not None:
                    self._send(mark)
        elif self.live and self.live_compiles is not None:
            text = content.get("text")
            if isinstance(text, str) and len(text) <= LIVE_TEXT_LIMIT:
                self.live_compiles.submit(text)

    def _send(self, content: dict) -> None:
        if self.frontend is not None:
            self.frontend.send(content)

    def _live_failed(self, message: str) -> None:
        self.problem = message
        if self.summary is not None:
            self.summary.value = self._summary_html()
