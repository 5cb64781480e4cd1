"""CoCalcSession against the emulator over real HTTP: every call's success path and its error paths."""

from __future__ import annotations

import uuid

import pytest

from cocalc_magics import (
    AmbiguousProjectError,
    APIError,
    AuthenticationError,
    CoCalcSession,
    PermissionDeniedError,
    ProjectNotFoundError,
    ProjectStateTimeoutError,
    RequestTooLargeError,
    TransportError,
)
from cocalc_magics.client import MAX_BODY_BYTES
from emulator_process import corrupted_key

ONE_PAGE = r"""\documentclass{article}
\begin{document}
Hello from the emulator.
\end{document}
"""
TWO_ERRORS = "\\documentclass{article}\n\\begin{document}\nHello\n\\foo\n\n\\baz\n\\end{document}\n"


@pytest.fixture
def other_session(emulator) -> CoCalcSession:
    return CoCalcSession(api_key=emulator.second["api_key"], host=emulator.url)


@pytest.fixture
def fresh_project(session):
    """A project of the first account that no other test touches."""
    return session.create_project(f"scratch {uuid.uuid4().hex[:8]}")


def assert_hides_key(error: BaseException, emulator) -> None:
    for secret in (emulator.api_key, emulator.second["api_key"]):
        assert secret not in str(error) and secret not in repr(error)


def test_whoami_returns_the_seeded_account(session, emulator):
    account = session.whoami()
    assert account.account_id == emulator.account_id
    assert account.email_address == emulator.email_address
    assert account.name and emulator.api_key not in repr(account)
    assert emulator.account_id in account._repr_html_()


def test_a_wrong_key_is_an_authentication_error_without_the_key(emulator):
    wrong_key = corrupted_key(emulator.api_key)
    with pytest.raises(AuthenticationError) as raised:
        CoCalcSession(api_key=wrong_key, host=emulator.url).whoami()
    assert "anonymous get queries not allowed" in str(raised.value)
    assert wrong_key not in str(raised.value)
    assert_hides_key(raised.value, emulator)


def test_projects_lists_own_projects_with_state_newest_first(session, emulator, fresh_project):
    projects = session.projects()
    ids = [p.project_id for p in projects]
    assert ids[0] == fresh_project.project_id and emulator.project_id in ids
    assert emulator.second["project_id"] not in ids
    assert all(p.state is not None for p in projects)
    assert session.projects(limit=1)[0].project_id == fresh_project.project_id


def test_project_is_found_by_id_and_by_title(session, fresh_project):
    assert session.project(fresh_project.project_id).title == fresh_project.title
    assert session.project(fresh_project.title).project_id == fresh_project.project_id


def test_an_ambiguous_title_lists_the_candidates(session):
    title = f"twin {uuid.uuid4().hex[:6]}"
    twins = {session.create_project(title).project_id, session.create_project(title).project_id}
    with pytest.raises(AmbiguousProjectError) as raised:
        session.state(title)
    assert {p.project_id for p in raised.value.candidates} == twins
    assert all(project_id in str(raised.value) for project_id in twins)


def test_an_unknown_title_or_id_is_project_not_found(session):
    with pytest.raises(ProjectNotFoundError, match="no project titled 'nope"):
        session.project("nope " + uuid.uuid4().hex)
    with pytest.raises(ProjectNotFoundError):
        session.state(str(uuid.uuid4()))


def test_start_waits_until_running_and_stop_until_stopped(session, fresh_project):
    assert session.state(fresh_project.project_id).state == "opened"
    seen = []
    running = session.start(fresh_project.project_id, on_poll=lambda state: seen.append(state.state))
    assert running.is_running and seen[-1] == "running"
    stopped = session.stop(fresh_project.project_id)
    assert stopped.is_stopped and session.state(fresh_project.project_id).state == "opened"


def test_start_without_waiting_returns_the_state_it_found(session, fresh_project):
    state = session.start(fresh_project.project_id, wait=False)
    assert state.state in {"starting", "running"}
    assert session.wait_for_state(fresh_project.project_id, {"running"}, timeout=10).is_running


def test_restart_stops_then_starts(session, fresh_project):
    session.start(fresh_project.project_id)
    seen = []
    state = session.restart(fresh_project.project_id, on_poll=lambda s: seen.append(s.state))
    assert state.is_running and "opened" in seen


def test_a_wait_that_runs_out_says_where_the_project_is(session, fresh_project):
    session.start(fresh_project.project_id)
    with pytest.raises(ProjectStateTimeoutError) as raised:
        session.wait_for_state(fresh_project.project_id, {"archived"}, timeout=0.3)
    assert raised.value.last_state == "running" and "still running" in str(raised.value)


