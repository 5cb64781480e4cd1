"""PDF pages rendered to PNG in the kernel (pypdfium2 + Pillow), each page and scale at most once.

Every page is rendered within :class:`PreviewLimits`: the scale is chosen from the page's size (read
before rendering) so that no page exceeds a pixel budget, whatever its MediaBox says. A PDF page may be
up to 14,400 units a side (PDF 1.7, annex C) and PDFium accepts more: an 11 KB file with one 16,383 pt
page took 14 s and 3.5 GB to render at 100 dpi and put a 2 MB PNG into the widget state. The limits
bound the time, the memory and the bytes a saved notebook keeps for any page; the viewer says when a
page was scaled down. The PDF's size and its page count are bounded too.

pypdfium2 and Pillow are imported when the first document is opened, so importing this module is cheap.
"""

from __future__ import annotations

import atexit
import io
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

# Enough for every page of a long paper at a couple of zoom levels (a text page at 100 dpi is ~50 KB).
DEFAULT_CACHE_SIZE = 128


@dataclass(frozen=True)
class PreviewLimits:
    """What the viewer renders at most.

    ``page_pixels``: a US letter page at 100 dpi and 200 % zoom is 3.7 megapixels, so ordinary pages are
    never scaled down below 200 %. ``page_side``: a 16,383 x 1 pt strip has few pixels but a very long
    side. ``png_bytes``: a page of noise at 4 megapixels is a ~12 MB PNG; the page is rendered smaller
    until its PNG fits. ``pdf_bytes`` and ``pages``: far above a thesis (a few MB, a few hundred pages).
    """

    page_pixels: int = 4_000_000
    page_side: int = 8_192
    png_bytes: int = 2_000_000
    pdf_bytes: int = 64 * 1024 * 1024
    pages: int = 2_000


class PreviewLimitError(ValueError):
    """The PDF is larger than the viewer accepts; the message says which limit and what to do instead."""


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    size: tuple[int, int]
    scale: float  # the scale used, at most the one asked for
    requested_scale: float

    @property
    def scaled_down(self) -> bool:
        return self.scale < self.requested_scale * 0.999


_open_documents: weakref.WeakSet = weakref.WeakSet()


def _close_open_documents() -> None:
    # Registered after pypdfium2's own exit hook, so it runs first: that hook logs a warning for each
    # document a kernel still has open at shutdown (every viewer that was never closed).
    for pages in list(_open_documents):
        pages.close()


def fitting_scale(width_pt: float, height_pt: float, scale: float, limits: PreviewLimits) -> float:
    """The largest scale up to ``scale`` at which a page of this size stays within the pixel limits."""
    width_pt, height_pt = max(width_pt, 1e-3), max(height_pt, 1e-3)
    by_area = math.sqrt(limits.page_pixels / (width_pt * height_pt))
    by_side = limits.page_side / max(width_pt, height_pt)
    # PDFium rounds each side up to whole pixels: stay a pixel clear of the limits.
    return min(scale, by_area * 0.999, by_side * 0.999)


class PdfPages:
    """The pages of one PDF as PNG bytes, rendered on demand and cached by (page, scale).

    Pages are numbered from 1; only the first ``limits.pages`` are shown (``count``), of ``total_count``.
    ``renders`` counts the renders actually done, so a page already shown is not rendered again. PDFium is
    not thread-safe, so every call into it holds one lock.
    """

    def __init__(self, pdf: bytes, cache_size: int = DEFAULT_CACHE_SIZE, limits: PreviewLimits | None = None):
        self.limits = limits or PreviewLimits()
        if len(pdf) > self.limits.pdf_bytes:
            raise PreviewLimitError(
                f"the PDF is {len(pdf):,} bytes, more than the viewer shows ({self.limits.pdf_bytes:,} bytes); "
                "use its download link")
        import pypdfium2

        if not _open_documents:
            atexit.unregister(_close_open_documents)
            atexit.register(_close_open_documents)
        self._lock = threading.Lock()
        self._document = pypdfium2.PdfDocument(bytes(pdf))
        self.total_count = len(self._document)
        self.count = min(self.total_count, self.limits.pages)
        self.renders = 0
        self._cache: OrderedDict[tuple[int, float], RenderedPage] = OrderedDict()
        self._cache_size = cache_size
        _open_documents.add(self)

    def png(self, page: int, scale: float) -> bytes:
        """Page ``page`` rendered at ``scale`` (1.0 = 72 dpi), or smaller to fit the limits, as PNG bytes."""
        return self.rendered(page, scale).png

    def pixel_size(self, page: int, scale: float) -> tuple[int, int]:
        """Width and height in pixels of the PNG that :meth:`png` gives for the same arguments."""
        return self.rendered(page, scale).size

    def is_rendered(self, page: int, scale: float) -> bool:
        return (page, round(scale, 4)) in self._cache

    def rendered(self, page: int, scale: float) -> RenderedPage:
        if not 1 <= page <= self.count:
            raise IndexError(f"page {page} is not in this {self.count}-page PDF")
        key = (page, round(scale, 4))
        with self._lock:
            if self._document is None:
                raise RuntimeError("this PDF was closed")
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            pdf_page = self._document[page - 1]
            try:
                used = fitting_scale(*pdf_page.get_size(), scale, self.limits)
                png, size = self._encode(pdf_page, used)
                # A page of noise compresses badly: shrink it until its PNG fits (twice at most, since
                # the bytes shrink with the pixel count).
                for _ in range(2):
                    if len(png) <= self.limits.png_bytes:
                        break
                    used *= math.sqrt(self.limits.png_bytes / len(png)) * 0.9
                    png, size = self._encode(pdf_page, used)
            finally:
                pdf_page.close()
            self._cache[key] = RenderedPage(png, size, used, scale)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return self._cache[key]

    def _encode(self, pdf_page, scale: float) -> tuple[bytes, tuple[int, int]]:
        image = pdf_page.render(scale=scale).to_pil()
        self.renders += 1
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue(), image.size

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            if self._document is not None:
                self._document.close()
                self._document = None
        _open_documents.discard(self)
