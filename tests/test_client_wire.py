"""How the client copes with what CoCalc (and the proxies in front of it) put on the wire.

These talk real HTTP to a scripted local server, for the answers the emulator does not give on purpose:
proxy 5xx pages, redirects, slow answers, older reply forms.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time

import pytest

from cocalc_magics import CoCalcSession
from cocalc_magics.client import MAX_BODY_BYTES, CoCalcClient
from cocalc_magics.errors import (
    APIError,
    AuthenticationError,
    CoCalcTimeoutError,
    HTTPStatusError,
    NoAnswerError,
    RequestTooLargeError,
    TransportError,
)
from recording_server import RecordingServer, ScriptedResponse

PROJECT_ID = "7f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture
def api_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "sk-" + "".join(secrets.choice(alphabet) for _ in range(22))


def json_response(value, status=200) -> ScriptedResponse:
    return ScriptedResponse(status=status, body=json.dumps(value))


def html_response(status: int, title: str) -> ScriptedResponse:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{'<p>filler</p>' * 200}</body></html>"
    return ScriptedResponse(status=status, body=page, headers={"Content-Type": "text/html; charset=utf-8"})


def test_key_is_sent_as_basic_username_with_empty_password(api_key):
    with RecordingServer([json_response({"status": "ok"})]) as server:
        CoCalcClient(server.url, api_key).post("projects/stop", {"project_id": PROJECT_ID})
    request = server.requests[0]
    assert request.method == "POST" and request.path == "/api/v2/projects/stop"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"project_id": PROJECT_ID}


def test_requests_reuse_one_keep_alive_connection(api_key):
    with RecordingServer([json_response({"query": {}})]) as server:
        client = CoCalcClient(server.url, api_key)
        for _ in range(3):
            client.post("user-query", {"query": {"accounts": {"first_name": None}}})
        pool = client._api_http.get_adapter(server.url).poolmanager
        connections = [p.num_connections for p in pool.pools._container.values()]
    assert connections == [1]


@pytest.mark.parametrize("reply", [{}, {"status": "ok"}])
def test_stop_accepts_the_old_empty_reply_and_the_new_status_ok(api_key, reply):
    responses = [json_response(reply), json_response({"query": {"projects_all": {"project_id": PROJECT_ID,
                                                                                   "state": {"state": "opened"}}}})]
    with RecordingServer(responses) as server:
        state = CoCalcSession(api_key=api_key, host=server.url).stop(PROJECT_ID)
    assert state.state == "opened"


def test_error_in_a_200_answer_raises_with_the_server_message(api_key):
    with RecordingServer([json_response({"error": "must be a collaborator to start project"})]) as server:
        with pytest.raises(APIError) as raised:
            CoCalcClient(server.url, api_key).post("projects/start", {"project_id": PROJECT_ID})
    assert str(raised.value) == "projects/start: must be a collaborator to start project"
    assert raised.value.endpoint == "projects/start"


def test_signed_out_answer_is_an_authentication_error_that_does_not_show_the_key(api_key):
    with RecordingServer([json_response({"error": "must be signed in"})]) as server:
        with pytest.raises(AuthenticationError) as raised:
            CoCalcClient(server.url, api_key).post("projects/start", {"project_id": PROJECT_ID})
    assert "must be signed in" in str(raised.value)
    assert api_key not in repr(raised.value) and api_key[-8:] not in str(raised.value)


def test_exec_undefined_error_means_the_project_did_not_answer(api_key):
    with RecordingServer([json_response({"error": "undefined"})]) as server:
        with pytest.raises(NoAnswerError, match="no answer from the project"):
            CoCalcClient(server.url, api_key).post("exec", {"project_id": PROJECT_ID, "command": "sleep"})


def test_bare_empty_latex_answer_is_the_hub_timeout(api_key):
    with RecordingServer([json_response({})]) as server:
        with pytest.raises(NoAnswerError, match="no answer from the project"):
            CoCalcSession(api_key=api_key, host=server.url).latex("x", project_id=PROJECT_ID)


@pytest.mark.parametrize("status, body, expected", [
    (400, "Invalid JSON", "user-query: HTTP 400: Invalid JSON"),
    (413, "Body exceeded 1mb limit", "user-query: HTTP 413: Body exceeded 1mb limit"),
])
def test_plain_text_errors_become_one_line_with_status(api_key, status, body, expected):
    response = ScriptedResponse(status=status, body=body, headers={"Content-Type": "text/plain"})
    with RecordingServer([response]) as server:
        with pytest.raises(HTTPStatusError) as raised:
            CoCalcClient(server.url, api_key).post("user-query", {"query": {"accounts": {"first_name": "W"}}})
    assert str(raised.value) == expected and raised.value.status_code == status


def test_html_error_page_is_reduced_to_its_title(api_key):
    with RecordingServer([html_response(404, "404: This page could not be found")]) as server:
        with pytest.raises(HTTPStatusError) as raised:
            CoCalcClient(server.url, api_key).post("no-such-endpoint", {})
    message = str(raised.value)
    assert message == "no-such-endpoint: HTTP 404: 404: This page could not be found"
    assert "<" not in message and "\n" not in message


def test_gateway_errors_are_retried_for_read_only_calls(api_key):
    responses = [html_response(502, "502 Bad Gateway"), html_response(503, "503 Service Unavailable"),
                 json_response({"query": {"accounts": {"first_name": "Ada"}}})]
    with RecordingServer(responses) as server:
        client = CoCalcClient(server.url, api_key, backoff=0.01)
        reply = client.post("user-query", {"query": {"accounts": {"first_name": None}}}, read_only=True)
    assert reply == {"query": {"accounts": {"first_name": "Ada"}}}
    assert len(server.requests) == 3


def test_gateway_errors_are_not_retried_for_calls_that_change_things(api_key):
    with RecordingServer([html_response(502, "502 Bad Gateway"), json_response({"status": "ok"})]) as server:
        client = CoCalcClient(server.url, api_key, backoff=0.01)
        with pytest.raises(HTTPStatusError, match="HTTP 502: 502 Bad Gateway"):
            client.post("projects/stop", {"project_id": PROJECT_ID})
    assert len(server.requests) == 1


def test_retry_budget_is_bounded(api_key):
    with RecordingServer([html_response(503, "503 Service Unavailable")]) as server:
        client = CoCalcClient(server.url, api_key, retries=2, backoff=0.01)
        with pytest.raises(HTTPStatusError, match="HTTP 503"):
            client.post("user-query", {"query": {"accounts": {"first_name": None}}}, read_only=True)
    assert len(server.requests) == 3


def test_a_slow_answer_times_out_within_the_configured_timeout(api_key):
    with RecordingServer([ScriptedResponse(delay=3.0)]) as server:
        client = CoCalcClient(server.url, api_key, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(CoCalcTimeoutError, match="did not answer within 0.5 s"):
            client.post("projects/stop", {"project_id": PROJECT_ID})
        assert time.monotonic() - started < 2.0


def test_an_unreachable_host_fails_fast_with_one_line(api_key):
    with RecordingServer() as server:
        url = server.url
    client = CoCalcClient(url, api_key, backoff=0.01)
    with pytest.raises(TransportError) as raised:
        client.post("user-query", {"query": {"accounts": {"first_name": None}}}, read_only=True)
    assert str(raised.value) == f"user-query: cannot reach {url} (connection refused)"


def test_oversized_body_is_refused_before_sending(api_key):
    with RecordingServer() as server:
        client = CoCalcClient(server.url, api_key)
        with pytest.raises(RequestTooLargeError, match="over CoCalc's 1 MiB limit .* nothing was sent"):
            client.post("latex", {"path": "a.tex", "content": "x" * MAX_BODY_BYTES})
    assert server.requests == []


def test_body_just_under_the_limit_is_sent(api_key):
    filler = "x" * (MAX_BODY_BYTES - len(json.dumps({"content": ""})))
    with RecordingServer([json_response({"status": "ok"})]) as server:
        CoCalcClient(server.url, api_key).post("write", {"content": filler})
    assert len(server.requests[0].body) == MAX_BODY_BYTES


def test_redirects_are_not_followed_so_the_key_stays_home(api_key):
    with RecordingServer([json_response({"query": {}})]) as elsewhere:
        redirect = ScriptedResponse(status=307, body="", headers={"Location": f"{elsewhere.url}/api/v2/user-query"})
        with RecordingServer([redirect]) as server:
            with pytest.raises(HTTPStatusError, match="HTTP 307 redirect .* was not followed"):
                CoCalcClient(server.url, api_key).post("user-query", {"query": {"accounts": {"first_name": None}}})
    assert elsewhere.requests == []


def test_blob_download_sends_no_credentials_even_to_the_configured_host(api_key):
    pdf = ScriptedResponse(body=b"%PDF-1.5 fake", headers={"Content-Type": "application/pdf"})
    with RecordingServer([pdf]) as server:
        data = CoCalcClient(server.url, api_key).fetch_blob(f"{server.url}/blobs//tmp/d.pdf?uuid=x")
    assert data == b"%PDF-1.5 fake"
    assert server.requests[0].path == "/blobs//tmp/d.pdf?uuid=x"
    assert "Authorization" not in server.requests[0].headers and "Cookie" not in server.requests[0].headers


def test_blob_download_follows_a_redirect_without_credentials(api_key):
    with RecordingServer([ScriptedResponse(body=b"%PDF")]) as elsewhere:
        redirect = ScriptedResponse(status=302, body="", headers={"Location": f"{elsewhere.url}/d.pdf"})
        with RecordingServer([redirect]) as server:
            data = CoCalcClient(server.url, api_key).fetch_blob(f"{server.url}/blobs/d.pdf?uuid=x")
    assert data == b"%PDF"
    assert all("Authorization" not in r.headers for r in server.requests + elsewhere.requests)


def test_missing_blob_is_one_line_with_the_servers_text(api_key):
    missing = ScriptedResponse(status=404, body="blob 0000 not found", headers={"Content-Type": "text/plain"})
    with RecordingServer([missing]) as server:
        with pytest.raises(HTTPStatusError) as raised:
            CoCalcClient(server.url, api_key).fetch_blob(f"{server.url}/blobs/d.pdf?uuid=0000")
    assert str(raised.value) == f"blob download from {server.url}: HTTP 404: blob 0000 not found"


def test_a_200_that_is_not_json_is_reported_not_parsed(api_key):
    page = ScriptedResponse(body="<html><title>Sign in</title></html>", headers={"Content-Type": "text/html"})
    with RecordingServer([page]) as server:
        with pytest.raises(HTTPStatusError, match="not JSON: Sign in"):
            CoCalcClient(server.url, api_key).post("user-query", {"query": {}})
