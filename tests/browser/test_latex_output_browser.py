"""%%cocalc_latex's output in a real JupyterLab (headless Chromium, against the emulator): ``-o VAR`` leaves no
blank line where its status line was, and the errors carry the output contract's ``cocalc-diagnostic`` elements
at the editor's lines. Screenshots go to test-output/browser/."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from lab_browser import headless_chromium, missing_requirements, open_notebook_and_run_all, running_jupyterlab

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
WAIT_MS = 60_000
CELLS = [
    "%load_ext cocalc_magics",
    "%%cocalc_latex -o kept\n\\documentclass{article}\n\\begin{document}\nKept, not shown.\n\\end{document}",
    "%%cocalc_latex\n\\documentclass{article}\n\\begin{document}\nFine.\n\\undefinedmacro\n\\end{document}",
    "print('all done', kept.ok)",
]


@pytest.fixture
def lab(tmp_path, emulator):
    root = tmp_path / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, root / "latex.ipynb")
    kernel_env = {"COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
                  "COCALC_PROJECT_ID": emulator.project_id}
    with running_jupyterlab(root, tmp_path / "jupyter", kernel_env) as server:
        yield server


def test_output_variable_leaves_no_gap_and_errors_are_diagnostics_at_editor_lines(lab):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with headless_chromium() as page:
        try:
            open_notebook_and_run_all(page, lab, "latex.ipynb", WAIT_MS)
            page.get_by_text("all done True").wait_for(timeout=WAIT_MS)
            cells = page.locator(".jp-Notebook .jp-CodeCell")
            kept_output = cells.nth(1).locator(".jp-OutputArea")
            # The status line was shown while compiling; what is left of it takes no room.
            assert kept_output.bounding_box()["height"] < 1, kept_output.inner_html()
            diagnostic = cells.nth(2).locator(".cocalc-diagnostic[data-cocalc-severity='error']").first
            diagnostic.wait_for(timeout=WAIT_MS)
            assert diagnostic.get_attribute("data-cocalc-line") == "5"  # line 1 is %%cocalc_latex
            assert diagnostic.get_attribute("data-cocalc-file") == "cell"
            assert "line 5: Undefined control sequence \\undefinedmacro." in diagnostic.inner_text()
            page.screenshot(path=SCREENSHOTS / "latex-output-diagnostics.png", full_page=True)
        except Exception:
            page.screenshot(path=SCREENSHOTS / "latex-output-failure.png", full_page=True)
            raise
