"""LaTeX editing in a ``%%cocalc_latex`` cell, the JupyterLab extension's side, in a real Lab and Chromium.

The kernel side of the LaTeX output contract (the MIME entry ``application/vnd.cocalc-magics.latex+json``,
``.cocalc-diagnostic`` elements, the viewer's ``cocalc-magics:*`` DOM events) is exercised elsewhere; here the
cell gets a synthetic output of exactly that shape through the notebook's own output model, and a stand-in
``.cocalc-pdf-viewer`` element plays the viewer. What is asserted is what the user sees and what the viewer
hears: a click on an error moves the cursor (status bar ``Ln 5``) and flashes the line, gutter marks appear (red and
amber, message on hover), go when their line is edited and are replaced by a re-run's outputs, the viewer's
goto-line moves the cursor, Show in PDF (command and Ctrl-Alt-J) sends the cursor line, live preview sends the
cell text once after typing pauses and never when off, the gutter switch is honoured, Open PDF in a New Tab opens
the PDF behind the download link (a Lab tab, or a browser tab for CoCalc's cross-origin blob links). One Lab
start, and one Notebook 7 start for the marks and the cursor there; screenshots (light, dark) in test-output/browser/.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import nbformat
import pytest
from lab_browser import KERNEL_IDLE, KERNEL_READY_JS, headless_chromium, missing_requirements, running_jupyterlab

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
LATEX_CELL = ("%%cocalc_latex\n\\section{Intro}\nA line that overflows the box.\nSome prose here.\n"
              "\\undefinedcommand here\nThe end.")
PYTHON_CELL = "x = 1"
INPUT_FILE = "chapter.tex"
WAIT_MS = 30_000
MIME = "application/vnd.cocalc-magics.latex+json"


def latex_output(diagnostics: list[dict]) -> dict:
    """A display_data as the kernel sends it for a failed compile: the MIME entry, the HTML entries, a viewer."""
    entries = "".join(
        f'<li class="cocalc-diagnostic" data-cocalc-severity="{d["severity"]}" data-cocalc-file="{d["file"]}"'
        + (f' data-cocalc-line="{d["line"]}"' if d["line"] is not None else "")
        + f'>{d["file"]}:{d["line"]}: {d["message"]}</li>' for d in diagnostics)
    html = (f'<ul class="cocalc-latex-diagnostics">{entries}</ul>'
            '<div class="cocalc-pdf-viewer" style="height:40px;border:1px solid gray">viewer stand-in</div>'
            '<a download="cell.pdf">download</a>')
    text = "\n".join(f'line {d["line"]}: {d["message"]}' for d in diagnostics)
    return {"output_type": "display_data", "metadata": {},
            "data": {MIME: {"version": 1, "cell_id": None, "ok": False, "live": False, "diagnostics": diagnostics},
                     "text/html": html, "text/plain": text}}


FIRST_RUN = [
    {"severity": "error", "line": 5, "file": "cell", "message": "Undefined control sequence.", "context": ""},
    {"severity": "warning", "line": 3, "file": "cell", "message": "Overfull \\hbox (3.2pt too wide)", "context": ""},
    {"severity": "error", "line": 2, "file": INPUT_FILE, "message": "Missing $ inserted.", "context": ""},
]
SECOND_RUN = [{"severity": "warning", "line": 4, "file": "cell", "message": "Citation undefined", "context": ""}]

# Replace cell 0's outputs as a run does (clear, then the kernel's display), trusted as the kernel's are.
SET_OUTPUTS = """output => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[0];
  cell.model.trusted = true;
  cell.model.outputs.clear();
  cell.model.outputs.add(output);
}"""
CELL_SOURCE = "() => window.jupyterapp.shell.currentWidget.content.widgets[0].model.sharedModel.getSource()"
# Events the viewer stand-in receives, recorded with their time.
RECORD_VIEWER_EVENTS = """() => {
  const viewer = document.querySelector('.jp-Notebook .cocalc-pdf-viewer');
  window.viewerEvents = [];
  for (const type of ['cocalc-magics:show-line', 'cocalc-magics:live-text']) {
    viewer.addEventListener(type, event => window.viewerEvents.push(
      {type, detail: event.detail, at: performance.now()}));
  }
}"""
DISPATCH_FROM_VIEWER = """([type, detail]) => {
  const viewer = document.querySelector('.jp-Notebook .cocalc-pdf-viewer');
  viewer.dispatchEvent(new CustomEvent(type, {detail, bubbles: true, composed: true}));
}"""
# The time from a click on the first error entry to the cell's cursor moving (its model's selection changing).
ARM_CLICK_TIMER = """() => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[0];
  const entry = document.querySelector('.jp-Notebook .cocalc-diagnostic[data-cocalc-line="5"]');
  window.clickTiming = {};
  entry.addEventListener('click', () => { window.clickTiming.clicked = performance.now(); }, {capture: true});
  const moved = () => {
    if (cell.editor.getCursorPosition().line === 4 && window.clickTiming.moved === undefined) {
      window.clickTiming.moved = performance.now();
    }
  };
  cell.model.selections.changed.connect(moved);
}"""


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab-latex-editing")
    root = work / "notebooks"
    root.mkdir()
    (root / INPUT_FILE).write_text("\\chapter{One}\n$x^2 outside math\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LATEX_CELL),
                                               nbformat.v4.new_code_cell(PYTHON_CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "latex.ipynb")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with running_jupyterlab(root, work / "jupyter", {}) as server, headless_chromium((1300, 1000)) as page:
        page.goto(server.lab_url("latex.ipynb"))
        page.get_by_text(KERNEL_IDLE).first.wait_for(timeout=WAIT_MS)
        yield page


def cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def run_command(page, command: str) -> None:
    page.evaluate("command => window.jupyterapp.commands.execute(command)", command)


def put_cursor(page, line: int) -> None:
    """Click into the LaTeX cell's editor at the end of ``line``."""
    cell(page, 0).locator(".cm-line").nth(line - 1).click()
    page.keyboard.press("End")


