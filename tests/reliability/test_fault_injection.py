"""The emulator's fault mode itself: off unless asked for, loopback only, no credentials, and faithful counts."""

from __future__ import annotations

import socket

import pytest
import requests

from cocalc_magics import CoCalcSession, HTTPStatusError
from lab import start_test_emulator


def test_fault_control_is_an_ordinary_404_when_fault_injection_is_off(emulator):
    for method in ("GET", "POST"):
        response = requests.request(method, f"{emulator.url}/_emulator/faults", json={"clear": True}, timeout=10)
        assert response.status_code == 404 and "This page could not be found" in response.text


def test_fault_control_refuses_requests_that_carry_credentials(fault_lab, faults):
    response = requests.post(faults.url, json={"endpoint": "user-query", "fault": "500"},
                             auth=(fault_lab.emulator.api_key, ""), timeout=10)
    assert response.status_code == 400 and "takes no credentials" in response.json()["error"]
    assert faults.status()["armed"] == {}


@pytest.mark.parametrize("body, complaint", [
    ({"endpoint": "user-query", "fault": "teapot"}, "fault must be one of"),
    ({"endpoint": "", "fault": "500"}, "endpoint must name"),
    ({"endpoint": "user-query", "fault": "500", "count": 0}, "count must be a positive integer"),
    ({"endpoint": "user-query", "fault": "slow", "delay": -1}, "delay must be"),
    ({"project_id": "not-a-uuid", "stuck": "starting"}, "project_id must be"),
])
def test_fault_control_explains_a_bad_request(faults, body, complaint):
    response = requests.post(faults.url, json=body, timeout=10)
    assert response.status_code == 400 and complaint in response.json()["error"]


def test_a_fault_with_a_count_fires_that_often_then_the_endpoint_answers_again(fault_lab, faults):
    faults.arm("user-query", "502", count=1)
    # A read is retried: the second attempt gets the real answer.
    assert fault_lab.session.whoami().account_id == fault_lab.emulator.account_id
    assert faults.fired("user-query", "502") == 1 and faults.status()["armed"] == {}


def test_a_call_that_changes_things_is_not_retried_after_a_gateway_error(fault_lab, faults):
    project_id = fault_lab.new_project()
    faults.arm("projects/start", "503", count=1)
    with pytest.raises(HTTPStatusError, match="HTTP 503"):
        fault_lab.session.start(project_id)
    assert faults.fired("projects/start", "503") == 1 and fault_lab.state(project_id) == "opened"
    assert fault_lab.session.start(project_id).state == "running"


def test_a_stuck_project_stays_until_released_and_clear_releases_it(fault_lab, faults):
    project_id = fault_lab.new_project()
    faults.hold(project_id, "starting")
    assert faults.status()["stuck"] == {project_id: "starting"} and fault_lab.state(project_id) == "starting"
    faults.clear()
    assert faults.status()["stuck"] == {} and fault_lab.state(project_id) == "running"


def test_faults_hit_only_their_endpoint(fault_lab, faults):
    faults.arm("projects/stop", "reset")
    assert fault_lab.session.whoami().account_id == fault_lab.emulator.account_id
    assert fault_lab.session.projects()


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (none in a network-less sandbox)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent; this only picks the outgoing interface
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_fault_control_is_a_404_to_callers_that_are_not_on_loopback(tmp_path):
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call from")
    running = start_test_emulator(tmp_path, "--host", "0.0.0.0", "--enable-fault-injection")
    try:
        port = running.url.rsplit(":", 1)[1]
        remote = requests.post(f"http://{address}:{port}/_emulator/faults", json={"clear": True}, timeout=10)
        local = requests.get(f"http://127.0.0.1:{port}/_emulator/faults", timeout=10)
    finally:
        running.stop()
    assert remote.status_code == 404 and "This page could not be found" in remote.text
    assert local.status_code == 200


def test_the_session_tuning_bounds_the_wait_of_a_start_that_names_no_timeout(fault_lab, faults):
    """The panel's buttons name no timeout: the session's state_timeout is what bounds them."""
    tuned = CoCalcSession(api_key=fault_lab.emulator.api_key, host=fault_lab.emulator.url, timeout=0.5,
                          config_file=fault_lab.emulator.data_dir / "none.toml", state_timeout=0.3)
    project_id = fault_lab.new_project()
    faults.hold(project_id, "stopping")
    with pytest.raises(Exception, match="still stopping after waiting 0.3 s"):
        tuned.start(project_id)
    tuned.close()
