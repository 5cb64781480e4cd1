"""Hostile PDFs written by hand, and one measured preview of them in a fresh process.

``python hostile_pdf.py [CHECKOUT]`` previews the 11 KB giant page with the viewer of ``CHECKOUT`` (default:
this one) and prints one JSON line: seconds, peak RSS, the PNG's bytes and pixel size. The test and
``benchmarks/bench_hostile_pdf.py`` both run it, so the figures come from a process that did nothing else.
"""

from __future__ import annotations

import io
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

# The largest page side PDFium accepts (PDF 1.7 itself says 14,400 units, annex C).
GIANT_SIDE = 16383


def raw_pdf(width: float, height: float, content: bytes = b"", resources: bytes = b"<<>>",
            extra_objects: tuple[bytes, ...] = (), pages: int = 1) -> bytes:
    """A PDF of ``pages`` identical pages of ``width`` x ``height`` points, each drawing ``content``.

    Objects: 1 catalog, 2 page tree, 3 the content stream, 4.. ``extra_objects``, then the pages.
    """
    first_page = 4 + len(extra_objects)
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources %s /Contents 3 0 R >>"
            % (str(width).encode(), str(height).encode(), resources))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               *extra_objects, *[page] * pages]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def noise_page_pdf(width: float, height: float, image_side: int = 60, seed: int = 8) -> bytes:
    """One page covered by an image of random colours: PNG compresses it badly at any size."""
    noise = random.Random(seed).randbytes(image_side * image_side * 3)
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
             b"/BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream" % (image_side, image_side, len(noise), noise))
    draw = b"q %s 0 0 %s 0 0 cm /Noise Do Q" % (str(width).encode(), str(height).encode())
    return raw_pdf(width, height, draw, b"<< /XObject << /Noise 4 0 R >> >>", (image,))


def giant_page_pdf() -> bytes:
    """The issue's case: an 11 KB PDF whose one page is 16,383 pt (5.8 m) a side."""
    return noise_page_pdf(GIANT_SIDE, GIANT_SIDE)


def measure_in_fresh_process(checkout: Path, timeout: float = 120.0) -> dict:
    """Preview the giant page at the viewer's default 100 dpi with ``checkout``'s code, in a new process."""
    done = subprocess.run([sys.executable, __file__, str(checkout)], capture_output=True, text=True,
                          timeout=timeout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(checkout: Path) -> dict:
    sys.path.insert(0, str(checkout))
    from PIL import Image

    from cocalc_magics.widgets.pdf_viewer import DEFAULT_DPI, PdfViewer

    pdf = giant_page_pdf()
    started = time.monotonic()
    viewer = PdfViewer(pdf)
    png = viewer.page_png(1)
    seconds = time.monotonic() - started
    return {"pdf_bytes": len(pdf), "dpi": DEFAULT_DPI, "seconds": round(seconds, 3),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "png_bytes": len(png), "png_size": list(Image.open(io.BytesIO(png)).size),
            "notice": getattr(viewer, "notice", None)}


if __name__ == "__main__":
    print(json.dumps(_measure(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])))