def expect_cursor_on_line(page, line: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".jp-StatusBar-Widget", has_text="Ln ").first).to_contain_text(f"Ln {line},",
                                                                                       timeout=WAIT_MS)


def mark_for_line(page, severity: str, line: int):
    """The gutter mark of ``severity`` whose row is the editor's ``line`` (same vertical position)."""
    marks = cell(page, 0).locator(f".cocalc-gutter-{severity}")
    line_box = cell(page, 0).locator(".cm-line").nth(line - 1).bounding_box()
    for index in range(marks.count()):
        box = marks.nth(index).bounding_box()
        if line_box["y"] <= box["y"] + box["height"] / 2 <= line_box["y"] + line_box["height"]:
            return marks.nth(index)
    return None


def test_error_click_moves_the_cursor_and_marks_follow_edits_and_reruns(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    latex = cell(page, 0)
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    expect(latex.locator(".cocalc-gutter-error")).to_have_count(1, timeout=WAIT_MS)
    expect(latex.locator(".cocalc-gutter-warning")).to_have_count(1)
    error_mark, warning_mark = mark_for_line(page, "error", 5), mark_for_line(page, "warning", 3)
    assert error_mark is not None and warning_mark is not None
    assert error_mark.get_attribute("title") == "error: Undefined control sequence."
    assert "Overfull" in warning_mark.get_attribute("title")
    colors = [latex.locator(f".cocalc-gutter-{s}").evaluate("m => getComputedStyle(m).backgroundColor")
              for s in ("error", "warning")]
    assert colors[0] != colors[1]
    cell(page, 1).locator(".jp-InputPrompt").click()  # the cursor starts elsewhere

    page.evaluate(ARM_CLICK_TIMER)
    latex.locator('.cocalc-diagnostic[data-cocalc-line="5"]').click()
    expect_cursor_on_line(page, 5)
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex") == 0
    expect(latex.locator(".cm-line.cocalc-flash-line")).to_have_text("\\undefinedcommand here")
    timing = page.evaluate("() => window.clickTiming")
    click_to_cursor_ms = timing["moved"] - timing["clicked"]
    print(f"click on an error -> cursor on its line: {click_to_cursor_ms:.1f} ms")
    (SCREENSHOTS / "lab-latex-editing-timing.json").write_text(
        json.dumps({"click_to_cursor_ms": round(click_to_cursor_ms, 1)}) + "\n")
    latex.screenshot(path=SCREENSHOTS / "lab-latex-gutter-light.png")

    # Editing line 5 (the cursor is at its start) removes its mark; line 3's stays.
    page.keyboard.type("x")
    expect(latex.locator(".cocalc-gutter-error")).to_have_count(0, timeout=WAIT_MS)
    expect(latex.locator(".cocalc-gutter-warning")).to_have_count(1)

    # A re-run replaces the marks with the new outputs' ones.
    page.evaluate(SET_OUTPUTS, latex_output(SECOND_RUN))
    expect(latex.locator(".cocalc-gutter-warning")).to_have_count(1, timeout=WAIT_MS)
    assert mark_for_line(page, "warning", 4) is not None
    assert mark_for_line(page, "warning", 3) is None
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=WAIT_MS)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=WAIT_MS)
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    expect(latex.locator(".cocalc-gutter-error")).to_have_count(1, timeout=WAIT_MS)
    expect(latex.locator(".cocalc-flash-line")).to_have_count(0, timeout=WAIT_MS)  # the flash is brief
    latex.screenshot(path=SCREENSHOTS / "lab-latex-gutter-dark.png")
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=WAIT_MS)


