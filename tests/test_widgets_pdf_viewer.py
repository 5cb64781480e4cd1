"""The PDF viewer over real LaTeX results from the emulator: pages on demand, navigation, the page box
and keys, zoom and fit, HiDPI, cropped fragments, kept view state, the summary, errors, warnings and log,
and the download link's name."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import uuid

import pypdfium2
import pytest
import requests
from PIL import Image

from cocalc_magics import CoCalcSession
from cocalc_magics.widgets import PdfViewer
from emulator_process import seeded_session

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
# A formula as the magic wraps a fragment: a whole page with one line of content.
FORMULA = "\\documentclass{article}\n\\pagestyle{empty}\n\\begin{document}\n$$e^{i\\pi} + 1 = 0$$\n\\end{document}\n"
COLOURED = ("\\documentclass{article}\n\\usepackage{color}\n\\begin{document}\n"
            "\\textcolor{red}{Red text.}\n\\end{document}\n")


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


@pytest.fixture(scope="module")
def formula(module_session):
    return module_session.latex(FORMULA)


@pytest.fixture
def viewer_of():
    """Build viewers whose widgets exist, as on display, and close them after the test."""
    viewers = []

    def build(source, **options):
        viewer = PdfViewer(source, **{"cell_id": None, **options})
        viewer.widget  # noqa: B018 (builds the widgets, as displaying it does)
        viewers.append(viewer)
        return viewer

    yield build
    for viewer in viewers:
        viewer.close()


def png_width(data: bytes) -> int:
    return Image.open(io.BytesIO(data)).size[0]


def png_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def screen(width=800, height=900, dpr=1.0) -> dict:
    """The message the front-end helper sends with the page area's size."""
    return {"event": "size", "width": width, "height": height, "dpr": dpr}


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


def settled(viewer) -> PdfViewer:
    """The viewer once its render-ahead thread (if any) has finished."""
    ahead = viewer.pages._ahead
    if ahead is not None:
        ahead.join(timeout=10)
    return viewer


def test_a_fifty_page_document_renders_only_the_pages_shown_and_the_next(viewer_of, fifty_pages):
    viewer = settled(viewer_of(fifty_pages))
    assert viewer.page_label.value == "page 1 of 50" and viewer.renders == 2  # page 1, and 2 ahead
    viewer.next_button.click()
    settled(viewer).previous_button.click()
    settled(viewer).next_button.click()
    assert settled(viewer).renders == 3  # pages 1, 2 and 3, each once


def test_zoom_renders_the_page_larger_and_smaller(viewer_of, two_pages):
    viewer = viewer_of(two_pages, dpi=72)
    width = pypdfium2.PdfDocument(two_pages.pdf)[0].get_width()  # in points, so pixels at 72 dpi
    # Fitting the width of an area not yet measured is the dpi's size.
    assert png_width(viewer.image.value) == about(width) and viewer.zoom_label.value == "fit width"
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


def test_tex_errors_are_listed_open_and_above_the_page(viewer_of, two_errors):
    viewer = viewer_of(two_errors)
    main = two_errors.path.rsplit("/", 1)[-1]
    assert "failed with 2 errors" in viewer.summary.value
    assert viewer.errors_part.selected_index == 0 and viewer.errors_part.titles == ("2 errors",)
    assert f"{main}:4: Undefined control sequence \\foo." in viewer.errors_html.value
    assert f"{main}:6: Undefined control sequence \\baz." in viewer.errors_html.value
    # The output contract's diagnostics: the JupyterLab extension makes them links to the line.
    assert (f"<li class='cocalc-diagnostic' data-cocalc-line='4' data-cocalc-file='{main}' "
            "data-cocalc-severity='error'>") in viewer.errors_html.value
    parts = list(viewer.widget.children)
    assert parts.index(viewer.errors_part) < parts.index(viewer.page_area) < parts.index(viewer.log_part)


