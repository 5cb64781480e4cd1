"""Project lifecycle: start/stop transitions, touch, create, get."""

from __future__ import annotations

import threading
import time

import pytest

from emulator_helpers import Api
from emulator_process import start_emulator


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """An emulator whose transitions take a full second, so a test can watch one happen."""
    running = start_emulator(tmp_path_factory.mktemp("slow"), "--transition-delay", "1.0")
    yield Api(running.url, running.api_key)
    running.stop()


def test_new_project_is_stopped(ada):
    assert ada.state(ada.new_project()) == "opened"


def test_start_waits_until_running(ada):
    project_id = ada.new_project()
    ada.call("projects/start", {"project_id": project_id})
    assert ada.state(project_id) == "running"


def test_stop_returns_to_opened(ada):
    project_id = ada.new_project()
    ada.call("projects/start", {"project_id": project_id})
    ada.call("projects/stop", {"project_id": project_id})
    assert ada.state(project_id) == "opened"


def test_state_is_starting_during_the_transition(slow):
    project_id = slow.new_project()
    starter = threading.Thread(target=slow.call, args=("projects/start", {"project_id": project_id}))
    starter.start()
    time.sleep(0.3)
    try:
        assert slow.state(project_id) == "starting"
    finally:
        starter.join()
    assert slow.state(project_id) == "running"


def test_stop_during_a_start_returns_at_once_and_the_start_wins(slow):
    project_id = slow.new_project()
    starter = threading.Thread(target=slow.call, args=("projects/start", {"project_id": project_id}))
    starter.start()
    time.sleep(0.2)
    began = time.monotonic()
    assert slow.call("projects/stop", {"project_id": project_id}) == {"status": "ok"}
    assert time.monotonic() - began < 0.5
    starter.join()
    assert slow.state(project_id) == "running"


def test_state_is_stopping_while_a_stop_runs(slow):
    project_id = slow.new_project()
    slow.call("projects/start", {"project_id": project_id})
    stopper = threading.Thread(target=slow.call, args=("projects/stop", {"project_id": project_id}))
    stopper.start()
    time.sleep(0.3)
    try:
        assert slow.state(project_id) == "stopping"
    finally:
        stopper.join()
    assert slow.state(project_id) == "opened"


def test_start_of_a_running_project_returns_at_once(ada):
    project_id = ada.new_project()
    ada.call("projects/start", {"project_id": project_id})
    began = time.monotonic()
    assert ada.call("projects/start", {"project_id": project_id}) == {"status": "ok"}
    assert time.monotonic() - began < 0.15


def test_stop_of_a_stopped_project_is_ok(ada):
    assert ada.call("projects/stop", {"project_id": ada.new_project()}) == {"status": "ok"}


def test_stop_error_order_and_texts(ada, anonymous, emulator):
    assert anonymous.call("projects/stop", {}) == {"error": "project_id must be a valid uuid"}
    assert anonymous.call("projects/stop", {"project_id": emulator.project_id}) == {"error": "must be signed in"}
    assert ada.call("projects/stop", {"project_id": emulator.second["project_id"]}) == {
        "error": "must be a collaborator to stop project"}


def test_touch_answers_empty_and_starts_the_project(ada):
    project_id = ada.new_project()
    assert ada.call("projects/touch", {"project_id": project_id}) == {}
    assert ada.state(project_id) == "running"


def test_touch_of_someone_elses_project_says_stop_like_cocalc(ada, emulator):
    assert ada.call("projects/touch", {"project_id": emulator.second["project_id"]}) == {
        "error": "must be a collaborator to stop project"}


def test_create_defaults_title_to_no_title(ada):
    project_id = ada.new_project()
    reply = ada.call("projects/create", {})
    title = ada.call("user-query", {"query": {"projects_all": {"project_id": reply["project_id"], "title": None}}})
    assert title["query"]["projects_all"]["title"] == "No Title" and project_id != reply["project_id"]


def test_projects_get_is_newest_first_and_defaults_to_fifty(ada):
    for n in range(3):
        ada.new_project(f"bulk {n}")
    touched = ada.new_project("touched")
    ada.new_project("newer")
    ada.call("projects/touch", {"project_id": touched})
    projects = ada.call("projects/get", {})
    assert projects[0]["project_id"] == touched
    assert len(projects) <= 50


def test_projects_get_needs_sign_in(anonymous):
    assert anonymous.call("projects/get", {}) == {"error": "Must be signed in."}


def test_projects_get_limit_zero_is_empty(ada):
    assert ada.call("projects/get", {"limit": 0}) == []


def test_delete_marks_deleted(ada):
    project_id = ada.new_project()
    assert ada.call("projects/delete", {"project_id": project_id}) == {"status": "ok"}
    reply = ada.call("user-query", {"query": {"projects_all": {"project_id": project_id, "deleted": None}}})
    assert reply["query"]["projects_all"]["deleted"] is True