def test_errors_stay_clickable_when_the_sanitizer_removed_their_data_attributes(lab_page):
    """An untrusted notebook's HTML keeps ``class`` but loses ``data-`` attributes: the LaTeX entry says where."""
    from playwright.sync_api import expect

    page = lab_page
    page.evaluate(SET_OUTPUTS.replace("trusted = true", "trusted = false"), latex_output(FIRST_RUN))
    entries = cell(page, 0).locator(".cocalc-diagnostic")
    expect(entries).to_have_count(3, timeout=WAIT_MS)
    assert entries.nth(1).get_attribute("data-cocalc-line") is None
    cell(page, 1).locator(".jp-InputPrompt").click()
    entries.nth(1).click()
    expect_cursor_on_line(page, 3)
    entries.nth(0).click()
    expect_cursor_on_line(page, 5)


def test_an_input_files_error_opens_that_file_at_its_line(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    cell(page, 0).locator(f'.cocalc-diagnostic[data-cocalc-file="{INPUT_FILE}"]').click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=INPUT_FILE)
    expect(tab).to_be_visible(timeout=WAIT_MS)
    expect_cursor_on_line(page, 2)
    page.evaluate("() => window.jupyterapp.commands.execute('application:close')")
    expect(tab).to_have_count(0, timeout=WAIT_MS)


def test_viewer_goto_line_and_show_in_pdf(lab_page):
    page = lab_page
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    page.evaluate(RECORD_VIEWER_EVENTS)
    cell(page, 1).locator(".jp-InputPrompt").click()

    # Inverse search: the viewer says "line 4" after a click on its page.
    page.evaluate(DISPATCH_FROM_VIEWER, ["cocalc-magics:goto-line", {"line": 4, "file": "cell"}])
    expect_cursor_on_line(page, 4)

    # Forward search from the keyboard shortcut, then from the command, each with the cursor line.
    put_cursor(page, 3)
    page.keyboard.press("Control+Alt+j")
    page.wait_for_function("() => window.viewerEvents.length === 1", timeout=WAIT_MS)
    put_cursor(page, 6)
    run_command(page, "cocalc-magics:show-in-pdf")
    page.wait_for_function("() => window.viewerEvents.length === 2", timeout=WAIT_MS)
    events = page.evaluate("() => window.viewerEvents")
    assert [(e["type"], e["detail"]) for e in events] == [("cocalc-magics:show-line", {"line": 3}),
                                                          ("cocalc-magics:show-line", {"line": 6})]


