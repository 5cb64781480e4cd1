"""Limits that always hold: latex's timeout as CoCalc's schema has it, whole process trees killed at the limit
and when the emulator itself is SIGKILLed, bounded output, capped file sizes. Real bwrap, real TeX."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import threading
import time

import pytest
import requests

from attack import (
    WHOAMI,
    Exposed,
    kill_leftovers,
    processes_matching,
    start_exposed,
    wait_until_gone,
)

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

LOOP = r"\documentclass{article}\begin{document}\loop\iftrue\repeat\end{document}"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def exposed(tmp_path_factory) -> Exposed:
    running = start_exposed(tmp_path_factory.mktemp("limits"))
    yield running
    running.emulator.stop()


@pytest.fixture(scope="module")
def project(exposed) -> str:
    return exposed.ada.new_project("limits")


@pytest.mark.parametrize("timeout", [0, -1, 4, 4.99, "NaN", "abc", "", True, [30], {"s": 30}])
def test_a_latex_timeout_below_5_or_not_a_number_is_refused_before_anything_runs(exposed, project, timeout):
    name = f"t{secrets.token_hex(4)}.tex"
    reply = exposed.ada.call("latex", {"project_id": project, "path": name, "content": LOOP, "timeout": timeout})
    assert reply == {"error": "timeout must be a number of seconds, at least 5"}
    assert not (exposed.project_dir(project) / "home" / "user" / name).exists()


@pytest.mark.parametrize("timeout", [5, "7.5"])
def test_a_latex_timeout_of_at_least_5_is_accepted(exposed, project, timeout):
    reply = exposed.ada.call("latex", {"project_id": project, "path": "ok.tex", "timeout": timeout,
                                       "content": r"\documentclass{article}\begin{document}Hi\end{document}"})
    assert "url" in reply, reply


def test_an_endless_document_is_killed_at_the_limit_with_its_whole_process_tree(exposed, project):
    name = f"loop{secrets.token_hex(6)}"
    began = time.monotonic()
    try:
        reply = exposed.ada.call("latex", {"project_id": project, "path": f"{name}.tex", "content": LOOP,
                                           "timeout": 5})
        took = time.monotonic() - began
        assert reply["compile"]["event"] == "error" and "killed command 'latexmk" in reply["compile"]["error"]
        assert 5 <= took < 20, took
        assert wait_until_gone(name, within=5) == []
    finally:
        kill_leftovers(name)


def test_nothing_survives_a_sigkill_of_the_emulator(tmp_path):
    victim = start_exposed(tmp_path)
    name, nap = f"loop{secrets.token_hex(6)}", f"{1000 + secrets.randbelow(9000)}.{secrets.randbelow(10**6)}"
    try:
        project = victim.ada.new_project("killed")
        victim.ada.call("exec", {"project_id": project, "command": "sleep", "args": [nap], "async_call": True})
        compiling = threading.Thread(target=lambda: _swallow(lambda: victim.ada.call(
            "latex", {"project_id": project, "path": f"{name}.tex", "content": LOOP, "timeout": 600})), daemon=True)
        compiling.start()
        assert _wait_for(lambda: processes_matching(name) and processes_matching(nap), 20), "never started"
        os.kill(victim.pid, signal.SIGKILL)
        victim.emulator.process.wait(10)
        assert wait_until_gone(name, within=5) == [] and wait_until_gone(nap, within=5) == []
        compiling.join(10)
    finally:
        kill_leftovers(name)
        kill_leftovers(nap)
        victim.emulator.stop()


def test_exec_output_is_capped_by_default_and_says_so(exposed, project):
    reply = exposed.ada.call("exec", {"project_id": project, "command": "head -c 5000000 /dev/zero | tr '\\0' a"})
    assert reply["stdout"] == "a" * 2_000_000 + " (truncated at 2000000 characters)"


def test_exec_max_output_is_kept_and_the_rest_is_drained(exposed, project):
    reply = exposed.ada.call("exec", {"project_id": project, "command": "yes | head -c 30000000; echo done >&2",
                                      "max_output": 100})
    assert reply["stdout"] == "y\n" * 50 + " (truncated at 100 characters)" and reply["stderr"] == "done\n"


def test_a_project_process_cannot_write_a_file_over_64_mib(exposed, project):
    reply = exposed.ada.call("exec", {"project_id": project, "command": "head -c 100M /dev/zero > big.bin",
                                      "err_on_exit": False})
    assert reply["exit_code"] != 0
    assert (exposed.project_dir(project) / "home" / "user" / "big.bin").stat().st_size <= 64 * MIB


def test_a_flooding_document_stops_at_the_file_cap_while_others_are_answered(exposed, project):
    flood = (r"\documentclass{article}\begin{document}\loop\message{" + "x" * 2000 + r"}\iftrue\repeat"
             r"\end{document}")
    answers: list[float] = []
    stop = threading.Event()

    def other_account() -> None:
        while not stop.is_set():
            began = time.monotonic()
            reply = requests.post(f"{exposed.emulator.url}/api/v2/user-query", json=WHOAMI, timeout=10,
                                  auth=(exposed.emulator.second["api_key"], ""))
            assert reply.json()["query"]["accounts"]["account_id"] == exposed.emulator.second["account_id"]
            answers.append(time.monotonic() - began)
            time.sleep(0.2)

    watcher = threading.Thread(target=other_account, daemon=True)
    watcher.start()
    try:
        reply = exposed.ada.call("latex", {"project_id": project, "path": "flood.tex", "content": flood,
                                           "timeout": 120})
    finally:
        stop.set()
        watcher.join(15)
    assert reply["compile"]["event"] == "error"
    assert (exposed.project_dir(project) / "home" / "user" / "flood.log").stat().st_size <= 64 * MIB
    assert answers and max(answers) < 5, answers


def _swallow(call) -> None:
    try:
        call()
    except requests.RequestException:
        pass  # the emulator is killed under it


def _wait_for(condition, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
