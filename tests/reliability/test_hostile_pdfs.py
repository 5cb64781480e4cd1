"""Hostile PDFs in the viewer (issue 8, item 14): any page is rendered within a pixel budget chosen from
its size before rendering, the PNG a saved notebook keeps is bounded, and so are the PDF's bytes and the
pages handled. The viewer says when it shows less than the PDF has."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from cocalc_magics.widgets import PdfViewer
from cocalc_magics.widgets.rendering import PdfPages, PreviewLimitError, PreviewLimits
from figures import write_figure
from hostile_pdf import (
    GIANT_SIDE,
    giant_page_pdf,
    measure_in_fresh_process,
    noise_page_pdf,
    raw_pdf,
)

CHECKOUT = Path(__file__).resolve().parents[2]
LETTER = (612, 792)


@pytest.fixture
def viewer_of():
    viewers = []

    def build(source, **options):
        viewer = PdfViewer(source, **options)
        assert viewer.widget is not None  # built, as on display
        viewers.append(viewer)
        return viewer

    yield build
    for viewer in viewers:
        viewer.close()


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_the_giant_page_is_rendered_within_the_budget_in_a_fresh_process():
    figures = measure_in_fresh_process(CHECKOUT)
    width, height = figures["png_size"]
    assert figures["pdf_bytes"] < 12_000
    assert width * height <= PreviewLimits().page_pixels and figures["png_bytes"] <= PreviewLimits().png_bytes
    # Rendered whole at 100 dpi the page would be 22,755 px a side: 2 GB of bitmap alone.
    assert figures["peak_rss_mb"] < 400
    assert "page 1 is shown at 9% of the size asked for" in figures["notice"]
    write_figure("hostile-pdf", "\n".join(f"{key}: {value}" for key, value in figures.items()))


def test_the_viewer_says_the_giant_page_was_scaled_down(viewer_of):
    viewer = viewer_of(giant_page_pdf())
    width, height = png_size(viewer.image.value)
    assert width * height <= 4_000_000 and width == height
    assert "shown at 9% of the size asked for" in viewer.summary.value
    assert "within 4 megapixels" in viewer.static_bundle()["text/plain"]


def test_a_long_thin_page_is_bounded_by_its_longest_side():
    pages = PdfPages(raw_pdf(GIANT_SIDE, 1))
    try:
        rendered = pages.rendered(1, 100 / 72)
        assert max(rendered.size) <= PreviewLimits().page_side and rendered.scaled_down
    finally:
        pages.close()


def test_an_ordinary_page_is_not_scaled_down_even_at_the_largest_zoom_that_fits(viewer_of):
    viewer = viewer_of(raw_pdf(*LETTER), zoom=2.0)
    assert png_size(viewer.image.value) == pytest.approx((LETTER[0] * 100 / 72 * 2, LETTER[1] * 100 / 72 * 2), abs=1)
    assert viewer.notice is None and "cocalc-pdf-notice" not in viewer.summary.value


def test_a_page_that_compresses_badly_is_rendered_smaller_until_its_png_fits():
    limits = PreviewLimits(png_bytes=200_000)
    pages = PdfPages(noise_page_pdf(*LETTER, image_side=400), limits=limits)
    try:
        rendered = pages.rendered(1, 100 / 72)
        assert len(rendered.png) <= limits.png_bytes and rendered.scaled_down
    finally:
        pages.close()


def test_only_the_first_pages_up_to_the_limit_are_handled_and_the_viewer_says_so(viewer_of):
    viewer = viewer_of(raw_pdf(*LETTER, pages=30), limits=PreviewLimits(pages=10))
    assert viewer.page_count == 10 and viewer.page_label.value == "page 1 of 10"
    assert "showing the first 10 of 30 pages" in viewer.summary.value
    viewer.show_page(30)
    assert viewer.page_label.value == "page 10 of 10" and viewer.next_button.disabled


def test_a_pdf_over_the_byte_limit_is_refused_in_one_line(viewer_of):
    pdf = raw_pdf(*LETTER, pages=50)
    viewer = viewer_of(pdf, limits=PreviewLimits(pdf_bytes=len(pdf) - 1))
    assert viewer.page_count == 0 and viewer.image.value == b""
    assert viewer.problem.startswith(f"the PDF is {len(pdf):,} bytes, more than the viewer shows") and "\n" not in viewer.problem
    assert "use its download link" in viewer.summary.value
    with pytest.raises(PreviewLimitError):
        PdfPages(pdf, limits=PreviewLimits(pdf_bytes=1000))