def test_live_preview_sends_the_text_once_after_typing_pauses(lab_page):
    page = lab_page
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    page.evaluate(RECORD_VIEWER_EVENTS)
    live_texts = "() => window.viewerEvents.filter(e => e.type === 'cocalc-magics:live-text')"

    # Not live: typing sends nothing.
    put_cursor(page, 4)
    page.keyboard.type(" a", delay=100)
    page.wait_for_timeout(1500)
    assert page.evaluate(live_texts) == []

    # `--live` on the magic line makes the cell live (the edit that adds it is sent); removing it stops that.
    put_cursor(page, 1)
    page.keyboard.type(" --live")
    page.wait_for_function(f"() => ({live_texts})().length === 1", timeout=WAIT_MS)
    assert page.evaluate(live_texts)[0]["detail"]["text"].startswith("%%cocalc_latex --live\n")
    for _ in " --live":
        page.keyboard.press("Backspace")
    page.wait_for_timeout(1500)
    assert len(page.evaluate(live_texts)) == 1

    # The viewer's toggle turned live on: three keystrokes 150 ms apart, then one message ~0.8 s later.
    page.evaluate(DISPATCH_FROM_VIEWER, ["cocalc-magics:live-state", {"live": True}])
    put_cursor(page, 4)
    page.evaluate("() => document.addEventListener('keydown', () => { window.lastKeyAt = performance.now(); },"
                  " {capture: true})")
    page.keyboard.type(" bcd", delay=150)
    page.wait_for_function(f"() => ({live_texts})().length === 2", timeout=WAIT_MS)
    page.wait_for_timeout(1200)
    sent = page.evaluate(live_texts)
    assert len(sent) == 2
    assert sent[1]["detail"] == {"text": page.evaluate(CELL_SOURCE)}
    assert sent[1]["detail"]["text"].split("\n")[3] == "Some prose here. a bcd"
    pause_to_send_ms = sent[1]["at"] - page.evaluate("() => window.lastKeyAt")
    print(f"last keystroke -> live-text on the viewer: {pause_to_send_ms:.0f} ms (setting: 800 ms)")
    assert 780 <= pause_to_send_ms <= 1500
    assert page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[0].model.executionCount") is None

    # The command turns it off again.
    run_command(page, "cocalc-magics:toggle-live-preview")
    page.keyboard.type("e")
    page.wait_for_timeout(1500)
    assert len(page.evaluate(live_texts)) == 2


# The page has no handle on Lab's setting registry: find its service token by name (test-only introspection).
SET_SETTING = """async ([key, value]) => {
  const app = window.jupyterapp;
  const token = [...app.pluginRegistry._services.keys()]
    .find(t => t.name === '@jupyterlab/coreutils:ISettingRegistry');
  const registry = await app.resolveRequiredService(token);
  await registry.set('cocalc-magics:plugin', key, value);
}"""


