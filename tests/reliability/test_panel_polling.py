"""Project panels stop polling when nobody sees them (issue 8, item 17), against an emulator of its own.

What the front end says reaches the panel as its view watcher's messages: the tests deliver them the way
a comm message arrives (``_handle_custom_msg``); the real browser sends them in
``tests/browser/test_panel_polling_browser.py``. Reads are counted by a session that counts its own state
reads and listings, over real HTTP.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from cocalc_magics import CoCalcSession
from cocalc_magics.local_emulator import start_local_emulator
from cocalc_magics.widgets import ProjectControls
from cocalc_magics.widgets.controls import IDLE_AFTER_SECONDS, IDLE_POLL_SECONDS
from cocalc_magics.widgets.visibility import (
    OFF_SCREEN,
    ON_SCREEN,
    SILENCE_SECONDS,
    UNKNOWN,
)
from secret_guard import register_secret

FAST_POLLING = {"poll_min": 0.05, "poll_max": 0.3}
# Long enough that a click surely lands while a start is under way.
TRANSITION_SECONDS = 2.0


class CountingSession(CoCalcSession):
    """A session that counts the reads the poller makes (each one real HTTP to the emulator)."""

    reads = 0

    def state(self, project=None):
        self.reads += 1
        return super().state(project)

    def projects(self, *args, **kwargs):
        self.reads += 1
        return super().projects(*args, **kwargs)


class TurnableClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory):
    running = start_local_emulator(tmp_path_factory.mktemp("panel-polling"), transition_delay=TRANSITION_SECONDS)
    register_secret(running.api_key)
    register_secret(running.second["api_key"])
    yield running
    running.stop()


@pytest.fixture
def session(slow_emulator):
    counting = CountingSession(api_key=slow_emulator.api_key, host=slow_emulator.url)
    yield counting
    counting.close()


@pytest.fixture
def project_id(session) -> str:
    return session.create_project(f"polling {uuid.uuid4().hex[:8]}").project_id


@pytest.fixture
def panel_for(session):
    panels = []

    def build(projects, **options):
        panel = ProjectControls(session, projects, **{**FAST_POLLING, **options})
        assert panel.widget is not None  # built, as on display: polling starts
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


def front_end_says(panel, view: str, event: str) -> None:
    """Deliver a message of the panel's view watcher as the widget's comm delivers one from the browser."""
    watcher = next(child for child in panel.widget.children if type(child).__name__ == "ViewWatcher")
    watcher._handle_custom_msg({"view": view, "event": event}, [])


def reads_during(session, seconds: float) -> int:
    before = session.reads
    time.sleep(seconds)
    return session.reads - before


def test_panels_of_one_project_share_one_poller_and_one_read_per_round(session, panel_for, project_id):
    first, second = panel_for(project_id), panel_for(project_id)
    assert first.poller is second.poller
    assert wait_until(lambda: first.poll_count >= 5 and second.poll_count >= 5)
    reads, polls = session.reads, first.poll_count + second.poll_count
    time.sleep(1.0)
    reads, polls = session.reads - reads, first.poll_count + second.poll_count - polls
    # Each read served both panels: about half as many reads as panel polls (one round may be split).
    assert reads >= 2 and reads <= polls / 2 + 1


def test_a_panel_whose_views_are_gone_stops_polling_and_comes_back_on_screen(session, panel_for, project_id):
    panel = panel_for(project_id)
    front_end_says(panel, "view-1", "visible")
    assert panel.views.mode == ON_SCREEN and wait_until(lambda: panel.poll_count >= 3)
    front_end_says(panel, "view-1", "gone")  # the output was cleared
    assert panel.views.mode == OFF_SCREEN and not panel.polling
    time.sleep(FAST_POLLING["poll_max"])  # a read already under way may still land
    assert reads_during(session, 1.0) == 0
    polls = panel.poll_count
    front_end_says(panel, "view-2", "visible")  # shown again, e.g. the panel displayed in another cell
    assert panel.polling and wait_until(lambda: panel.poll_count > polls, timeout=2)


def test_a_panel_scrolled_out_of_view_stops_polling_while_another_view_keeps_it(session, panel_for, project_id):
    panel = panel_for(project_id)
    front_end_says(panel, "top", "visible")
    front_end_says(panel, "bottom", "visible")
    front_end_says(panel, "top", "hidden")
    assert panel.views.views_on_screen == 1 and panel.polling
    front_end_says(panel, "bottom", "hidden")
    assert panel.views.mode == OFF_SCREEN and not panel.polling


def test_views_gone_silent_while_visible_mean_unknown_not_off_screen(panel_for, project_id):
    # A busy kernel reads comm messages only between cells: silence is no proof the panel is gone.
    clock = TurnableClock()
    panel = panel_for(project_id, clock=clock)
    front_end_says(panel, "view", "visible")
    assert panel.views.mode == ON_SCREEN
    clock.now += SILENCE_SECONDS + 1
    assert panel.views.mode == UNKNOWN and panel.polling


def test_without_word_from_the_front_end_polling_slows_to_a_minute_after_ten_idle_minutes(
        session, panel_for, project_id):
    clock = TurnableClock()
    panel = panel_for(project_id, clock=clock)
    assert wait_until(lambda: panel.poll_interval == FAST_POLLING["poll_max"])
    assert panel.views.mode == UNKNOWN and reads_during(session, 0.7) >= 2
    clock.now += IDLE_AFTER_SECONDS
    assert wait_until(lambda: panel.poll_interval >= IDLE_POLL_SECONDS, timeout=2)
    assert panel.polling and reads_during(session, 1.0) == 0
    panel.rows[0].start_button.click()  # an interaction: back to fast polling at once
    assert panel.poll_interval == FAST_POLLING["poll_min"]
    panel.wait(timeout=10)
    assert wait_until(lambda: panel.poll_interval == FAST_POLLING["poll_max"], timeout=5)


def test_a_front_end_that_says_on_screen_is_not_slowed_by_idleness(panel_for, project_id):
    clock = TurnableClock()
    panel = panel_for(project_id, clock=clock)
    clock.now += IDLE_AFTER_SECONDS
    front_end_says(panel, "view", "visible")
    polls = panel.poll_count
    assert wait_until(lambda: panel.poll_count >= polls + 3, timeout=3)
    assert panel.poll_interval <= FAST_POLLING["poll_max"]


def test_a_click_during_a_magics_wait_on_the_project_is_refused_in_one_line(session, panel_for, project_id):
    panel = panel_for(project_id)
    row = panel.rows[0]
    # What %cocalc_start does on its worker thread: start and wait until running.
    magic = threading.Thread(target=session.start, args=(project_id,), kwargs={"timeout": 30})
    magic.start()
    try:
        assert wait_until(lambda: session.state(project_id).state == "starting", timeout=5)
        row.stop_button.disabled = False  # the badge may not have caught up yet: click as a user could
        row.stop_button.click()
        assert wait_until(lambda: not row.busy, timeout=5)
        message = row.status.value
        assert f"stop refused: {row.project.short_id} is still starting (a change started elsewhere" in message
        assert "\n" not in message and "Timeout" not in message
    finally:
        magic.join(timeout=30)
    assert session.state(project_id).is_running  # the magic's start was not undone


def test_a_second_panel_cannot_race_the_first_on_the_same_project(session, panel_for, project_id):
    first, second = panel_for(project_id), panel_for(project_id)
    first.rows[0].start_button.click()
    second.rows[0].start_button.disabled = False
    second.rows[0].start_button.click()
    assert wait_until(lambda: not second.rows[0].busy, timeout=5)
    assert "start refused: another panel is changing" in second.rows[0].status.value
    first.wait(timeout=15)
    assert "started in" in first.rows[0].status.value and session.state(project_id).is_running


def test_the_last_closed_panel_ends_the_poller_thread(panel_for, project_id):
    first, second = panel_for(project_id), panel_for(project_id)
    poller = first.poller
    first.close()
    assert poller.running and second.polling
    second.widget.close()
    assert wait_until(lambda: not poller.running, timeout=3) and not second.polling
