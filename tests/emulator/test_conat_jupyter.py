"""The stateless Jupyter API over raw HTTP: v2 jupyter/kernels and jupyter/execute, and the per-cell and total limits."""

from __future__ import annotations

import pytest
import requests

from emulator_helpers import basic


@pytest.fixture(scope="module")
def project_id(ada):
    return ada.new_project("jupyter v2")


def jupyter_execute(emulator, project_id: str, **opts):
    body = {"project_id": project_id, "name": "system.jupyterExecute", "timeout": 60000,
            "args": [{"kernel": "python3", **opts}]}
    response = requests.post(f"{emulator.url}/api/conat/project", json=body, headers=basic(emulator.api_key),
                             timeout=90)
    assert response.status_code == 200
    return response.json()


def test_v2_kernels_of_a_project(ada, project_id):
    reply = ada.call("jupyter/kernels", {"project_id": project_id})
    assert reply["success"] is True and "python3" in [k["name"] for k in reply["kernels"]]


def test_v2_kernels_without_a_project_is_the_disabled_global_pool(anonymous):
    assert anonymous.call("jupyter/kernels", {}) == {"error": "Jupyter API is not enabled on this server."}


def test_v2_kernels_of_a_project_need_a_collaborator(ada, grace, anonymous, project_id):
    assert grace.call("jupyter/kernels", {"project_id": project_id}) == {
        "error": "permission denied -- user must be collaborator on project"}
    assert anonymous.call("jupyter/kernels", {"project_id": project_id}) == {
        "error": "account_id must be specified -- make sure you are signed in"}


def test_v2_execute_then_the_same_request_and_a_hash_hit_the_cache(ada, project_id):
    request = {"input": "import random; random.random()", "kernel": "python3", "project_id": project_id}
    first = ada.call("jupyter/execute", request)
    assert first["success"] is True and list(first["output"][0]) == ["data"]
    assert ada.call("jupyter/execute", request) == first
    import hashlib
    import json
    key = json.dumps([[], request["input"], "python3", project_id, None], separators=(",", ":"))
    assert ada.call("jupyter/execute", {"hash": hashlib.sha1(key.encode()).hexdigest()}) == first
    assert ada.call("jupyter/execute", {**request, "noCache": True})["output"] != first["output"]


def test_v2_execute_with_an_unknown_hash_is_an_empty_success(ada):
    assert ada.call("jupyter/execute", {"hash": "0" * 40}) == {"success": True}


@pytest.mark.parametrize(("body", "error"), [
    ({}, "input or hash must not be null"),
    ({"input": "1"}, "kernel must be specified in hash is not specified"),
    ({"input": "1", "kernel": "python3"}, "Jupyter API is not enabled on this server."),
])
def test_v2_execute_checks(ada, body, error):
    assert ada.call("jupyter/execute", body) == {"error": error}


def test_v2_execute_needs_a_collaborator(grace, project_id):
    assert grace.call("jupyter/execute", {"input": "1", "kernel": "python3", "project_id": project_id}) == {
        "error": "permission denied -- user must be collaborator on project"}


def test_a_cell_over_its_time_limit_is_interrupted(emulator, project_id):
    reply = jupyter_execute(emulator, project_id, input="import time; time.sleep(30)",
                            limits={"timeout_ms_per_cell": 1000})
    assert reply == {"error": "Timeout Error: execution time limit = 1 seconds"}


def test_the_total_time_limit_covers_history_and_input(emulator, project_id):
    reply = jupyter_execute(emulator, project_id, input="1", history=["import time; time.sleep(1.2)"],
                            limits={"timeout_ms": 1000, "timeout_ms_per_cell": 5000})
    assert reply == {"error": "Error: Total time limit (=1 seconds) exceeded"}


def test_output_over_the_cell_limit_becomes_a_note(emulator, project_id):
    reply = jupyter_execute(emulator, project_id, input="print('x' * 100)", limits={"max_output_per_cell": 50})
    assert reply == [{"name": "stdout", "output_type": "stream",
                      "text": ["Output truncated since it exceeded the cell output limit of 50 characters"]}]


def test_an_unknown_kernel_is_an_error(emulator, project_id):
    reply = jupyter_execute(emulator, project_id, input="1", kernel="no-such-kernel")
    assert reply == {"error": "Error: No spec available for kernel 'no-such-kernel'"}


@pytest.fixture(scope="module")
def impatient_emulator(tmp_path_factory):
    """An emulator whose hub gives up on a project call after 1 s instead of CoCalc's 60 s."""
    from emulator_process import start_emulator

    running = start_emulator(tmp_path_factory.mktemp("impatient"), "--project-call-timeout", "1")
    yield running
    running.stop()


def test_the_hub_to_project_limit_answers_the_bare_timeout(impatient_emulator):
    running = impatient_emulator
    body = {"input": "import time; time.sleep(2.5)", "kernel": "python3", "project_id": running.project_id}
    hub = requests.post(f"{running.url}/api/conat/hub", json={"name": "jupyter.execute", "args": [body]},
                        headers=basic(running.api_key), timeout=60).json()
    assert hub == {"error": "timeout"}  # callProject rejects with a string: `${err}` keeps it, no prefix
    v2 = requests.post(f"{running.url}/api/v2/jupyter/execute", json={**body, "input": "import time; time.sleep(2.6)"},
                       headers=basic(running.api_key), timeout=60).json()
    assert v2 == {"error": "undefined"}  # `${err.message}` of a string


def test_a_killed_emulator_leaves_no_kernel_behind(tmp_path):
    import signal
    import subprocess
    import time
    from pathlib import Path

    from emulator_process import start_emulator

    running = start_emulator(tmp_path / "data")
    try:
        reply = requests.post(f"{running.url}/api/v2/jupyter/execute", headers=basic(running.api_key), timeout=60,
                              json={"input": "1", "kernel": "python3", "project_id": running.project_id}).json()
        assert reply["success"] is True

        def alive(pid: int) -> bool:  # a zombie (dead, not yet reaped by init) counts as gone
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return False
            return state != "Z"

        deadline = time.monotonic() + 30
        kernels: list[int] = []
        while not kernels and time.monotonic() < deadline:
            time.sleep(0.2)  # the pool refills in the background
            found = subprocess.run(["pgrep", "-P", str(running.process.pid)], capture_output=True, text=True,
                                   check=False)
            kernels = [int(pid) for pid in found.stdout.split()]
        assert kernels, "the pool should hold a kernel"
        running.process.send_signal(signal.SIGKILL)
        running.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in kernels) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in kernels)
    finally:
        running.stop()
