"""The account, project and query magics in a real IPython shell against the emulator over real HTTP."""

from __future__ import annotations

import os
import signal
import threading
import uuid

import pytest

from cocalc_magics import Account, CoCalcSession, ProjectState, get_default_session, set_default_session
from cocalc_magics.models import ProjectList
from cocalc_magics.widgets import ProjectControls
from emulator_process import corrupted_key
from magics_helpers import (  # noqa: F401 (fixtures)
    clean_environment,
    ip,
    magics,
    own_project,
    run,
    session,
)


def test_whoami_returns_the_account(ip, session, emulator):
    ran = run(ip, "%cocalc_whoami")
    account = ran.result.result
    assert isinstance(account, Account) and ran.error is None
    assert (account.account_id, account.email_address) == (emulator.account_id, emulator.email_address)
    assert account.name


def test_output_variable_gets_the_typed_result_and_nothing_is_shown(ip, session, emulator):
    ran = run(ip, "%cocalc_whoami -o me")
    assert ran.result.result is None and ran.outputs == [] and ran.stdout == ""
    assert ip.user_ns["me"].account_id == emulator.account_id


def test_a_wrong_key_is_one_line_without_the_key(ip, session, emulator):
    wrong_key = corrupted_key(emulator.api_key)
    session.set_api_key(wrong_key)
    ran = run(ip, "%cocalc_whoami")
    assert "anonymous get queries not allowed" in ran.usage_error and "check the API key" in ran.usage_error
    assert wrong_key not in ran.text()


def test_short_errors_off_shows_the_traceback_of_the_original_error(ip, session, emulator, magics):
    session.set_api_key(corrupted_key(emulator.api_key))
    run(ip, "%config CoCalcMagics.short_errors = False")
    ran = run(ip, "%cocalc_whoami")
    assert type(ran.error).__name__ == "AuthenticationError" and "Traceback" in ran.stdout + ran.stderr


def test_a_server_that_is_down_is_one_line(ip, session, emulator):
    set_default_session(CoCalcSession(api_key=emulator.api_key, host="http://127.0.0.1:9", timeout=2))
    ran = run(ip, "%cocalc_projects")
    assert ran.usage_error == "user-query: cannot reach http://127.0.0.1:9 (connection refused)"


def test_projects_lists_projects_with_state_newest_first(ip, session, emulator, own_project):
    panel = run(ip, "%cocalc_projects").result.result
    assert isinstance(panel, ProjectControls), "shown as the live panel"
    projects = panel.projects
    assert isinstance(projects, ProjectList) and projects[0].project_id == own_project.project_id
    assert emulator.project_id in [p.project_id for p in projects]
    assert emulator.second["project_id"] not in [p.project_id for p in projects]
    assert all(p.state is not None for p in projects) and "<table" in projects._repr_html_()


def test_projects_limit_all_and_output_variable(ip, session, own_project):
    limited = run(ip, "%cocalc_projects --limit 1").result.result.projects
    assert [p.project_id for p in limited] == [own_project.project_id]
    run(ip, "%cocalc_projects --all -o everything")
    assert own_project.project_id in [p.project_id for p in ip.user_ns["everything"]]
    assert "--limit must be at least 1" in run(ip, "%cocalc_projects --limit 0").usage_error


def test_project_shows_the_default_project_with_its_state(ip, session, emulator):
    panel = run(ip, "%cocalc_project").result.result
    [project] = panel.projects
    assert isinstance(panel, ProjectControls) and project.project_id == emulator.project_id
    assert project.state is not None


def test_project_sets_the_default_by_title(ip, session, magics, own_project):
    ran = run(ip, f"%cocalc_project {own_project.title}")
    assert f"Default project: project {own_project.title!r} ({own_project.project_id})" in ran.text()
    assert session.project_id == own_project.project_id and magics.project == own_project.project_id
    assert run(ip, "%cocalc_project").result.result.projects[0].project_id == own_project.project_id


def test_an_unknown_project_is_one_line(ip, session):
    title = "nope " + uuid.uuid4().hex[:8]
    assert run(ip, f"%cocalc_start {title}").usage_error.startswith(f"no project titled {title!r} among")
    missing = str(uuid.uuid4())
    assert run(ip, f"%cocalc_stop {missing}").usage_error.startswith(f"project {missing} is not one of")


def test_an_ambiguous_title_lists_the_candidates(ip, session):
    title = f"twin {uuid.uuid4().hex[:6]}"
    twins = [session.create_project(title).project_id for _ in range(2)]
    message = run(ip, f'%cocalc_start "{title}"').usage_error
    assert f"2 projects are titled {title!r}" in message and all(twin in message for twin in twins)


def test_another_accounts_project_cannot_be_controlled(ip, session, emulator):
    victim = emulator.second["project_id"]
    message = run(ip, f"%cocalc_start {victim}").usage_error
    assert message.startswith(f"project {victim} is not one of this account's projects")


