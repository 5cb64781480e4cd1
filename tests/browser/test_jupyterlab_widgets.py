"""The widgets in a real JupyterLab, in headless Chromium, against the emulator.

One notebook shows a two-page ``%%cocalc_latex`` preview and a ``%cocalc_project`` panel. The test checks what a user sees: the
rendered page image, "page 1 of 2", Next showing page 2, and a Stop click that stops the project in the
emulator (read back through the API) with the badge following; then that running the notebook again
replaces the views instead of piling them up in the kernel. Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import nbformat
import pytest
from lab_browser import headless_chromium, missing_requirements, open_notebook_and_run_all, running_jupyterlab

from cocalc_magics import CoCalcSession
from cocalc_magics.models import STOPPED_STATES

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
TWO_PAGES = r"""\documentclass{article}
\begin{document}
\section{Page one}
The first page of the browser test.
\newpage
\section{Page two}
The second page.
\end{document}
"""
CELLS = [
    "%load_ext cocalc_magics",  # key, host and project come from the kernel's environment
    f"%%cocalc_latex\n{TWO_PAGES}",
    "%cocalc_project",
    # What re-running the notebook leaves alive in the kernel: the views of the earlier run must be closed.
    "from ipywidgets.widgets.widget import _instances\n"
    "runs = globals().get('runs', 0) + 1\n"
    "print(f'run {runs}: {len(_instances)} live widgets')",
]
# Lab start, kernel start, a compile and a project stop: generous, since CI machines can be slow.
WAIT_MS = 60_000


def live_widgets_after_run(page, run: int) -> int:
    """The number of widgets alive in the kernel, as the notebook's last cell printed it after a run."""
    line = page.get_by_text(re.compile(rf"run {run}: \d+ live widgets"))
    line.wait_for(timeout=WAIT_MS)
    return int(re.search(r": (\d+) live", line.inner_text()).group(1))


@pytest.fixture
def session(emulator) -> CoCalcSession:
    with_key = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
    yield with_key
    with_key.close()


@pytest.fixture
def running_project(session) -> str:
    project_id = session.create_project(f"browser {uuid.uuid4().hex[:8]}").project_id
    session.start(project_id)
    return project_id


@pytest.fixture
def lab(tmp_path, emulator, running_project):
    root = tmp_path / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "widgets.ipynb")
    kernel_env = {"COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
                  "COCALC_PROJECT_ID": running_project}
    with running_jupyterlab(root, tmp_path / "jupyter", kernel_env) as server:
        yield server


def test_latex_preview_pages_and_project_stop_in_jupyterlab(lab, session, running_project):
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "failure.png").unlink(missing_ok=True)
    with headless_chromium() as page:
        try:
            open_notebook_and_run_all(page, lab, "widgets.ipynb", WAIT_MS)

            viewer = page.locator(".cocalc-pdf-viewer")
            label = viewer.locator(".cocalc-pdf-page-label")
            image = viewer.locator("img.cocalc-pdf-page")
            expect(label).to_have_text("page 1 of 2", timeout=WAIT_MS)
            page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                                   arg=image.element_handle(), timeout=WAIT_MS)
            first_src = image.get_attribute("src")
            viewer.screenshot(path=SCREENSHOTS / "latex-preview-page-1.png")

            viewer.locator("button.cocalc-pdf-next").click()
            expect(label).to_have_text("page 2 of 2", timeout=WAIT_MS)
            page.wait_for_function("([image, before]) => image.src !== before && image.complete"
                                   " && image.naturalWidth > 0", arg=[image.element_handle(), first_src],
                                   timeout=WAIT_MS)
            viewer.screenshot(path=SCREENSHOTS / "latex-preview-page-2.png")

            panel = page.locator(".cocalc-project-controls")
            badge = panel.locator(".cocalc-project-badge")
            stop = panel.locator("button.cocalc-project-stop")
            expect(badge).to_have_text("running", timeout=WAIT_MS)
            expect(stop).to_be_enabled(timeout=WAIT_MS)
            panel.screenshot(path=SCREENSHOTS / "project-controls-running.png")
            stop.click()

            session.wait_for_state(running_project, STOPPED_STATES, timeout=WAIT_MS / 1000)
            expect(badge).to_have_text("stopped", timeout=WAIT_MS)
            expect(panel.locator("button.cocalc-project-start")).to_be_enabled(timeout=WAIT_MS)
            panel.screenshot(path=SCREENSHOTS / "project-controls-stopped.png")

            # Running the cells again replaces their views, in the page and in the kernel.
            first_count = live_widgets_after_run(page, 1)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            assert live_widgets_after_run(page, 2) == first_count
            expect(page.locator(".cocalc-pdf-viewer")).to_have_count(1)
            expect(page.locator(".cocalc-project-controls")).to_have_count(1)
        except Exception:
            page.screenshot(path=SCREENSHOTS / "failure.png", full_page=True)
            raise
