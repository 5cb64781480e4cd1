"""The JupyterLab extension in a real JupyterLab and headless Chromium, against the emulator.

Highlighting: a ``%%cocalc_latex`` cell's body is styled as LaTeX (prose words are not Python keywords,
``%`` starts a comment), compared token by token with what the same Lab theme does to a Python cell; it
switches back as soon as the first line stops naming the magic. The sidebar: the emulator's project with
its badge, the filter, and Stop changing the project in the emulator (read back through the API). The
Compile LaTeX Cell command: offered in the context menu of a LaTeX cell only, it writes the sidebar's compile
project into the magic line and runs the cell, which compiles on the emulator. One Lab start for the module; screenshots (light, dark, a narrow window) go to test-output/browser/.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
import pytest
import requests
from lab_browser import (
    KERNEL_IDLE,
    headless_chromium,
    missing_requirements,
    running_jupyterlab,
)

from cocalc_magics import CoCalcSession
from cocalc_magics.models import STOPPED_STATES

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
LATEX_CELL = "%%cocalc_latex\n% a comment in TeX\n\\section{Intro}\nThis and that is with prose.\n"
PYTHON_CELL = "x = 1 and 2  # a comment in Python\n"
LOAD_EXTENSION_CELL = "%load_ext cocalc_magics"
WAIT_MS = 30_000

# The computed style of the first character of ``word`` in cell ``index``'s editor: what the user sees,
# however the highlighter splits the text into spans.
STYLE_OF = """([index, word]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const walker = document.createTreeWalker(cell.querySelector('.cm-content'), NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) { nodes.push(node); }
  const at = nodes.map(node => node.textContent).join('').indexOf(word);
  if (at < 0) { return null; }
  let offset = 0;
  for (const node of nodes) {
    if (at < offset + node.textContent.length) {
      const style = getComputedStyle(node.parentElement);
      return {color: style.color, fontWeight: style.fontWeight, fontStyle: style.fontStyle};
    }
    offset += node.textContent.length;
  }
  return null;
}"""


@pytest.fixture(scope="module")
def module_session(emulator) -> CoCalcSession:
    with_key = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
    yield with_key
    with_key.close()


@pytest.fixture(scope="module")
def sidebar_project(module_session) -> tuple[str, str]:
    title = f"sidebar {uuid.uuid4().hex[:8]}"
    project_id = module_session.create_project(title).project_id
    module_session.start(project_id)
    return project_id, title


@pytest.fixture(scope="module")
def compile_project(module_session) -> str:
    project_id = module_session.create_project(f"compile {uuid.uuid4().hex[:8]}").project_id
    module_session.start(project_id)
    return project_id


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory, emulator, sidebar_project):
    """One Lab (its server extension sees the key through its environment) and one page on the notebook."""
    work = tmp_path_factory.mktemp("lab-extension")
    root = work / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)
                                               for source in (LATEX_CELL, PYTHON_CELL, LOAD_EXTENSION_CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "cells.ipynb")
    server_env = {"COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
                  "COCALC_MAGICS_CONFIG": str(work / "no-config.toml")}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with running_jupyterlab(root, work / "jupyter", server_env) as server, headless_chromium() as page:
        page.goto(server.lab_url("cells.ipynb"))
        page.locator(".jp-Notebook .jp-Cell .cm-content").nth(1).wait_for(timeout=WAIT_MS)
        yield page, server


def style_of(page, cell: int, word: str) -> dict:
    style = page.evaluate(STYLE_OF, [cell, word])
    assert style is not None, f"{word!r} not found in cell {cell}"
    return style


def wait_for_prose_style(page, keyword: dict, styled_as_keyword: bool) -> None:
    """Wait until the LaTeX cell's prose word "and" is (or is not) styled as the Python keyword."""
    page.wait_for_function(
        f"""([keyword, same]) => {{
            const style = ({STYLE_OF})([0, 'and that']);
            return style !== null && (style.color === keyword.color) === same;
        }}""", arg=[keyword, styled_as_keyword], timeout=WAIT_MS)


