"""What the project panel and the PDF viewer share: a widget built lazily and cached on the object, a
static bundle next to its view, and one live output per notebook cell.

This follows dask distributed's ``Cluster._widget`` / ``_ipython_display_``: the ipywidgets tree is built
on first display (or first access of ``.widget``) and cached; when ipywidgets cannot be imported the
display is the static HTML + text alone. The static parts travel next to the widget view in every
display, so nbconvert, GitHub and frontends without the widget manager still show something useful.

Re-running a cell closes the views that the cell's earlier run displayed: the frontend already cleared
those outputs, and closing them here stops their polling threads, frees their rendered pages and keeps
their state out of the saved notebook.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"

# cell id -> [(id of the execute request that displayed it, weak reference to the view)]
_shown_by_cell: dict[str, list[tuple[str | None, weakref.ref]]] = {}
_shown_lock = threading.Lock()


def current_execution() -> tuple[str | None, str | None]:
    """(cell id, execute request id) of the code running now, from the kernel's parent message.

    JupyterLab and Notebook 7 send the cell id as ``metadata.cellId`` of each execute request; outside a
    kernel, or from a client that sends none (nbclient), it is None and nothing is replaced.
    """
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent() if kernel is not None else None
    except Exception:  # no IPython, or an ipykernel without get_parent: no cell to replace in
        return None, None
    if not isinstance(parent, dict):
        return None, None
    return (parent.get("metadata") or {}).get("cellId"), (parent.get("header") or {}).get("msg_id")


def replace_earlier_outputs(view: WidgetView, cell_id: str | None, execution_id: str | None) -> None:
    """Register ``view`` as shown by this cell, closing what earlier runs of the same cell showed."""
    if not cell_id:
        return
    with _shown_lock:
        earlier = _shown_by_cell.get(cell_id, [])
        kept: list[tuple[str | None, Any]] = []
        stale: list[tuple[str | None, Any]] = []
        for shown_in, reference in earlier:
            other = reference()
            if other is None or other is view:
                continue
            (kept if shown_in == execution_id else stale).append((shown_in, reference))
        kept.append((execution_id, weakref.ref(view)))
        _shown_by_cell[cell_id] = kept
    for _, reference in stale:
        other = reference()
        if other is not None:
            other.close()


def ipywidgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def widget_tree(widget) -> list:
    """A widget with everything it owns: children (recursively), layout and style models."""
    found: list = []
    pending = [widget]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend(getattr(current, "children", ()) or ())
        for part in ("layout", "style"):
            owned = getattr(current, part, None)
            if owned is not None and hasattr(owned, "comm"):
                pending.append(owned)
    return found


class SharedParts:
    """Layout and style models shared by the widgets of one view.

    Every ipywidget otherwise brings its own Layout (and Button/HTML/Label their own style) model, and each
    is a separate entry in a saved notebook's widget state; sharing the identical ones halves the models.
    """

    def __init__(self, ipywidgets_module):
        self._layout_class = ipywidgets_module.Layout
        self._made: dict[tuple, Any] = {}

    def layout(self, **traits):
        return self._shared(self._layout_class, traits)

    def style(self, widget_class):
        """The shared default style of ``widget_class`` (e.g. ``ButtonStyle`` for ``Button``)."""
        return self._shared(widget_class.class_traits()["style"].klass, {})

    def _shared(self, model_class, traits: dict):
        key = (model_class, *sorted(traits.items()))
        if key not in self._made:
            self._made[key] = model_class(**traits)
        return self._made[key]


class WidgetView:
    """Base of :class:`ProjectControls` and :class:`PdfViewer`: subclasses give ``_build_widget`` and
    ``static_bundle``; ``_on_close`` releases what they hold (threads, rendered pages)."""

    _widget = None
    _closed = False

    @property
    def widget(self):
        """The ipywidgets view, built on first use (raises ImportError without ipywidgets)."""
        if self._widget is None:
            if self._closed:
                raise RuntimeError(f"this {type(self).__name__} was closed")
            self._widget = self._build_widget()
        return self._widget

    @property
    def closed(self) -> bool:
        return self._closed

    def _build_widget(self):
        raise NotImplementedError

    def static_bundle(self) -> dict[str, Any]:
        """``text/plain`` and ``text/html`` (and for a PDF ``image/png``), for where widgets cannot run."""
        raise NotImplementedError

    def display_bundle(self) -> dict[str, Any]:
        """The static bundle plus the widget view when ipywidgets is installed; what ``display(view)`` shows."""
        data = self.static_bundle()
        if self._closed:
            return data
        try:
            widget = self.widget
        except ImportError:
            return data
        replace_earlier_outputs(self, *current_execution())
        data[WIDGET_VIEW_MIMETYPE] = widget._repr_mimebundle_()[WIDGET_VIEW_MIMETYPE]
        return data

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = self.display_bundle()
        if include:
            data = {key: value for key, value in data.items() if key in include}
        if exclude:
            data = {key: value for key, value in data.items() if key not in exclude}
        return data

    def close(self) -> None:
        """Close the widget and everything it owns; the static view stays usable."""
        if self._closed:
            return
        self._closed = True
        if self._widget is not None:
            for widget in widget_tree(self._widget):
                widget.close()
        self._on_close()

    def _on_close(self) -> None:
        pass
