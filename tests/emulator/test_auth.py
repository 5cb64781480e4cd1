"""API keys: how a key becomes an account, project keys, expiry, and the api-keys endpoint."""

from __future__ import annotations

import datetime as dt
import sqlite3

import requests

from emulator_helpers import basic


def test_seeded_key_has_cocalcs_new_format(emulator):
    key = emulator.api_key
    assert key.startswith("sk-") and len(key) == 25 and key[3:].isalnum()


def test_basic_auth_ignores_the_password(ada, emulator):
    response = requests.post(f"{emulator.url}/api/v2/accounts/profile", json={},
                             auth=(emulator.api_key, "anything"), timeout=10)
    assert response.json()["profile"]["account_id"] == emulator.account_id


def test_scheme_names_are_case_sensitive(emulator):
    response = requests.post(f"{emulator.url}/api/v2/accounts/profile", json={},
                             headers={"Authorization": f"bearer {emulator.api_key}"}, timeout=10)
    assert response.json() == {"profile": {}}


def test_key_with_wrong_secret_but_real_row_id_is_anonymous(ada, emulator):
    forged = "sk-" + "A" * 16 + emulator.api_key[-6:]
    assert ada.as_key(forged).call("accounts/profile", {}) == {"profile": {}}


def test_key_of_wrong_shape_is_anonymous(ada):
    for key in ("", "sk-", "sk-short", "xx-" + "a" * 22, "sk-" + "!" * 22):
        assert ada.as_key(key).call("projects/create", {}) == {"error": "user must be signed in"}


def test_created_key_works_and_carries_secret_and_trunc(ada, emulator):
    row = ada.call("api-keys", {"action": "create", "name": "extra"})["response"][0]
    assert row["secret"].startswith("sk-") and row["trunc"] == row["secret"][:3] + "..." + row["secret"][-6:]
    assert row["name"] == "extra" and row["account_id"] == emulator.account_id
    assert ada.as_key(row["secret"]).call("accounts/profile", {})["profile"]["account_id"] == emulator.account_id


def test_listed_keys_never_show_secrets(ada):
    ada.call("api-keys", {"action": "create", "name": "listed"})
    rows = ada.call("api-keys", {"action": "get"})["response"]
    assert any(r["name"] == "listed" for r in rows)
    assert all("secret" not in r and "hash" not in r for r in rows)


def test_deleted_key_stops_working(ada):
    row = ada.call("api-keys", {"action": "create"})["response"][0]
    assert ada.call("api-keys", {"action": "delete", "id": row["id"]}) == {}
    assert ada.as_key(row["secret"]).call("projects/create", {}) == {"error": "user must be signed in"}


def test_expired_key_fails(ada):
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).isoformat()
    row = ada.call("api-keys", {"action": "create", "expire": past})["response"][0]
    assert ada.as_key(row["secret"]).call("projects/create", {}) == {"error": "user must be signed in"}
    assert all(r["id"] != row["id"] for r in ada.call("api-keys", {"action": "get"})["response"])


def test_key_with_future_expiry_works(ada, emulator):
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    row = ada.call("api-keys", {"action": "create", "expire": future})["response"][0]
    assert ada.as_key(row["secret"]).call("accounts/profile", {})["profile"]["account_id"] == emulator.account_id


def test_api_keys_needs_sign_in(anonymous):
    assert anonymous.call("api-keys", {"action": "get"}) == {"error": "must be signed in"}


def test_project_key_for_someone_elses_project_is_refused(ada, emulator):
    reply = ada.call("api-keys", {"action": "create", "project_id": emulator.second["project_id"]})
    assert reply == {"error": "user must be collaborator on project to manage project_id api keys"}


def project_key(api, project_id: str) -> str:
    return api.call("api-keys", {"action": "create", "project_id": project_id})["response"][0]["secret"]


def test_project_key_works_on_its_own_project(ada):
    project_id = ada.new_project()
    key = project_key(ada, project_id)
    assert ada.as_key(key).call("projects/start", {"project_id": project_id}) == {"status": "ok"}
    reply = ada.as_key(key).call("exec", {"project_id": project_id, "command": "echo", "args": ["mine"]})
    assert reply["stdout"] == "mine\n"


def test_project_key_is_refused_on_another_project_of_the_same_owner(ada, emulator):
    key = project_key(ada, ada.new_project())
    scoped = ada.as_key(key)
    assert scoped.call("projects/start", {"project_id": emulator.project_id}) == {
        "error": "must be a collaborator to start project"}
    assert scoped.call("exec", {"project_id": emulator.project_id, "command": "true"}) == {
        "error": "user must be a collaborator on the project"}


def test_project_key_on_an_account_endpoint_misbehaves_like_cocalc(ada):
    project_id = ada.new_project()
    key = project_key(ada, project_id)
    assert ada.as_key(key).call("accounts/profile", {}) == {"error": f"no account with id {project_id}"}


def test_project_key_is_refused_by_the_conat_hub(ada, emulator):
    key = project_key(ada, ada.new_project())
    response = requests.post(f"{emulator.url}/api/conat/hub", json={"name": "system.ping"}, headers=basic(key),
                             timeout=10)
    # pages/api/conat/hub.ts answers its own throw with res.json({error}): HTTP 200, like every bridge error.
    assert response.status_code == 200
    assert response.json() == {"error": "must be signed in and MUST provide an api key (cookies are not allowed)"}


def test_legacy_account_key_is_compared_exactly(grace, emulator):
    legacy = "sk_" + "L3gacyKey0123456789abcde"
    with sqlite3.connect(emulator.data_dir / "emulator.sqlite3") as db:
        db.execute("UPDATE accounts SET api_key=?, doc=json_set(doc, '$.api_key', ?) WHERE account_id=?",
                   (legacy, legacy, emulator.second["account_id"]))
    profile = grace.as_key(legacy).call("accounts/profile", {})["profile"]
    assert profile["account_id"] == emulator.second["account_id"]
    assert grace.as_key(legacy[:-1] + "X").call("accounts/profile", {}) == {"profile": {}}
    assert profile["email_address"] == "grace@example.com"


def test_using_a_key_records_last_active(ada):
    row = ada.call("api-keys", {"action": "create", "name": "activity"})["response"][0]
    assert row["last_active"] is None
    ada.as_key(row["secret"]).call("accounts/profile", {})
    listed = ada.call("api-keys", {"action": "get", "id": row["id"]})["response"]
    assert listed[0]["last_active"] is not None
