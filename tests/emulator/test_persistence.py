"""State survives a restart with the same --data-dir; keys minted earlier keep working."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from emulator_helpers import TEX_HELLO, Api
from emulator_process import start_emulator


def test_restart_keeps_accounts_keys_projects_and_blobs(tmp_path):
    first = start_emulator(tmp_path)
    try:
        api = Api(first.url, first.api_key)
        api.call("user-query", {"query": {"projects": {"project_id": first.project_id, "title": "Renamed"}}})
        api.call("projects/start", {"project_id": first.project_id})
        blob_url = None
        if shutil.which("latexmk"):
            blob_url = api.call("latex", {"path": "/tmp/p.tex", "content": TEX_HELLO,
                                          "project_id": first.project_id})["url"]
    finally:
        first.stop()

    second = start_emulator(tmp_path)
    try:
        assert (second.account_id, second.project_id) == (first.account_id, first.project_id)
        assert second.api_key != first.api_key  # a fresh key on every start ...
        old = Api(second.url, first.api_key)  # ... and the old one still works
        reply = old.call("user-query", {"query": {"projects_all": {"project_id": first.project_id, "title": None,
                                                                   "state": None}}})
        project = reply["query"]["projects_all"]
        assert project["title"] == "Renamed" and project["state"]["state"] == "running"
        if blob_url:
            moved = blob_url.replace(first.url, second.url)
            assert requests.get(moved, timeout=10).content.startswith(b"%PDF")
    finally:
        second.stop()


def test_only_key_hashes_are_stored(tmp_path):
    running = start_emulator(tmp_path)
    running.stop()
    raw = (tmp_path / "emulator.sqlite3").read_bytes()
    assert running.api_key.encode() not in raw
    with sqlite3.connect(tmp_path / "emulator.sqlite3") as db:
        hashes = [row[0] for row in db.execute("SELECT hash FROM api_keys")]
    assert hashes and all(h.startswith("pbkdf2_sha512$") for h in hashes)


def test_project_mid_transition_comes_back_stopped(tmp_path):
    running = start_emulator(tmp_path, "--transition-delay", "5")
    project_id = running.project_id
    api = Api(running.url, running.api_key)
    threading.Thread(target=lambda: _ignore(api.post, "projects/start", {"project_id": project_id}),
                     daemon=True).start()
    time.sleep(0.5)
    assert api.state(project_id) == "starting"
    running.process.send_signal(signal.SIGTERM)
    running.process.wait(timeout=10)

    again = start_emulator(tmp_path)
    try:
        assert Api(again.url, again.api_key).state(project_id) == "opened"
    finally:
        again.stop()


def _ignore(function, *args):
    with contextlib.suppress(requests.RequestException):
        function(*args)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_shut_down_cleanly(tmp_path, signum):
    running = start_emulator(tmp_path)
    running.process.send_signal(signum)
    assert running.process.wait(timeout=10) == 0


def test_a_launcher_made_data_dir_is_removed_and_a_given_one_kept(tmp_path):
    """start_local_emulator() without a data dir makes a temporary one and removes it when stopped; a data dir
    it is given holds someone's state and stays."""
    from cocalc_magics.local_emulator import start_local_emulator

    with start_local_emulator(stderr=subprocess.DEVNULL) as emulator:
        made = emulator.data_dir
        assert (made / "emulator.sqlite3").exists()
    assert not made.exists()
    with start_local_emulator(tmp_path / "kept", stderr=subprocess.DEVNULL):
        pass
    assert (tmp_path / "kept" / "emulator.sqlite3").exists()
