"""The magics in a real Jupyter kernel (nbclient + ipykernel): the status line is updated in place and
replaced by the outcome, so a saved notebook keeps one output per magic and no stale "compiling…" line."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

CELLS = [
    "%load_ext cocalc_magics",
    "%%cocalc_latex\nHello \\py{40 + 2}.",
    "%cocalc_start",
    "%cocalc_whoami",
    "%cocalc_latex --dpi 30 missing.tex",
]


def test_a_notebook_keeps_one_output_per_magic(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", emulator.api_key)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    monkeypatch.setenv("COCALC_PROJECT_ID", emulator.project_id)
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "none.toml"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in CELLS])
    NotebookClient(notebook, kernel_name="python3", timeout=60, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [cell.outputs for cell in notebook.cells]

    assert outputs[0] == []
    [latex] = outputs[1]
    assert "compiled in " in latex["data"]["text/html"] and "1 page" in latex["data"]["text/html"]
    assert "data:image/png;base64," in latex["data"]["text/html"]
    assert "image/png" not in latex["data"], "page 1 is saved once, inside the static HTML"
    assert "application/vnd.jupyter.widget-view+json" in latex["data"], "the PDF viewer widget"
    [started] = outputs[2]
    assert started["data"]["text/plain"].startswith("Project 'Emulator project' is running after ")
    [account] = outputs[3]
    assert account["output_type"] == "execute_result" and emulator.account_id in account["data"]["text/html"]
    [error] = outputs[4]  # ipykernel prints a UsageError as one stderr line, without a traceback
    assert error["name"] == "stderr" and error["text"] == "UsageError: cannot read missing.tex: No such file or directory\n"
    assert emulator.api_key not in str(outputs)
