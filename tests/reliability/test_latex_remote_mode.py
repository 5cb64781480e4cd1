"""Plain LaTeX against a server that runs no custom commands (issue 8, item 8).

An emulator bound off loopback refuses every custom latex ``command`` with a top-level ``{"error"}``; tests may
not bind off loopback, so a small proxy on 127.0.0.1 plays that part in front of the real emulator: it refuses
any latex request that carries a ``command`` with the emulator's own refusal text, and forwards everything else
to the emulator, which compiles with real TeX. The client's rule under test is general: a top-level error to a
request that carried our wrapper command is retried once without it.
"""

from __future__ import annotations

import json

import pytest
import requests

from cocalc_magics import CoCalcSession, set_default_session
from cocalc_magics.errors import APIError, PermissionDeniedError
from hostile_server import HostileServer, send_raw
from magics_helpers import ip, magics, run  # noqa: F401 (fixtures)

REFUSAL = ("the emulator is listening on 0.0.0.0, which is not a loopback address, so it refuses to run commands "
           "for whoever can reach it; restart it with --allow-remote-exec to allow exec and custom latex commands")
GOOD = "\\documentclass{article}\\begin{document}Remote mode.\\end{document}"
BROKEN = "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}"


def refusing_proxy(emulator_url: str):
    def behave(handler, request):
        if request.path == "/api/v2/latex" and "command" in request.json:
            send_raw(handler, 200, json.dumps({"error": REFUSAL}).encode())
            return
        headers = {name: request.headers[name] for name in ("Authorization", "Content-Type") if name in request.headers}
        forwarded = requests.post(emulator_url + request.path, data=request.body, headers=headers, timeout=120)
        send_raw(handler, forwarded.status_code, forwarded.content,
                 {"Content-Type": forwarded.headers.get("Content-Type", "application/json")})

    return behave


@pytest.fixture
def proxy(emulator):
    with HostileServer(refusing_proxy(emulator.url)) as server:
        yield server


def session_for(url: str, emulator) -> CoCalcSession:
    return CoCalcSession(api_key=emulator.api_key, host=url, project_id=emulator.project_id,
                         config_file=emulator.data_dir / "none.toml", backoff=0.01)


def latex_commands(proxy) -> list:
    return [request.json.get("command") for request in proxy.requests if request.path == "/api/v2/latex"]


def test_a_plain_compile_falls_back_to_cocalcs_own_command(proxy, emulator):
    result = session_for(proxy.url, emulator).latex(GOOD, timeout=30)
    assert result.ok and result.pdf.startswith(b"%PDF")
    assert "details are limited" in result.note and "details are limited" in result.summary
    wrapped, plain = latex_commands(proxy)
    assert "cocalc-magics: latexmk exit status" in wrapped and plain is None


def test_after_one_refusal_the_session_asks_plainly_until_the_host_changes(proxy, emulator):
    session = session_for(proxy.url, emulator)
    first, second = session.latex(GOOD, timeout=30), session.latex(GOOD, timeout=30)
    assert first.ok and second.ok and "details are limited" in second.note
    assert [command is None for command in latex_commands(proxy)] == [False, True, True]
    session.host = emulator.url  # another server: the wrapper is tried again, and this one runs it
    assert session.latex(BROKEN, timeout=30).note == ""


def test_a_failed_compile_under_the_fallback_still_says_it_failed(proxy, emulator):
    result = session_for(proxy.url, emulator).latex(BROKEN, timeout=30)
    assert not result.ok and result.exit_code not in (0, None)
    assert "1024 characters of stderr" in result.note


def test_the_magic_compiles_a_cell_against_a_server_that_refuses_commands(ip, proxy, emulator):  # noqa: F811
    session = session_for(proxy.url, emulator)
    set_default_session(session)
    try:
        ran = run(ip, f"%%cocalc_latex --no-preview\n{GOOD}")
    finally:
        set_default_session(None)
        session.close()
    assert ran.error is None and "Note: details are limited" in ran.text() and "compiled in" in ran.text()


def test_a_command_of_the_callers_is_sent_as_given_and_its_refusal_is_the_error(proxy, emulator):
    with pytest.raises(APIError, match="listening on 0.0.0.0"):
        session_for(proxy.url, emulator).latex(GOOD, path="/tmp/mine.tex", command="pdflatex mine.tex",
                                               report_errors=True)
    wrapped, as_given = latex_commands(proxy)
    assert "; { pdflatex mine.tex\n}" in wrapped and as_given == "pdflatex mine.tex"


def test_a_permission_error_is_not_retried_without_the_command(proxy, emulator):
    """Only a refusal of the request as such is retried; 'not a collaborator' would be refused again."""
    session = session_for(proxy.url, emulator)
    proxy_refuses_all = HostileServer(lambda h, r: send_raw(h, 200, json.dumps(
        {"error": "user must be a collaborator on the project"}).encode()))
    with proxy_refuses_all as server:
        session.host = server.url
        with pytest.raises(PermissionDeniedError):
            session.latex(GOOD)
    assert len(server.requests) == 1


def test_against_the_emulator_itself_the_wrapper_runs_and_nothing_is_limited(emulator):
    result = session_for(emulator.url, emulator).latex(BROKEN, timeout=30)
    assert result.note == "" and result.errors and result.errors[0].line is not None