def test_errors_warnings_and_log_are_three_collapsible_parts(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    assert viewer.errors_part is None, "no errors part for a clean compile"
    assert viewer.warnings_part.titles == ("1 warning",) and viewer.warnings_part.selected_index is None
    assert "Reference `nowhere&#x27; on page 1 undefined" in viewer.warnings_part.children[0].value
    assert viewer.log_part.titles == ("log",) and viewer.log_part.selected_index is None


def test_the_log_is_filled_in_only_when_its_panel_is_opened(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    assert viewer.log_html.value == ""
    viewer.log_part.selected_index = 0
    assert "Latexmk" in viewer.log_html.value and "nowhere" in viewer.log_html.value


def test_the_log_opens_at_the_first_error(viewer_of, two_errors):
    viewer = viewer_of(two_errors)
    viewer.log_part.selected_index = 0
    log = viewer.log_html.value
    folded, shown = log.split("</details>", 1)
    assert "before the first error" in folded and "Latexmk" in folded
    assert re.search(r"<pre[^>]*>(! |\S+\.tex:4: )Undefined control sequence", shown)


def test_the_download_link_is_the_named_blob_url_without_a_key_and_looks_like_a_link(viewer_of, two_pages,
                                                                                    emulator):
    link = viewer_of(two_pages).download_link.value
    blob_uuid = two_pages.url.rsplit("uuid=", 1)[1]
    assert f"href='{emulator.url}/blobs/document.pdf?uuid={blob_uuid}'" in link and "download PDF" in link
    assert "download='document.pdf'" in link
    assert "var(--jp-content-link-color" in link and "text-decoration:underline" in link
    assert emulator.api_key not in link


def test_the_named_link_serves_the_pdf_as_an_attachment_under_that_name(viewer_of, two_pages):
    href = re.search(r"href='([^']+)'", viewer_of(two_pages, name="Quarterly report").download_link.value)[1]
    answer = requests.get(html.unescape(href), timeout=30)
    assert answer.status_code == 200 and answer.content == two_pages.pdf
    assert answer.headers["Content-Disposition"] == 'attachment; filename="Quarterly_report.pdf"'


@pytest.mark.parametrize(("options", "saved_as"), [
    ({"name": "Quarterly report"}, "Quarterly report.pdf"),
    ({"name": "../../etc/passwd"}, "etcpasswd.pdf"),
    ({"document": "\\title{A \\emph{great} study\\thanks{Funded.}}\n\\title{Not this}"}, "A great study.pdf"),
    ({"name": "x.pdf", "document": "\\title{Ignored}"}, "x.pdf"),
    ({"document": "no title here"}, "document.pdf"),
])
def test_the_download_saves_under_a_real_name(viewer_of, two_pages, options, saved_as):
    assert f"download='{saved_as}'" in viewer_of(two_pages, **options).download_link.value


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
    assert viewer.download_link.value == "" and viewer.log_part is viewer.warnings_part is None


# -- fitting the notebook --------------------------------------------------------------------------------------

def test_the_page_fills_the_reported_width_sharp_for_the_screens_pixel_ratio(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    viewer.frontend._handle_custom_msg(screen(width=700, dpr=1), [])
    at_1x = png_width(viewer.image.value)
    assert 700 <= at_1x < 700 + 32 and viewer.image.layout.width == "calc(100% - 6px)"
    viewer.frontend._handle_custom_msg(screen(width=700, dpr=2), [])
    assert 1400 <= png_width(viewer.image.value) < 1400 + 32


def test_fit_page_shows_the_whole_page_in_the_area(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    viewer._on_frontend_message(screen(width=1200, height=600))
    viewer.fit_button.click()
    page_width, page_height = pypdfium2.PdfDocument(two_pages.pdf)[0].get_size()
    css_width = int(viewer.image.layout.width.removesuffix("px"))
    assert viewer.zoom_label.value == "fit page" and viewer.image.layout.max_width == "100%"
    assert css_width / page_width * page_height <= 600 * 0.75
    viewer.fit_button.click()
    assert viewer.zoom_label.value == "fit width" and viewer.image.layout.width == "calc(100% - 6px)"


def test_zooming_from_a_fitted_page_steps_from_its_shown_size(viewer_of, two_pages):
    viewer = viewer_of(two_pages, dpi=72)
    width = pypdfium2.PdfDocument(two_pages.pdf)[0].get_width()
    viewer._on_frontend_message(screen(width=round(width * 1.1)))  # shown at 110 %
    viewer.zoom_in_button.click()
    assert viewer.zoom_label.value == "125%" and viewer.fit is None
    assert viewer.image.layout.width == f"{round(width * 1.25)}px" and viewer.image.layout.max_width == "none"


def test_hidpi_renders_stay_within_the_pixel_budget_and_say_so_only_below_the_css_size(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    viewer._on_frontend_message(screen(width=1000, dpr=2))  # ~1.9x of the budget's pixels: fewer, still sharp
    width, height = png_of(viewer.image.value).size
    assert 1000 < width < 2000 and width * height <= viewer.limits.page_pixels and viewer.notice is None
    viewer.set_zoom(3.0)  # 3x the page's CSS size does not fit the budget even at 1x: say so
    width, height = png_of(viewer.image.value).size
    assert width * height <= viewer.limits.page_pixels and "megapixels" in viewer.notice


@pytest.mark.parametrize("report", [
    {"event": "size", "width": "wide", "height": 900, "dpr": 1},
    {"event": "size", "width": float("nan"), "height": 900, "dpr": 1},
    {"event": "size", "width": 800},
    {"event": "key", "action": "delete everything"},
    {"event": "unknown"},
])
def test_malformed_front_end_messages_change_nothing(viewer_of, two_pages, report):
    viewer = viewer_of(two_pages)
    before = (viewer.page, viewer.screen, viewer.image.value)
    viewer._on_frontend_message(report)
    assert (viewer.page, viewer.screen, viewer.image.value) == before


def test_an_absurd_reported_size_is_bounded(viewer_of, two_pages):
    viewer = viewer_of(two_pages)
    viewer._on_frontend_message(screen(width=10**9, height=10**9, dpr=1000))
    assert viewer.screen == type(viewer.screen)(8_000, 8_000, 4.0)
    width, height = png_of(viewer.image.value).size
    assert width * height <= viewer.limits.page_pixels


def test_a_cropped_fragment_shows_its_content_not_a_page(viewer_of, formula):
    whole = viewer_of(formula)
    cropped = viewer_of(formula, cropped=True)
    page_width, page_height = png_of(whole.image.value).size
    width, height = png_of(cropped.image.value).size
    assert width < page_width / 2 and height < page_height / 10, "a formula, not a page"
    def ink(image):
        return sum(image.convert("L").point(lambda v: v < 128 and 255).histogram()[1:])

    assert ink(png_of(cropped.image.value)) == ink(png_of(whole.image.value)), "nothing of the formula is cut"
    assert cropped.zoom_label.value == "100%" and cropped.fit_button.disabled
    assert cropped.image.layout.width == f"{width}px" and cropped.image.layout.max_width == "100%"


def test_a_page_without_colour_is_a_grayscale_png_and_a_coloured_one_is_not(viewer_of, two_pages, module_session):
    gray = png_of(viewer_of(two_pages).image.value)
    palette = gray.getpalette() or []
    assert gray.mode == "P" and 0 < len(palette) <= 16 * 3, "at most 16 levels, in a 4-bit palette"
    assert all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3)), "all gray"
    coloured = viewer_of(module_session.latex(COLOURED))
    assert png_of(coloured.image.value).mode == "RGB"


# -- page box, keys, render-ahead and kept view state ----------------------------------------------------------

def test_the_page_box_and_keys_turn_pages(viewer_of, fifty_pages):
    viewer = viewer_of(fifty_pages)
    viewer.page_input.value = 39
    assert viewer.page_label.value == "page 39 of 50"
    viewer.frontend._handle_custom_msg({"event": "key", "action": "last"}, [])
    assert viewer.page_label.value == "page 50 of 50" and viewer.page_input.value == 50
    viewer._on_frontend_message({"event": "key", "action": "next"})
    assert viewer.page == 50
    viewer._on_frontend_message({"event": "key", "action": "first"})
    viewer._on_frontend_message({"event": "key", "action": "next"})
    assert viewer.page_label.value == "page 2 of 50"
    viewer._on_frontend_message({"event": "key", "action": "previous"})
    assert viewer.page == 1 and viewer.page_input.max == 50


def test_the_next_page_is_rendered_ahead(viewer_of, fifty_pages):
    viewer = settled(viewer_of(fifty_pages))
    assert viewer.renders == 2 and viewer.pages.is_rendered(2, viewer.render_scale(2))
    ready = viewer.pages.rendered(2, viewer.render_scale(2))
    viewer.next_button.click()
    assert viewer.image.value == ready.png and viewer.pages.rendered(2, viewer.render_scale(2)) is ready


def test_rerunning_a_cell_keeps_its_page_zoom_and_fit(viewer_of, fifty_pages, two_pages):
    cell = f"cell-{uuid.uuid4()}"
    first = viewer_of(fifty_pages, cell_id=cell)
    first.show_page(7)
    first.zoom_in()
    again = viewer_of(fifty_pages, cell_id=cell)
    assert (again.page, again.zoom, again.fit) == (7, first.zoom, None)
    assert again.page_label.value == "page 7 of 50" and again.zoom_label.value == first.zoom_label.value
    shorter = viewer_of(two_pages, cell_id=cell)
    assert shorter.page_label.value == "page 1 of 2", "page 7 no longer exists"
    assert viewer_of(two_pages, cell_id=f"cell-{uuid.uuid4()}").fit == "width", "another cell starts afresh"
