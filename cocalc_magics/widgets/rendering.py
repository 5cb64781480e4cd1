"""PDF pages rendered to PNG in the kernel (pypdfium2 + Pillow), each page and scale at most once.

pypdfium2 and Pillow are imported when the first document is opened, so importing this module is cheap.
"""

from __future__ import annotations

import atexit
import io
import threading
import weakref
from collections import OrderedDict

# Enough for every page of a long paper at a couple of zoom levels (a text page at 100 dpi is ~50 KB).
DEFAULT_CACHE_SIZE = 128

_open_documents: weakref.WeakSet = weakref.WeakSet()


def _close_open_documents() -> None:
    # Registered after pypdfium2's own exit hook, so it runs first: that hook logs a warning for each
    # document a kernel still has open at shutdown (every viewer that was never closed).
    for pages in list(_open_documents):
        pages.close()


class PdfPages:
    """The pages of one PDF as PNG bytes, rendered on demand and cached by (page, scale).

    Pages are numbered from 1. ``renders`` counts the renders actually done, so a page already shown is
    not rendered again. PDFium is not thread-safe, so every call into it holds one lock.
    """

    def __init__(self, pdf: bytes, cache_size: int = DEFAULT_CACHE_SIZE):
        import pypdfium2

        if not _open_documents:
            atexit.unregister(_close_open_documents)
            atexit.register(_close_open_documents)
        self._lock = threading.Lock()
        self._document = pypdfium2.PdfDocument(bytes(pdf))
        self.count = len(self._document)
        self.renders = 0
        self._cache: OrderedDict[tuple[int, float], tuple[bytes, tuple[int, int]]] = OrderedDict()
        self._cache_size = cache_size
        _open_documents.add(self)

    def png(self, page: int, scale: float) -> bytes:
        """Page ``page`` rendered at ``scale`` (1.0 = 72 dpi) as PNG bytes."""
        return self._rendered(page, scale)[0]

    def pixel_size(self, page: int, scale: float) -> tuple[int, int]:
        """Width and height in pixels of the PNG that :meth:`png` gives for the same arguments."""
        return self._rendered(page, scale)[1]

    def is_rendered(self, page: int, scale: float) -> bool:
        return (page, round(scale, 4)) in self._cache

    def _rendered(self, page: int, scale: float) -> tuple[bytes, tuple[int, int]]:
        if not 1 <= page <= self.count:
            raise IndexError(f"page {page} is not in this {self.count}-page PDF")
        key = (page, round(scale, 4))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            image = self._document[page - 1].render(scale=scale).to_pil()
            self.renders += 1
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            self._cache[key] = (buffer.getvalue(), image.size)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return self._cache[key]

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            if self._document is not None:
                self._document.close()
                self._document = None
        _open_documents.discard(self)
