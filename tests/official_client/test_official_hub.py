"""Every hub method the official client calls, through ``cocalc_api.Hub``, and how each one fails."""

from __future__ import annotations

import time

import cocalc_api
import pytest


def test_ping_is_the_server_time_in_ms(hub):
    before = time.time() * 1000
    assert before - 1000 <= hub.system.ping()["now"] <= time.time() * 1000 + 1000


def test_test_names_the_account_of_the_key(hub, emulator):
    reply = hub.system.test()
    assert reply["account_id"] == emulator.account_id and isinstance(reply["server_time"], int)


def test_get_names_includes_unknown_ids_as_deleted_users(hub, emulator):
    unknown = "00000000-0000-4000-8000-000000000000"
    names = hub.system.get_names([emulator.second["account_id"], unknown])
    assert names[emulator.second["account_id"]] == {"first_name": "Grace", "last_name": "Hopper"}
    assert names[unknown] == {"first_name": "Deleted", "last_name": "User"}


def test_user_search_by_name_hides_the_email_address(hub, emulator):
    [found] = hub.system.user_search("grace hop")
    assert found["account_id"] == emulator.second["account_id"] and "email_address" not in found


def test_user_search_by_exact_email_shows_it(hub, emulator):
    [found] = hub.system.user_search("grace@example.com")
    assert found["email_address"] == "grace@example.com" and found["account_id"] == emulator.second["account_id"]
    assert hub.system.user_search("nobody-at-all") == []


def test_create_project_returns_its_id_and_get_lists_it(hub):
    project_id = hub.projects.create_project(title="made by cocalc_api", description="d")
    [listed] = hub.projects.get(project_id=project_id)
    assert listed["title"] == "made by cocalc_api" and listed["state"]["state"] == "opened"


def test_start_state_stop_follow_the_project(hub):
    project_id = hub.projects.create_project()
    assert hub.projects.start(project_id) is None
    assert hub.projects.state(project_id)["state"] == "running"
    status = hub.projects.status(project_id)
    assert status["disk_MB"] >= 0 and status["start_ts"] > 0
    assert hub.projects.stop(project_id) is None
    assert hub.projects.state(project_id)["state"] == "opened"
    assert hub.projects.status(project_id) == {}


def test_touch_starts_the_project(hub):
    project_id = hub.projects.create_project()
    assert hub.projects.touch(project_id) is None
    assert hub.projects.state(project_id)["state"] == "running"


@pytest.mark.parametrize(("method", "text"), [
    ("start", "must be collaborator on project to start it"),
    ("stop", "must be collaborator on project to stop it"),
    ("touch", "must be collaborator on project to touch it"),
    ("state", "must be collaborator on project to get state"),
    ("status", "must be collaborator on project to get status"),
    ("delete", "must be an owner to delete a project"),
])
def test_project_methods_on_another_accounts_project_fail(hub, emulator, method, text):
    with pytest.raises(RuntimeError) as failure:
        getattr(hub.projects, method)(emulator.second["project_id"])
    assert str(failure.value) == f"Error: {text}"


def test_delete_marks_the_project_deleted(hub):
    project_id = hub.projects.create_project(title="to delete")
    assert hub.projects.delete(project_id) is None
    [listed] = hub.projects.get(project_id=project_id, all=True, fields=["project_id", "deleted"])
    assert listed["deleted"] is True


def test_add_and_remove_a_collaborator(hub, grace_hub, emulator):
    project_id = hub.projects.create_project(title="shared")
    grace = emulator.second["account_id"]
    assert hub.projects.add_collaborator(project_id, grace) == {"project_id": project_id}
    assert grace_hub.projects.state(project_id)["state"] == "opened"
    assert hub.projects.remove_collaborator(project_id, grace) is None
    with pytest.raises(RuntimeError, match="must be collaborator on project to get state"):
        grace_hub.projects.state(project_id)


def test_adding_to_someone_elses_project_is_refused(hub, emulator):
    target = emulator.second["project_id"]
    with pytest.raises(RuntimeError) as failure:
        hub.projects.add_collaborator(target, emulator.account_id)
    assert str(failure.value) == f"Error: user {emulator.account_id} does not have write access to project {target}"


def test_an_owner_cannot_be_removed(hub, emulator, project_id):
    with pytest.raises(RuntimeError) as failure:
        hub.projects.remove_collaborator(project_id, emulator.account_id)
    assert str(failure.value) == "Error: Cannot remove an owner. Demote to collaborator first."


def test_copy_path_between_projects_copies_files_and_directories(hub, emulator, project_id):
    project = cocalc_api.Project(api_key=emulator.api_key, host=emulator.url, project_id=project_id)
    project.call("system.writeTextFileToProject", [{"path": "src/a.txt", "content": "alpha"}])
    target = hub.projects.create_project(title="copy target")
    assert hub.projects.copy_path_between_projects(project_id, "src", target, "dst") is None
    copied = cocalc_api.Project(api_key=emulator.api_key, host=emulator.url, project_id=target)
    assert copied.call("system.readTextFileFromProject", [{"path": "dst/a.txt"}]) == "alpha"


def test_copy_path_from_a_project_of_someone_else_is_refused(hub, emulator, project_id):
    with pytest.raises(RuntimeError) as failure:
        hub.projects.copy_path_between_projects(emulator.second["project_id"], "x", project_id)
    assert str(failure.value) == "Error: user must be collaborator on source project"
    with pytest.raises(RuntimeError) as failure:
        hub.projects.copy_path_between_projects(project_id, "x", emulator.second["project_id"])
    assert str(failure.value) == "Error: user must be collaborator on target project"


def test_db_query_answers_without_the_query_wrapper(hub, emulator):
    assert hub.db.query({"accounts": {"account_id": None, "first_name": None}}) == {
        "accounts": {"account_id": emulator.account_id, "first_name": "Ada"}}


def test_db_set_query_answers_an_empty_object(hub):
    assert hub.db.query({"accounts": {"first_name": "Ada"}}) == {}


def test_db_touch_answers_null_and_checks_the_project(hub, emulator, project_id):
    assert hub.call("db.touch", [{"project_id": project_id}]) is None
    with pytest.raises(RuntimeError, match="^Error: user must be collaborator on project$"):
        hub.call("db.touch", [{"project_id": emulator.second["project_id"]}])


def test_no_key_is_an_error_not_an_http_failure(emulator):
    anonymous = cocalc_api.Hub(api_key="", host=emulator.url)
    with pytest.raises(RuntimeError, match="must be signed in and MUST provide an api key"):
        anonymous.system.ping()



def test_copy_path_into_itself_is_refused(hub, emulator, project_id):
    project = cocalc_api.Project(api_key=emulator.api_key, host=emulator.url, project_id=project_id)
    project.call("system.writeTextFileToProject", [{"path": "src/a.txt", "content": "alpha"}])
    with pytest.raises(RuntimeError, match="^Error: cannot copy 'src' into itself"):
        hub.projects.copy_path_between_projects(project_id, "src", project_id, "src/inner")