def test_gutter_marks_setting_is_honoured(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    latex = cell(page, 0)
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    expect(latex.locator(".cocalc-gutter-mark")).to_have_count(2, timeout=WAIT_MS)
    page.evaluate(SET_SETTING, ["gutterMarks", False])
    expect(latex.locator(".cocalc-gutter-mark")).to_have_count(0, timeout=WAIT_MS)
    page.evaluate(SET_OUTPUTS, latex_output(SECOND_RUN))  # a re-run with the switch off draws nothing
    page.wait_for_timeout(300)
    expect(latex.locator(".cocalc-gutter-mark")).to_have_count(0)
    page.evaluate(SET_SETTING, ["gutterMarks", True])
    expect(latex.locator(".cocalc-gutter-warning")).to_have_count(1, timeout=WAIT_MS)


def blank_pdf() -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument.new()
    document.new_page(420, 595)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_open_pdf_in_a_new_tab_shows_the_download_links_pdf(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    cell(page, 0).locator(".jp-InputPrompt").click()
    assert page.evaluate("() => window.jupyterapp.commands.isEnabled('cocalc-magics:open-pdf-tab')") is False
    # What the viewer's download link holds: a blob: URL of the compiled PDF (here a real, blank A5 page).
    pdf_base64 = base64.b64encode(blank_pdf()).decode()
    page.evaluate("""encoded => {
        const bytes = Uint8Array.from(atob(encoded), c => c.charCodeAt(0));
        const link = document.querySelector('.jp-Notebook a[download]');
        link.href = URL.createObjectURL(new Blob([bytes], {type: 'application/pdf'}));
    }""", pdf_base64)
    assert page.evaluate("() => window.jupyterapp.commands.execute('cocalc-magics:open-pdf-tab')") == "lab-tab"
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="cell.pdf")
    expect(tab).to_be_visible(timeout=WAIT_MS)
    frame = page.locator(".cocalc-pdf-tab iframe")
    expect(frame).to_be_visible()
    source = frame.get_attribute("src")
    assert source.startswith("blob:")
    assert source != page.evaluate("() => document.querySelector('.jp-Notebook a[download]').href")  # its own copy
    copied = page.evaluate("""async url => {
        const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
        return btoa(String.fromCharCode(...bytes));
    }""", source)
    assert copied == pdf_base64
    page.wait_for_timeout(500)  # Chromium's PDF viewer draws the page
    page.screenshot(path=SCREENSHOTS / "lab-latex-pdf-tab.png")
    page.evaluate("() => window.jupyterapp.commands.execute('application:close')")
    expect(tab).to_have_count(0, timeout=WAIT_MS)


class CoCalcBlobHandler(BaseHTTPRequestHandler):
    """Serves a PDF as CoCalc's hub serves a blob since 2026-02: an attachment, no CORS header."""

    requested: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).requested.append(self.path)
        body = blank_pdf()
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Disposition", 'attachment; filename="cell.pdf"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_cocalc_blob_link_opens_in_a_browser_tab(lab_page):
    """Another origin without CORS cannot be read by the page: the link opens in a new browser tab."""
    page = lab_page
    server = ThreadingHTTPServer(("127.0.0.1", 0), CoCalcBlobHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/blobs/cell.pdf?uuid=0b9f2c1e-0000-5000-8000-000000000000"
        page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
        page.evaluate("url => { document.querySelector('.jp-Notebook a[download]').href = url; }", url)
        cell(page, 0).locator(".jp-InputPrompt").click()
        lab_tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").count()
        with page.expect_popup(timeout=WAIT_MS):
            opened = page.evaluate("() => window.jupyterapp.commands.execute('cocalc-magics:open-pdf-tab')")
        assert opened == "browser-tab"
        deadline = time.monotonic() + 10
        while not CoCalcBlobHandler.requested and time.monotonic() < deadline:
            time.sleep(0.1)
        assert CoCalcBlobHandler.requested == [url.split(str(server.server_port), 1)[1]]
        assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").count() == lab_tabs
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def notebook7_page(tmp_path_factory, lab_page):
    """The same notebook in Notebook 7 (its own server: the one-notebook page, no status bar), in a second page
    of the Lab test's Chromium (Playwright's sync API runs one instance at a time)."""
    work = tmp_path_factory.mktemp("notebook7-latex-editing")
    root = work / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LATEX_CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "latex.ipynb")
    with running_jupyterlab(root, work / "jupyter", {}, app="notebook") as server:
        page = lab_page.context.browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            page.goto(server.notebook_url("latex.ipynb"))
            page.wait_for_function(KERNEL_READY_JS, timeout=WAIT_MS * 2)
            yield page
        finally:
            page.close()


def test_notebook7_marks_errors_and_moves_the_cursor(notebook7_page):
    from playwright.sync_api import expect

    page = notebook7_page
    cursor_line = "() => window.jupyterapp.shell.currentWidget.content.widgets[0].editor.getCursorPosition().line + 1"
    page.evaluate(SET_OUTPUTS, latex_output(FIRST_RUN))
    expect(cell(page, 0).locator(".cocalc-gutter-error")).to_have_count(1, timeout=WAIT_MS)
    expect(cell(page, 0).locator(".cocalc-gutter-warning")).to_have_count(1)
    assert mark_for_line(page, "error", 5) is not None
    cell(page, 0).locator('.cocalc-diagnostic[data-cocalc-line="5"]').click()
    page.wait_for_function(f"() => ({cursor_line})() === 5", timeout=WAIT_MS)
    page.evaluate(DISPATCH_FROM_VIEWER, ["cocalc-magics:goto-line", {"line": 2, "file": "cell"}])
    page.wait_for_function(f"() => ({cursor_line})() === 2", timeout=WAIT_MS)
    page.screenshot(path=SCREENSHOTS / "notebook7-latex-gutter-light.png")
