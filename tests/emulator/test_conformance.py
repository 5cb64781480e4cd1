"""The conformance facts of cocalc-api-v2.md §11, one behaviour per test, over real HTTP."""

from __future__ import annotations

import hashlib
import re
import uuid

import requests

from emulator_helpers import TEX_HELLO, basic

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def uuidsha1(data: bytes) -> str:
    """backend/sha1.ts, written out independently of the emulator's copy."""
    h = hashlib.sha1(data).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[12:15]}-{(int(h[15], 16) & 3) | 8:x}{h[16:19]}-{h[19:31]}"


# 1
def test_start_without_auth_is_200_must_be_signed_in(anonymous, emulator):
    response = anonymous.post("projects/start", {"project_id": emulator.project_id})
    assert response.status_code == 200
    assert response.json() == {"error": "must be signed in"}


def test_start_with_bogus_key_is_200_not_401(ada, emulator):
    response = ada.post("projects/start", {"project_id": emulator.project_id}, key="sk-bogus")
    assert response.status_code == 200
    assert response.json() == {"error": "must be signed in"}


# 2
def test_start_without_project_id_needs_a_valid_uuid(ada):
    assert ada.call("projects/start", {}) == {"error": "project_id must be a valid uuid"}


def test_get_request_ignores_the_query_string(ada, emulator):
    response = requests.get(f"{emulator.url}/api/v2/projects/start", params={"project_id": emulator.project_id},
                            headers=basic(emulator.api_key), timeout=10)
    assert response.status_code == 200
    assert response.json() == {"error": "project_id must be a valid uuid"}


# 3
def test_start_of_someone_elses_project_needs_collaborator(ada, emulator):
    assert ada.call("projects/start", {"project_id": emulator.second["project_id"]}) == {
        "error": "must be a collaborator to start project"}


# 4
def test_start_and_stop_answer_status_ok(ada):
    project_id = ada.new_project()
    assert ada.call("projects/start", {"project_id": project_id}) == {"status": "ok"}
    assert ada.call("projects/stop", {"project_id": project_id}) == {"status": "ok"}


def test_bearer_authorization_works_like_basic(ada, emulator):
    project_id = ada.new_project()
    response = requests.post(f"{emulator.url}/api/v2/projects/start", json={"project_id": project_id},
                             headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=10)
    assert response.json() == {"status": "ok"}


# 5
def test_who_am_i_user_query(ada, emulator):
    reply = ada.call("user-query", {"query": {"accounts": {"account_id": None, "email_address": None}}})
    assert reply == {"query": {"accounts": {"account_id": emulator.account_id,
                                            "email_address": emulator.email_address}}}


def test_anonymous_accounts_query_is_refused(anonymous):
    reply = anonymous.call("user-query", {"query": {"accounts": {"account_id": None, "email_address": None}}})
    assert reply == {"error": "FATAL: anonymous get queries not allowed for table 'accounts'"}


# 6 (a set query: it renames the account, so it runs as Grace and restores her name)
def test_set_query_without_null_leaf_answers_empty_query(grace):
    try:
        assert grace.call("user-query", {"query": {"accounts": {"first_name": "W"}}}) == {"query": {}}
    finally:
        grace.call("user-query", {"query": {"accounts": {"first_name": "Grace"}}})


# 7
def test_unreadable_account_field_is_refused(ada):
    reply = ada.call("user-query", {"query": {"accounts": {"password_hash": None}}})
    assert reply == {"error": "FATAL: user get query not allowed for accounts.password_hash"}


# 8
def test_two_tables_in_one_query_are_refused(ada):
    reply = ada.call("user-query", {"query": {"accounts": {"account_id": None}, "projects": {"project_id": None}}})
    assert reply == {"error": "FATAL: must specify exactly one key in the query"}


# 9
def test_latex_path_must_end_in_tex(ada):
    assert ada.call("latex", {"path": "a.txt"}) == {"error": "path must be specified and end in .tex"}


