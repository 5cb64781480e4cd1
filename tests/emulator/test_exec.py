"""exec: CoCalc's execute-code rules, paths inside the project, timeouts, and the remote-bind guard."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests

from emulator_helpers import Api, basic
from emulator_process import start_emulator


def run(api: Api, project_id: str, **params) -> dict:
    return api.call("exec", {"project_id": project_id, **params})


def test_command_with_whitespace_and_no_args_runs_under_bash(ada, emulator):
    reply = run(ada, emulator.project_id, command="echo $((6*7)) | tr 4 x")
    assert reply == {"type": "blocking", "stdout": "x2\n", "stderr": "", "exit_code": 0}


def test_args_are_not_shell_expanded(ada, emulator):
    assert run(ada, emulator.project_id, command="echo", args=["$HOME", "*"])["stdout"] == "$HOME *\n"


def test_bash_flag_with_args_shell_escapes_them(ada, emulator):
    assert run(ada, emulator.project_id, command="echo", args=["a b", "$x"], bash=True)["stdout"] == "a b $x\n"


def test_nonzero_exit_under_bash_names_the_original_command(ada, emulator):
    reply = run(ada, emulator.project_id, command="echo oops >&2; exit 3")
    assert reply == {"error": "Error executing command 'echo oops >&2; exit 3' with args 'undefined' -- "
                              "command 'echo oops >&2; exit 3' exited with nonzero code 3 -- stderr='oops\n'"}


def test_nonzero_exit_with_args_lists_them(ada, emulator):
    reply = run(ada, emulator.project_id, command="ls", args=["no-such-file", "x"])
    assert reply["error"].startswith("Error executing command 'ls' with args 'no-such-file,x' -- "
                                     "command ''ls' (args=no-such-file x)' exited with nonzero code 2 -- stderr='ls: ")


def test_stderr_in_the_error_is_truncated_to_1024(ada, emulator):
    reply = run(ada, emulator.project_id, command="python3 -c \"import sys; sys.stderr.write('e'*5000); sys.exit(1)\"")
    stderr = re.search(r"stderr='(.*)'$", reply["error"], re.DOTALL).group(1)
    assert stderr == "e" * 1023 + "…"


def test_err_on_exit_false_returns_output_and_code(ada, emulator):
    reply = run(ada, emulator.project_id, command="echo out; echo err >&2; exit 5", err_on_exit=False)
    assert reply == {"type": "blocking", "stdout": "out\n", "stderr": "err\n", "exit_code": 5}


def test_missing_command_is_reported_like_nodes_spawn_error(ada, emulator):
    reply = run(ada, emulator.project_id, command="no-such-command-xyz")
    assert reply["error"].startswith("Error executing command 'no-such-command-xyz' with args 'undefined' -- "
                                     "command ''no-such-command-xyz' (args=)' exited with nonzero code 1 -- "
                                     "stderr='{\"errno\":-2,\"code\":\"ENOENT\"")


def test_timeout_kills_and_names_the_bash_script(ada, emulator):
    began = time.monotonic()
    reply = run(ada, emulator.project_id, command="sleep 5; echo never", timeout=1)
    assert time.monotonic() - began < 3
    assert re.fullmatch(r"Error executing command 'sleep 5; echo never' with args 'undefined' -- "
                        r"killed command 'bash /\S+/cocalc-\w+/a\.sh'", reply["error"]), reply


def test_timeout_kills_the_whole_process_group(ada, emulator):
    project_id = ada.new_project()
    run(ada, project_id, command="sh -c 'sleep 2; touch grandchild-survived' & sleep 5", timeout=1)
    time.sleep(1.5)
    assert run(ada, project_id, command="ls", args=["-a"])["stdout"].split() == [".", ".."]


def test_timeout_of_a_plain_command_names_command_and_args(ada, emulator):
    reply = run(ada, emulator.project_id, command="sleep", args=["5"], timeout=1)
    assert reply == {"error": "Error executing command 'sleep' with args '5' -- killed command 'sleep 5'"}


def test_max_output_truncates(ada, emulator):
    reply = run(ada, emulator.project_id, command="echo", args=["abcdefgh"], max_output=3)
    assert reply["stdout"] == "abc (truncated at 3 characters)"


def test_runs_in_home_with_home_set(ada, emulator):
    reply = run(ada, emulator.project_id, command="pwd; echo $HOME")
    cwd, home = reply["stdout"].split()
    assert cwd == home == "/home/user"  # the sandbox binds the project's home where CoCalc has it


def test_relative_path_is_under_home_and_env_is_passed(ada, emulator):
    run(ada, emulator.project_id, command="mkdir", args=["-p", "sub/dir"])
    reply = run(ada, emulator.project_id, command="pwd; echo $GREETING", path="sub/dir", env={"GREETING": "hello"})
    assert reply["stdout"].endswith("/home/user/sub/dir\nhello\n")


def test_absolute_path_is_inside_the_project(ada, emulator):
    reply = run(ada, emulator.project_id, command="pwd; touch made-in-tmp", path="/tmp")
    assert reply["stdout"].strip() == "/tmp"  # as the project sees it, inside the sandbox
    assert (emulator.data_dir / "projects" / emulator.project_id / "tmp" / "made-in-tmp").exists()


def test_path_escaping_the_project_is_refused(ada, emulator):
    for path in ("../../..", "/etc", "/home/user/../../../etc"):
        reply = run(ada, emulator.project_id, command="pwd", path=path)
        assert "outside the project" in reply["error"], path


def test_symlink_out_of_the_project_is_refused_as_a_path(ada, emulator):
    run(ada, emulator.project_id, command="ln", args=["-sfn", "/etc", "escape"])
    reply = run(ada, emulator.project_id, command="ls", path="escape")
    assert "outside the project" in reply["error"]


def test_exec_autostarts_the_project(ada):
    project_id = ada.new_project()
    assert run(ada, project_id, command="true")["exit_code"] == 0
    assert ada.state(project_id) == "running"


def test_exec_error_texts(anonymous, ada, emulator):
    assert run(anonymous, emulator.project_id, command="true") == {"error": "must be signed in"}
    assert run(ada, emulator.second["project_id"], command="true") == {
        "error": "user must be a collaborator on the project"}
    assert run(ada, "not-a-uuid", command="true") == {
        "error": "invalid account_id or project_id -- all must be valid uuid's"}


def test_concurrent_exec_does_not_block_other_requests(ada, emulator):
    sleeper = threading.Thread(target=run, args=(ada, emulator.project_id), kwargs={"command": "sleep 1.5"})
    sleeper.start()
    time.sleep(0.2)
    began = time.monotonic()
    assert "profile" in ada.call("accounts/profile", {})
    assert time.monotonic() - began < 0.5
    sleeper.join()


@pytest.fixture(scope="module")
def impatient_hub(tmp_path_factory):
    """An emulator whose hub->project limit is 1 s instead of CoCalc's 60 s."""
    running = start_emulator(tmp_path_factory.mktemp("impatient"), "--project-call-timeout", "1")
    yield Api(running.url, running.api_key), running
    running.stop()


