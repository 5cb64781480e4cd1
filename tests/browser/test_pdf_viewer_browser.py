"""The PDF viewer in a real JupyterLab and headless Chromium: it fits the notebook, keeps its toolbar in
view, lists errors above the page, turns pages with keys, and renders for the screen's pixel ratio.

One Lab start for the module; its notebook compiles a three-page document and a failing one. Screenshots
in the light and dark themes, at 1400 x 900 and in a 500 px wide window, go to test-output/browser/.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
import pytest
from lab_browser import CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, missing_requirements, running_jupyterlab

from cocalc_magics import CoCalcSession
from cocalc_magics.widgets.rendering import PreviewLimits

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
THREE_PAGES = "\n".join([r"\documentclass{article}", r"\title{Three pages}", r"\begin{document}", r"\maketitle",
                         *(rf"\section{{Page {n}}} Text of page {n}.\newpage" for n in (1, 2, 3)),
                         r"\end{document}"])
FAILING = r"""\documentclass{article}
\begin{document}
Some text, then \undefinedmacro here.
\end{document}"""
# A formula shown as the magic should show a fragment it wrapped: cropped to its content.
FORMULA = r"\documentclass{article}\pagestyle{empty}\begin{document}$$e^{i\pi} + 1 = 0$$\end{document}"
FORMULA_CELL = ("from cocalc_magics import CoCalcSession\nfrom cocalc_magics.widgets import PdfViewer\n"
                f"PdfViewer(CoCalcSession().latex({FORMULA!r}), cropped=True)")
CELLS = ["%load_ext cocalc_magics", f"%%cocalc_latex\n{THREE_PAGES}", f"%%cocalc_latex\n{FAILING}", FORMULA_CELL]
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def lab(tmp_path_factory, emulator):
    session = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
    try:
        project_id = session.create_project(f"viewer {uuid.uuid4().hex[:8]}").project_id
        session.start(project_id)
    finally:
        session.close()
    work = tmp_path_factory.mktemp("viewer-lab")
    root = work / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "viewer.ipynb")
    kernel_env = {"COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url, "COCALC_PROJECT_ID": project_id}
    with running_jupyterlab(root, work / "jupyter", kernel_env) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab):
    """One browser page with the notebook run; the tests below share it, in order."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=2)
        tab = context.new_page()
        tab.goto(lab.lab_url("viewer.ipynb"))
        tab.get_by_text(KERNEL_IDLE).first.wait_for(timeout=WAIT_MS)
        tab.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        tab.locator(".cocalc-pdf-viewer").nth(2).wait_for(timeout=WAIT_MS)
        try:
            yield tab
        except Exception:
            tab.screenshot(path=SCREENSHOTS / "viewer-failure.png", full_page=True)
            raise
        finally:
            browser.close()


def viewer(page, index: int):
    return page.locator(".cocalc-pdf-viewer").nth(index)


def box(locator) -> dict:
    return locator.bounding_box()


def wait_for_page_image(page, image, min_natural_width: int = 1) -> None:
    page.wait_for_function("([image, width]) => image.complete && image.naturalWidth >= width",
                           arg=[image.element_handle(), min_natural_width], timeout=WAIT_MS)


def wait_for_fit(page, area) -> None:
    """Until the page image fills the page area's width (the kernel re-rendered for its reported size)."""
    try:
        _wait_for_fit(page, area)
    except Exception:
        print("page area:", area.evaluate("area => { const image = area.querySelector('img');"
                                          " return [image.getBoundingClientRect().width, image.naturalWidth,"
                                          " area.clientWidth, area.scrollWidth]; }"))
        raise


def _wait_for_fit(page, area) -> None:
    page.wait_for_function(
        """area => { const image = area.querySelector('img.cocalc-pdf-page');
                     return image && image.complete && image.naturalWidth > 0
                            && image.getBoundingClientRect().width >= area.clientWidth - 8
                            && area.scrollWidth <= area.clientWidth + 1; }""",
        arg=area.element_handle(), timeout=WAIT_MS)


