"""The client against servers that misbehave on purpose (issue 8, items 9-13 and 16), all on 127.0.0.1.

Each server here is a real HTTP server in this process (hostile_server.py): it echoes the key back, trickles
its answer a byte at a time, sends a gzip bomb or 40 MB of JSON, answers in shapes CoCalc never uses, or
hands out blob URLs that are not http(s). Only the package's errors may come out, as one line, without the key.
"""

from __future__ import annotations

import base64
import copy
import json
import pickle
import time
import tracemalloc
from urllib.parse import quote

import pytest
import requests

from cocalc_magics import CoCalcError, CoCalcSession, set_default_session
from cocalc_magics.client import MAX_ANSWER_BYTES, MAX_BLOB_BYTES
from cocalc_magics.errors import AnswerTooLargeError, CoCalcTimeoutError, HTTPStatusError, TransportError
from hostile_server import HostileServer, answer, gzip_bomb, huge_json, send_raw, trickle
from magics_helpers import ip, magics, run  # noqa: F401 (fixtures)
from secret_guard import register_secret

KEY = "sk-" + "H0st1l3S3rv3rK3y" + "00077q"
register_secret(KEY)
PROJECT_ID = "7f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
WHOAMI = {"query": {"accounts": {"account_id": "a" * 8, "email_address": "ada@example.com"}}}


def basic(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Every way a server might hand the key back: as sent, URL-quoted, and the Basic credentials in base64.
ECHOES = {
    "plain": KEY,
    "url-quoted": quote(KEY, safe=""),
    "basic KEY:": basic(f"{KEY}:"),
    "basic KEY: unpadded": basic(f"{KEY}:").rstrip("="),
    "basic KEY": basic(KEY),
    "urlsafe KEY:": base64.urlsafe_b64encode(f"{KEY}:".encode()).decode(),
}


def session_for(url: str, **settings) -> CoCalcSession:
    options = {"timeout": 5.0, "backoff": 0.01, **settings}
    return CoCalcSession(api_key=KEY, host=url, project_id=PROJECT_ID, config_file="/nonexistent.toml", **options)


def leaks(text: str) -> bool:
    return any(form in text for form in ECHOES.values()) or KEY[3:15] in text


@pytest.fixture
def shared():
    """The magics' shared session, pointed at whichever hostile server the test sets with ``shared.host``."""
    session = session_for("http://127.0.0.1:9")
    set_default_session(session)
    yield session
    set_default_session(None)
    session.close()


# -- item 9: a server that echoes the key ---------------------------------------------------------------------

def echo_in_error(form: str):
    return answer(200, {"error": f"no such account for key {form} (from Authorization: Basic {form})"})


def echo_in_400(form: str):
    return answer(400, f"Invalid JSON near {form}", {"Content-Type": "text/plain"})


def echo_in_location(form: str):
    return answer(302, b"", {"Location": f"https://elsewhere.example/login?key={form}"})


def echo_authorization_header(handler, request):
    send_raw(handler, 200, json.dumps({"error": f"you sent {request.headers.get('Authorization')}"}).encode())


@pytest.mark.parametrize("place", [echo_in_error, echo_in_400, echo_in_location])
@pytest.mark.parametrize("form", ECHOES.values(), ids=ECHOES.keys())
def test_an_echoed_key_is_redacted_from_the_error(place, form):
    with HostileServer(place(form)) as server:
        with pytest.raises(CoCalcError) as raised:
            session_for(server.url).whoami()
    assert "[redacted key]" in str(raised.value) and not leaks(str(raised.value))


def test_the_authorization_header_echoed_back_is_redacted(ip, shared):  # noqa: F811
    with HostileServer(echo_authorization_header) as server:
        shared.host = server.url
        line = run(ip, "%cocalc_whoami").usage_error
    assert line.startswith("user-query: you sent Basic [redacted key]") and not leaks(line)


@pytest.mark.parametrize("place", [echo_in_error, echo_in_400, echo_in_location])
def test_a_magic_shows_an_echoed_key_as_redacted_in_its_one_line(ip, shared, place):  # noqa: F811
    with HostileServer(place(ECHOES["basic KEY:"])) as server:
        shared.host = server.url
        ran = run(ip, "%cocalc_whoami")
    assert "[redacted key]" in ran.usage_error and not leaks(ran.text())


# -- item 10: a total deadline per call ----------------------------------------------------------------------

@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status line and headers"])
def test_a_trickling_answer_ends_at_the_calls_total_deadline(headers_too):
    """One byte every 0.4 s never trips a per-read timeout; the call still ends at timeout x attempts + backoff."""
    with HostileServer(trickle(every=0.4, headers_too=headers_too)) as server:
        session = session_for(server.url, timeout=1.0, retries=2, backoff=0.05)
        started = time.monotonic()
        with pytest.raises(CoCalcTimeoutError, match="did not answer within 1 s"):
            session.whoami()
        elapsed = time.monotonic() - started
    budget = 3 * 1.0 + 0.05 + 0.1
    assert len(server.requests) == 3 and elapsed < budget + 1.0


def test_a_trickling_blob_ends_at_its_deadline_and_names_the_blob_host():
    with HostileServer(trickle(body=b"%PDF-1.5 ", every=0.4)) as blobs:
        session = session_for("http://127.0.0.1:9", timeout=1.0, retries=1, backoff=0.05)
        started = time.monotonic()
        with pytest.raises(CoCalcTimeoutError) as raised:
            session.client.fetch_blob(f"{blobs.url}/blobs/d.pdf?uuid=0")
        elapsed = time.monotonic() - started
    assert blobs.url in str(raised.value) and "127.0.0.1:9 " not in str(raised.value)
    assert elapsed < 2 * 1.0 + 0.05 + 1.0


# -- item 11: capped answers, bounded decompression ---------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_is_refused_at_the_cap_without_inflating_it(encoding):
    with HostileServer(gzip_bomb(256, encoding)) as server:
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLargeError, match=f"larger than the {MAX_ANSWER_BYTES // 2**20} MiB"):
                session_for(server.url).whoami()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 2 * MAX_ANSWER_BYTES + 16 * 2**20, f"peak {peak / 2**20:.0f} MiB while reading a 256 MiB bomb"


