"""The inline viewer of a compiled PDF: one page at a time, rendered in the kernel on demand.

The PDF is fetched from the result's blob URL when the viewer is first displayed. A page is rendered
(pypdfium2 -> PNG) the first time it is shown at a scale and cached kernel-side, so a 50-page document
shows page 1 without rendering the others; the next page is rendered ahead in a thread.

Fitting the notebook: by default the page fills the output's width (``fit="width"``); "fit page" shows
the whole page in the page area, and the zoom buttons give fixed sizes. The page area has a bounded
height and scrolls inside, so the toolbar stays in view, and a failed compile lists its errors above it.
A small front-end helper (``pdf_frontend.py``) reports the area's width and the screen's pixel ratio,
so pages are rendered for the screen within the pixel budget (``rendering.PreviewLimits``), and turns
keys into page turns. Re-running a cell shows the page, zoom and fit it showed before.

Saved notebook: the widget state holds the PNG of the page on screen (grayscale when the page has no
colour) and about thirty small models; the static parts hold page 1 once, inside ``text/html``, with
the errors but not the log (which stays in the kernel and fills its panel when opened).
"""

from __future__ import annotations

import base64
import math
from typing import TYPE_CHECKING

from .. import render
from ..models import LatexResult
from ..text import one_line
from . import static
from .base import WidgetView, current_execution
from .pdf_frontend import Screen, keep_view, kept_view
from .pdf_layout import ViewerLayout
from .pdf_sync import LiveCompiles, Recompile, SyncAndLive
from .rendering import PdfPages, PreviewLimitError, PreviewLimits

if TYPE_CHECKING:
    from ..latex.interpolation import LatexSource

DEFAULT_DPI = 100
ZOOM_LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
FIT_WIDTH, FIT_PAGE = "width", "page"
# The share of the window a fitted page may take (the rest is the toolbar and the notebook's own chrome).
FIT_PAGE_SHARE = 0.73
FIT_WIDTH_CSS = "calc(100% - 6px)"
# Fitted pages are rendered at widths in steps of this many pixels, so resizing a window by a few
# pixels reuses the rendered pages.
RENDER_WIDTH_STEP = 32
KEY_ACTIONS = ("previous", "next", "first", "last")


