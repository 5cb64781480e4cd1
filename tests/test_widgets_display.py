"""What displaying a widget sends, in this process and in real kernels: the static bundle next to the
widget view, the fallback without ipywidgets, the saved widget state, and one live view per cell."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid

import nbformat
import pypdfium2
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient
from PIL import Image

from cocalc_magics import CoCalcSession
from cocalc_magics.widgets import PdfViewer, ProjectControls, latex_display_bundle
from cocalc_magics.widgets.static import LATEX_MIMETYPE
from emulator_process import seeded_session

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TWO_PAGES = "\\documentclass{article}\n\\begin{document}\nFirst page.\n\\newpage\nSecond page.\n\\end{document}\n"


@pytest.fixture(scope="module")
def module_session(emulator) -> CoCalcSession:
    """One session for the module's compiled documents, which are shared by its tests."""
    with_key = seeded_session(emulator)
    yield with_key
    with_key.close()


@pytest.fixture(scope="module")
def two_pages(module_session):
    return module_session.latex(TWO_PAGES)


@pytest.fixture
def kernel_env(emulator) -> dict:
    """A kernel's environment that holds the key, so no notebook cell has to."""
    return {**os.environ, "COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
            "COCALC_PROJECT_ID": emulator.project_id}


@pytest.fixture
def without_ipywidgets(monkeypatch):
    """ipywidgets cannot be imported (None in sys.modules makes `import ipywidgets` raise ImportError)."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)


def inline_png(html: str) -> bytes:
    """The PNG of the page inside the static HTML's data URI."""
    return base64.b64decode(re.search(r"data:image/png;base64,([^'\"]+)", html).group(1))


def run_notebook(cells: list[str], env: dict, **options) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, kernel_name="python3", timeout=120, **options).execute(env=env)
    return notebook


def outputs_of(notebook) -> list:
    return [output for cell in notebook.cells for output in cell.outputs]


# -- the bundle ------------------------------------------------------------------------------------------------

def test_the_display_carries_page_one_once_inside_html_next_to_the_widget_view(two_pages):
    bundle = latex_display_bundle(two_pages, dpi=72)
    assert set(bundle) == {WIDGET_VIEW, "text/html", "text/plain", LATEX_MIMETYPE}, "no second copy as image/png"
    assert bundle[LATEX_MIMETYPE] == {"version": 1, "cell_id": None, "ok": True, "live": False, "diagnostics": []}
    width, height = pypdfium2.PdfDocument(two_pages.pdf)[0].get_size()  # points: 72 dpi is 1:1
    png = inline_png(bundle["text/html"])
    assert Image.open(io.BytesIO(png)).size == (pytest.approx(width, abs=1), pytest.approx(height, abs=1))
    same_page = Image.open(io.BytesIO(PdfViewer(two_pages, dpi=72).page_png(1)))
    assert Image.open(io.BytesIO(png)).tobytes() == same_page.tobytes()
    assert bundle["text/html"].count("data:image/png") == 1
    blob_uuid = two_pages.url.rsplit("uuid=", 1)[1]
    assert "page 1 of 2" in bundle["text/html"] and f"/blobs/document.pdf?uuid={blob_uuid}" in bundle["text/html"]
    assert bundle["text/plain"].startswith("compiled in") and "2 pages" in bundle["text/plain"]


def test_the_static_html_keeps_errors_not_the_log_and_says_the_link_may_have_expired(module_session):
    failed = module_session.latex("\\documentclass{article}\n\\begin{document}\nSome text \\nosuchmacro\n\\end{document}\n")
    html = PdfViewer(failed, document="\\title{Lab notes}").static_bundle()["text/html"]
    assert "Undefined control sequence" in html and "Latexmk" not in html and "cocalc-tex-log" not in html
    assert html.index("1 error") < html.index("data:image/png"), "the errors come before the page"
    assert "CoCalc keeps this PDF for 1 day" in html and "may have expired" in html
    assert "download='Lab notes.pdf'" in html


