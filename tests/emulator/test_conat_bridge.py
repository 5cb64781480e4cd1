"""The conat bridge's conventions, over raw HTTP: auth texts, 200 errors, ``Error: `` prefixes, ``null``, timeouts."""

from __future__ import annotations

import pytest
import requests

from emulator_helpers import basic, unknown_key
from secret_guard import register_secret


def conat(emulator, route: str, body: dict, key: str | None = None, headers: dict | None = None):
    headers = {**(basic(key) if key else {}), **(headers or {})}
    return requests.post(f"{emulator.url}/api/conat/{route}", json=body, headers=headers, timeout=60)


def answer(emulator, route: str, body: dict, key: str | None = None, headers: dict | None = None):
    response = conat(emulator, route, body, key, headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def project_key(ada):
    """A project-specific key for a fresh project of ada's, and that project's id."""
    project_id = ada.new_project("conat project key")
    secret = ada.call("api-keys", {"action": "create", "project_id": project_id})["response"][0]["secret"]
    register_secret(secret)
    return secret, project_id


@pytest.mark.parametrize("route", ["hub", "project"])
def test_no_authorization_header_is_an_error_answered_with_200(emulator, route):
    assert answer(emulator, route, {"name": "system.ping"}) == {
        "error": "You must provide authentication via an API key."}


@pytest.mark.parametrize("route", ["hub", "project"])
def test_an_unknown_authorization_scheme_is_named(emulator, route):
    reply = answer(emulator, route, {"name": "system.ping"}, headers={"Authorization": "Digest abc"})
    assert reply == {"error": "Unknown authorization type 'Digest'"}


def test_hub_refuses_a_bad_key_as_not_signed_in(emulator):
    reply = answer(emulator, "hub", {"name": "system.ping"}, key=unknown_key())
    assert reply == {"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}


def test_hub_refuses_a_project_key(emulator, project_key):
    reply = answer(emulator, "hub", {"name": "system.ping"}, key=project_key[0])
    assert reply == {"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}


def test_hub_bearer_works_like_basic(emulator):
    reply = answer(emulator, "hub", {"name": "system.test", "args": []},
                   headers={"Authorization": f"Bearer {emulator.api_key}"})
    assert reply["account_id"] == emulator.account_id


def test_unknown_hub_method_is_an_error_with_the_error_prefix(emulator):
    reply = answer(emulator, "hub", {"name": "purchases.getBalance", "args": []}, key=emulator.api_key)
    assert reply == {"error": "Error: unknown function 'purchases.getBalance'"}


def test_a_missing_name_is_a_type_error_not_a_500(emulator):
    reply = answer(emulator, "hub", {"args": []}, key=emulator.api_key)
    assert reply == {"error": "TypeError: Cannot read properties of undefined (reading 'split')"}


def test_method_failures_carry_the_error_prefix(emulator):
    reply = answer(emulator, "hub", {"name": "projects.start", "args": [{"project_id": emulator.second["project_id"]}]},
                   key=emulator.api_key)
    assert reply == {"error": "Error: must be collaborator on project to start it"}


def test_a_method_that_returns_nothing_answers_null(emulator, ada):
    project_id = ada.new_project("conat null")
    response = conat(emulator, "hub", {"name": "projects.stop", "args": [{"project_id": project_id}]},
                     key=emulator.api_key)
    assert response.status_code == 200 and response.text == "null"


def test_user_query_errors_are_rejected_strings_without_prefix(emulator):
    reply = answer(emulator, "hub", {"name": "db.userQuery",
                                     "args": [{"query": {"accounts": {"password_hash": None}}}]}, key=emulator.api_key)
    assert reply == {"error": "FATAL: user get query not allowed for accounts.password_hash"}


def test_hub_timeout_keeps_the_message_and_adds_the_callhub_suffix(emulator, ada):
    project_id = ada.new_project("conat timeout")
    body = {"name": "jupyter.execute", "timeout": 500,
            "args": [{"input": "import time; time.sleep(3)", "kernel": "python3", "project_id": project_id}]}
    reply = answer(emulator, "hub", body, key=emulator.api_key)
    assert reply == {"error": f"timeout - callHub: subject='hub.account.{emulator.account_id}.api', "
                              "name='jupyter.execute', code='408' "}


def test_project_timeout_names_the_project_subject(emulator):
    body = {"project_id": emulator.project_id, "name": "system.exec", "timeout": 300,
            "args": [{"command": "sleep", "args": ["3"]}]}
    reply = answer(emulator, "project", body, key=emulator.api_key)
    assert reply == {"error": f"timeout - callHub: subject='project.{emulator.project_id}.0.api.-', "
                              "name='system.exec', code='408' "}


def test_project_refuses_a_key_that_is_nobody(emulator):
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": "system.ping"},
                   key=unknown_key())
    assert reply == {"error": "must sign in as project or account"}


def test_project_needs_a_project_id_with_an_account_key(emulator):
    assert answer(emulator, "project", {"name": "system.ping"}, key=emulator.api_key) == {
        "error": "must specify project_id or use project-specific api key"}


def test_project_key_needs_no_project_id_and_is_scoped_to_its_project(emulator, project_key):
    secret, project_id = project_key
    reply = answer(emulator, "project", {"name": "system.test", "args": []}, key=secret)
    assert reply["project_id"] == project_id


def test_project_key_on_another_project_is_refused(emulator, project_key):
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": "system.ping"},
                   key=project_key[0])
    assert reply == {"error": "project specific api key must match requested project"}


def test_account_key_on_a_project_of_someone_else_is_refused(emulator):
    reply = answer(emulator, "project", {"project_id": emulator.second["project_id"], "name": "system.ping"},
                   key=emulator.api_key)
    assert reply == {"error": "user must be a collaborator on the project"}


def test_project_bare_ping_answers_pong_and_unknown_names_are_errors(emulator):
    assert answer(emulator, "project", {"project_id": emulator.project_id, "name": "ping"},
                  key=emulator.api_key) == "pong"
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": "editor.nothing"},
                   key=emulator.api_key)
    assert reply == {"error": "Error: unknown function 'editor.nothing'"}


