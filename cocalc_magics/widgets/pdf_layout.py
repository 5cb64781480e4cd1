"""The PDF viewer's widget layout: the toolbar, the page area and the errors / warnings / log parts.

Mixed into :class:`~cocalc_magics.widgets.pdf_viewer.PdfViewer`, which keeps what is shown (page, zoom, fit)
and calls these to build and refresh the parts. Only this module and the viewer import ipywidgets, and only
when a widget is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import render
from .base import SharedParts
from .pdf_frontend import build_frontend
from .pdf_sync import LiveCompiles

if TYPE_CHECKING:
    from ..models import LatexResult

# The page area's height (the rest of the window is the toolbar and the notebook's own chrome).
PAGE_AREA_HEIGHT = "75vh"
# The whole log of any ordinary compile; only a runaway one is cut (from the front) before it lands in
# the widget state.
LOG_LIMIT = 1_000_000


class ViewerLayout:
    """Builds the viewer's widget; the parts (``next_button``, ``page_input``, ``image`` ...) are None
    until then. What it reads of the viewer is declared here; the viewer sets or overrides each."""

    summary: Any = None
    page_label: Any = None
    page_input: Any = None
    zoom_label: Any = None
    image: Any = None
    download_link: Any = None
    previous_button: Any = None
    next_button: Any = None
    zoom_out_button: Any = None
    zoom_in_button: Any = None
    fit_button: Any = None
    frontend: Any = None
    page_area: Any = None
    live_button: Any = None
    root: Any = None
    toolbar: Any = None
    errors_part: Any = None
    warnings_part: Any = None
    log_part: Any = None
    errors_html: Any = None
    log_html: Any = None
    _widgets: Any = None
    _parts: Any = None
    _shared_layout: Any = None

    result: LatexResult | None
    file_name: str
    page: int
    live: bool
    live_compiles: LiveCompiles | None

    @property
    def page_count(self) -> int:
        raise NotImplementedError

    def _summary_html(self) -> str:
        raise NotImplementedError

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
        self.download_link = self._html(w, parts, render.download_link_html(
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

    def _refresh_parts(self) -> None:
        """After a live recompile: the summary, the download link, the page box's range and the
        errors / warnings / log parts of the new result (the page itself is shown by ``_update``)."""
        count = self.page_count
        self.summary.value = self._summary_html()
        self.download_link.value = render.download_link_html(self.result.url if self.result else None,
                                                             self.file_name)
        self.page_input.max = max(count, 1)
        self._shared_layout.display = None if count else "none"
        self.errors_part = self.warnings_part = self.log_part = None
        self._build_details(self._widgets, self._parts)
        self.root.children = self._children()

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

    @staticmethod
    def _part(w, parts: SharedParts, content, title: str, name: str, opened: bool):
        part = w.Accordion(children=[content], titles=(title,), selected_index=0 if opened else None,
                           layout=parts.layout())
        part.add_class(f"cocalc-pdf-{name}")
        return part

    def _build_details(self, w, parts: SharedParts) -> None:
        """Three collapsible parts: the errors (open, above the page), the warnings and the log (filled in
        when first opened, at the first error)."""
        if self.result is None:
            return
        errors, warnings = self.result.errors, render.result_warnings(self.result)
        if errors:
            self.errors_html = self._html(w, parts, render.errors_html(errors))
            self.errors_part = self._part(w, parts, self.errors_html, render.plural(len(errors), "error"),
                                          "errors", True)
        if warnings:
            self.warnings_part = self._part(w, parts, self._html(w, parts, render.warnings_html(warnings)),
                                            render.plural(len(warnings), "warning"), "warnings", False)
        self.log_html = self._html(w, parts)
        self.log_part = self._part(w, parts, self.log_html, "log", "log", False)
        self.log_part.observe(self._on_log_opened, names="selected_index")

    def _on_log_opened(self, change) -> None:
        if change["new"] == 0 and self.result is not None and not self.log_html.value:
            self.log_html.value = render.log_html(self.result.log, LOG_LIMIT, open_at_first_error=True)