def test_the_default_project_is_used_when_none_is_named(session, emulator):
    assert session.state().state in {"opened", "running", "starting", "stopping"}
    assert session.project().project_id == emulator.project_id


def test_another_accounts_project_cannot_be_seen_or_controlled(other_session, emulator):
    victim = emulator.project_id
    with pytest.raises(PermissionDeniedError, match="must be a collaborator to start project"):
        other_session.start(victim)
    with pytest.raises(PermissionDeniedError, match="must be a collaborator to stop project"):
        other_session.stop(victim)
    with pytest.raises(ProjectNotFoundError):
        other_session.state(victim)
    with pytest.raises(PermissionDeniedError):
        other_session.exec("echo", ["hi"], project=victim)
    with pytest.raises(PermissionDeniedError, match="collaborator on the project"):
        other_session.latex(ONE_PAGE, project_id=victim)


def test_query_returns_the_result_without_the_wrapper(session, emulator):
    assert session.query({"accounts": {"account_id": None}}) == {"accounts": {"account_id": emulator.account_id}}
    assert session.query({"accounts": {"last_name": "Lovelace"}}) == {}
    with pytest.raises(APIError, match="FATAL: user get query not allowed for accounts.password_hash"):
        session.query({"accounts": {"password_hash": None}})


def test_exec_returns_output_and_exit_code(session, fresh_project):
    result = session.exec("echo", ["hi"], project=fresh_project.project_id)
    assert (result.stdout, result.stderr, result.exit_code, result.ok) == ("hi\n", "", 0, True)
    failed = session.exec("false", project=fresh_project.project_id)
    assert failed.exit_code == 1 and not failed.ok


def test_exec_with_err_on_exit_raises_cocalcs_error(session, fresh_project):
    with pytest.raises(APIError, match="exited with nonzero code 1"):
        session.exec("false", project=fresh_project.project_id, err_on_exit=True)


def test_latex_compiles_and_downloads_the_pdf_from_the_blob_url(session, fresh_project, tmp_path):
    result = session.latex(ONE_PAGE, project_id=fresh_project.project_id)
    assert result.ok and result.exit_code == 0 and result.errors == []
    assert result.url.startswith(f"{session.host}/blobs//tmp/") and result.url.endswith(f"?uuid={result.pdf_uuid}")
    assert result.pdf.startswith(b"%PDF")
    saved = result.save(str(tmp_path / "out.pdf"))
    assert (tmp_path / "out.pdf").read_bytes() == result.pdf and saved.endswith("out.pdf")


def test_latex_reports_tex_errors_as_file_line_message(session, fresh_project):
    result = session.latex(TWO_ERRORS, path="/tmp/errors.tex", project_id=fresh_project.project_id)
    assert not result.ok and result.exit_code == 12
    assert [str(error) for error in result.errors] == [
        "errors.tex:4: Undefined control sequence \\foo.", "errors.tex:6: Undefined control sequence \\baz."]
    assert result.pdf.startswith(b"%PDF"), "latexmk -f still writes a PDF"
    assert "Undefined control sequence" in result.log


def test_latex_with_a_custom_command_that_makes_no_pdf_has_no_url(session, fresh_project):
    result = session.latex(ONE_PAGE, path="work/none.tex", project_id=fresh_project.project_id, command="true")
    assert not result.ok and result.url is None and result.pdf is None and result.exit_code == 0


def test_latex_keeps_a_file_outside_tmp_for_only_read_pdf(session, fresh_project):
    first = session.latex(ONE_PAGE, path="papers/keep.tex", project_id=fresh_project.project_id)
    again = session.latex(path="papers/keep.tex", project_id=fresh_project.project_id, only_read_pdf=True)
    assert again.ok and again.pdf == first.pdf and again.exit_code is None


def test_latex_without_project_uses_the_servers_choice(emulator):
    no_default = CoCalcSession(api_key=emulator.api_key, host=emulator.url)
    result = no_default.latex(ONE_PAGE)
    assert result.ok and result.project_id is None and result.pdf.startswith(b"%PDF")


def test_oversized_latex_is_refused_before_sending(session):
    with pytest.raises(RequestTooLargeError, match="1 MiB"):
        session.latex("%" * MAX_BODY_BYTES)
    assert session.whoami().account_id, "the session still works afterwards"


def test_a_server_that_is_down_gives_one_line(emulator):
    down = CoCalcSession(api_key=emulator.api_key, host="http://127.0.0.1:9", timeout=2)
    with pytest.raises(TransportError, match=r"cannot reach http://127.0.0.1:9 \(connection refused\)") as raised:
        down.whoami()
    assert_hides_key(raised.value, emulator)


def test_create_project_returns_a_project_that_is_listed(session):
    created = session.create_project("created by test", description="d")
    assert uuid.UUID(created.project_id).version == 4
    assert session.project(created.project_id).description == "d"
