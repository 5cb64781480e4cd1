"""The inline viewer of a compiled PDF: one page at a time, rendered in the kernel on demand.

The PDF is fetched from the result's blob URL when the viewer is first displayed. A page is rendered
(pypdfium2 -> PNG) the first time it is shown at a zoom level and cached kernel-side, so a 50-page
document shows page 1 without rendering the others, and going back to a page does not render it again.

Widget state (what a saved notebook keeps): the PNG of the page on screen, as the Image widget's value,
and about twenty small models (toolbar, summary line, errors); for a two-page article at 100 dpi about
28 KB, of which 10 KB is the page. Not kept: the PDF (the download link points at the blob URL, which
needs no key), the other pages (their PNGs stay in the kernel), and the log until its panel is opened.
Next to the widget view, a display carries page 1 once more as ``image/png`` and inside ``text/html``,
for static exports.
"""

from __future__ import annotations

import base64

from ..models import LatexResult
from ..text import one_line
from . import static
from .base import SharedParts, WidgetView
from .rendering import PdfPages, PreviewLimitError, PreviewLimits

DEFAULT_DPI = 100
ZOOM_LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
# The whole log of any ordinary compile; only a runaway one is cut (from the front) before it lands in
# the widget state.
LOG_LIMIT = 1_000_000