class PdfViewer(SyncAndLive, ViewerLayout, WidgetView):
    """Previous / next, a page box, zoom and fit, a download link, the summary, errors, warnings and log.

    ``source`` is a :class:`LatexResult` (its PDF is fetched from the blob URL on first display) or the
    bytes of a PDF. ``dpi`` is the resolution at 100 % zoom. ``fit`` is ``"width"`` (default), ``"page"``
    or None (``zoom`` sets the size); a ``page``, ``zoom`` or ``fit`` given wins over what the cell showed
    last. ``cropped`` cuts each page to its content: the magic passes it for a fragment it wrapped in a
    document, so a formula previews as a formula. ``name`` (else ``document``'s first ``\\title{}``, else
    ``document.pdf``) is the downloaded file's name. ``limits`` bound what is rendered (see
    :class:`PreviewLimits`); a page rendered smaller than asked is said so under the summary (``notice``).
    The widget's parts (``next_button``, ``page_input``, ``image`` ...) exist once ``widget`` is built.

    SyncTeX and live preview (the ``cocalc-magics:*`` DOM events of the LaTeX output contract):
    ``latex_source`` is the document that was sent (its line map turns TeX's lines into the editor's),
    ``shown_name`` is ``"cell"`` or the local file's name. ``recompile(text) -> (LatexResult, LatexSource)`` compiles a whole cell text for
    live preview (a "live" toggle appears in the toolbar); ``live`` starts with it on.
    """

    def __init__(self, source: LatexResult | bytes, dpi: float = DEFAULT_DPI, *, page: int | None = None,
                 zoom: float | None = None, fit: str | None = "", limits: PreviewLimits | None = None,
                 cropped: bool = False, name: str | None = None, document: str | None = None,
                 cell_id: str | None = "", latex_source: LatexSource | None = None, shown_name: str = "cell",
                 recompile: Recompile | None = None, live: bool = False):
        self.result: LatexResult | None = None
        self._pdf: bytes | None = None
        if isinstance(source, LatexResult):
            self.result = source
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._pdf = bytes(source)
        else:
            raise TypeError(f"PdfViewer shows a LatexResult or PDF bytes, not {type(source).__name__}")
        if dpi <= 0:
            raise ValueError(f"dpi must be positive, not {dpi!r}")
        self.dpi = float(dpi)
        self.cropped = bool(cropped)
        self.cell_id = current_execution()[0] if cell_id == "" else cell_id
        kept = kept_view(self.cell_id)
        # What the cell showed last, unless told otherwise; a cropped fragment is shown at its size.
        default_fit = None if cropped or zoom is not None else kept.get("fit", FIT_WIDTH)
        self.fit = _check_fit(default_fit if fit == "" else fit)
        self.zoom = _check_zoom(zoom if zoom is not None else kept.get("zoom", 1.0))
        self.page = page if page is not None else kept.get("page", 1)
        self._page_was_kept = page is None and "page" in kept
        self.file_name = static.pdf_file_name(name, document)
        self.limits = limits or PreviewLimits()
        self.screen = Screen()
        self.problem: str | None = None
        self.notice: str | None = None
        self._pages: PdfPages | None = None
        self._opened = False
        self.latex_source, self.shown_name = latex_source, shown_name
        self._sync, self._sync_read = None, False
        self.live = bool(live and recompile)
        self.live_compiles = LiveCompiles(recompile, self._show_live_result, self._live_failed) if recompile else None
        # The widget's parts (ViewerLayout) are None until the widget is built.

    def __repr__(self) -> str:
        source = self.result.path if self.result is not None else f"{len(self._pdf or b''):,} bytes of PDF"
        size = f"fit {self.fit}" if self.fit else f"zoom {self.zoom:.0%}"
        return f"<PdfViewer {source}, page {self.page}, {size}>"

    # -- the document ----------------------------------------------------------------------------------------

    @property
    def pages(self) -> PdfPages | None:
        """The rendered-page cache; opening it fetches the PDF. None when there is no PDF to show."""
        if not self._opened:
            self._opened = True
            self._pages, problem = self._open_pages(self.result)
            self.problem = problem or self.problem
            self._keep_page_in_range()
        return self._pages

    def _open_pages(self, result: LatexResult | None) -> tuple[PdfPages | None, str | None]:
        """The pages of ``result``'s PDF (fetched now), or of the PDF bytes shown; or None and why not."""
        if result is not None and result.pdf_problem and not result.pdf_downloaded:
            return None, f"the PDF could not be shown: {one_line(result.pdf_problem, 200)}"
        try:
            data = self._pdf if result is None else result.pdf
            return (PdfPages(data, limits=self.limits, crop=self.cropped) if data else None), None
        except PreviewLimitError as error:
            return None, str(error)
        except ImportError:
            return None, "page previews need pypdfium2 and Pillow (pip install pypdfium2 pillow)"
        except Exception as error:  # a fetch or a broken PDF is shown in the viewer, as one line
            return None, f"the PDF could not be shown: {type(error).__name__}: {one_line(str(error), 160)}"

    def _keep_page_in_range(self) -> None:
        if self._pages is not None:
            # A kept page that the new PDF no longer has: start again at page 1.
            if self._page_was_kept and self.page > self._pages.count:
                self.page = 1
            self.page = min(max(1, int(self.page)), self._pages.count)

    @property
    def page_count(self) -> int:
        return self.pages.count if self.pages is not None else 0

    @property
    def renders(self) -> int:
        """How many page renders were done (a page shown again at the same scale is not rendered again)."""
        return self.pages.renders if self.pages is not None else 0

    def page_png(self, page: int | None = None, zoom: float | None = None, *, smallest: bool = False) -> bytes | None:
        """PNG bytes of a page (default: the current one) at a zoom (default: as on screen now); a page
        rendered smaller than asked (see :class:`PreviewLimits`) is said so in ``notice``."""
        if self.pages is None or self.pages.count == 0:
            return None
        page = self.page if page is None else page
        scale = self.render_scale(page) if zoom is None else self._zoom_scale(zoom)
        rendered = self.pages.rendered(page, scale, smallest=smallest)
        self.notice = _notice(self.pages, page, rendered, self.screen.dpr if zoom is None else 1.0)
        return rendered.png

    def _zoom_scale(self, zoom: float) -> float:
        return self.dpi / 72 * zoom

    def _shown_pages(self) -> PdfPages:
        """The pages of the PDF shown; asking for a page's size without one is a caller's mistake."""
        if self.pages is None:
            raise ValueError(f"no PDF is shown: {self.problem or 'there is none'}")
        return self.pages

    def css_scale(self, page: int) -> float:
        """CSS pixels per point at which ``page`` is shown now."""
        width, height = self._shown_pages().page_size(page)
        # A front end reports the width and the height together (Screen.reported).
        screen_width, screen_height = self.screen.width, self.screen.height
        if self.fit is None or self.cropped or screen_width is None or screen_height is None:
            return self._zoom_scale(self.zoom)
        by_width = screen_width / max(width, 1.0)
        if self.fit == FIT_WIDTH:
            return by_width
        return min(by_width, screen_height * FIT_PAGE_SHARE / max(height, 1.0))

    def render_scale(self, page: int) -> float:
        """The scale ``page`` is rendered at now: its CSS size times the screen's pixel ratio; a fitted page's
        width is rounded up to a step so that small resizes reuse what was rendered."""
        scale = self.css_scale(page) * self.screen.dpr
        if self.screen.width is None or (self.fit is None and self.screen.dpr == 1.0):
            return scale
        width = self._shown_pages().page_size(page)[0]
        return math.ceil(width * scale / RENDER_WIDTH_STEP) * RENDER_WIDTH_STEP / max(width, 1.0)

    def _rendered_or_reported(self, page: int, zoom: float | None = None, smallest: bool = False) -> bytes | None:
        """A page's PNG, or None with the reason in the summary line: a display must not raise."""
        try:
            png = self.page_png(page, zoom, smallest=smallest)
        except Exception as error:
            self.problem = f"page {page} could not be rendered: {type(error).__name__}: {one_line(str(error), 160)}"
            self.notice, png = _notice(self.pages, page, None), None
        if self.summary is not None:
            self.summary.value = self._summary_html()
        return png

    def _summary_html(self) -> str:
        count = self.page_count if self.pages is not None else None
        return render.summary_html(self.result, count, self.problem, self.notice)

    # -- navigation, zoom and fit (what the buttons and keys call) -------------------------------------------

    def show_page(self, page: int) -> None:
        if self.page_count:
            self.page = min(max(1, int(page)), self.page_count)
            self._update()

    def next_page(self) -> None:
        self.show_page(self.page + 1)

    def previous_page(self) -> None:
        self.show_page(self.page - 1)

    def set_zoom(self, zoom: float) -> None:
        self.zoom, self.fit = _check_zoom(zoom), None
        self._update()

    def set_fit(self, fit: str | None) -> None:
        self.fit = _check_fit(fit)
        self._update()

    def toggle_fit(self) -> None:
        self.set_fit(FIT_PAGE if self.fit == FIT_WIDTH else FIT_WIDTH)

    def _shown_zoom(self) -> float:
        """The zoom the page is shown at now, fitted or not (what zooming in or out starts from)."""
        if self.fit is None or not self.page_count:
            return self.zoom
        return self.css_scale(self.page) / self._zoom_scale(1.0)

    def zoom_in(self) -> None:
        shown = self._shown_zoom()
        self.set_zoom(next((level for level in ZOOM_LEVELS if level > shown + 1e-9), ZOOM_LEVELS[-1]))

    def zoom_out(self) -> None:
        shown = self._shown_zoom()
        self.set_zoom(next((level for level in reversed(ZOOM_LEVELS) if level < shown - 1e-9), ZOOM_LEVELS[0]))

    def _on_frontend_message(self, content: dict) -> None:
        """A message of the front-end helper: the page area's size, or a key pressed in the viewer."""
        if content.get("event") == "size":
            screen = Screen.reported(content)
            if screen is not None and screen != self.screen:
                self.screen = screen
                self._update()
        elif content.get("event") in ("click", "show-line", "live-text"):
            self._on_sync_message(content)
        elif content.get("event") == "key" and content.get("action") in KEY_ACTIONS:
            action = content["action"]
            if action == "previous":
                self.previous_page()
            elif action == "next":
                self.next_page()
            else:
                self.show_page(1 if action == "first" else self.page_count)

    # -- live preview (SyncTeX and the live toggle are in pdf_sync.SyncAndLive) -----------------------------

    def _show_live_result(self, result: LatexResult, source: LatexSource) -> None:
        """Show a live recompile in place: the same page (when the new PDF has it), zoom and fit."""
        pages, problem = self._open_pages(result)  # fetched in the worker, before anything shown changes
        old_pages = self._pages
        self.result, self.latex_source, self._pages, self._opened = result, source, pages, True
        self._sync, self._sync_read, self.problem, self.notice = None, False, problem, None
        self._page_was_kept = True
        self._keep_page_in_range()
        if old_pages is not None:
            old_pages.close()
        if self.root is not None:
            self._refresh_parts()
            self._update()

    # -- what is shown ---------------------------------------------------------------------------------------

    def static_bundle(self) -> dict:
        """Page 1 inside ``text/html`` (once: no separate ``image/png``), plus ``text/plain``."""
        pages = self.pages
        count = pages.count if pages is not None else None
        png = self._rendered_or_reported(1, 1.0, smallest=True) if count else None
        png_base64 = base64.b64encode(png).decode("ascii") if png else None
        return {"text/plain": render.pdf_text(self.result, count, self.problem, self.notice),
                "text/html": render.pdf_html(self.result, count, png_base64, self.problem, self.notice,
                                             file_name=self.file_name),
                **static.latex_contract(self.result, self.cell_id, getattr(self, "live", False))}

    def _update(self) -> None:
        """Show the current page, zoom and fit in the widget (when it has been built)."""
        if self.image is None:
            return
        count = self.page_count
        if count:
            png = self._rendered_or_reported(self.page)
            self.image.value = png or b""
            self._size_image()
            self.page_label.value = render.page_label(self.page, count)
            self.page_input.value = self.page
            keep_view(self.cell_id, self.page, self.zoom, self.fit)
            if self.page < count:
                try:
                    self._shown_pages().render_ahead(self.page + 1, self.render_scale(self.page + 1))
                except Exception:  # rendering ahead is only a head start
                    pass
        self.previous_button.disabled = not count or self.page <= 1
        self.next_button.disabled = not count or self.page >= count
        self.zoom_label.value = f"fit {self.fit}" if self.fit and not self.cropped else f"{self.zoom:.0%}"
        self.zoom_out_button.disabled = not count or (self.fit is None and self.zoom <= ZOOM_LEVELS[0])
        self.zoom_in_button.disabled = not count or (self.fit is None and self.zoom >= ZOOM_LEVELS[-1])
        self.fit_button.disabled = not count or self.cropped
        self.fit_button.icon = "arrows-v" if self.fit == FIT_WIDTH else "arrows-h"
        self.fit_button.tooltip = "fit the whole page" if self.fit == FIT_WIDTH else "fit the width"

    def _size_image(self) -> None:
        """The image's CSS size: the area's width when fitting the width, else the rendered size divided by
        the pixel ratio (a page scaled down by the pixel budget keeps its size, softer)."""
        layout = self.image.layout
        if self.fit == FIT_WIDTH and not self.cropped:
            # Less the image's 1 px border and 2 px widget margin on each side: a fitted page never scrolls sideways.
            layout.width, layout.max_width = FIT_WIDTH_CSS, "none"
            return
        try:
            pages = self._shown_pages()
            css_width = pages.page_size(self.page)[0] * self.css_scale(self.page)
            if self.cropped:
                css_width = pages.pixel_size(self.page, self.render_scale(self.page))[0] / self.screen.dpr
        except Exception:
            return
        layout.width = f"{max(1, round(css_width))}px"
        # A fitted or cropped page never overflows the area; a zoomed one scrolls inside it.
        layout.max_width = "100%" if self.fit or self.cropped else "none"

    def _on_close(self) -> None:
        if self.live_compiles is not None:
            self.live_compiles.close()
        if self._pages is not None:
            self._pages.close()
            self._pages = None
        self.problem = self.problem or "this viewer was closed"


