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

from ..models import LatexResult
from ..text import one_line
from . import static
from .base import SharedParts, WidgetView, current_execution
from .pdf_frontend import Screen, build_frontend, keep_view, kept_view
from .pdf_sync import LIVE_TEXT_LIMIT, LiveCompiles, Recompile, cell_sync, mark_message, page_click
from .rendering import PdfPages, PreviewLimitError, PreviewLimits

if TYPE_CHECKING:
    from ..latex.interpolation import LatexSource

DEFAULT_DPI = 100
ZOOM_LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
FIT_WIDTH, FIT_PAGE = "width", "page"
# The page area's height, and the share of the window a fitted page may take (the rest is the toolbar
# and the notebook's own chrome).
PAGE_AREA_HEIGHT, FIT_PAGE_SHARE = "75vh", 0.73
FIT_WIDTH_CSS = "calc(100% - 6px)"
# Fitted pages are rendered at widths in steps of this many pixels, so resizing a window by a few
# pixels reuses the rendered pages.
RENDER_WIDTH_STEP = 32
# The whole log of any ordinary compile; only a runaway one is cut (from the front) before it lands in
# the widget state.
LOG_LIMIT = 1_000_000
KEY_ACTIONS = ("previous", "next", "first", "last")


class PdfViewer(WidgetView):
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
        if isinstance(source, LatexResult):
            self.result, self._pdf = source, None
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.result, self._pdf = None, bytes(source)
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
        # The widget's parts, set when the widget is built.
        self.summary = self.page_label = self.page_input = self.zoom_label = self.image = self.download_link = None
        self.previous_button = self.next_button = self.zoom_out_button = self.zoom_in_button = None
        self.fit_button = self.frontend = self.page_area = self.live_button = self.root = self.toolbar = None
        self.errors_part = self.warnings_part = self.log_part = self.errors_html = self.log_html = None

    def __repr__(self) -> str:
        source = self.result.path if self.result is not None else f"{len(self._pdf):,} bytes of PDF"
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

    def css_scale(self, page: int) -> float:
        """CSS pixels per point at which ``page`` is shown now."""
        width, height = self.pages.page_size(page)
        if self.fit is None or self.cropped or self.screen.width is None:
            return self._zoom_scale(self.zoom)
        by_width = self.screen.width / max(width, 1.0)
        if self.fit == FIT_WIDTH:
            return by_width
        return min(by_width, self.screen.height * FIT_PAGE_SHARE / max(height, 1.0))

    def render_scale(self, page: int) -> float:
        """The scale ``page`` is rendered at now: its CSS size times the screen's pixel ratio; a fitted page's
        width is rounded up to a step so that small resizes reuse what was rendered."""
        scale = self.css_scale(page) * self.screen.dpr
        if self.screen.width is None or (self.fit is None and self.screen.dpr == 1.0):
            return scale
        width = self.pages.page_size(page)[0]
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
        return static.summary_html(self.result, count, self.problem, self.notice)

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

    # -- SyncTeX and live preview ---------------------------------------------------------------------------

    @property
    def sync(self):
        """The SyncTeX index of what is shown (a :class:`~cocalc_magics.latex.synctex.CellSync`), or None."""
        if not self._sync_read:
            self._sync_read = True
            self._sync = None if self.cropped else cell_sync(self.result, self.latex_source, self.shown_name)
        return self._sync

    def line_at(self, page: int, x_fraction: float, y_fraction: float) -> tuple[str, int] | None:
        """(file, editor line) behind a spot of a page given as fractions of its width and height."""
        if self.sync is None or not 1 <= page <= self.page_count:
            return None
        width, height = self.pages.page_size(page)
        return self.sync.line_at(page, x_fraction * width, y_fraction * height)

    def show_line(self, line: int) -> dict | None:
        """Turn to the page that editor line ``line`` made and return the front end's ``mark`` message."""
        mark = self.sync.mark_for(line) if self.sync is not None and self.page_count else None
        if mark is None or mark.page > self.page_count:
            return None
        if mark.page != self.page:
            self.show_page(mark.page)
        return mark_message(mark, self.pages.page_size(mark.page))

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

    def _show_live_result(self, result: LatexResult, source: LatexSource) -> None:
        """Show a live recompile in place: the same page (when the new PDF has it), zoom and fit."""
        pages, problem = self._open_pages(result)  # fetched in the worker, before anything shown changes
        old_pages = self._pages
        self.result, self.latex_source, self._pages, self._opened = result, source, pages, True
        self._sync, self._sync_read, self.problem, self.notice = None, False, problem, None
        self._page_was_kept = True
        self._keep_page_in_range()
        count = self.page_count
        if old_pages is not None:
            old_pages.close()
        if self.root is None:
            return
        self.summary.value = self._summary_html()
        self.download_link.value = static.download_link_html(result.url, self.file_name)
        self.page_input.max = max(count, 1)
        self._shared_layout.display = None if count else "none"
        self.errors_part = self.warnings_part = self.log_part = None
        self._build_details(self._widgets, self._parts)
        self.root.children = self._children()
        self._update()

    def _live_failed(self, message: str) -> None:
        self.problem = message
        if self.summary is not None:
            self.summary.value = self._summary_html()

    # -- what is shown ---------------------------------------------------------------------------------------

    def static_bundle(self) -> dict:
        """Page 1 inside ``text/html`` (once: no separate ``image/png``), plus ``text/plain``."""
        pages = self.pages
        count = pages.count if pages is not None else None
        png = self._rendered_or_reported(1, 1.0, smallest=True) if count else None
        png_base64 = base64.b64encode(png).decode("ascii") if png else None
        return {"text/plain": static.pdf_text(self.result, count, self.problem, self.notice),
                "text/html": static.pdf_html(self.result, count, png_base64, self.problem, self.notice,
                                             file_name=self.file_name),
                **static.latex_contract(self.result, self.cell_id, getattr(self, "live", False))}

    def _build_widget(self):
        import ipywidgets as w

        count = self.page_count  # fetches the PDF, or records why it cannot be shown
        parts = SharedParts(w)
        self.summary = self._html(w, parts, self._summary_html())
        self.previous_button = self._button(w, parts, "", "chevron-left", "previous page (←, PageUp)", "previous")
        self.next_button = self._button(w, parts, "", "chevron-right", "next page (→, PageDown)", "next")
        self.zoom_out_button = self._button(w, parts, "", "search-minus", "zoom out", "zoom-out")
        self.zoom_in_button = self._button(w, parts, "", "search-plus", "zoom in", "zoom-in")
        self.fit_button = self._button(w, parts, "", "arrows-h", "fit width / fit page", "fit")
        self.page_input = w.BoundedIntText(value=max(self.page, 1), min=1, max=max(count, 1),
                                           layout=w.Layout(width="4.5em"), tooltip="go to page")
        self.page_input.add_class("cocalc-pdf-page-input")
        self.page_label = w.Label("", layout=parts.layout(), style=parts.style(w.Label))
        self.page_label.add_class("cocalc-pdf-page-label")
        self.zoom_label = w.Label("", layout=parts.layout(), style=parts.style(w.Label))
        self.zoom_label.add_class("cocalc-pdf-zoom-label")
        self.previous_button.on_click(lambda _: self.previous_page())
        self.next_button.on_click(lambda _: self.next_page())
        self.zoom_out_button.on_click(lambda _: self.zoom_out())
        self.zoom_in_button.on_click(lambda _: self.zoom_in())
        self.fit_button.on_click(lambda _: self.toggle_fit())
        self.page_input.observe(lambda change: change["new"] != self.page and self.show_page(change["new"]),
                                names="value")
        self.download_link = self._html(w, parts, static.download_link_html(
            self.result.url if self.result else None, self.file_name))
        # One layout for the toolbar and the page area (each saved layout model is ~1 KB of the notebook):
        # the page area has a bounded height and scrolls inside, so the toolbar above it stays in view.
        shared_layout = w.Layout(align_items="center", grid_gap="0.4em", flex_flow="row wrap", overflow="auto",
                                 max_height=PAGE_AREA_HEIGHT, display=None if count else "none")
        tools = [self.previous_button, self.page_input, self.page_label, self.next_button, self.zoom_out_button,
                 self.zoom_label, self.zoom_in_button, self.fit_button, self.download_link]
        if self.live_compiles is not None:
            self.live_button = w.ToggleButton(value=self.live, description="live", icon="bolt",
                                              tooltip="live preview: recompile when typing stops",
                                              layout=parts.layout(width="auto"))
            self.live_button.add_class("cocalc-pdf-live")
            self.live_button.observe(lambda change: self.set_live(change["new"]), names="value")
            tools.append(self.live_button)
        self.toolbar = toolbar = w.HBox(tools, layout=shared_layout)
        toolbar.add_class("cocalc-pdf-toolbar")
        self.image = w.Image(format="png", layout=w.Layout(flex="0 0 auto", border="1px solid #ddd"))
        self.image.add_class("cocalc-pdf-page")
        self.page_area = w.Box([self.image], layout=shared_layout)
        self.page_area.add_class("cocalc-pdf-page-box")
        self.frontend = build_frontend(self._on_frontend_message, parts.layout(),
                                       live=self.live if self.live_compiles is not None else None)
        self._widgets, self._parts, self._shared_layout = w, parts, shared_layout
        self._build_details(w, parts)
        self.root = viewer = w.VBox(self._children(), layout=parts.layout())
        # The element the contract's DOM events (cocalc-magics:*) are dispatched from and on.
        viewer.add_class("cocalc-pdf-viewer")
        viewer.observe(lambda change: self.close() if change["new"] is None else None, names="comm")
        self._update()
        return viewer

    def _children(self) -> list:
        children = [self.frontend, self.summary, self.errors_part, self.toolbar, self.page_area,
                    self.warnings_part, self.log_part]
        return [child for child in children if child is not None]

    @staticmethod
    def _html(w, parts: SharedParts, value: str = ""):
        return w.HTML(value, layout=parts.layout(), style=parts.style(w.HTML))

    @staticmethod
    def _button(w, parts: SharedParts, description: str, icon: str, tooltip: str, name: str):
        button = w.Button(description=description, icon=icon, tooltip=tooltip, layout=parts.layout(width="auto"),
                          style=parts.style(w.Button))
        button.add_class(f"cocalc-pdf-{name}")
        return button

    def _part(self, w, parts: SharedParts, content, title: str, name: str, opened: bool):
        part = w.Accordion(children=[content], titles=(title,), selected_index=0 if opened else None,
                           layout=parts.layout())
        part.add_class(f"cocalc-pdf-{name}")
        return part

    def _build_details(self, w, parts: SharedParts) -> None:
        """Three collapsible parts: the errors (open, above the page), the warnings and the log (filled in
        when first opened, at the first error)."""
        if self.result is None:
            return
        errors, warnings = self.result.errors, static.result_warnings(self.result)
        if errors:
            self.errors_html = self._html(w, parts, static.errors_html(errors))
            self.errors_part = self._part(w, parts, self.errors_html, static.plural(len(errors), "error"),
                                          "errors", True)
        if warnings:
            self.warnings_part = self._part(w, parts, self._html(w, parts, static.warnings_html(warnings)),
                                            static.plural(len(warnings), "warning"), "warnings", False)
        self.log_html = self._html(w, parts)
        self.log_part = self._part(w, parts, self.log_html, "log", "log", False)
        self.log_part.observe(self._on_log_opened, names="selected_index")

    def _on_log_opened(self, change) -> None:
        if change["new"] == 0 and not self.log_html.value:
            self.log_html.value = static.log_html(self.result.log, LOG_LIMIT, open_at_first_error=True)

    def _update(self) -> None:
        """Show the current page, zoom and fit in the widget (when it has been built)."""
        if self.image is None:
            return
        count = self.page_count
        if count:
            png = self._rendered_or_reported(self.page)
            self.image.value = png or b""
            self._size_image()
            self.page_label.value = static.page_label(self.page, count)
            self.page_input.value = self.page
            keep_view(self.cell_id, self.page, self.zoom, self.fit)
            if self.page < count:
                try:
                    self.pages.render_ahead(self.page + 1, self.render_scale(self.page + 1))
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
            css_width = self.pages.page_size(self.page)[0] * self.css_scale(self.page)
            if self.cropped:
                css_width = self.pages.pixel_size(self.page, self.render_scale(self.page))[0] / self.screen.dpr
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
    if rendered is not None and rendered.scale < on_screen * 0.999:
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