def test_an_answer_over_the_cap_is_refused_while_it_streams():
    with HostileServer(huge_json(40)) as server:
        with pytest.raises(AnswerTooLargeError, match="32 MiB this package reads"):
            session_for(server.url).projects()


def test_a_blob_over_cocalcs_blob_cap_is_refused():
    with HostileServer(gzip_bomb(MAX_BLOB_BYTES // 2**20 + 4)) as blobs:
        with pytest.raises(AnswerTooLargeError, match=f"larger than the {MAX_BLOB_BYTES // 2**20} MiB"):
            session_for("http://127.0.0.1:9").client.fetch_blob(f"{blobs.url}/d.pdf")


def test_an_encoding_that_was_not_asked_for_is_refused_not_decoded():
    with HostileServer(answer(200, b"\x1b\x00", {"Content-Encoding": "br"})) as server:
        with pytest.raises(TransportError, match="'br' encoding, which was not asked for"):
            session_for(server.url).whoami()
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_broken_gzip_is_one_transport_error():
    with HostileServer(answer(200, b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"})) as server:
        with pytest.raises(TransportError, match="not valid compressed data"):
            session_for(server.url).whoami()


# -- item 13: blob URLs --------------------------------------------------------------------------------------

def latex_reply(url) -> dict:
    return {"compile": {"event": "project_exec_output", "stdout": "", "stderr": "", "exit_code": 0},
            "url": url, "pdf": {"event": "file_read_from_project", "data_uuid": "0" * 8}}


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "file:///etc/passwd",
                                 "data:application/pdf;base64,JVBERi0=", "//evil.example/x.pdf", "http:///x.pdf"])
def test_only_http_blob_urls_are_accepted(url):
    with HostileServer(answer(200, latex_reply(url))) as server:
        with pytest.raises(CoCalcError, match="only an http\\(s\\) blob URL is accepted") as raised:
            session_for(server.url).latex("x")
    assert "alert" not in str(raised.value) and "passwd" not in str(raised.value)


def test_a_non_pdf_blob_names_the_blob_host_and_never_its_bytes():
    page = b"<html><title>Captive portal</title>secret-ish page text " + KEY.encode() + b"</html>"
    with HostileServer(answer(200, page, {"Content-Type": "text/html"})) as blobs:
        with HostileServer(answer(200, latex_reply(f"{blobs.url}/blobs/d.pdf?uuid=0"))) as cocalc:
            result = session_for(cocalc.url).latex("x")
            with pytest.raises(HTTPStatusError) as raised:
                result.pdf  # noqa: B018
    message = str(raised.value)
    assert blobs.url in message and cocalc.url not in message
    assert f"{len(page):,} bytes that are not a PDF" in message
    assert "Captive" not in message and "html" not in message and not leaks(message)


# -- item 16: what an exception carries ----------------------------------------------------------------------

def chain(error: BaseException) -> list[BaseException]:
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def refused_port() -> str:
    with HostileServer(answer()) as server:
        url = server.url
    return url  # closed again: nothing listens there now


@pytest.mark.parametrize("make_failure", [
    lambda: session_for(refused_port(), retries=0).whoami(),
    lambda: session_for_trickle(),
    lambda: HostileServer_cut_short(),
], ids=["connection refused", "deadline", "cut short"])
def test_a_transport_error_carries_no_request_in_its_chain(make_failure):
    with pytest.raises(TransportError) as raised:
        make_failure()
    for link in chain(raised.value):
        assert not isinstance(link, requests.RequestException) and getattr(link, "request", None) is None
        assert not leaks(str(link))


def session_for_trickle():
    with HostileServer(trickle(every=0.4)) as server:
        session_for(server.url, timeout=0.5, retries=0).whoami()


def HostileServer_cut_short():  # noqa: N802 (reads as the server it makes)
    def cut(handler, request):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"q")
    with HostileServer(cut) as server:
        session_for(server.url, retries=0).whoami()


@pytest.mark.parametrize("duplicate", [pickle.dumps, copy.copy, copy.deepcopy], ids=["pickle", "copy", "deepcopy"])
def test_the_client_and_its_auth_refuse_pickling_and_copying(duplicate):
    client = session_for("http://127.0.0.1:9").client
    for holder in (client, client._api_auth):
        with pytest.raises(TypeError, match="holds an API key"):
            duplicate(holder)