def test_project_call_starts_the_project(emulator, ada):
    project_id = ada.new_project("conat starts")
    assert ada.state(project_id) == "opened"
    answer(emulator, "project", {"project_id": project_id, "name": "system.ping"}, key=emulator.api_key)
    assert ada.state(project_id) == "running"


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "/home/user/../../../etc/hostname"])
def test_project_file_methods_stay_inside_the_project(emulator, path):
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": "system.readTextFileFromProject",
                                         "args": [{"path": path}]}, key=emulator.api_key)
    assert reply["error"].startswith("Error: path ") and "outside the project" in reply["error"]


def test_a_listing_never_leaves_home(emulator):
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": "system.listing",
                                         "args": [{"path": "../../.."}]}, key=emulator.api_key)
    assert "outside the project" in reply["error"]


@pytest.mark.parametrize(("name", "args"), [
    ("system.listing", [{"path": 5}]), ("system.readTextFileFromProject", [{"path": "a\u0000b"}]),
    ("system.moveFiles", [{"paths": "a", "dest": None}]), ("system.renameFile", [{"src": [], "dest": {}}]),
    ("system.jupyterExecute", [{"input": 5, "kernel": []}]), ("system.exec", "not a list"),
    ("system.deleteFiles", [{"paths": ["/home/user"]}]), ("system.stopJupyterKernel", [{"pid": "1"}]),
])
def test_hostile_project_arguments_get_one_error_line(emulator, name, args):
    reply = answer(emulator, "project", {"project_id": emulator.project_id, "name": name, "args": args},
                   key=emulator.api_key)
    if name == "system.stopJupyterKernel":
        assert reply == {"success": False}
    else:
        assert set(reply) == {"error"} and "\n" not in reply["error"] and "/projects/" not in reply["error"]


def test_a_compute_server_never_answers_so_the_call_times_out(emulator):
    body = {"project_id": emulator.project_id, "compute_server_id": 3, "name": "system.ping", "timeout": 300}
    assert answer(emulator, "project", body, key=emulator.api_key) == {
        "error": f"timeout - callHub: subject='project.{emulator.project_id}.3.api.-', name='system.ping', code='408' "}