def test_start_and_stop_show_one_status_line_then_the_outcome(ip, session, own_project):
    ran = run(ip, f"%cocalc_start {own_project.project_id}")
    updates = ran.status_updates()
    assert ran.error is None and updates[0].startswith(f"starting project {own_project.title!r} on 127.0.0.1:")
    assert len({o.transient["display_id"] for o in ran.outputs}) == 1, "one line, updated in place"
    assert updates[-1].startswith(f"Project {own_project.title!r} is running after ")
    assert session.state(own_project.project_id).is_running

    ran = run(ip, f"%cocalc_stop {own_project.title}")
    assert ran.status_updates()[-1].startswith(f"Project {own_project.title!r} is stopped after ")


def test_stop_with_output_variable_stores_the_state_and_clears_the_status_line(ip, session, own_project):
    session.start(own_project.project_id)
    ran = run(ip, f"%cocalc_stop {own_project.project_id} -o final")
    assert isinstance(ip.user_ns["final"], ProjectState) and ip.user_ns["final"].is_stopped
    assert [o.data["text/plain"] for o in ran.shown()] == [], "nothing stays on screen"


def test_the_default_project_is_used_without_an_argument(ip, session, own_project):
    session.project_id = own_project.project_id
    run(ip, "%cocalc_start --no-wait")
    assert session.wait_for_state(own_project.project_id, {"running"}, timeout=10).is_running


def test_restart_passes_through_stopped_and_ends_running(ip, session, own_project):
    session.start(own_project.project_id)
    ran = run(ip, f"%cocalc_restart {own_project.project_id} -o after")
    assert ran.error is None and ip.user_ns["after"].is_running


def test_ctrl_c_while_polling_says_where_the_project_is_and_the_next_magic_works(ip, session, own_project,
                                                                                   monkeypatch):
    real_state = session.state
    interrupted = []

    def state_that_is_interrupted_once(project=None):
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        return real_state(project)

    monkeypatch.setattr(session, "state", state_that_is_interrupted_once)
    ran = run(ip, f"%cocalc_start {own_project.project_id}")
    message = ran.usage_error
    assert message.startswith("Interrupted after ") and f"for project {own_project.title!r} to start" in message
    assert "the start request was sent, so it may still be starting" in message
    assert ran.shown() == [], "the status line is gone"
    assert run(ip, "%cocalc_whoami").error is None
    assert run(ip, f"%cocalc_stop {own_project.project_id}").error is None


def test_a_real_sigint_during_a_restart_stops_the_wait_cleanly(ip, session, own_project):
    session.start(own_project.project_id)
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        ran = run(ip, f"%cocalc_restart {own_project.project_id}")
    finally:
        timer.join()
    assert ran.usage_error.startswith("Interrupted after ") and f"for project {own_project.title!r} to restart: " \
        in ran.usage_error
    assert "it may end up stopped or running; see %cocalc_projects" in ran.usage_error
    assert run(ip, "%cocalc_whoami").error is None
    assert session.wait_for_state(own_project.project_id, {"running", "opened"}, timeout=10)


def test_query_accepts_json_a_python_literal_a_variable_and_a_cell(ip, session, emulator):
    expected = {"accounts": {"account_id": emulator.account_id}}
    assert run(ip, '%cocalc_query {"accounts": {"account_id": null}}').result.result == expected
    assert run(ip, "%cocalc_query {'accounts': {'account_id': None}}").result.result == expected
    ip.user_ns["q"] = {"accounts": {"account_id": None}}
    assert run(ip, "%cocalc_query $q").result.result == expected
    assert run(ip, '%%cocalc_query\n{"accounts":\n  {"account_id": null}}').result.result == expected
    run(ip, "%cocalc_query -o answer $q")
    assert ip.user_ns["answer"] == expected


def test_a_query_cocalc_rejects_is_one_line(ip, session):
    message = run(ip, '%cocalc_query {"accounts": {"password_hash": null}}').usage_error
    assert message == "user-query: FATAL: user get query not allowed for accounts.password_hash"


def test_login_asks_for_the_key_with_a_hidden_prompt_and_shows_the_account(ip, magics, clean_environment, emulator,
                                                                         monkeypatch):
    set_default_session(None)
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or emulator.api_key)
    ran = run(ip, f"%cocalc_login --host {emulator.url}")
    assert ran.error is None and prompts == [f"CoCalc API key for {emulator.url} (input hidden): "]
    assert f"Signed in to {emulator.url} as Ada Lovelace <{emulator.email_address}>" in ran.text()
    assert emulator.api_key not in ran.text()
    assert get_default_session().has_api_key and run(ip, "%cocalc_whoami").error is None
    set_default_session(None)


def test_login_with_a_rejected_key_changes_nothing(ip, magics, clean_environment, emulator, monkeypatch):
    set_default_session(None)
    wrong_key = corrupted_key(emulator.api_key)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": wrong_key)
    ran = run(ip, f"%cocalc_login --host {emulator.url}")
    assert ran.usage_error.startswith(f"{emulator.url} did not accept that key; nothing changed")
    assert wrong_key not in ran.text() and not get_default_session().has_api_key
    set_default_session(None)


def test_login_uses_the_key_from_the_environment_without_asking(ip, magics, clean_environment, emulator,
                                                                monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", emulator.api_key)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    set_default_session(None)
    ran = run(ip, "%cocalc_login")
    assert ran.error is None and "as Ada Lovelace" in ran.text() and emulator.api_key not in ran.text()
    set_default_session(None)
