"""The viewer's end of the LaTeX output contract's DOM events in a real JupyterLab and headless Chromium,
without the extension playing its part (the extension's own test drives the whole flow): the events are
dispatched on the viewer element by the test, as the extension would, and the ones the viewer dispatches are
caught on the document.

- ``%%cocalc_latex --live`` announces ``cocalc-magics:live-state`` {live: true} from the viewer element;
- a click on a word of the page image → ``cocalc-magics:goto-line`` with that word's editor line;
- ``cocalc-magics:show-line`` on the viewer → the page turns and the spot is marked for about 2 s;
- ``cocalc-magics:live-text`` → the same viewer shows the recompiled document (the time is printed: the
  browser-side latency from the event to the new page image, without the extension's debounce);
- the toolbar's live toggle → ``cocalc-magics:live-state`` {live: false}.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import nbformat
import pytest
from lab_browser import CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, missing_requirements, running_jupyterlab

from cocalc_magics import CoCalcSession
from cocalc_magics.latex.interpolation import prepare_document

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
# Whole documents: a fragment is shown cropped to its content, and a cropped page has no SyncTeX map yet.
BODY = ("\\documentclass{article}\n\\begin{document}\nSome words with Zebra in the middle of a line.\n\\newpage\n"
        "Page two has a Quokka on it.\n\\end{document}\n")
NEW_BODY = ("\\documentclass{article}\n\\begin{document}\nA new text with Wombat.\n\\newpage\nTwo.\n\\newpage\n"
            "Three.\n\\end{document}\n")
CELLS = ["%load_ext cocalc_magics", f"%%cocalc_latex --live\n{BODY}"]
WAIT_MS = 60_000
EVENTS = ("cocalc-magics:goto-line", "cocalc-magics:live-state", "cocalc-magics:show-line",
          "cocalc-magics:live-text")
RECORD_EVENTS = """names => { window.cocalcEvents = [];
  for (const name of names) document.addEventListener(name, event => window.cocalcEvents.push({
    type: event.type, detail: event.detail, bubbles: event.bubbles, composed: event.composed,
    fromViewer: !!(event.target.classList && event.target.classList.contains('cocalc-pdf-viewer'))}), true); }"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory, emulator):
    session = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
    try:
        project_id = session.create_project(f"synctex {uuid.uuid4().hex[:8]}").project_id
        session.start(project_id)
        # The same document compiled here: where its words are on the page (the same latexmk, the same PDF).
        compiled = session.latex(prepare_document(BODY, eval).text)
        pdf = compiled.pdf
    finally:
        session.close()
    work = tmp_path_factory.mktemp("synctex-lab")
    root = work / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "synctex.ipynb")
    kernel_env = {"COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url, "COCALC_PROJECT_ID": project_id}
    with running_jupyterlab(root, work / "jupyter", kernel_env) as server:
        yield server, pdf


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    server, _ = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        tab = context.new_page()
        tab.goto(server.lab_url("synctex.ipynb"))
        tab.get_by_text(KERNEL_IDLE).first.wait_for(timeout=WAIT_MS)
        tab.evaluate(RECORD_EVENTS, list(EVENTS))
        tab.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        tab.locator(".cocalc-pdf-viewer img.cocalc-pdf-page").first.wait_for(timeout=WAIT_MS)
        try:
            yield tab
        except Exception:
            tab.screenshot(path=SCREENSHOTS / "synctex-failure.png", full_page=True)
            raise
        finally:
            browser.close()


def events(page, name: str) -> list[dict]:
    return [event for event in page.evaluate("() => window.cocalcEvents") if event["type"] == name]


def wait_for_event(page, name: str, count: int = 1) -> list[dict]:
    page.wait_for_function("([name, count]) => window.cocalcEvents.filter(e => e.type === name).length >= count",
                           arg=[name, count], timeout=WAIT_MS)
    return events(page, name)


def test_a_live_cell_announces_live_state_from_the_viewer(page):
    [announced] = wait_for_event(page, "cocalc-magics:live-state")
    assert announced == {"type": "cocalc-magics:live-state", "detail": {"live": True}, "bubbles": True,
                         "composed": True, "fromViewer": True}


def test_a_click_on_a_word_dispatches_goto_line_with_its_line(page, lab):
    from test_synctex import word_spot

    _, pdf = lab
    image = page.locator(".cocalc-pdf-viewer img.cocalc-pdf-page").first
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle(),
                           timeout=WAIT_MS)
    x, y, width, height = word_spot(pdf, 1, "Zebra")
    size = image.evaluate("image => [image.clientWidth, image.clientHeight]")
    image.click(position={"x": 1 + x / width * size[0], "y": 1 + y / height * size[1]})
    [goto] = wait_for_event(page, "cocalc-magics:goto-line")
    # Line 1 is the %%cocalc_latex line, 2 \\documentclass, 3 \\begin{document}; Zebra's line is 4.
    assert goto["detail"] == {"line": 4, "file": "cell"} and goto["fromViewer"] and goto["bubbles"]


