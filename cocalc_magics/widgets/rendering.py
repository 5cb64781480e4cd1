"""PDF pages rendered to PNG in the kernel (pypdfium2 + Pillow), each page and scale at most once.

Every page is rendered within :class:`PreviewLimits`: the scale is chosen from the page's size (read
before rendering) so that no page exceeds a pixel budget, whatever its MediaBox says. A PDF page may be
up to 14,400 units a side (PDF 1.7, annex C) and PDFium accepts more: an 11 KB file with one 16,383 pt
page took 14 s and 3.5 GB to render at 100 dpi and put a 2 MB PNG into the widget state. The limits
bound the time, the memory and the bytes a saved notebook keeps for any page; the viewer says when a
page was scaled down. The PDF's size and its page count are bounded too.

Encoding, not rendering, is what a page flip costs: an RGB page's PNG takes ~10x PDFium's render. A page
without colour (most text pages) is saved as an 8-bit grayscale PNG, a third of the pixels and about a
fifth of the bytes; a colour page uses zlib's fast level. The viewer renders the next page ahead.
A wrapped fragment is cropped to its content (the bounding box of its non-white pixels, plus a margin).

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

# Enough for every page of a long paper at a couple of zoom levels (a text page at 100 dpi is ~10 KB).
DEFAULT_CACHE_SIZE = 128
# zlib levels, measured on a one-page article at 100 dpi: grayscale at 6 (Pillow's default) takes 11 ms
# for 10.8 KB, at 1 8.9 ms for 15.4 KB, so a gray page keeps the small one (it is what a saved notebook
# holds); RGB at 1 takes 22 ms vs 34 ms at 6, and is no larger.
GRAY_COMPRESS_LEVEL, COLOUR_COMPRESS_LEVEL = 6, 1
# The page a saved notebook keeps (page 1, rendered once per display) gets zlib's smallest: ~12% fewer
# bytes for ~10 ms more, spent once and not on a page flip.
SMALLEST_COMPRESS_LEVEL = 9
# A gray page keeps this many levels: anti-aliased text looks the same, and its PNG is ~28% smaller
# (a short article's page 1 at 100 dpi: 16.7 KB with 256 levels, 12.0 KB with 16), in no more time.
GRAY_LEVELS = 16
_POSTERIZE = [round(round(level * (GRAY_LEVELS - 1) / 255) * 255 / (GRAY_LEVELS - 1)) for level in range(256)]
# How long a render waits for the same page being rendered by another thread before rendering it itself.
RENDER_WAIT_SECONDS = 30
# A pixel lighter than this counts as paper when a page is cropped (anti-aliasing leaves faint greys).
PAPER_LEVEL = 250
# Space left around a cropped fragment, in points (a sixth of an inch).
CROP_MARGIN_PT = 12


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

    def __init__(self, pdf: bytes, cache_size: int = DEFAULT_CACHE_SIZE, limits: PreviewLimits | None = None,
                 *, crop: bool = False):
        self.limits = limits or PreviewLimits()
        self.crop = crop
        if len(pdf) > self.limits.pdf_bytes:
            raise PreviewLimitError(
                f"the PDF is {len(pdf):,} bytes, more than the viewer shows ({self.limits.pdf_bytes:,} bytes); "
                "use its download link")
        import pypdfium2

        self._lock = threading.Lock()
        self._document = pypdfium2.PdfDocument(bytes(pdf))
        if not _open_documents:
            # After the document is opened: pypdfium2 registers its library's exit hook on first use,
            # and ours must run before it (a render-ahead thread must not outlive the library).
            atexit.unregister(_close_open_documents)
            atexit.register(_close_open_documents)
        self.total_count = len(self._document)
        self.count = min(self.total_count, self.limits.pages)
        self.renders = 0
        self._ahead: threading.Thread | None = None
        self._sizes: dict[int, tuple[float, float]] = {}
        # Guards the cache and the renders under way (the document has its own lock, held only by PDFium).
        self._state_lock = threading.Lock()
        self._underway: dict[tuple[int, float], threading.Event] = {}
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

    def page_size(self, page: int) -> tuple[float, float]:
        """Width and height of a page in points (1/72 inch), read without rendering it."""
        if not 1 <= page <= self.count:
            raise IndexError(f"page {page} is not in this {self.count}-page PDF")
        if page not in self._sizes:
            with self._lock:
                self._sizes[page] = self._read_size(page)
        return self._sizes[page]

    def _read_size(self, page: int) -> tuple[float, float]:
        if self._document is None:
            raise RuntimeError("this PDF was closed")
        pdf_page = self._document[page - 1]
        try:
            return tuple(pdf_page.get_size())
        finally:
            pdf_page.close()

    def render_ahead(self, page: int, scale: float) -> None:
        """Render a page in a background thread, so that showing it next is a cache hit. One at a time:
        a request while one is running is dropped (the user is flipping faster than pages render)."""
        if not 1 <= page <= self.count or self.is_rendered(page, scale):
            return
        if self._ahead is not None and self._ahead.is_alive():
            return

        def render() -> None:
            try:
                self.rendered(page, scale)
            except Exception:  # the page is rendered again, and the error shown, when it is asked for
                pass

        self._ahead = threading.Thread(target=render, name="cocalc-pdf-render-ahead", daemon=True)
        self._ahead.start()

    def rendered(self, page: int, scale: float, *, smallest: bool = False) -> RenderedPage:
        """The page at ``scale`` (or smaller, within the limits), cached; ``smallest`` spends more time on
        a smaller PNG when the page is not cached yet (for the copy a saved notebook keeps).

        A page being rendered by another thread (the render-ahead) is waited for, not rendered twice.
        """
        if not 1 <= page <= self.count:
            raise IndexError(f"page {page} is not in this {self.count}-page PDF")
        key = (page, round(scale, 4))
        with self._state_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            underway = self._underway.get(key)
            if underway is None:
                self._underway[key] = done = threading.Event()
        if underway is not None:
            underway.wait(timeout=RENDER_WAIT_SECONDS)
            with self._state_lock:
                if key in self._cache:
                    return self._cache[key]
            # The other render failed (or is stuck): render here, and let its error show.
            return self._render(key, scale, smallest)
        try:
            return self._render(key, scale, smallest)
        finally:
            with self._state_lock:
                self._underway.pop(key, None)
            done.set()

    def _render(self, key: tuple[int, float], scale: float, smallest: bool) -> RenderedPage:
        size_pt = self.page_size(key[0])
        used = fitting_scale(*size_pt, scale, self.limits)
        png, size = self._encode(self._bitmap(key[0], used), used, smallest)
        # A page of noise compresses badly: shrink it until its PNG fits (twice at most, since the bytes
        # shrink with the pixel count).
        for _ in range(2):
            if len(png) <= self.limits.png_bytes:
                break
            used *= math.sqrt(self.limits.png_bytes / len(png)) * 0.9
            png, size = self._encode(self._bitmap(key[0], used), used, smallest)
        rendered = RenderedPage(png, size, used, scale)
        with self._state_lock:
            self._cache[key] = rendered
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return rendered

    def _bitmap(self, page: int, scale: float):
        """The page rendered by PDFium, as a Pillow image (gray when it has no colour). PDFium is not
        thread-safe: only this holds the document's lock; encoding the PNG does not."""
        with self._lock:
            if self._document is None:
                raise RuntimeError("this PDF was closed")
            pdf_page = self._document[page - 1]
            try:
                image = pdf_page.render(scale=scale).to_pil()
            finally:
                pdf_page.close()
            self.renders += 1
        return without_colour_if_gray(image)

    def _encode(self, image, scale: float, smallest: bool) -> tuple[bytes, tuple[int, int]]:
        if self.crop:
            image = cropped_to_content(image, round(CROP_MARGIN_PT * scale))
        buffer = io.BytesIO()
        level = (SMALLEST_COMPRESS_LEVEL if smallest else
                 GRAY_COMPRESS_LEVEL if image.mode == "L" else COLOUR_COMPRESS_LEVEL)
        if image.mode == "L":
            image = four_bit_gray(image)
        image.save(buffer, format="PNG", compress_level=level, **({"bits": 4} if image.mode == "P" else {}))
        return buffer.getvalue(), image.size

    def close(self) -> None:
        ahead = self._ahead
        if ahead is not None and ahead is not threading.current_thread():
            ahead.join(timeout=5)
        with self._state_lock:
            self._cache.clear()
        with self._lock:
            if self._document is not None:
                self._document.close()
                self._document = None
        _open_documents.discard(self)