class PdfViewer(WidgetView):
    """Previous / next, "page x of N", zoom, a download link, the compile summary, errors and log.

    ``source`` is a :class:`LatexResult` (its PDF is fetched from the blob URL on first display) or the
    bytes of a PDF. ``dpi`` is the resolution at 100 % zoom. ``limits`` bound what is rendered (see
    :class:`PreviewLimits`); a page rendered smaller than asked is said so under the summary (``notice``).
    The widget's parts (``next_button``,
    ``page_label``, ``image`` ...) exist once ``widget`` has been built, on first display or access.
    """

    def __init__(self, source: LatexResult | bytes, dpi: float = DEFAULT_DPI, *, page: int = 1, zoom: float = 1.0,
                 limits: PreviewLimits | None = None):
        if isinstance(source, LatexResult):
            self.result, self._pdf = source, None
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.result, self._pdf = None, bytes(source)
        else:
            raise TypeError(f"PdfViewer shows a LatexResult or PDF bytes, not {type(source).__name__}")
        if dpi <= 0:
            raise ValueError(f"dpi must be positive, not {dpi!r}")
        self.dpi = float(dpi)
        self.page = page
        self.zoom = _check_zoom(zoom)
        self.limits = limits or PreviewLimits()
        self.problem: str | None = None
        self.notice: str | None = None
        self._pages: PdfPages | None = None
        self._opened = False
        # The widget's parts, set when the widget is built.
        self.summary = self.page_label = self.zoom_label = self.image = self.download_link = None
        self.previous_button = self.next_button = self.zoom_out_button = self.zoom_in_button = None
        self.details = self.errors_html = self.log_html = None

    def __repr__(self) -> str:
        source = self.result.path if self.result is not None else f"{len(self._pdf):,} bytes of PDF"
        return f"<PdfViewer {source}, page {self.page}, zoom {self.zoom:.0%}>"

    # -- the document ----------------------------------------------------------------------------------------

    @property
    def pages(self) -> PdfPages | None:
        """The rendered-page cache; opening it fetches the PDF. None when there is no PDF to show."""
        if not self._opened:
            self._opened = True
            try:
                data = self._pdf if self.result is None else self.result.pdf
                if data:
                    self._pages = PdfPages(data, limits=self.limits)
            except PreviewLimitError as error:
                self.problem = str(error)
            except ImportError:
                self.problem = "page previews need pypdfium2 and Pillow (pip install pypdfium2 pillow)"
            except Exception as error:  # a fetch or a broken PDF is shown in the viewer, as one line
                self.problem = f"the PDF could not be shown: {type(error).__name__}: {one_line(str(error), 160)}"
            if self._pages is not None:
                self.page = min(max(1, self.page), self._pages.count)
        return self._pages

    @property
    def page_count(self) -> int:
        return self.pages.count if self.pages is not None else 0

    @property
    def renders(self) -> int:
        """How many page renders were done (a page shown again at the same zoom is not rendered again)."""
        return self.pages.renders if self.pages is not None else 0

    def page_png(self, page: int | None = None, zoom: float | None = None) -> bytes | None:
        """PNG bytes of a page (default: the current one) at a zoom (default: the current one); a page
        rendered smaller than asked (see :class:`PreviewLimits`) is said so in ``notice``."""
        if self.pages is None or self.pages.count == 0:
            return None
        page = self.page if page is None else page
        rendered = self.pages.rendered(page, self._scale(self.zoom if zoom is None else zoom))
        self.notice = _notice(self.pages, page, rendered)
        return rendered.png

    def _scale(self, zoom: float) -> float:
        return self.dpi / 72 * zoom

    def _rendered_or_reported(self, page: int, zoom: float) -> bytes | None:
        """A page's PNG, or None with the reason in the summary line: a display must not raise."""
        try:
            png = self.page_png(page, zoom)
        except Exception as error:
            self.problem = f"page {page} could not be rendered: {type(error).__name__}: {one_line(str(error), 160)}"
            self.notice, png = _notice(self.pages, page, None), None
        if self.summary is not None:
            self.summary.value = self._summary_html()
        return png

    def _summary_html(self) -> str:
        count = self.page_count if self.pages is not None else None
        return static.summary_html(self.result, count, self.problem, self.notice)

    # -- navigation and zoom (what the buttons call) ---------------------------------------------------------

    def show_page(self, page: int) -> None:
        if self.page_count:
            self.page = min(max(1, int(page)), self.page_count)
            self._update()

    def next_page(self) -> None:
        self.show_page(self.page + 1)

    def previous_page(self) -> None:
        self.show_page(self.page - 1)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = _check_zoom(zoom)
        self._update()

    def zoom_in(self) -> None:
        self.set_zoom(next((level for level in ZOOM_LEVELS if level > self.zoom + 1e-9), self.zoom))

    def zoom_out(self) -> None:
        self.set_zoom(next((level for level in reversed(ZOOM_LEVELS) if level < self.zoom - 1e-9), self.zoom))

    # -- what is shown ---------------------------------------------------------------------------------------

    def static_bundle(self) -> dict:
        """Page 1 as ``image/png`` and inside ``text/html``, plus ``text/plain``: the static export's view."""
        pages = self.pages
        count = pages.count if pages is not None else None
        png = self._rendered_or_reported(1, 1.0) if count else None
        png_base64 = base64.b64encode(png).decode("ascii") if png else None
        data = {"text/plain": static.pdf_text(self.result, count, self.problem, self.notice),
                "text/html": static.pdf_html(self.result, count, png_base64, self.problem, self.notice)}
        if png_base64:
            data["image/png"] = png_base64
        return data

    def _build_widget(self):
        import ipywidgets as w

        count = self.page_count  # fetches the PDF, or records why it cannot be shown
        parts = SharedParts(w)
        self.summary = self._html(w, parts, self._summary_html())
        self.previous_button = self._button(w, parts, "Previous", "chevron-left", "previous page", "previous")
        self.next_button = self._button(w, parts, "Next", "chevron-right", "next page", "next")
        self.zoom_out_button = self._button(w, parts, "", "search-minus", "zoom out", "zoom-out")
        self.zoom_in_button = self._button(w, parts, "", "search-plus", "zoom in", "zoom-in")
        self.page_label = w.Label("", layout=parts.layout(), style=parts.style(w.Label))
        self.page_label.add_class("cocalc-pdf-page-label")
        self.zoom_label = w.Label("", layout=parts.layout(), style=parts.style(w.Label))
        self.previous_button.on_click(lambda _: self.previous_page())
        self.next_button.on_click(lambda _: self.next_page())
        self.zoom_out_button.on_click(lambda _: self.zoom_out())
        self.zoom_in_button.on_click(lambda _: self.zoom_in())
        self.download_link = self._html(w, parts, static.download_link_html(self.result.url if self.result else None))
        toolbar = w.HBox([self.previous_button, self.page_label, self.next_button, self.zoom_out_button,
                          self.zoom_label, self.zoom_in_button, self.download_link],
                         layout=w.Layout(align_items="center", grid_gap="0.5em"))
        # max_width "none" and a fixed flex basis keep a zoomed page at its size; the box scrolls instead.
        self.image = w.Image(format="png", layout=w.Layout(max_width="none", flex="0 0 auto",
                                                           border="1px solid #ddd"))
        self.image.add_class("cocalc-pdf-page")
        page_box = w.Box([self.image], layout=w.Layout(overflow="auto"))
        if not count:
            toolbar.layout.display = page_box.layout.display = "none"
        children = [self.summary, toolbar, page_box]
        self.details = self._build_details(w, parts)
        if self.details is not None:
            children.append(self.details)
        viewer = w.VBox(children, layout=parts.layout())
        viewer.add_class("cocalc-pdf-viewer")
        viewer.observe(lambda change: self.close() if change["new"] is None else None, names="comm")
        self._update()
        return viewer

    @staticmethod
    def _html(w, parts: SharedParts, value: str = ""):
        return w.HTML(value, layout=parts.layout(), style=parts.style(w.HTML))

    @staticmethod
    def _button(w, parts: SharedParts, description: str, icon: str, tooltip: str, name: str):
        button = w.Button(description=description, icon=icon, tooltip=tooltip, layout=parts.layout(width="auto"),
                          style=parts.style(w.Button))
        button.add_class(f"cocalc-pdf-{name}")
        return button

    def _build_details(self, w, parts: SharedParts):
        """The collapsible errors and log; the log is filled in when its section is first opened."""
        if self.result is None:
            return None
        errors = self.result.errors
        self.errors_html = self._html(w, parts, static.errors_html(errors))
        self.log_html = self._html(w, parts)
        details = w.Accordion(children=[self.errors_html, self.log_html],
                              titles=(static.plural(len(errors), "error") if errors else "no errors", "log"),
                              selected_index=0 if errors else None, layout=parts.layout())
        details.add_class("cocalc-pdf-details")
        details.observe(self._on_details_opened, names="selected_index")
        return details

    def _on_details_opened(self, change) -> None:
        if change["new"] == 1 and not self.log_html.value:
            self.log_html.value = static.log_html(self.result.log, LOG_LIMIT)

    def _update(self) -> None:
        """Show the current page and zoom in the widget (when it has been built)."""
        if self.image is None:
            return
        count = self.page_count
        if count:
            self.image.value = self._rendered_or_reported(self.page, self.zoom) or b""
            self.page_label.value = static.page_label(self.page, count)
        self.previous_button.disabled = not count or self.page <= 1
        self.next_button.disabled = not count or self.page >= count
        self.zoom_label.value = f"{self.zoom:.0%}"
        self.zoom_out_button.disabled = not count or self.zoom <= ZOOM_LEVELS[0]
        self.zoom_in_button.disabled = not count or self.zoom >= ZOOM_LEVELS[-1]

    def _on_close(self) -> None:
        if self._pages is not None:
            self._pages.close()
            self._pages = None
        self.problem = self.problem or "this viewer was closed"


