"""The session owns every setting: each setter checks its value and the next call's client is built with it."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from cocalc_magics import CoCalcSession, ConfigurationError
from cocalc_magics.client import PdfFetcher
from recording_server import RecordingServer, ScriptedResponse

FAKE_KEY = "sk-" + "x" * 20


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("COCALC_API_KEY", "COCALC_HOST", "COCALC_PROJECT_ID", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "no-config.toml"))


@pytest.mark.parametrize(("name", "value", "client_attribute"), [
    ("timeout", 7.5, "timeout"), ("retries", 0, "retries"), ("backoff", 0.25, "backoff"),
    ("host", "https://other.example", "host")])
def test_a_new_setting_reaches_the_next_calls_client(name, value, client_attribute):
    session = CoCalcSession(api_key=FAKE_KEY, host="https://cocalc.example")
    before = session.client
    setattr(session, name, value)
    assert getattr(session, name) == value
    assert session.client is not before and getattr(session.client, client_attribute) == value


def test_switching_tls_verification_off_warns_and_reaches_the_client():
    session = CoCalcSession(api_key=FAKE_KEY)
    assert session.client.verify is True
    with pytest.warns(UserWarning, match="TLS verification is off for https://cocalc.com"):
        session.verify = False
    assert session.client.verify is False


@pytest.mark.parametrize(("name", "value", "message"), [
    ("timeout", float("nan"), "timeout must be more than 0"), ("timeout", 0, "timeout must be more than 0"),
    ("retries", -1, "retries must be a whole number"), ("retries", True, "retries must be a whole number"),
    ("backoff", 1e9, "backoff must be from 0 to 60"), ("host", "cocalc.com", r"host must be an http\(s\) URL")])
def test_a_bad_setting_is_refused_and_nothing_changes(name, value, message):
    session = CoCalcSession(api_key=FAKE_KEY)
    client, before = session.client, getattr(session, name)
    with pytest.raises(ConfigurationError, match=message):
        setattr(session, name, value)
    assert getattr(session, name) == before and session.client is client


def test_the_defaults_are_declared_once_and_shared_by_session_and_client():
    from cocalc_magics import config
    from cocalc_magics.client import CoCalcClient

    session = CoCalcSession(api_key=FAKE_KEY)
    client = CoCalcClient("https://cocalc.example", FAKE_KEY)
    assert (session.timeout, session.retries, session.backoff) == (
        client.timeout, client.retries, client.backoff) == (config.DEFAULT_TIMEOUT, config.DEFAULT_RETRIES,
                                                            config.DEFAULT_BACKOFF)


def _projects_reply(ages_in_days: dict[str, int | None]) -> ScriptedResponse:
    now = datetime.now(timezone.utc)
    rows = [{"project_id": f"{index:08d}-0000-4000-8000-000000000000", "title": title,
             "last_edited": None if age is None else (now - timedelta(days=age)).isoformat()}
            for index, (title, age) in enumerate(ages_in_days.items())]
    return ScriptedResponse(body=json.dumps({"query": {"projects_all": rows}}))


def test_recent_projects_are_those_edited_in_the_last_six_weeks_newest_first():
    ages = {"old": 43, "fresh": 1, "five weeks": 35, "never edited": None}
    with RecordingServer([_projects_reply(ages)]) as server:
        session = CoCalcSession(api_key=FAKE_KEY, host=server.url, retries=0)
        assert [p.title for p in session.projects()] == ["fresh", "five weeks", "old", "never edited"]
        assert [p.title for p in session.projects(recent=True)] == ["fresh", "five weeks", "never edited"]
        assert [p.title for p in session.projects(recent=True, limit=1)] == ["fresh"]
        with pytest.raises(ConfigurationError, match="limit must be at least 1"):
            session.projects(limit=0)


def test_a_latex_result_fetches_its_pdf_through_the_fetcher_it_holds(tmp_path):
    pdf = b"%PDF-1.4\n" + b"0" * 100
    with RecordingServer([ScriptedResponse(body=pdf, headers={"Content-Type": "application/pdf"})]) as server:
        session = CoCalcSession(api_key=FAKE_KEY, host=server.url, retries=0)
        fetcher = PdfFetcher(session.client)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert fetcher(f"{server.url}/blobs/a.pdf?uuid=1") == pdf
        assert "Authorization" not in server.requests[-1].headers  # blobs are public: no key goes with them
