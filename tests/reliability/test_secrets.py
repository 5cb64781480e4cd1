"""Where the key may go: only in the Authorization header of requests to the configured host.

A second local server records every header it is sent, standing in for another origin: a blob host, the
target of a redirect, a machine ~/.netrc knows. The blob download never carries credentials; the API never
follows a redirect; and a notebook run against the emulator saves no key.
"""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from cocalc_magics import CoCalcSession, HTTPStatusError
from recording_server import RecordingServer, ScriptedResponse
from secret_guard import register_secret

PROJECT_ID = "7f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
KEY = "sk-" + "R3c0rd1ngS3rv3rK" + "00042a"
register_secret(KEY)
PDF = b"%PDF-1.5\n% a stand-in blob\n"


def latex_reply(blob_url: str) -> ScriptedResponse:
    """What CoCalc's latex endpoint answers: the compile, and a blob URL (which may be on another origin)."""
    reply = {"compile": {"event": "project_exec_output", "stdout": "", "stderr": "", "exit_code": 0},
             "url": blob_url, "pdf": {"event": "file_read_from_project", "data_uuid": "0" * 8}}
    return ScriptedResponse(body=json.dumps(reply))


def key_anywhere(request) -> bool:
    return KEY in json.dumps(request.headers) or KEY in request.path or KEY.encode() in request.body


def carries_credentials(request) -> bool:
    return "Authorization" in request.headers or "Cookie" in request.headers or key_anywhere(request)


@pytest.fixture
def netrc_with_the_key(tmp_path, monkeypatch):
    """A ~/.netrc that knows the key for 127.0.0.1 (netrc matches a host on every port)."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {KEY} password unused\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def session_for(url: str) -> CoCalcSession:
    return CoCalcSession(api_key=KEY, host=url, config_file="/nonexistent/config.toml", backoff=0.01)


def test_a_pdf_on_another_origin_is_fetched_with_no_credentials(netrc_with_the_key):
    with RecordingServer([ScriptedResponse(body=PDF, headers={"Content-Type": "application/pdf"})]) as blobs:
        with RecordingServer([latex_reply(f"{blobs.url}/blobs//tmp/d.pdf?uuid=0")]) as cocalc:
            result = session_for(cocalc.url).latex("\\documentclass{article}...", project_id=PROJECT_ID)
            assert result.pdf == PDF
    assert cocalc.requests[0].headers["Authorization"].startswith("Basic ")
    assert [carries_credentials(r) for r in blobs.requests] == [False]


def test_a_pdf_redirected_to_another_origin_carries_no_credentials_even_when_netrc_knows_it(netrc_with_the_key):
    """requests re-reads ~/.netrc for every redirect target; the blob session must not."""
    with RecordingServer([ScriptedResponse(body=PDF)]) as elsewhere:
        redirect = ScriptedResponse(status=302, body="", headers={"Location": f"{elsewhere.url}/d.pdf"})
        with RecordingServer([latex_reply("placeholder"), redirect]) as cocalc:
            cocalc.responses[0] = latex_reply(f"{cocalc.url}/blobs/d.pdf?uuid=0")
            result = session_for(cocalc.url).latex("x", project_id=PROJECT_ID)
            assert result.pdf == PDF
    latex_call, blob_call = cocalc.requests
    assert latex_call.path == "/api/v2/latex" and not carries_credentials(blob_call)
    assert [carries_credentials(r) for r in elsewhere.requests] == [False]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_api_redirect_is_never_followed_so_no_other_origin_gets_the_key(status, netrc_with_the_key):
    with RecordingServer([ScriptedResponse(body=json.dumps({"query": {}}))]) as elsewhere:
        redirect = ScriptedResponse(status=status, body="", headers={"Location": f"{elsewhere.url}/api/v2/user-query"})
        with RecordingServer([redirect]) as cocalc:
            with pytest.raises(HTTPStatusError, match=f"HTTP {status} redirect .* was not followed"):
                session_for(cocalc.url).whoami()
    assert elsewhere.requests == []
    assert len(cocalc.requests) == 1  # not retried either: a redirect is an answer, not a failure


def test_the_key_travels_only_in_the_authorization_header(netrc_with_the_key):
    whoami = ScriptedResponse(body=json.dumps({"query": {"accounts": {"account_id": "a", "email_address": "e"}}}))
    with RecordingServer([whoami]) as cocalc:
        session_for(cocalc.url).whoami()
    request = cocalc.requests[0]
    others = {name: value for name, value in request.headers.items() if name != "Authorization"}
    assert KEY not in json.dumps(others) and KEY not in request.path and KEY.encode() not in request.body


def test_a_host_change_sends_the_key_to_the_new_host_only(netrc_with_the_key):
    """Pointing the session elsewhere is the one way the key reaches another origin: by configuration."""
    whoami = ScriptedResponse(body=json.dumps({"query": {"accounts": {"account_id": "a"}}}))
    with RecordingServer([whoami]) as first, RecordingServer([whoami]) as second:
        session = session_for(first.url)
        session.whoami()
        session.host = second.url
        session.whoami()
    assert len(first.requests) == 1 and len(second.requests) == 1


NOTEBOOK = [
    "%load_ext cocalc_magics",
    "%cocalc_login",
    "%cocalc_whoami",
    "%cocalc_project",
    "%%cocalc_latex\nA notebook that is shared: \\py{6 * 7}",
    "import cocalc_magics\ncocalc_magics.get_default_session()",
    "%config CoCalcMagics.short_errors = False\n%cocalc_start 'no such project'",
]


def test_a_notebook_run_against_the_emulator_and_saved_holds_no_key(emulator, tmp_path, monkeypatch):
    """Outputs, widget state (panels, the PDF viewer), a repr of the session and a full traceback."""
    monkeypatch.setenv("COCALC_API_KEY", emulator.api_key)
    monkeypatch.setenv("COCALC_HOST", emulator.url)
    monkeypatch.setenv("COCALC_PROJECT_ID", emulator.project_id)
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "none.toml"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in NOTEBOOK])
    NotebookClient(notebook, kernel_name="python3", store_widget_state=True, allow_errors=True, timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = tmp_path / "shared.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text()
    assert "ada@example.com" in text and "application/vnd.jupyter.widget-view+json" in text
    assert any(o.get("output_type") == "error" for o in notebook.cells[-1].outputs), "the traceback cell ran"
    assert emulator.api_key not in text and emulator.api_key[3:15] not in text


def test_the_guard_knows_the_keys_of_every_emulator_started_in_this_process(emulator, fault_lab):
    from secret_guard import KNOWN_SECRETS

    assert {emulator.api_key, emulator.second["api_key"], fault_lab.emulator.api_key} <= KNOWN_SECRETS
    assert sys.modules.get("ipywidgets") is not None, "widget state is watched from the start of the run"