def test_without_ipywidgets_a_viewer_shows_the_static_bundle(without_ipywidgets, two_pages):
    viewer = PdfViewer(two_pages)
    bundle = viewer._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain", LATEX_MIMETYPE}
    assert "page 1 of 2" in bundle["text/html"] and inline_png(bundle["text/html"]).startswith(b"\x89PNG")
    with pytest.raises(ImportError):
        viewer.widget  # noqa: B018 (building the widget is what fails)


def test_without_ipywidgets_a_panel_shows_its_states_and_says_what_is_missing(without_ipywidgets, session):
    bundle = ProjectControls(session)._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert "cocalc-state-badge" in bundle["text/html"] and "need ipywidgets" in bundle["text/html"]
    assert bundle["text/plain"].startswith("CoCalc projects:")


def test_a_panel_display_also_carries_its_states_as_html_and_text(session, emulator):
    panel = ProjectControls(session)
    try:
        bundle = panel._repr_mimebundle_()
        assert set(bundle) == {WIDGET_VIEW, "text/html", "text/plain"}
        assert emulator.project_id.split("-")[0] in bundle["text/plain"]
    finally:
        panel.close()


def test_importing_the_widgets_package_loads_no_widget_or_pdf_library():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, cocalc_magics.widgets; "
         "print(sorted({name.split('.')[0] for name in sys.modules} & {'ipywidgets', 'pypdfium2', 'PIL'}))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


# -- real kernels ----------------------------------------------------------------------------------------------

NOTEBOOK_SETUP = textwrap.dedent("""\
    from cocalc_magics import CoCalcSession
    from cocalc_magics.widgets import PdfViewer, ProjectControls
    session = CoCalcSession()  # key, host and project from the kernel's environment
    TWO_PAGES = {two_pages!r}
""").format(two_pages=TWO_PAGES)


def test_a_kernel_without_ipywidgets_shows_page_one_and_no_error(kernel_env):
    notebook = run_notebook(["import sys\nsys.modules['ipywidgets'] = None", NOTEBOOK_SETUP,
                             "PdfViewer(session.latex(TWO_PAGES))", "ProjectControls(session)"], kernel_env)
    outputs = outputs_of(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    viewer, panel = outputs[-2], outputs[-1]
    assert WIDGET_VIEW not in viewer.data and WIDGET_VIEW not in panel.data
    assert Image.open(io.BytesIO(inline_png(viewer.data["text/html"]))).size[0] > 0
    assert "page 1 of 2" in viewer.data["text/html"] and "cocalc-state-badge" in panel.data["text/html"]


def test_the_saved_notebook_keeps_one_page_png_small_state_and_no_key(kernel_env, emulator):
    notebook = run_notebook([NOTEBOOK_SETUP, "viewer = PdfViewer(session.latex(TWO_PAGES))\nviewer",
                             "viewer.next_button.click()\nviewer.page_label.value", "ProjectControls(session)"],
                            kernel_env, store_widget_state=True)
    assert not [o for o in outputs_of(notebook) if o.output_type == "error"]
    state = notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    buffers = [buffer for model in state.values() for buffer in model.get("buffers", [])]
    # One binary value in the whole state: the Image widget's PNG of the page on screen (page 2 now).
    assert len(buffers) == 1 and base64.b64decode(buffers[0]["data"]).startswith(b"\x89PNG")
    page_png_size = len(buffers[0]["data"])
    assert len(json.dumps(state)) < page_png_size + 60_000
    saved = nbformat.writes(notebook)
    assert emulator.api_key not in saved and emulator.second["api_key"] not in saved


def execute_in_cell(client, code: str, cell_id: str) -> list[dict]:
    """Run code as JupyterLab does, with the cell id in the request's metadata; return its iopub messages."""
    request = client.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                     "user_expressions": {}, "allow_stdin": False,
                                                     "stop_on_error": True}, metadata={"cellId": cell_id})
    client.shell_channel.send(request)
    messages = []
    while True:
        message = client.get_iopub_msg(timeout=60)
        if message["parent_header"].get("msg_id") != request["header"]["msg_id"]:
            continue
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
        messages.append(message)
    assert not [m for m in messages if m["msg_type"] == "error"], messages
    return messages


