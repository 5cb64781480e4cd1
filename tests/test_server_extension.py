"""The CoCalc sidebar's server extension (cocalc_magics.labserver), through a real Jupyter server.

pytest-jupyter starts the server in-process with the extension enabled; its routes call the emulator over
real HTTP. Every answer is checked for the API key: the key stays in the server process. pytest-jupyter's
fixtures are imported into this module only (not registered as a plugin), so its autouse fixtures touch no
other test of the suite; the tests drive its asyncio loop themselves.
"""

from __future__ import annotations

import json
import os
import stat
import time
import uuid

import pytest
import tomllib

# The jp_* fixtures (jp_fetch, jp_serverapp, ...), for this module only.
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPClientError

from cocalc_magics.models import STOPPED_STATES
from emulator_helpers import unknown_key
from emulator_process import corrupted_key
from recording_server import RecordingServer, ScriptedResponse
from secret_guard import register_secret

ROUTES = [("GET", "account"), ("POST", "api-key"), ("GET", "projects"), ("GET", "compile-project"),
          ("PUT", "compile-project"), ("POST", f"projects/{uuid.uuid4()}/stop")]


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"cocalc_magics.labserver": True},
                          # Every route must authenticate on its own, as on a locked-down server.
                          "allow_unauthenticated_access": False}}


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "cocalc" / "config.toml"
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(path))
    monkeypatch.delenv("COCALC_PROJECT_ID", raising=False)
    return path


@pytest.fixture
def signed_in(emulator, config_file, monkeypatch):
    monkeypatch.setenv("COCALC_API_KEY", emulator.api_key)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    return emulator.api_key


@pytest.fixture
def signed_out(emulator, config_file, monkeypatch):
    monkeypatch.delenv("COCALC_API_KEY", raising=False)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    return config_file


class Answer:
    def __init__(self, code: int, body: bytes):
        self.code = code
        self.text = body.decode()
        self.json = json.loads(self.text) if self.text else None


@pytest.fixture
def call(jp_fetch, jp_asyncio_loop, emulator):
    """``call(method, route, body=None, token=True)`` -> Answer; fails the test if an answer holds a key."""
    keys = [emulator.api_key, emulator.second["api_key"]]

    def fetch(method: str, route: str, body: dict | bytes | None = None, token: bool = True) -> Answer:
        kwargs = {"method": method}
        if method in ("POST", "PUT"):
            kwargs["body"] = body if isinstance(body, bytes) else json.dumps(body or {})
        if not token:
            kwargs["headers"] = {"Authorization": ""}
        try:
            response = jp_asyncio_loop.run_until_complete(jp_fetch("cocalc-magics", *route.split("/"), **kwargs))
            answer = Answer(response.code, response.body)
        except HTTPClientError as error:
            answer = Answer(error.code, error.response.body if error.response else b"")
        for key in keys:
            assert key not in answer.text
        return answer

    return fetch


def assert_one_line_error(answer: Answer, status: int, error: str | None = None) -> None:
    assert answer.code == status, answer.text
    assert set(answer.json) == {"message", "error"}
    assert answer.json["message"] and "\n" not in answer.json["message"]
    if error:
        assert answer.json["error"] == error


def test_every_route_answers_403_without_jupyters_token(signed_in, call):
    for method, route in ROUTES:
        answer = call(method, route, {"project_id": None}, token=False)
        assert answer.code == 403, (method, route, answer.text)


def test_account_names_the_keys_account(signed_in, call, session):
    answer = call("GET", "account")
    assert answer.code == 200
    assert answer.json["signed_in"] is True
    assert answer.json["account"]["account_id"] == session.whoami().account_id


def test_without_a_key_the_account_route_says_how_to_add_one(signed_out, call):
    answer = call("GET", "account")
    assert answer.code == 200
    assert answer.json["signed_in"] is False
    assert "COCALC_API_KEY" in answer.json["how_to"] and str(signed_out) in answer.json["how_to"]
    assert_one_line_error(call("GET", "projects"), 409, "ConfigurationError")