def test_latex_without_auth_must_be_authenticated(anonymous):
    assert anonymous.call("latex", {"path": "a.txt"}) == {"error": "must be authenticated"}


def test_latex_only_read_pdf_needs_project_id(ada):
    assert ada.call("latex", {"path": "x.tex", "only_read_pdf": True}) == {
        "error": "if only_read_pdf is set then project_id must also be set"}


# 10
def test_latex_compiles_to_a_blob_url_under_double_slash(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "/tmp/d.tex", "content": TEX_HELLO, "project_id": project_id})
    compile_ = reply["compile"]
    assert compile_["event"] == "project_exec_output" and compile_["type"] == "blocking"
    assert compile_["exit_code"] == 0 and isinstance(compile_["stdout"], str) and isinstance(compile_["stderr"], str)
    assert uuid.UUID(compile_["id"])
    assert reply["pdf"]["event"] == "file_read_from_project" and uuid.UUID(reply["pdf"]["id"])
    data_uuid = reply["pdf"]["data_uuid"]
    assert reply["url"] == f"{emulator.url}/blobs//tmp/d.pdf?uuid={data_uuid}"

    pdf = requests.get(reply["url"], timeout=10)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["ETag"] == data_uuid == uuidsha1(pdf.content)


def test_blob_with_malformed_uuid_is_404(emulator):
    response = requests.get(f"{emulator.url}/blobs/x.pdf", params={"uuid": "nope"}, timeout=10)
    assert response.status_code == 404
    assert response.text == "invalid uuid=nope"


# 11
def test_exec_echo(ada, emulator):
    reply = ada.call("exec", {"project_id": emulator.project_id, "command": "echo", "args": ["hi"]})
    assert reply == {"type": "blocking", "stdout": "hi\n", "stderr": "", "exit_code": 0}


def test_exec_false_is_an_error_in_cocalcs_words(ada, emulator):
    reply = ada.call("exec", {"project_id": emulator.project_id, "command": "false"})
    assert reply == {"error": "Error executing command 'false' with args 'undefined' -- "
                              "command ''false' (args=)' exited with nonzero code 1 -- stderr=''"}


def test_exec_false_without_err_on_exit_reports_the_exit_code(ada, emulator):
    reply = ada.call("exec", {"project_id": emulator.project_id, "command": "false", "err_on_exit": False})
    assert reply == {"type": "blocking", "stdout": "", "stderr": "", "exit_code": 1}


# 12
def test_create_project_answers_a_uuid4(ada):
    reply = ada.call("projects/create", {"title": "T"})
    assert list(reply) == ["project_id"] and UUID4.match(reply["project_id"])


def test_create_project_without_auth(anonymous):
    assert anonymous.call("projects/create", {"title": "T"}) == {"error": "user must be signed in"}


# 13
def test_projects_get_with_limit_one(ada):
    reply = ada.call("projects/get", {"limit": 1})
    assert len(reply) == 1
    assert set(reply[0]) == {"project_id", "title", "description", "name"}
    assert reply[0]["name"] is None


# 14
def test_malformed_json_is_400_invalid_json(emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=b"{bad",
                             headers={**basic(emulator.api_key), "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    assert response.text == "Invalid JSON"


def test_body_over_one_megabyte_is_413(emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=b"x" * (1024 * 1024 + 1),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert response.text == "Body exceeded 1mb limit"


# 15
def test_profile_without_auth_is_empty(anonymous):
    assert anonymous.call("accounts/profile", {}) == {"profile": {}}


# 16
def test_conat_hub_ping(emulator):
    response = requests.post(f"{emulator.url}/api/conat/hub", json={"name": "system.ping", "args": []},
                             headers=basic(emulator.api_key), timeout=10)
    assert response.status_code == 200
    assert set(response.json()) == {"now"} and isinstance(response.json()["now"], int)


def test_conat_hub_without_auth_needs_an_api_key(emulator):
    response = requests.post(f"{emulator.url}/api/conat/hub", json={"name": "system.ping", "args": []}, timeout=10)
    assert response.json() == {"error": "You must provide authentication via an API key."}
