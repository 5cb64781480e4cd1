"""`make demo`'s runner: executes notebooks/demo.ipynb in a real kernel against a fresh emulator."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from cocalc_magics.widgets.static import LATEX_MIMETYPE

REPO = Path(__file__).resolve().parents[1]
KEY_SHAPE = re.compile(r"sk[-_][A-Za-z0-9]{20,}")


def test_demo_runs_headlessly_and_leaves_a_pdf_and_no_key(tmp_path):
    run = subprocess.run([sys.executable, "-m", "cocalc_magics.demo", "--output-dir", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"executed notebook: {tmp_path / 'demo.ipynb'}" in run.stdout

    executed = nbformat.read(tmp_path / "demo.ipynb", as_version=4)
    outputs = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = nbformat.writes(executed)
    assert "ada@example.com" in text, "the whoami cell shows the seeded account"
    plain = [o.data["text/plain"] for o in outputs if "data" in o and "text/plain" in o.data]
    # The error at the editor's line (line 1 is %%cocalc_latex) with the macro named, then the fixed cell.
    assert any("line 5: Undefined control sequence \\undefinedmacro." in t for t in plain)
    assert any(t.startswith("compiled in") and "4 pages" in t for t in plain), "the multi-page document"
    latex = [o.data[LATEX_MIMETYPE] for o in outputs if "data" in o and LATEX_MIMETYPE in o.data]
    assert [entry["ok"] for entry in latex] == [True, True, False, True, True], "every LaTeX display has the entry"
    figure_and_bib = latex[4]
    assert figure_and_bib["diagnostics"] == [], "the \\pyfig figure was found and the citation resolved"
    assert (tmp_path / "refs.bib").exists() and list(tmp_path.glob("pyfig-*.pdf")) == []  # sent, not kept locally
    assert "Default project" in text or "Emulator project" in text
    assert (tmp_path / "demo.pdf").read_bytes().startswith(b"%PDF")
    assert "application/vnd.jupyter.widget-view+json" in text and executed.metadata.widgets, "widgets shown"
    static_html = (tmp_path / "demo.html").read_text()
    assert "data:image/png;base64," in static_html and "page 1 of 1" in static_html, "page 1 in the static copy"
    for saved in (tmp_path / "demo.ipynb", tmp_path / "demo.html"):
        assert not KEY_SHAPE.search(saved.read_text()), f"{saved.name} holds something shaped like an API key"
