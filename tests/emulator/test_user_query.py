"""user-query get/set semantics on accounts, projects and projects_all."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator_helpers import Api
from emulator_process import start_emulator


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    """An emulator of its own, for set queries that change the seeded accounts."""
    running = start_emulator(tmp_path_factory.mktemp("user-query"))
    yield Api(running.url, running.api_key), running
    running.stop()


def q(api: Api, query: object) -> dict:
    return api.call("user-query", {"query": query})


def test_single_object_get_keeps_other_nulls(ada, emulator):
    reply = q(ada, {"accounts": {"account_id": None, "name": None}})
    assert reply == {"query": {"accounts": {"account_id": emulator.account_id, "name": None}}}


def test_schema_defaults_replace_nulls(ada):
    reply = q(ada, {"accounts": {"groups": None, "autosave": None, "profile": None}})
    assert reply["query"]["accounts"] == {"groups": [], "autosave": 45, "profile": {"color": "rgb(170,170,170)"}}


def test_project_defaults_fill_title_description_users(ada, emulator):
    reply = q(ada, {"projects_all": {"project_id": emulator.project_id, "title": None, "users": None,
                                     "description": None}})
    project = reply["query"]["projects_all"]
    assert project["title"] == "Emulator project" and project["description"] == ""
    assert project["users"] == {emulator.account_id: {"group": "owner"}}


def test_array_results_drop_null_fields(ada):
    ada.new_project("nameless")
    reply = q(ada, {"projects_all": [{"project_id": None, "name": None, "title": None}]})
    rows = reply["query"]["projects_all"]
    assert rows and all("name" not in row and "project_id" in row for row in rows)


def test_no_match_gives_empty_query(ada):
    assert q(ada, {"accounts": {"account_id": None, "first_name": "Nobody"}}) == {"query": {}}


def test_filter_with_comparison(ada, emulator):
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    newer = q(ada, {"projects_all": [{"project_id": None, "last_edited": {">=": past}}]})["query"]["projects_all"]
    assert emulator.project_id in {row["project_id"] for row in newer}
    assert q(ada, {"projects_all": [{"project_id": None, "last_edited": {">": future}}]}) == {
        "query": {"projects_all": []}}
    different = q(ada, {"projects_all": [{"project_id": None, "title": {"!=": "Emulator project"}}]})
    assert emulator.project_id not in {row["project_id"] for row in different["query"]["projects_all"]}


def test_projects_all_state_shape(ada):
    project_id = ada.new_project()
    rows = q(ada, {"projects_all": [{"project_id": None, "title": None, "state": None}]})["query"]["projects_all"]
    row = next(r for r in rows if r["project_id"] == project_id)
    assert row["state"]["state"] == "opened" and dt.datetime.fromisoformat(row["state"]["time"].replace("Z", "+00:00"))


def test_projects_lists_only_my_projects_newest_first(ada, emulator):
    newest = ada.new_project("newest")
    rows = q(ada, {"projects": [{"project_id": None, "last_edited": None}]})["query"]["projects"]
    assert rows[0]["project_id"] == newest
    assert emulator.second["project_id"] not in {row["project_id"] for row in rows}


def test_reading_someone_elses_project_is_refused(ada, emulator):
    reply = q(ada, {"projects": {"project_id": emulator.second["project_id"], "title": None}})
    assert reply == {"error": "FATAL: you do not have read access to this project -- "
                              f"account_id={emulator.account_id}, project_id_=undefined"}


def test_array_of_two_queries_is_not_implemented(ada):
    reply = q(ada, {"projects": [{"project_id": None}, {"project_id": None}]})
    assert reply == {"error": "FATAL: array of length > 1 not yet implemented"}


def test_non_object_query_is_invalid(ada):
    assert q(ada, {"accounts": 5}) == {"error": "FATAL: invalid user_query of 'accounts' -- query must be an object"}


def test_anonymous_set_is_refused(anonymous):
    assert q(anonymous, {"accounts": {"first_name": "X"}}) == {"error": "FATAL: no anonymous set queries"}


def test_email_address_cannot_be_set(ada):
    assert q(ada, {"accounts": {"email_address": "x@example.com"}}) == {
        "error": "FATAL: changing accounts.email_address not allowed"}


def test_first_name_must_be_nonempty(ada):
    assert q(ada, {"accounts": {"first_name": ""}}) == {"error": "first_name must be nonempty"}


def test_set_first_name_then_read_it_back(private):
    api, _ = private
    assert q(api, {"accounts": {"first_name": "Augusta", "last_name": "King"}}) == {"query": {}}
    assert q(api, {"accounts": {"first_name": None, "last_name": None}}) == {
        "query": {"accounts": {"first_name": "Augusta", "last_name": "King"}}}


def test_set_profile_merges_maps(private):
    api, _ = private
    q(api, {"accounts": {"profile": {"color": "#123456"}}})
    q(api, {"accounts": {"profile": {"image": "data:x"}}})
    profile = q(api, {"accounts": {"profile": None}})["query"]["accounts"]["profile"]
    assert profile == {"color": "#123456", "image": "data:x"}


def test_set_cannot_reach_another_account(private):
    api, running = private
    second = Api(running.url, running.second["api_key"])
    q(api, {"accounts": {"account_id": running.second["account_id"], "last_name": "Intruder"}})
    assert q(second, {"accounts": {"last_name": None}}) == {"query": {"accounts": {"last_name": "Hopper"}}}


def test_set_project_title_and_description(ada):
    project_id = ada.new_project("before")
    assert q(ada, {"projects": {"project_id": project_id, "title": "after", "description": "d"}}) == {"query": {}}
    reply = q(ada, {"projects": {"project_id": project_id, "title": None, "description": None}})
    assert reply["query"]["projects"] == {"project_id": project_id, "title": "after", "description": "d"}


def test_set_on_someone_elses_project_is_refused(ada, emulator):
    reply = q(ada, {"projects": {"project_id": emulator.second["project_id"], "title": "mine now"}})
    assert reply == {"error": "FATAL: user must be an admin"}


def test_set_project_needs_project_id(ada):
    assert q(ada, {"projects": {"title": "x"}}) == {"error": "FATAL: must specify projects.project_id"}


def test_set_unsettable_project_field(ada):
    project_id = ada.new_project()
    assert q(ada, {"projects": {"project_id": project_id, "last_edited": "2020-01-01"}}) == {
        "error": "FATAL: changing projects.last_edited not allowed"}


def test_deleted_project_leaves_projects_get(ada):
    project_id = ada.new_project()
    q(ada, {"projects": {"project_id": project_id, "deleted": True}})
    assert project_id not in {p["project_id"] for p in ada.call("projects/get", {"limit": 300})}


def test_hidden_project_leaves_projects_get_but_not_user_query(ada):
    project_id = ada.new_project()
    me = ada.call("accounts/profile", {})["profile"]["account_id"]
    q(ada, {"projects": {"project_id": project_id, "users": {me: {"hide": True}}}})
    assert project_id not in {p["project_id"] for p in ada.call("projects/get", {"limit": 300})}
    rows = q(ada, {"projects_all": [{"project_id": None, "users": None}]})["query"]["projects_all"]
    row = next(r for r in rows if r["project_id"] == project_id)
    assert row["users"][me] == {"group": "owner", "hide": True}


def test_action_request_starts_the_project(ada):
    project_id = ada.new_project()
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    reply = q(ada, {"projects": {"project_id": project_id, "action_request": {"action": "start", "time": now}}})
    assert reply == {"query": {}}
    assert ada.state(project_id) == "running"
