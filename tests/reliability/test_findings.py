"""What the fault injection and the fuzzing found, pinned as plain examples so it stays fixed.

Each of these once escaped as a traceback (or a wrong answer) instead of a result or one clear line.
"""

from __future__ import annotations

import warnings

import pytest
import requests

from cocalc_magics import CoCalcSession, HTTPStatusError, set_default_session
from magics_helpers import ip, magics, run  # noqa: F401 (fixtures)


@pytest.fixture
def shared(emulator, magics):  # noqa: F811
    session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id,
                            config_file=emulator.data_dir / "none.toml", backoff=0.01)
    set_default_session(session)
    yield session
    set_default_session(None)
    session.close()


# -- the magics ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, says", [
    ("'", "cannot split the line into options: No closing quotation"),    # was ValueError from shlex
    ("--timeout nan", "argument --timeout: must be more than 0"),           # was ValueError from urllib3
    ("--timeout inf", "argument --timeout: must be more than 0"),           # was OverflowError
    ("--timeout 1e300", "argument --timeout: must be more than 0"),         # was OverflowError
    ("--timeout -5", "argument --timeout: must be more than 0"),            # gave up at once, "after -5 s"
    ("--timeout soon", "argument --timeout: not a number of seconds: 'soon'"),
])
def test_start_options_that_once_raised_are_one_line(ip, shared, line, says):  # noqa: F811
    assert run(ip, f"%cocalc_start {line}").usage_error.startswith(says)


@pytest.mark.parametrize("line, says", [
    ("~0", "cannot read ~0: Could not determine home directory"),     # was RuntimeError from expanduser
    ("'\x00'", "cannot read \x00: embedded null byte"),                 # was ValueError from open
    ("--timeout nan x.tex", "argument --timeout: must be more than 0"),  # was sent as NaN: HTTP 400 Invalid JSON
])
def test_latex_lines_that_once_raised_are_one_line(ip, shared, line, says):  # noqa: F811
    assert run(ip, f"%cocalc_latex {line}").usage_error.startswith(says)


def test_a_query_nested_too_deeply_is_one_line(ip, shared):  # noqa: F811
    assert run(ip, "%cocalc_query " + "[" * 5000).usage_error == "%cocalc_query: the query is nested too deeply to read"


def test_a_whole_pasted_paragraph_as_a_title_is_not_echoed_back_whole(ip, shared):  # noqa: F811
    message = run(ip, "%cocalc_project " + "lorem ipsum " * 500).usage_error
    assert message.startswith("no project titled 'lorem ipsum") and len(message) < 200


def test_a_pasted_paragraph_of_unknown_options_is_cut_to_one_readable_line(ip, shared):  # noqa: F811
    message = run(ip, "%cocalc_whoami " + "0" * 5000).usage_error
    assert message.startswith("unrecognized arguments: 000") and len(message) <= 500


def test_a_bad_timeout_in_config_is_refused_and_the_session_keeps_its_own(ip, shared, magics, caplog):  # noqa: F811
    try:
        ran = run(ip, "%config CoCalcMagics.timeout = float('nan')")
    finally:
        # %config also keeps the value in the shell's config, where a later %reload_ext would meet it again.
        ip.config.CoCalcMagics.pop("timeout", None)
    # %config reports a refused value through its logger (or stderr when logging is not captured).
    assert "timeout must be more than 0" in ran.stderr + ran.stdout + caplog.text
    assert magics.timeout == 30.0 and shared.timeout == 30.0 and run(ip, "%cocalc_whoami").error is None


# -- the client ----------------------------------------------------------------------------------------------

def test_a_blob_that_is_not_a_pdf_is_an_error_not_a_pdf(emulator, shared):
    """A captive portal or proxy page answered with 200 used to come back as "the PDF"."""
    result = shared.latex("\\documentclass{article}\\begin{document}x\\end{document}", timeout=30)
    result.url = result.url.split("?")[0].replace("/blobs/", "/api/v2/accounts/profile?x=")
    with pytest.raises(HTTPStatusError, match="not a PDF"):
        result.pdf  # noqa: B018


def test_verify_false_is_honoured_even_with_requests_ca_bundle_set(emulator, monkeypatch):
    """requests let REQUESTS_CA_BUNDLE override a session's verify (psf/requests#3829); now it is per request."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, verify=False,
                                config_file=emulator.data_dir / "none.toml")
    assert session.client.verify is False


# -- the emulator --------------------------------------------------------------------------------------------

def test_a_charset_python_cannot_decode_leniently_is_400_invalid_body(emulator):
    """charset=idna made the body parser raise: the emulator answered 500 "internal error"."""
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=b"null", timeout=10,
                             headers={"Content-Type": "application/json; charset=idna"})
    assert response.status_code == 400 and response.text == "Invalid body"


def test_json_nested_past_pythons_stack_is_400_not_500(emulator):
    response = requests.post(f"{emulator.url}/api/v2/user-query", data="[" * 5000, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.text == "Invalid JSON"


def test_head_runs_an_api_route_like_next_does(emulator):
    response = requests.head(f"{emulator.url}/api/v2/projects/start", timeout=10)
    assert response.status_code == 200 and response.content == b""


def test_other_methods_on_blobs_fall_through_to_the_404_page(emulator):
    response = requests.post(f"{emulator.url}/blobs/x.pdf?uuid=00000000-0000-4000-8000-000000000000", timeout=10)
    assert response.status_code == 404 and "This page could not be found" in response.text
