"""What the PDF viewer learns from the browser, and what it keeps between runs of a cell.

- :func:`build_frontend`: a zero-size ``anywidget`` inside the viewer (its ESM is ``pdf_viewer.js``) that
  reports the page area's width, the window's height and the screen's devicePixelRatio, and turns keys
  (arrows, PageUp/PageDown, Home/End) pressed while the viewer has focus into page turns. It is also the
  viewer's end of the LaTeX output contract's DOM events: a click on the page goes to the kernel and comes back
  as ``cocalc-magics:goto-line``; ``show-line`` and ``live-text`` go to the kernel; ``live`` (a synced trait,
  None: the viewer has no live preview) is announced as ``cocalc-magics:live-state``.
- :class:`Screen`: those reports, checked and bounded (a front end is not trusted with a size).
- :func:`kept_view` / :func:`keep_view`: each cell's last page, zoom and fit, so re-running the cell shows
  the same place. Keyed by the cell id JupyterLab sends with each execute request (see ``base.py``).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FRONTEND_ESM = Path(__file__).with_name("pdf_viewer.js")
# Bounds on what a front end may report: a 100 px sliver to an 8K screen, and real pixel ratios.
WIDTH_RANGE, HEIGHT_RANGE, DPR_RANGE = (100, 8_000), (200, 8_000), (0.5, 4.0)
# Cells remembered per kernel; a view state is three small values.
KEPT_CELLS = 1_000


@dataclass(frozen=True)
class Screen:
    """The page area as the browser sees it; ``width``/``height`` are None until a front end reports."""

    width: int | None = None
    height: int | None = None
    dpr: float = 1.0

    @classmethod
    def reported(cls, content: dict) -> Screen | None:
        """The screen a front end's ``size`` message describes, or None for a malformed one."""
        try:
            width, height, dpr = (float(content[key]) for key in ("width", "height", "dpr"))
        except (KeyError, TypeError, ValueError):
            return None
        if any(math.isnan(value) for value in (width, height, dpr)):
            return None
        return cls(round(_bounded(width, WIDTH_RANGE)), round(_bounded(height, HEIGHT_RANGE)),
                   round(_bounded(dpr, DPR_RANGE), 3))


def _bounded(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def build_frontend(on_message: Callable[[dict], None], layout=None, live: bool | None = None):
    """The front-end helper of one viewer, or None where ``anywidget`` is not installed (the viewer then
    renders for a 1x screen at its dpi, and has no keys). It draws nothing, so any ``layout`` will do."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        return None

    class PdfViewerFrontEnd(anywidget.AnyWidget):
        _esm = traitlets.Unicode(_compact_esm()).tag(sync=True)
        live = traitlets.Bool(None, allow_none=True).tag(sync=True)

    helper = PdfViewerFrontEnd(live=live, **({"layout": layout} if layout is not None else {}))

    def received(_widget, content, _buffers) -> None:
        if isinstance(content, dict):
            on_message(content)

    helper.on_msg(received)
    return helper


def _compact_esm() -> str:
    """The helper's ESM without comment lines and indentation: it is saved with every viewer's widget state."""
    lines = (line.strip() for line in FRONTEND_ESM.read_text().splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


_kept: OrderedDict[str, dict] = OrderedDict()
_kept_lock = threading.Lock()


def kept_view(cell_id: str | None) -> dict:
    """The page, zoom and fit this cell's viewer last showed (empty for a new cell or no cell id)."""
    if not cell_id:
        return {}
    with _kept_lock:
        return dict(_kept.get(cell_id, {}))


def keep_view(cell_id: str | None, page: int, zoom: float, fit: str | None) -> None:
    if not cell_id:
        return
    with _kept_lock:
        _kept[cell_id] = {"page": page, "zoom": zoom, "fit": fit}
        _kept.move_to_end(cell_id)
        while len(_kept) > KEPT_CELLS:
            _kept.popitem(last=False)