def test_the_page_fits_the_width_sharp_with_the_toolbar_in_view(page):
    from playwright.sync_api import expect

    shown = viewer(page, 0)
    expect(shown.locator(".cocalc-pdf-page-label")).to_have_text("page 1 of 3", timeout=WAIT_MS)
    area, image = shown.locator(".cocalc-pdf-page-box"), shown.locator("img.cocalc-pdf-page")
    wait_for_fit(page, area)
    shown.scroll_into_view_if_needed()
    toolbar = box(shown.locator(".cocalc-pdf-toolbar"))
    assert 0 <= toolbar["y"] and toolbar["y"] + toolbar["height"] <= 900, "the toolbar is on screen"
    assert box(area)["height"] <= 0.75 * 900 + 1, "the page area is bounded and scrolls inside"
    # Rendered for the screen's pixel ratio (2), not stretched from a 1x image: twice the CSS width, or
    # as many pixels as the budget allows (4 megapixels).
    sharper = "image => image.complete && image.naturalWidth / image.getBoundingClientRect().width > 1.5"
    page.wait_for_function(sharper, arg=image.element_handle(), timeout=WAIT_MS)
    ratio, pixels = image.evaluate("image => [image.naturalWidth / image.getBoundingClientRect().width,"
                                   " image.naturalWidth * image.naturalHeight]")
    assert ratio >= 1.9 or (ratio > 1.5 and pixels >= 0.97 * PreviewLimits().page_pixels)
    shown.screenshot(path=SCREENSHOTS / "viewer-1400-light.png")


def test_errors_are_listed_above_the_page(page):
    failed = viewer(page, 1)
    errors = failed.locator(".cocalc-pdf-errors")
    errors.wait_for(timeout=WAIT_MS)
    assert "Undefined control sequence" in errors.inner_text()
    assert box(errors)["y"] < box(failed.locator(".cocalc-pdf-page-box"))["y"]
    failed.scroll_into_view_if_needed()
    failed.screenshot(path=SCREENSHOTS / "viewer-errors-light.png")


def test_a_cropped_fragment_previews_as_a_formula(page):
    formula = viewer(page, 2)
    image = formula.locator("img.cocalc-pdf-page")
    wait_for_page_image(page, image)
    shown = box(image)
    assert shown["height"] < 120 and shown["width"] < 400, "the formula, not a whole page"
    formula.scroll_into_view_if_needed()
    formula.screenshot(path=SCREENSHOTS / "viewer-formula-light.png")


def test_keys_turn_pages_when_the_viewer_has_focus(page):
    from playwright.sync_api import expect

    shown = viewer(page, 0)
    label = shown.locator(".cocalc-pdf-page-label")
    shown.locator(".cocalc-pdf-summary").click()  # focus the viewer, not a control
    page.keyboard.press("End")
    expect(label).to_have_text("page 3 of 3", timeout=WAIT_MS)
    page.keyboard.press("ArrowLeft")
    expect(label).to_have_text("page 2 of 3", timeout=WAIT_MS)
    page.keyboard.press("Home")
    expect(label).to_have_text("page 1 of 3", timeout=WAIT_MS)
    page.keyboard.press("PageDown")
    expect(label).to_have_text("page 2 of 3", timeout=WAIT_MS)
    # ArrowDown turns the page and does not also move JupyterLab's cell selection (command mode).
    active_cell = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    selected = page.evaluate(active_cell)
    page.keyboard.press("ArrowDown")
    expect(label).to_have_text("page 3 of 3", timeout=WAIT_MS)
    assert page.evaluate(active_cell) == selected
    shown.locator(".cocalc-pdf-page-input input").fill("1")
    shown.locator(".cocalc-pdf-page-input input").press("Enter")
    expect(label).to_have_text("page 1 of 3", timeout=WAIT_MS)


def test_a_narrow_window_shows_the_whole_page_and_the_dark_theme(page):
    page.set_viewport_size({"width": 500, "height": 900})
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=WAIT_MS)
    for index in (0, 1):
        shown = viewer(page, index)
        wait_for_fit(page, shown.locator(".cocalc-pdf-page-box"))
        toolbar, area = box(shown.locator(".cocalc-pdf-toolbar")), box(shown.locator(".cocalc-pdf-page-box"))
        assert toolbar["x"] + toolbar["width"] <= 500 and area["x"] + area["width"] <= 500
    # The download link reads as a link on the dark background: JupyterLab's link colour, underlined.
    link = viewer(page, 0).locator("a.cocalc-pdf-download")
    color = link.evaluate("a => getComputedStyle(a).color")
    link_color = page.evaluate("() => getComputedStyle(document.body).getPropertyValue('--jp-content-link-color')")
    assert link.evaluate("a => getComputedStyle(a).textDecorationLine") == "underline"
    assert link.get_attribute("download") == "Three pages.pdf" or link.get_attribute("download") == "document.pdf"
    assert color != "rgb(0, 0, 0)" and link_color.strip()
    viewer(page, 0).scroll_into_view_if_needed()
    viewer(page, 0).screenshot(path=SCREENSHOTS / "viewer-500-dark.png")
    viewer(page, 1).scroll_into_view_if_needed()
    viewer(page, 1).screenshot(path=SCREENSHOTS / "viewer-errors-500-dark.png")