def set_theme(page, theme: str) -> None:
    page.evaluate("theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    page.wait_for_function("theme => document.body.dataset.jpThemeName === theme", arg=theme, timeout=WAIT_MS)
    # Lab shows its splash screen while it swaps the theme's CSS.
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=WAIT_MS)


def screenshot_on_failure(page, name: str):
    class Guard:
        def __enter__(self):
            (SCREENSHOTS / name).unlink(missing_ok=True)

        def __exit__(self, kind, *rest):
            if kind is not None:
                page.screenshot(path=SCREENSHOTS / name, full_page=True)

    return Guard()


def test_latex_cell_body_is_highlighted_as_latex_and_switches_back(lab_page):
    page, _ = lab_page
    with screenshot_on_failure(page, "lab-extension-highlighting-failure.png"):
        # The Python cell is highlighted once its language has loaded: its "and" stands out from prose.
        page.wait_for_function(f"""() => {{
            const [keyword, word] = [({STYLE_OF})([1, 'and']), ({STYLE_OF})([1, 'x '])];
            return keyword && word && keyword.color !== word.color;
        }}""", timeout=WAIT_MS)
        python_keyword = style_of(page, 1, "and")
        python_comment = style_of(page, 1, "# a comment in Python")
        wait_for_prose_style(page, python_keyword, styled_as_keyword=False)

        prose = style_of(page, 0, "and that")
        assert (prose["color"], prose["fontWeight"]) != (python_keyword["color"], python_keyword["fontWeight"])
        assert style_of(page, 0, "% a comment in TeX") == python_comment
        magic = style_of(page, 0, "%%cocalc_latex")
        assert magic != python_comment  # the magic line is a magic, not a TeX comment
        assert style_of(page, 0, "\\section")["color"] != prose["color"]  # a TeX command stands out
        page.locator(".jp-Notebook").screenshot(path=SCREENSHOTS / "lab-latex-cell-light.png")

        set_theme(page, "JupyterLab Dark")
        dark_python_keyword = style_of(page, 1, "and")
        assert style_of(page, 0, "% a comment in TeX") == style_of(page, 1, "# a comment in Python")
        assert style_of(page, 0, "and that")["color"] != dark_python_keyword["color"]
        page.locator(".jp-Notebook").screenshot(path=SCREENSHOTS / "lab-latex-cell-dark.png")
        set_theme(page, "JupyterLab Light")

        # Typing in front of the magic makes it a Python cell again; undo makes it LaTeX again.
        first_line = page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".cm-line").first
        first_line.click()
        page.keyboard.press("Home")
        page.keyboard.type("x")
        wait_for_prose_style(page, python_keyword, styled_as_keyword=True)
        assert style_of(page, 0, "and that")["fontWeight"] == python_keyword["fontWeight"]
        page.keyboard.press("Backspace")
        wait_for_prose_style(page, python_keyword, styled_as_keyword=False)
        assert style_of(page, 0, "% a comment in TeX") == python_comment