def test_show_line_turns_the_page_and_marks_the_spot(page):
    from playwright.sync_api import expect

    shown = page.locator(".cocalc-pdf-viewer").first
    shown.evaluate("(viewer) => viewer.dispatchEvent(new CustomEvent('cocalc-magics:show-line',"
                   " {detail: {line: 6}, bubbles: true, composed: true}))")
    expect(shown.locator(".cocalc-pdf-page-label")).to_have_text("page 2 of 2", timeout=WAIT_MS)
    mark = shown.locator(".cocalc-pdf-synctex-mark")
    mark.wait_for(timeout=WAIT_MS)
    image_box, mark_box = shown.locator("img.cocalc-pdf-page").bounding_box(), mark.bounding_box()
    assert image_box["y"] <= mark_box["y"] <= image_box["y"] + image_box["height"] / 3, "the first line's spot"
    assert mark_box["height"] < image_box["height"] / 20, "a line is marked, not the page"
    shown.screenshot(path=SCREENSHOTS / "synctex-show-line.png")
    mark.wait_for(state="detached", timeout=5_000)


def test_live_text_updates_the_same_viewer_in_place(page):
    from playwright.sync_api import expect

    shown = page.locator(".cocalc-pdf-viewer").first
    image = shown.locator("img.cocalc-pdf-page")
    image.evaluate("image => { window.imageBefore = image; window.imageSrc = image.src; }")
    elapsed_ms = shown.evaluate("""(viewer) => new Promise(resolve => {
        const image = viewer.querySelector('img.cocalc-pdf-page');
        const started = performance.now();
        const watcher = new MutationObserver(() => {
          if (viewer.querySelector('.cocalc-pdf-page-label').textContent.includes('of 3')) {
            watcher.disconnect(); resolve(performance.now() - started); } });
        watcher.observe(viewer, {subtree: true, childList: true, characterData: true, attributes: true});
        viewer.dispatchEvent(new CustomEvent('cocalc-magics:live-text',
          {detail: {text: '%%cocalc_latex --live\\n' + """ + json.dumps(NEW_BODY) + """},
           bubbles: true, composed: true}));
        setTimeout(() => resolve(-1), 60000); })""")
    assert elapsed_ms > 0, "the viewer never showed the new document"
    print(f"\nlive-text event -> new document in the viewer (browser): {elapsed_ms:.0f} ms")
    expect(shown.locator(".cocalc-pdf-page-label")).to_have_text("page 2 of 3", timeout=WAIT_MS)
    assert image.evaluate("image => image === window.imageBefore && image.src !== window.imageSrc"), \
        "the same image element shows the new page"
    assert page.locator(".cocalc-pdf-viewer").count() == 1, "no second viewer, no new output"


def test_the_live_toggle_dispatches_live_state(page):
    shown = page.locator(".cocalc-pdf-viewer").first
    shown.locator(".cocalc-pdf-live").click()
    states = wait_for_event(page, "cocalc-magics:live-state", 2)
    assert states[-1]["detail"] == {"live": False} and states[-1]["fromViewer"]