def without_colour_if_gray(image):
    """The image as grayscale ("L", in ``GRAY_LEVELS`` levels) when its red, green and blue are equal
    everywhere, else as is.

    PDFium renders black text on white with equal channels, so a page without colour loses nothing.
    """
    if image.mode != "RGB":
        return image
    from PIL import ImageChops

    red, green, blue = image.split()
    if ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(green, blue).getbbox() is None:
        return green.point(_POSTERIZE)
    return image


def four_bit_gray(image):
    """A grayscale image of at most 16 levels as a 4-bit palette image of the same grays: the same pixels in
    about three quarters of the PNG bytes (a short article's page 1: 10.6 KB -> 8.0 KB), which a saved
    notebook holds twice (the static page and the widget state). Pillow's adaptive palette keeps every level
    when there are no more than 16."""
    from PIL import Image

    if image.getcolors(maxcolors=16) is None:
        return image
    return image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)


def cropped_to_content(image, margin: int):
    """The image cut to the box of its non-paper pixels plus ``margin`` pixels; a blank page is kept whole."""
    gray = image if image.mode == "L" else image.convert("L")
    box = gray.point(lambda level: 255 if level < PAPER_LEVEL else 0).getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    return image.crop((max(0, left - margin), max(0, top - margin),
                       min(image.width, right + margin), min(image.height, bottom + margin)))