def test_exec_past_the_hub_limit_answers_error_undefined(impatient_hub):
    api, running = impatient_hub
    reply = run(api, running.project_id, command="sleep 3", timeout=10)
    assert reply == {"error": "undefined"}


def test_remote_bind_refuses_exec_unless_allowed(tmp_path):
    running = start_emulator(tmp_path / "remote", "--host", "0.0.0.0")
    try:
        api = Api(running.url, running.api_key)
        reply = run(api, running.project_id, command="echo", args=["hi"])
        assert "--allow-remote-exec" in reply["error"]
        reply = api.call("latex", {"path": "d.tex", "content": "x", "command": "true",
                                   "project_id": running.project_id})
        assert "--allow-remote-exec" in reply["error"]
        response = requests.post(f"{running.url}/api/v2/projects/start", json={"project_id": running.project_id},
                                 headers=basic(running.api_key), timeout=10)
        assert response.json() == {"status": "ok"}
    finally:
        running.stop()


def test_remote_bind_with_allow_remote_exec_runs_commands(tmp_path):
    running = start_emulator(tmp_path / "remote-ok", "--host", "0.0.0.0", "--allow-remote-exec")
    try:
        reply = run(Api(running.url, running.api_key), running.project_id, command="echo", args=["hi"])
        assert reply["stdout"] == "hi\n"
    finally:
        running.stop()


def test_async_call_returns_a_running_job_then_async_get_awaits_it(ada, emulator):
    job = run(ada, emulator.project_id, command="sleep 0.3; echo done", async_call=True)
    assert job["type"] == "async" and job["status"] == "running" and isinstance(job["pid"], int)
    assert set(job) >= {"job_id", "start", "stdout", "stderr", "exit_code"}
    finished = run(ada, emulator.project_id, async_get=job["job_id"], async_await=True)
    assert finished["status"] == "completed" and finished["stdout"] == "done\n" and finished["exit_code"] == 0
    assert finished["elapsed_s"] >= 0.3


def test_async_job_with_nonzero_exit_is_an_error_status(ada, emulator):
    job = run(ada, emulator.project_id, command="echo bad >&2; exit 4", async_call=True)
    finished = run(ada, emulator.project_id, async_get=job["job_id"], async_await=True)
    assert finished["status"] == "error" and finished["stderr"] == "bad\n" and finished["exit_code"] == 1


def test_async_get_of_an_unknown_job(ada, emulator):
    reply = run(ada, emulator.project_id, async_get="nope")
    assert reply == {"error": "Error executing command 'undefined' with args 'undefined' -- "
                              "Error: Async operation 'nope' does not exist."}
