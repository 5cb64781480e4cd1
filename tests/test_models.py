"""The typed results: readable reprs, HTML views that escape what the server sent."""

from __future__ import annotations

from cocalc_magics.models import (
    Account,
    ExecResult,
    LatexResult,
    Project,
    ProjectList,
    ProjectState,
    TexError,
)


def latex_result(**changes) -> LatexResult:
    fields = dict(path="/tmp/a.tex", project_id=None, ok=False, url=None, pdf_uuid=None, exit_code=12,
                  stdout="Latexmk output line\n" * 2000, stderr="", compile_error=None,
                  errors=[TexError("a.tex", 3, "Undefined control sequence.")], elapsed=0.3)
    return LatexResult(**{**fields, **changes})


def test_latex_result_repr_is_one_short_line_without_the_log():
    text = repr(latex_result())
    assert "Latexmk output line" not in text and len(text) < 200 and "\n" not in text
    assert "a.tex:3: Undefined control sequence." in text and "exit_code=12" in text


def test_latex_result_without_a_pdf_cannot_be_saved(tmp_path):
    result = latex_result()
    assert result.pdf is None
    try:
        result.save(str(tmp_path / "x.pdf"))
    except FileNotFoundError as error:
        assert "no PDF was produced for /tmp/a.tex" in str(error)
    else:
        raise AssertionError("saving a missing PDF must fail")
    assert not (tmp_path / "x.pdf").exists()


def test_html_views_escape_server_text():
    hostile = "<script>alert(1)</script>"
    views = [
        Account(account_id="a", email_address=hostile, first_name=hostile)._repr_html_(),
        Project(project_id="p", title=hostile, description=hostile)._repr_html_(),
        ProjectState(state=hostile)._repr_html_(),
        ExecResult(stdout=hostile, stderr=hostile, exit_code=0)._repr_html_(),
        latex_result(errors=[TexError(hostile, 1, hostile)], url="http://h/blobs/x.pdf?uuid=1&'")._repr_html_(),
    ]
    for view in views:
        assert "<script>" not in view and "&lt;script&gt;" in view


def test_a_state_that_never_ran_reads_as_opened():
    state = ProjectState.from_api(None)
    assert (state.state, state.is_stopped, state.is_running, state.is_changing) == ("opened", True, False, False)
    assert ProjectState.from_api({"state": "starting", "time": "2026-11-27T16:00:00.000Z"}).is_changing


def test_a_state_looks_the_same_alone_in_a_project_and_in_a_list():
    """One look per result: the badge of the project panel is how a state shows everywhere."""
    state = ProjectState(state="opened")
    project = Project(project_id="00000000-0000-4000-8000-000000000001", title="Thesis", state=state)
    badge = state._repr_html_()
    assert "cocalc-state-badge" in badge and ">stopped<" in badge
    assert badge in project._repr_html_() and badge in ProjectList([project])._repr_html_()