def latex_display_bundle(result: LatexResult | bytes, dpi: float = DEFAULT_DPI, **options) -> dict:
    """What ``display()`` of a fresh :class:`PdfViewer` sends: the widget view (when ipywidgets is
    installed) next to page 1 in ``text/html`` and ``text/plain``. ``options`` go to the viewer."""
    return PdfViewer(result, dpi, **options).display_bundle()


def _notice(pages: PdfPages | None, page: int, rendered, pixel_ratio: float = 1.0) -> str | None:
    """What the viewer shows less of than the PDF has: pages beyond the limit, a page scaled down below
    its size on screen (not only below the extra pixels of a HiDPI screen)."""
    notes = []
    if pages is not None and pages.total_count > pages.count:
        notes.append(f"showing the first {pages.count:,} of {pages.total_count:,} pages")
    on_screen = rendered.requested_scale / pixel_ratio if rendered is not None else 0.0
    if pages is not None and rendered is not None and rendered.scale < on_screen * 0.999:
        width, height = rendered.size
        notes.append(f"page {page} is shown at {rendered.scale / on_screen:.0%} of the size asked for "
                     f"({width:,} x {height:,} px; pages are rendered within "
                     f"{pages.limits.page_pixels / 1e6:g} megapixels)")
    return "; ".join(notes) or None


def _check_fit(fit: str | None) -> str | None:
    if fit not in (FIT_WIDTH, FIT_PAGE, None):
        raise ValueError(f"fit must be {FIT_WIDTH!r}, {FIT_PAGE!r} or None, not {fit!r}")
    return fit


def _check_zoom(zoom: float) -> float:
    zoom = float(zoom)
    if not ZOOM_LEVELS[0] <= zoom <= ZOOM_LEVELS[-1]:
        raise ValueError(f"zoom must be between {ZOOM_LEVELS[0]:.0%} and {ZOOM_LEVELS[-1]:.0%}, not {zoom:.0%}")
    return zoom