def printed(messages: list[dict]) -> str:
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def test_rerunning_a_cell_closes_what_its_earlier_run_showed(kernel_env):
    manager, client = start_new_kernel(kernel_name="python3", env=kernel_env)
    try:
        execute_in_cell(client, NOTEBOOK_SETUP + textwrap.dedent("""\
            pdf = session.latex(TWO_PAGES).pdf
            shown = []
            def show_twice():
                for _ in range(2):
                    shown.append(PdfViewer(pdf))
                    display(shown[-1])
                shown.append(ProjectControls(session, poll_min=0.05))
                display(shown[-1])
        """), "setup")
        cell = str(uuid.uuid4())
        execute_in_cell(client, "show_twice()", cell)
        execute_in_cell(client, "show_twice()", cell)
        execute_in_cell(client, "show_twice()", str(uuid.uuid4()))  # another cell leaves the others alone
        report = printed(execute_in_cell(client, textwrap.dedent("""\
            import time; time.sleep(0.3)
            print([view.closed for view in shown], [view.polling for view in shown[2::3]])
        """), "check"))
        assert report.strip() == str([True, True, True, False, False, False, False, False, False]) + " " + str(
            [False, True, True])
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# -- what a saved notebook weighs ------------------------------------------------------------------------------

# A short article (title, abstract, a section, an equation; the "one-page article", 80-176 KB
# saved before) and 50 pages of dense text made by a TeX loop, so the cell's source stays small.
ONE_PAGE_ARTICLE = r"""\documentclass{article}
\title{Inline previews}
\author{A. Notebook}
\begin{document}
\maketitle
\begin{abstract}
We compile a short article in a CoCalc project and look at it in the notebook.
\end{abstract}
\section{Introduction}
The viewer shows each page of the PDF inline, so that a reader can check equations, figures and
references without leaving the notebook.
\begin{equation}
  e^{i\pi} + 1 = 0
\end{equation}
\end{document}
"""
FIFTY_PAGE_ARTICLE = r"""\documentclass{article}
\newcount\pagesleft \pagesleft=50
\newcommand\sentence{The viewer renders each page of the compiled document in the kernel and shows it
inline, so that a reader can check equations, figures and references without leaving the notebook. }
\newcommand\paragraphs{\sentence\sentence\sentence\sentence\sentence\par}
\begin{document}
\loop \section{Part \the\pagesleft} \paragraphs\paragraphs\paragraphs
\newpage \advance\pagesleft by -1 \ifnum\pagesleft>0 \repeat
\end{document}
"""


def saved_latex_notebook(document: str, env: dict) -> tuple[nbformat.NotebookNode, int]:
    """A notebook with one %%cocalc_latex cell, run and saved with its widget state as nbclient does."""
    notebook = run_notebook(["%load_ext cocalc_magics", f"%%cocalc_latex\n{document}"], env,
                            store_widget_state=True)
    assert not [o for o in outputs_of(notebook) if o.output_type == "error"]
    return notebook, len(nbformat.writes(notebook).encode())


@pytest.mark.parametrize(("document", "pages", "budget"), [(ONE_PAGE_ARTICLE, 1, 60_000),
                                                           (FIFTY_PAGE_ARTICLE, 50, 200_000)])
def test_a_saved_notebook_keeps_page_one_once_per_part_within_its_budget(kernel_env, document, pages, budget):
    notebook, size = saved_latex_notebook(document, kernel_env)
    print(f"saved notebook with a {pages}-page document: {size:,} bytes")
    shown = [o for o in outputs_of(notebook) if WIDGET_VIEW in o.get("data", {})][-1].data
    assert f"page 1 of {pages}" in shown["text/html"] and "image/png" not in shown
    assert shown["text/html"].count("data:image/png") == 1 and "cocalc-tex-log" not in shown["text/html"]
    state = notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    buffers = [buffer for model in state.values() for buffer in model.get("buffers", [])]
    assert len(buffers) == 1, "the widget state holds the page on screen once"
    page = Image.open(io.BytesIO(base64.b64decode(buffers[0]["data"])))
    palette = page.getpalette() or []
    assert page.mode == "P" and 0 < len(palette) <= 16 * 3, "a page without colour: 16 gray levels, 4 bits"
    assert all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3)), "all gray"
    assert size <= budget