def test_projects_lists_the_accounts_projects_with_their_states(signed_in, call, emulator):
    answer = call("GET", "projects")
    assert answer.code == 200
    rows = {row["project_id"]: row for row in answer.json["projects"]}
    assert emulator.project_id in rows
    assert emulator.second["project_id"] not in rows  # another account's project
    assert all(isinstance(row["state"], str) and row["state"] for row in rows.values())


def wait_for_row(call, project_id: str, predicate, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        row = next(r for r in call("GET", "projects").json["projects"] if r["project_id"] == project_id)
        if predicate(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def test_stop_start_and_restart_change_the_project_in_cocalc(signed_in, call, session):
    project_id = session.create_project(f"sidebar {uuid.uuid4().hex[:8]}").project_id
    session.start(project_id)

    stopped = call("POST", f"projects/{project_id}/stop")
    assert stopped.code == 200 and stopped.json["project_id"] == project_id
    session.wait_for_state(project_id, STOPPED_STATES, timeout=20)
    assert wait_for_row(call, project_id, lambda row: row["is_stopped"])["is_stopped"]

    assert call("POST", f"projects/{project_id}/start").code == 200
    session.wait_for_state(project_id, {"running"}, timeout=20)
    assert wait_for_row(call, project_id, lambda row: row["is_running"])["state"] == "running"

    assert call("POST", f"projects/{project_id}/restart").code == 200
    assert session.wait_for_state(project_id, {"running"}, timeout=20).state == "running"


def test_an_action_on_another_accounts_project_is_a_one_line_error(signed_in, call, emulator, session):
    answer = call("POST", f"projects/{emulator.second['project_id']}/stop")
    assert_one_line_error(answer, answer.code)
    assert answer.code in (404, 502)
    assert session.state(emulator.project_id).state  # ours untouched and still readable


def test_the_compile_project_is_kept_for_visible_projects_only(signed_in, call, emulator):
    assert call("GET", "compile-project").json == {"project_id": None}
    chosen = call("PUT", "compile-project", {"project_id": emulator.project_id.upper()})
    assert chosen.code == 200 and chosen.json["project_id"] == emulator.project_id
    assert call("GET", "compile-project").json["project_id"] == emulator.project_id
    assert call("GET", "projects").json["compile_project_id"] == emulator.project_id

    refused = call("PUT", "compile-project", {"project_id": emulator.second["project_id"]})
    assert refused.code in (404, 502)
    assert_one_line_error(refused, refused.code)
    assert_one_line_error(call("PUT", "compile-project", {"project_id": "../../etc"}), 400, "ValueError")
    assert call("GET", "compile-project").json["project_id"] == emulator.project_id

    assert call("PUT", "compile-project", {"project_id": None}).json == {"project_id": None}


def test_a_key_cocalc_refuses_is_a_one_line_json_error(emulator, config_file, monkeypatch, call):
    wrong = corrupted_key(emulator.api_key)
    register_secret(wrong)
    monkeypatch.setenv("COCALC_API_KEY", wrong)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    answer = call("GET", "account")
    assert_one_line_error(answer, 502, "AuthenticationError")
    assert wrong not in answer.text


def test_sign_in_checks_the_key_then_stores_it_for_the_owner_only(signed_out, call, emulator):
    signed_out.parent.mkdir()
    signed_out.write_text(f'# my settings\nhost = "{emulator.url}"\n\n[extra]\nkept = true\n')
    before = signed_out.read_text()

    wrong = corrupted_key(emulator.api_key)
    register_secret(wrong)
    refused = call("POST", "api-key", {"api_key": wrong})
    assert_one_line_error(refused, 400, "AuthenticationError")
    assert wrong not in refused.text
    assert signed_out.read_text() == before  # a refused key is never stored

    accepted = call("POST", "api-key", {"api_key": f"  {emulator.api_key}\n"})
    assert accepted.code == 200 and accepted.json["signed_in"] is True
    assert stat.S_IMODE(os.stat(signed_out).st_mode) == 0o600
    stored = tomllib.loads(signed_out.read_text())
    assert stored["api_key"] == emulator.api_key
    assert stored["host"] == emulator.url and stored["extra"] == {"kept": True}
    assert "# my settings" in signed_out.read_text()

    # The running server uses the key at once.
    account = call("GET", "account")
    assert account.json["signed_in"] is True
    assert call("GET", "projects").code == 200


def test_sign_in_refuses_what_is_not_a_key(signed_out, call):
    assert_one_line_error(call("POST", "api-key", b"{not json"), 400)
    assert_one_line_error(call("POST", "api-key", {"api_key": "two words"}), 400, "ValueError")
    assert_one_line_error(call("POST", "api-key", {"api_key": ["sk-x"]}), 400, "ValueError")
    assert_one_line_error(call("POST", "api-key", b"x" * 5000), 413)
    assert not signed_out.exists()


def test_a_slow_cocalc_does_not_block_the_jupyter_server(config_file, monkeypatch, jp_fetch, jp_asyncio_loop):
    """CoCalc calls run in threads: while one waits, Jupyter's own API still answers at once."""
    import asyncio

    slow_seconds = 1.5
    with RecordingServer([ScriptedResponse(body='{"query": {"projects_all": []}}', delay=slow_seconds)]) as slow:
        monkeypatch.setenv("COCALC_API_KEY", unknown_key())
        monkeypatch.setenv("COCALC_HOST", slow.url)

        async def both():
            started = time.monotonic()
            projects = asyncio.ensure_future(jp_fetch("cocalc-magics", "projects"))
            await asyncio.sleep(0.2)  # the CoCalc call is under way
            status = await jp_fetch("api", "status")
            status_after = time.monotonic() - started
            listed = await projects
            return status.code, status_after, listed.code, time.monotonic() - started

        status_code, status_after, listed_code, listed_after = jp_asyncio_loop.run_until_complete(both())
    assert status_code == 200 and listed_code == 200
    assert listed_after >= slow_seconds
    assert status_after < slow_seconds


def test_a_malformed_config_file_is_a_one_line_error_not_a_crash(signed_out, call):
    signed_out.parent.mkdir()
    signed_out.write_text('api_key = "unterminated\n')
    for route in ("account", "projects"):
        assert_one_line_error(call("GET", route), 409, "ConfigurationError")


# -- the config file edit behind sign-in (no server needed) ---------------------------------------------------


def test_storing_a_key_replaces_only_the_top_level_api_key_line(tmp_path):
    from cocalc_magics.labserver.keyfile import store_api_key

    path = tmp_path / "config.toml"
    path.write_text('# mine\napi_key = "sk-old"\nhost = "https://cocalc.com"\n\n[table]\napi_key = "not this one"\n')
    store_api_key(path, 'sk-new"quoted\\')
    stored = tomllib.loads(path.read_text())
    assert stored["api_key"] == 'sk-new"quoted\\'
    assert stored["host"] == "https://cocalc.com" and stored["table"] == {"api_key": "not this one"}
    assert path.read_text().startswith("# mine\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_storing_a_key_goes_before_the_first_table_and_creates_a_private_folder(tmp_path):
    from cocalc_magics.labserver.keyfile import store_api_key

    path = tmp_path / "new" / "config.toml"
    first, second = unknown_key(), unknown_key()
    store_api_key(path, first)
    assert tomllib.loads(path.read_text()) == {"api_key": first}
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700

    path.write_text("[table]\nx = 1\n")
    store_api_key(path, second)
    assert tomllib.loads(path.read_text()) == {"api_key": second, "table": {"x": 1}}


def test_a_key_line_the_edit_cannot_handle_is_refused_and_the_file_kept(tmp_path):
    from cocalc_magics.labserver.keyfile import store_api_key

    path = tmp_path / "config.toml"
    original = 'api_key = """sk-multi\nline"""\n'
    path.write_text(original)
    with pytest.raises(ValueError, match="edit it by hand"):
        store_api_key(path, "sk-new")
    assert path.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary file left behind
