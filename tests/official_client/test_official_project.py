"""Every project method, through ``cocalc_api.Project`` (its own methods, else its ``call``), in the project only."""

from __future__ import annotations

import cocalc_api
import pytest

from secret_guard import register_secret


@pytest.fixture(scope="module")
def project_key(hub, emulator, project_id):
    """A project-specific key of ``project_id``, minted through v2 api-keys."""
    import requests

    from emulator_helpers import basic
    reply = requests.post(f"{emulator.url}/api/v2/api-keys", json={"action": "create", "project_id": project_id},
                          headers=basic(emulator.api_key), timeout=30).json()
    secret = reply["response"][0]["secret"]
    register_secret(secret)
    return secret


def test_ping_and_test(project, project_id):
    assert isinstance(project.system.ping()["now"], int)
    assert project.system.test()["project_id"] == project_id


def test_exec_runs_in_home(project):
    reply = project.system.exec("echo", args=["hi"])
    assert reply == {"type": "blocking", "stdout": "hi\n", "stderr": "", "exit_code": 0}
    assert project.system.exec("pwd")["stdout"].rstrip().endswith("/home/user")


def test_exec_failure_is_execute_codes_rejected_string(project):
    with pytest.raises(RuntimeError) as failure:
        project.system.exec("false")
    assert str(failure.value) == "command ''false' (args=)' exited with nonzero code 1 -- stderr=''"
    assert project.call("system.exec", [{"command": "false", "err_on_exit": False}])["exit_code"] == 1


def test_write_read_list_rename_move_delete(project):
    assert project.call("system.writeTextFileToProject", [{"path": "docs/a.txt", "content": "é"}]) is None
    assert project.call("system.readTextFileFromProject", [{"path": "docs/a.txt"}]) == "é"
    [entry] = project.call("system.listing", [{"path": "docs"}])
    assert entry["name"] == "a.txt" and entry["size"] == 2 and "isdir" not in entry
    assert project.call("system.renameFile", [{"src": "docs/a.txt", "dest": "docs/b.txt"}]) is None
    assert project.call("system.moveFiles", [{"paths": ["docs/b.txt"], "dest": "archive"}]) is None
    assert [e["name"] for e in project.call("system.listing", [{"path": "archive"}])] == ["b.txt"]
    assert project.call("system.deleteFiles", [{"paths": ["archive", "docs"]}]) is None
    names = [e["name"] for e in project.call("system.listing", [{"path": ""}])]
    assert "archive" not in names and "docs" not in names


def test_listing_hides_dot_files_unless_asked_and_counts_directory_entries(project):
    project.call("system.writeTextFileToProject", [{"path": "d/.hidden", "content": ""}])
    project.call("system.writeTextFileToProject", [{"path": "d/shown", "content": ""}])
    [directory] = [e for e in project.call("system.listing", [{"path": ""}]) if e["name"] == "d"]
    assert directory["isdir"] is True and directory["size"] == 1
    names = [e["name"] for e in project.call("system.listing", [{"path": "d", "hidden": True}])]
    assert names == [".hidden", "shown"]


def test_reading_a_missing_file_is_node_enoent(project):
    with pytest.raises(RuntimeError) as failure:
        project.call("system.readTextFileFromProject", [{"path": "missing.txt"}])
    assert str(failure.value) == "Error: ENOENT: no such file or directory, open '/home/user/missing.txt'"


def test_realpath_resolves_links_inside_home(project):
    project.system.exec("mkdir -p real && ln -sfn real link")
    assert project.call("system.realpath", ["link"]) == "real"
    assert project.call("system.realpath", ["real"]) == "real"
    project.system.exec("ln -sfn /etc outside")
    assert project.call("system.realpath", ["outside"]) == "outside"  # CoCalc: the input, for links out of HOME


@pytest.mark.parametrize("target", ["/etc", "/tmp"])  # the host's /tmp, not the project's
def test_a_symlink_out_of_the_project_is_not_followed(project, target):
    project.system.exec(f"ln -sfn {target} escape")
    with pytest.raises(RuntimeError, match="outside the project"):
        project.call("system.readTextFileFromProject", [{"path": "escape/hostname"}])
    [entry] = [e for e in project.call("system.listing", [{"path": ""}]) if e["name"] == "escape"]
    assert entry["issymlink"] is True and "isdir" not in entry  # lstat only: nothing about /etc is shown


def test_project_key_works_without_a_project_id(emulator, project_key, project_id):
    scoped = cocalc_api.Project(api_key=project_key, host=emulator.url)
    assert scoped.system.test()["project_id"] == project_id


def test_project_key_on_the_wrong_project_is_refused(emulator, project_key):
    wrong = cocalc_api.Project(api_key=project_key, host=emulator.url, project_id=emulator.project_id)
    with pytest.raises(RuntimeError, match="^project specific api key must match requested project$"):
        wrong.system.ping()


def test_another_accounts_project_is_refused(emulator):
    theirs = cocalc_api.Project(api_key=emulator.api_key, host=emulator.url, project_id=emulator.second["project_id"])
    with pytest.raises(RuntimeError, match="^user must be a collaborator on the project$"):
        theirs.system.exec("id")


def test_no_key_is_refused(emulator, project_id):
    nobody = cocalc_api.Project(api_key="", host=emulator.url, project_id=project_id)
    with pytest.raises(RuntimeError, match="^must sign in as project or account$"):
        nobody.system.ping()
