"""Jupyter through the official client: real ipykernels in the project, CoCalc's output shapes and its cache."""

from __future__ import annotations

import time

import pytest


def test_kernels_of_a_project_include_python3(hub, project_id):
    kernels = hub.jupyter.kernels(project_id=project_id)
    assert {"name": "python3", "language": "python"}.items() <= next(
        k for k in kernels if k["name"] == "python3").items()


def test_kernels_without_a_project_need_the_global_pool_which_is_off(hub):
    with pytest.raises(RuntimeError, match="^Error: Jupyter API is not enabled on this server.$"):
        hub.jupyter.kernels()


def test_kernels_of_another_accounts_project_are_refused(hub, emulator):
    with pytest.raises(RuntimeError, match="^Error: permission denied -- user must be collaborator on project$"):
        hub.jupyter.kernels(project_id=emulator.second["project_id"])


def test_execute_answers_the_last_outputs_without_counts(hub, project_id):
    reply = hub.jupyter.execute(input="a * 2", history=["a = 21"], kernel="python3", project_id=project_id)
    assert reply["output"] == [{"data": {"text/plain": "42"}}]
    assert reply["created"].endswith("Z")


def test_an_identical_request_is_answered_from_the_cache(hub, project_id):
    code = "import time; print(time.time_ns())"
    first = hub.jupyter.execute(input=code, kernel="python3", project_id=project_id)
    again = hub.jupyter.execute(input=code + "  ", kernel="Python3 ", project_id=project_id)  # trimmed, lower-cased
    assert again == first
    fresh = hub.call("jupyter.execute", [{"input": code, "kernel": "python3", "project_id": project_id,
                                          "noCache": True}], timeout=60000)
    assert fresh["output"] != first["output"]


def test_errors_keep_their_traceback(hub, project_id):
    [error] = hub.jupyter.execute(input="1/0", kernel="python3", project_id=project_id)["output"]
    assert error["ename"] == "ZeroDivisionError" and error["traceback"]


def test_execute_on_another_accounts_project_is_refused(hub, emulator):
    with pytest.raises(RuntimeError, match="^Error: permission denied -- user must be collaborator on project$"):
        hub.jupyter.execute(input="1", kernel="python3", project_id=emulator.second["project_id"])


def test_project_jupyter_execute_runs_in_the_given_path(project):
    project.system.exec("mkdir -p sub")
    [output] = project.system.jupyter_execute(input="import os; print(os.getcwd())", kernel="python3", path="sub")
    assert output["name"] == "stdout" and output["text"].rstrip().endswith("/home/user/sub")


def test_list_and_stop_the_projects_kernels(project):
    project.system.jupyter_execute(input="1", kernel="python3")
    deadline = time.monotonic() + 60
    while not (running := project.system.list_jupyter_kernels()) and time.monotonic() < deadline:
        time.sleep(0.2)  # the pool refills in the background
    assert {k["kernel_name"] for k in running} == {"python3"}
    assert all(k["connectionFile"].startswith("/tmp/") for k in running)
    pid = running[0]["pid"]
    assert project.system.stop_jupyter_kernel(pid=pid) == {"success": True}
    assert project.system.stop_jupyter_kernel(pid=pid) == {"success": False}
    assert pid not in [k["pid"] for k in project.system.list_jupyter_kernels()]
