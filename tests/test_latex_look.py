"""One look per LaTeX result: its own _repr_html_, LatexSummary and the PDF viewer's static view share it."""

from __future__ import annotations

from cocalc_magics.display import LatexSummary
from cocalc_magics.models import LatexResult, TexError
from cocalc_magics.widgets import PdfViewer


def failed_result(note: str = "") -> LatexResult:
    return LatexResult(path="/tmp/x.tex", project_id=None, ok=False, url="https://cocalc.example/blobs/x.pdf?uuid=1",
                       pdf_uuid="1", exit_code=1, stdout="", stderr="", compile_error=None,
                       errors=[TexError("Undefined control sequence", 3, "\\foo")], elapsed=1.5, note=note)


def test_a_bare_result_looks_as_the_summary_and_the_viewers_static_view():
    result = failed_result()
    own = result._repr_html_()
    summary = LatexSummary(result)._repr_mimebundle_()["text/html"]
    static = PdfViewer(result, cell_id=None).static_bundle()["text/html"]
    assert own == summary
    for shown in (own, static):
        assert "failed with 1 error in 1.5 s" in shown
        assert "cocalc-diagnostic" in shown and "data-cocalc-line='3'" in shown
        assert "cocalc-pdf-download" in shown


def test_a_bare_result_says_its_note_which_the_magic_says_on_its_own_line():
    result = failed_result(note="the server ran its own command")
    assert "the server ran its own command" in result._repr_html_()
    assert "the server ran its own command" not in LatexSummary(result)._repr_mimebundle_()["text/html"]
