"""Two accounts cannot reach each other's projects, through any endpoint."""

from __future__ import annotations

from emulator_helpers import TEX_HELLO


def test_grace_cannot_start_stop_or_touch_adas_project(grace, emulator):
    target = {"project_id": emulator.project_id}
    assert grace.call("projects/start", target) == {"error": "must be a collaborator to start project"}
    assert grace.call("projects/stop", target) == {"error": "must be a collaborator to stop project"}
    assert grace.call("projects/touch", target) == {"error": "must be a collaborator to stop project"}
    assert grace.call("projects/delete", target) == {"error": "must be an owner to delete a project"}


def test_grace_cannot_exec_or_latex_in_adas_project(grace, emulator):
    assert grace.call("exec", {"project_id": emulator.project_id, "command": "true"}) == {
        "error": "user must be a collaborator on the project"}
    assert grace.call("latex", {"path": "x.tex", "content": TEX_HELLO, "project_id": emulator.project_id}) == {
        "error": "must be signed in as a collaborator on the project"}


def test_grace_cannot_read_or_write_adas_project_by_user_query(grace, emulator):
    read = grace.call("user-query", {"query": {"projects_all": {"project_id": emulator.project_id, "title": None}}})
    assert read["error"].startswith("FATAL: you do not have read access to this project")
    write = grace.call("user-query", {"query": {"projects": {"project_id": emulator.project_id, "title": "x"}}})
    assert write == {"error": "FATAL: user must be an admin"}


def test_grace_cannot_mint_a_key_for_adas_project(grace, emulator):
    reply = grace.call("api-keys", {"action": "create", "project_id": emulator.project_id})
    assert reply == {"error": "user must be collaborator on project to manage project_id api keys"}


def test_listings_show_only_own_projects(ada, grace, emulator):
    ada_ids = {p["project_id"] for p in ada.call("projects/get", {"limit": 1000})}
    grace_ids = {p["project_id"] for p in grace.call("projects/get", {"limit": 1000})}
    assert emulator.project_id in ada_ids and emulator.second["project_id"] in grace_ids
    assert not ada_ids & grace_ids
    rows = grace.call("user-query", {"query": {"projects_all": [{"project_id": None}]}})["query"]["projects_all"]
    assert {r["project_id"] for r in rows}.isdisjoint(ada_ids)


def test_grace_cannot_read_adas_account_row(grace, emulator):
    query = {"accounts": {"account_id": emulator.account_id, "email_address": None}}
    reply = grace.call("user-query", {"query": query})
    assert reply == {"query": {}}


def test_projects_live_in_separate_directories(ada, grace, emulator):
    ada.call("exec", {"project_id": emulator.project_id, "command": "echo secret > ada.txt"})
    listing = grace.call("exec", {"project_id": emulator.second["project_id"], "command": "ls"})
    assert "ada.txt" not in listing["stdout"]