def latex_display_bundle(result: LatexResult | bytes, dpi: float = DEFAULT_DPI) -> dict:
    """What ``display()`` of a fresh :class:`PdfViewer` sends: the widget view (when ipywidgets is
    installed) next to ``image/png`` of page 1, ``text/html`` and ``text/plain``."""
    return PdfViewer(result, dpi).display_bundle()


def _notice(pages: PdfPages | None, page: int, rendered) -> str | None:
    """What the viewer shows less of than the PDF has: pages beyond the limit, a page scaled down."""
    notes = []
    if pages is not None and pages.total_count > pages.count:
        notes.append(f"showing the first {pages.count:,} of {pages.total_count:,} pages")
    if rendered is not None and rendered.scaled_down:
        width, height = rendered.size
        notes.append(f"page {page} is shown at {rendered.scale / rendered.requested_scale:.0%} of the size asked for "
                     f"({width:,} x {height:,} px; pages are rendered within "
                     f"{pages.limits.page_pixels / 1e6:g} megapixels)")
    return "; ".join(notes) or None


def _check_zoom(zoom: float) -> float:
    zoom = float(zoom)
    if not ZOOM_LEVELS[0] <= zoom <= ZOOM_LEVELS[-1]:
        raise ValueError(f"zoom must be between {ZOOM_LEVELS[0]:.0%} and {ZOOM_LEVELS[-1]:.0%}, not {zoom:.0%}")
    return zoom
