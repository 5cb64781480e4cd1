"""Jupyter widgets over the session and its results: the project panel and the LaTeX PDF viewer.

- :class:`ProjectControls` (``controls.py``): live state badges and Start / Stop / Restart per project.
- :class:`PdfViewer` (``pdf_viewer.py``): a compiled PDF, page by page, fitted to the notebook, with a page
  box, keys, zoom, summary, errors, warnings and log; :func:`latex_display_bundle` is what displaying one
  sends. ``pdf_frontend.py`` (with ``pdf_viewer.js``): what the browser reports to it (size, pixel ratio,
  keys) and each cell's kept page and zoom.
- ``static.py``: the HTML/text views used where widgets cannot run; ``rendering.py``: PDF pages to PNG;
  ``base.py``: the lazy widget, the display bundle and one live output per cell.

Importing this package does not import ipywidgets, pypdfium2 or Pillow: the widgets are built on first
display, and without ipywidgets a display falls back to the static HTML and text.
"""

from .controls import ProjectControls
from .pdf_viewer import PdfViewer, latex_display_bundle

__all__ = ["PdfViewer", "ProjectControls", "latex_display_bundle"]