def test_sidebar_lists_the_project_and_its_stop_stops_it(lab_page, module_session, sidebar_project):
    from playwright.sync_api import expect

    page, _ = lab_page
    project_id, title = sidebar_project
    with screenshot_on_failure(page, "lab-extension-sidebar-failure.png"):
        page.evaluate("() => window.jupyterapp.commands.execute('cocalc-magics:show-sidebar')")
        sidebar = page.locator(".cocalc-sidebar")
        expect(sidebar.locator(".cocalc-sidebar-account")).to_contain_text("@", timeout=WAIT_MS)
        sidebar.locator(".cocalc-sidebar-filter").fill(title)
        row = sidebar.locator(f'.cocalc-sidebar-project[data-project-id="{project_id}"]')
        expect(sidebar.locator(".cocalc-sidebar-project")).to_have_count(1, timeout=WAIT_MS)
        badge = row.locator(".cocalc-sidebar-badge")
        expect(badge).to_have_text("running", timeout=WAIT_MS)
        expect(row.locator(".cocalc-sidebar-stop")).to_be_enabled(timeout=WAIT_MS)
        sidebar.screenshot(path=SCREENSHOTS / "lab-sidebar-running-light.png")

        row.locator(".cocalc-sidebar-stop").click()
        module_session.wait_for_state(project_id, STOPPED_STATES, timeout=WAIT_MS / 1000)
        expect(badge).to_have_text("stopped", timeout=WAIT_MS)
        expect(row.locator(".cocalc-sidebar-start")).to_be_enabled(timeout=WAIT_MS)

        row.locator(".cocalc-sidebar-compile-choice").check()
        expect(row.locator(".cocalc-sidebar-compile-choice")).to_be_checked(timeout=WAIT_MS)

        set_theme(page, "JupyterLab Dark")
        sidebar.screenshot(path=SCREENSHOTS / "lab-sidebar-stopped-dark.png")
        sidebar.locator(".cocalc-sidebar-filter").fill("")
        page.set_viewport_size({"width": 560, "height": 800})
        page.screenshot(path=SCREENSHOTS / "lab-narrow-dark.png")
        set_theme(page, "JupyterLab Light")
        page.screenshot(path=SCREENSHOTS / "lab-narrow-light.png")


def run_command(page, command: str) -> None:
    page.evaluate("command => window.jupyterapp.commands.execute(command)", command)


def command_enabled_on_cell(page, command: str, index: int) -> bool:
    return page.evaluate("""([command, index]) => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        notebook.activeCellIndex = index;
        return window.jupyterapp.commands.isEnabled(command);
    }""", [command, index])


def test_compile_command_runs_the_latex_cell_with_the_sidebars_project(lab_page, compile_project):
    from playwright.sync_api import expect

    page, server = lab_page
    compile_command = "cocalc-magics:compile-latex-cell"
    with screenshot_on_failure(page, "lab-extension-compile-failure.png"):
        page.set_viewport_size({"width": 1300, "height": 1000})
        # What the sidebar's "compile here" does.
        chosen = requests.put(f"{server.url}/cocalc-magics/compile-project", json={"project_id": compile_project},
                              headers={"Authorization": f"token {server.token}"}, timeout=30)
        assert chosen.status_code == 200, chosen.text
        page.get_by_text(KERNEL_IDLE).first.wait_for(timeout=WAIT_MS)
        assert command_enabled_on_cell(page, compile_command, 2) is False  # not a LaTeX cell
        run_command(page, "notebook:run-cell")  # %load_ext cocalc_magics
        cells = page.locator(".jp-Notebook .jp-Cell")
        expect(cells.nth(2).locator(".jp-InputPrompt")).to_have_text("[1]:", timeout=WAIT_MS)

        assert command_enabled_on_cell(page, compile_command, 0) is True
        # The cell context menu offers it on a LaTeX cell only.
        menu_item = page.locator(".lm-Menu .lm-Menu-itemLabel", has_text="Compile LaTeX Cell")
        cells.nth(1).locator(".jp-InputPrompt").click()
        cells.nth(1).locator(".jp-InputPrompt").click(button="right")
        page.locator(".lm-Menu").first.wait_for(timeout=WAIT_MS)
        expect(menu_item).to_be_hidden()  # Lumino keeps items it must not show, hidden
        page.keyboard.press("Escape")
        cells.nth(0).locator(".jp-InputPrompt").click()
        cells.nth(0).locator(".jp-InputPrompt").click(button="right")
        expect(menu_item).to_be_visible(timeout=WAIT_MS)
        menu_item.click()
        expect(cells.nth(0).locator(".cocalc-pdf-viewer img.cocalc-pdf-page")).to_be_visible(timeout=WAIT_MS)
        first_line = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets[0].model.sharedModel.getSource()")
        assert first_line.split("\n", 1)[0] == f"%%cocalc_latex --project {compile_project}"
        cells.nth(0).screenshot(path=SCREENSHOTS / "lab-compile-command.png")
