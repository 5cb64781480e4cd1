"""The project panel against the emulator: buttons clicked with ``.click()``, the outcome checked through the API."""

from __future__ import annotations

import json
import re
import time
import uuid

import ipywidgets
import pytest

from cocalc_magics.widgets import ProjectControls
from cocalc_magics.widgets.base import widget_tree

FAST_POLLING = {"poll_min": 0.05, "poll_max": 0.4}


@pytest.fixture
def project(session):
    """A fresh, stopped project that no other test touches."""
    return session.project(session.create_project(f"widget {uuid.uuid4().hex[:8]}").project_id)


@pytest.fixture
def running(session, project):
    """The fresh project, started."""
    session.start(project.project_id)
    return session.project(project.project_id)


@pytest.fixture
def panel_for(session):
    """Build panels whose widgets exist, as on display, and close them after the test."""
    panels = []

    def build(projects, **options):
        panel = ProjectControls(session, projects, **{**FAST_POLLING, **options})
        panel.widget  # noqa: B018 (builds the widgets, as displaying it does)
        panels.append(panel)
        return panel

    yield build
    for panel in panels:
        panel.close()


def wait_until(condition, timeout=10.0, interval=0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def badge_text(row) -> str:
    return re.search(r">([^<]*)</span>$", row.badge.value).group(1)


def enabled(row) -> set[str]:
    return {action for action, button in row.buttons.items() if not button.disabled}


def test_a_row_shows_title_short_id_and_a_state_badge(panel_for, project):
    panel = panel_for(project.project_id)
    title = panel.widget.children[0].children[0].value
    assert project.title in title and project.short_id in title
    # CoCalc calls a stopped project "opened": the badge says stopped, its tooltip keeps CoCalc's word.
    assert badge_text(panel.rows[0]) == "stopped" and "title='opened'" in panel.rows[0].badge.value


def test_a_title_or_a_list_of_projects_selects_the_rows(session, panel_for, project):
    assert [row.project_id for row in panel_for(project.title).rows] == [project.project_id]
    listed = session.projects()
    assert [row.project_id for row in panel_for(listed).rows] == [p.project_id for p in listed]


def test_a_stopped_project_offers_start_only(panel_for, project):
    assert enabled(panel_for(project).rows[0]) == {"start"}


def test_a_running_project_offers_stop_and_restart(panel_for, running):
    assert enabled(panel_for(running).rows[0]) == {"stop", "restart"}


def test_stop_click_returns_at_once_and_the_emulator_stops_the_project(session, panel_for, running):
    row = panel_for(running).rows[0]
    row.stop_button.click()
    # The kernel is free at once: other code (here an API call of its own) runs while the stop is under way
    # (a click that waited for the stop would find the project stopped).
    assert session.state(running.project_id).state in {"running", "stopping"}
    assert enabled(row) == set() and "stopping" in row.status.value

    assert wait_until(lambda: session.state(running.project_id).is_stopped)
    assert wait_until(lambda: badge_text(row) == "stopped" and not row.busy)
    assert "stopped in" in row.status.value and enabled(row) == {"start"}


def test_start_click_starts_the_project_in_the_emulator(session, panel_for, project):
    row = panel_for(project).rows[0]
    row.start_button.click()
    assert wait_until(lambda: session.state(project.project_id).is_running)
    assert wait_until(lambda: badge_text(row) == "running" and not row.busy)
    assert enabled(row) == {"stop", "restart"} and "started in" in row.status.value


def test_restart_click_stops_then_starts_and_the_badge_shows_each_step(session, panel_for, running):
    row = panel_for(running).rows[0]
    shown = []
    row.badge.observe(lambda change: shown.append(badge_text(row)), names="value")
    row.restart_button.click()
    assert wait_until(lambda: not row.busy)
    assert session.state(running.project_id).is_running and "restarted in" in row.status.value
    assert "stopping…" in shown and "starting…" in shown and shown[-1] == "running"


def test_the_badge_follows_a_change_made_elsewhere(session, panel_for, project):
    row = panel_for(project).rows[0]
    session.start(project.project_id)
    assert wait_until(lambda: badge_text(row) == "running")
    assert enabled(row) == {"stop", "restart"}


def test_a_failed_action_is_one_line_in_the_row_not_a_traceback(session, panel_for, project):
    row = panel_for(project).rows[0]
    session.set_api_key("sk-not-a-key-the-emulator-knows-0000")
    row.start_button.click()
    assert wait_until(lambda: not row.busy)
    assert "start failed: AuthenticationError" in row.status.value
    assert "\n" not in row.status.value and "Traceback" not in row.status.value
    assert enabled(row) == {"start"}


def test_a_failed_state_check_is_shown_and_polling_goes_on(session, panel_for, project):
    panel = panel_for(project)
    session.set_api_key("sk-not-a-key-the-emulator-knows-0000")
    assert wait_until(lambda: panel.poll_error is not None)
    assert "state check failed" in panel.widget.children[-1].value and panel.polling


def test_polling_slows_down_while_nothing_changes_and_a_click_speeds_it_up(panel_for, running):
    panel = panel_for(running)
    assert wait_until(lambda: panel.poll_interval == FAST_POLLING["poll_max"], timeout=5)
    polls = panel.poll_count
    time.sleep(1.0)
    assert panel.poll_count - polls <= 4  # 0.4 s apart, not 0.05 s
    panel.rows[0].stop_button.click()
    assert wait_until(lambda: panel.poll_interval == FAST_POLLING["poll_min"], timeout=2)
    panel.wait(timeout=10)


def test_closing_the_widget_stops_polling(panel_for, project):
    panel = panel_for(project)
    assert panel.polling
    panel.widget.close()
    assert wait_until(lambda: not panel.polling, timeout=2)
    assert panel.closed and all(widget.comm is None for widget in widget_tree(panel._widget))


def test_a_panel_given_no_project_is_the_default_projects(session, emulator):
    panel = ProjectControls(session)
    try:
        assert isinstance(panel, ProjectControls) and [r.project_id for r in panel.rows] == [emulator.project_id]
        assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()
    finally:
        panel.close()


def test_the_widget_state_holds_no_key_and_stays_small(panel_for, emulator, running):
    panel = panel_for(running)
    saved = json.dumps(ipywidgets.Widget.get_manager_state(drop_defaults=True, widgets=widget_tree(panel.widget)))
    assert emulator.api_key not in saved and emulator.second["api_key"] not in saved
    assert len(saved) < 20_000
