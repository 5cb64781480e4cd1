"""The PDF viewer over real LaTeX results from the emulator: pages on demand, navigation, zoom, summary,
errors and log."""

from __future__ import annotations

import dataclasses
import io
import uuid

import pypdfium2
import pytest
from PIL import Image

from cocalc_magics import CoCalcSession
from emulator_process import seeded_session
from cocalc_magics.widgets import PdfViewer

TWO_PAGES = r"""\documentclass{article}
\begin{document}
First page, see section~\ref{nowhere}.
\newpage
Second page.
\end{document}
"""
FIFTY_PAGES = "\\documentclass{article}\n\\begin{document}\n" + "\n\\newpage\n".join(
    f"Page {n}." for n in range(1, 51)) + "\n\\end{document}\n"
TWO_ERRORS = "\\documentclass{article}\n\\begin{document}\nHello\n\\foo\n\n\\baz\n\\end{document}\n"


@pytest.fixture(scope="module")
def module_session(emulator) -> CoCalcSession:
    """One session for the module's compiled documents, which are shared by its tests."""
    with_key = seeded_session(emulator)
    yield with_key
    with_key.close()


@pytest.fixture(scope="module")
def two_pages(module_session):
    return module_session.latex(TWO_PAGES)


@pytest.fixture(scope="module")
def fifty_pages(module_session):
    return module_session.latex(FIFTY_PAGES)


@pytest.fixture(scope="module")
def two_errors(module_session):
    return module_session.latex(TWO_ERRORS)


@pytest.fixture
def viewer_of():
    """Build viewers whose widgets exist, as on display, and close them after the test."""
    viewers = []

    def build(source, **options):
        viewer = PdfViewer(source, **options)
        viewer.widget
        viewers.append(viewer)
        return viewer

    yield build
    for viewer in viewers:
        viewer.close()


def png_width(data: bytes) -> int:
    return Image.open(io.BytesIO(data)).size[0]


def about(width: float):
    """PDFium rounds a rendered page's pixel size up."""
    return pytest.approx(width, abs=1)


def test_the_viewer_opens_on_page_one_of_two(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    assert viewer.page_label.value == "page 1 of 2"
    assert bytes(viewer.image.value).startswith(b"\x89PNG") and viewer.image.value == viewer.page_png(1)
    assert viewer.previous_button.disabled and not viewer.next_button.disabled


def test_next_and_previous_move_between_pages(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    first = viewer.image.value
    viewer.next_button.click()
    assert viewer.page_label.value == "page 2 of 2" and viewer.image.value != first
    assert viewer.next_button.disabled and not viewer.previous_button.disabled
    viewer.previous_button.click()
    assert viewer.page_label.value == "page 1 of 2" and viewer.image.value == first


def test_a_fifty_page_document_renders_only_the_pages_shown(viewer_of, fifty_pages):
    viewer = viewer_of(fifty_pages)
    assert viewer.page_label.value == "page 1 of 50" and viewer.renders == 1
    viewer.next_button.click()
    viewer.previous_button.click()
    viewer.next_button.click()
    assert viewer.renders == 2  # pages 1 and 2, each once


def test_zoom_renders_the_page_larger_and_smaller(viewer_of, two_pages):
    viewer = viewer_of(two_pages, dpi=72)
    width = pypdfium2.PdfDocument(two_pages.pdf)[0].get_width()  # in points, so pixels at 72 dpi
    assert png_width(viewer.image.value) == about(width) and viewer.zoom_label.value == "100%"
    viewer.zoom_in_button.click()
    assert viewer.zoom_label.value == "125%" and png_width(viewer.image.value) == about(width * 1.25)
    viewer.zoom_out_button.click()
    viewer.zoom_out_button.click()
    viewer.zoom_out_button.click()
    assert viewer.zoom_label.value == "50%" and png_width(viewer.image.value) == about(width * 0.5)
    assert viewer.zoom_out_button.disabled
    viewer.next_button.click()
    assert viewer.page_label.value == "page 2 of 2" and png_width(viewer.image.value) == about(width * 0.5)


def test_the_summary_gives_time_pages_and_warnings(viewer_of, two_pages):
    summary = viewer_of(two_pages).summary.value
    assert f"compiled in {two_pages.elapsed:.1f} s" in summary
    assert "2 pages" in summary and "1 warning" in summary  # the undefined \ref


def test_tex_errors_are_listed_as_file_line_message_in_the_open_details(viewer_of, two_errors):
    viewer = viewer_of(two_errors)
    main = two_errors.path.rsplit("/", 1)[-1]
    assert "failed with 2 errors" in viewer.summary.value
    assert viewer.details.selected_index == 0 and viewer.details.titles[0] == "2 errors"
    assert f"{main}:4: Undefined control sequence." in viewer.errors_html.value
    assert f"{main}:6: Undefined control sequence." in viewer.errors_html.value


def test_the_log_is_filled_in_only_when_its_panel_is_opened(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    assert viewer.details.selected_index is None and viewer.log_html.value == ""
    viewer.details.selected_index = 1
    assert "Latexmk" in viewer.log_html.value and "nowhere" in viewer.log_html.value


def test_the_download_link_is_the_blob_url_without_a_key(viewer_of, two_pages, emulator):
    link = viewer_of(two_pages).download_link.value
    assert f"href='{two_pages.url}'" in link and "download PDF" in link
    assert emulator.api_key not in link and "/blobs/" in link


def test_a_compile_without_pdf_shows_the_summary_and_no_page(session, viewer_of):
    result = session.latex(TWO_PAGES, command="echo no pdf today")
    viewer = viewer_of(result)
    assert result.url is None and viewer.page_count == 0
    assert "no PDF" in viewer.summary.value and viewer.image.value == b""
    assert viewer.next_button.disabled and "image/png" not in viewer.static_bundle()


def test_a_pdf_that_cannot_be_fetched_is_one_line_in_the_viewer(viewer_of, two_pages, emulator):
    missing = dataclasses.replace(two_pages, url=f"{emulator.url}/blobs/gone.pdf?uuid={uuid.uuid4()}", _pdf=None)
    viewer = viewer_of(missing)
    assert viewer.page_count == 0 and viewer.problem.startswith("the PDF could not be shown: HTTPStatusError")
    assert "\n" not in viewer.problem and "could not be shown" in viewer.summary.value


def test_pdf_bytes_are_viewed_without_summary_link_or_log(viewer_of, two_pages):
    viewer = viewer_of(two_pages.pdf)
    assert viewer.page_label.value == "page 1 of 2" and "2 pages" in viewer.summary.value
    assert viewer.download_link.value == "" and viewer.details is None
