"""The magics' surface without a CoCalc server: loading, help, %config, argument checks, the login refusal.

Where a check must happen "before any request", the session points at a recording HTTP server and the test
asserts that it was sent nothing.
"""

from __future__ import annotations

import secrets
import string

import pytest

from cocalc_magics import CoCalcSession, get_default_session, set_default_session
from magics_helpers import MAGIC_NAMES, clean_environment, ip, magics, run  # noqa: F401 (fixtures)
from recording_server import RecordingServer


@pytest.fixture
def fake_key() -> str:
    return "sk-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))


@pytest.fixture
def recorder(magics, clean_environment, fake_key):
    """The shared session pointed at a server that records requests (and answers none usefully)."""
    with RecordingServer() as server:
        set_default_session(CoCalcSession(api_key=fake_key, host=server.url,
                                          project_id="00000000-0000-4000-8000-000000000000"))
        yield server
        set_default_session(None)


@pytest.fixture
def fresh_session(magics, clean_environment):
    """A default session with no key, built from the (empty) environment, as in a new kernel."""
    set_default_session(None)
    yield get_default_session()
    set_default_session(None)


def test_load_ext_registers_every_magic(ip):
    line_magics = ip.magics_manager.magics["line"]
    assert all(name in line_magics for name in MAGIC_NAMES)
    assert {"cocalc_latex", "cocalc_query"} <= set(ip.magics_manager.magics["cell"])
    assert "CoCalcMagics" in [type(c).__name__ for c in ip.configurables]


def test_reload_ext_leaves_one_configurable(ip):
    ip.run_line_magic("reload_ext", "cocalc_magics")
    assert [type(c).__name__ for c in ip.configurables].count("CoCalcMagics") == 1
    assert "cocalc_whoami" in ip.magics_manager.magics["line"]


@pytest.mark.parametrize("name", MAGIC_NAMES)
def test_every_magic_prints_real_help(ip, name):
    ran = run(ip, f"%{name}?")
    assert f"%{name} " in ran.stdout and ("options:" in ran.stdout or "positional arguments:" in ran.stdout)
    assert "-o VAR" in ran.stdout or name in {"cocalc_login", "cocalc_project"}


def test_latex_help_lists_its_options_and_the_interpolation_syntax(ip):
    ran = run(ip, "%cocalc_latex?")
    for option in ("--path P", "--project P", "--command C", "--timeout S", "--no-preview", "--dpi N", "-o VAR",
                   "FILE.tex", "\\py{expr}", "\\pyraw{expr}"):
        assert option in ran.stdout


def test_config_lists_the_options(ip):
    ran = run(ip, "%config CoCalcMagics")
    for option in ("host", "timeout", "project", "preview_dpi", "short_errors"):
        assert f"CoCalcMagics.{option}=" in ran.stdout


def test_config_host_timeout_and_project_reach_the_shared_session(ip, fresh_session):
    run(ip, "%config CoCalcMagics.host = 'https://cocalc.example.org/'")
    run(ip, "%config CoCalcMagics.timeout = 12")
    run(ip, "%config CoCalcMagics.project = 'My thesis'")
    session = get_default_session()
    assert (session.host, session.timeout, session.project_id) == ("https://cocalc.example.org", 12.0, "My thesis")


def test_config_reaches_a_session_that_changed_since(ip, fresh_session, magics):
    run(ip, "%config CoCalcMagics.project = 'A'")
    get_default_session().project_id = "B"
    run(ip, "%config CoCalcMagics.project = 'A'")
    assert get_default_session().project_id == "A"


def test_config_timeout_reaches_a_client_already_built(ip, fresh_session, fake_key):
    fresh_session.set_api_key(fake_key)
    built = fresh_session.client
    run(ip, "%config CoCalcMagics.timeout = 7")
    assert fresh_session.client is not built and fresh_session.client.timeout == 7.0


def test_options_read_the_shared_session_not_a_copy(ip, fresh_session, magics):
    fresh_session.project_id = "set on the session"
    fresh_session.host = "https://elsewhere.example"
    assert (magics.project, magics.host) == ("set on the session", "https://elsewhere.example")
    listing = run(ip, "%config CoCalcMagics").stdout
    assert "Current: 'set on the session'" in listing and "Current: 'https://elsewhere.example'" in listing


def test_every_area_of_magics_shares_the_one_options_object(ip, magics):
    from cocalc_magics.magics.base import AreaMagics

    areas = [m for m in ip.magics_manager.registry.values() if isinstance(m, AreaMagics)]
    assert {type(m).__name__ for m in areas} == {"AccountMagics", "ProjectMagics", "QueryMagics", "LatexMagics"}
    assert all(m.options is magics for m in areas)
    run(ip, "%config CoCalcMagics.short_errors = False")
    assert magics.short_errors is False


def test_profile_settings_apply_when_the_extension_loads(ip, fresh_session):
    from cocalc_magics.magics import magics_options

    ip.config.CoCalcMagics.preview_dpi = 123
    ip.config.CoCalcMagics.project = "from the profile"
    try:
        ip.run_line_magic("reload_ext", "cocalc_magics")
        options = magics_options(ip)
        assert options.preview_dpi == 123 and get_default_session().project_id == "from the profile"
    finally:
        del ip.config.CoCalcMagics["preview_dpi"], ip.config.CoCalcMagics["project"]
        ip.run_line_magic("reload_ext", "cocalc_magics")
    assert magics_options(ip).preview_dpi == 100


def test_a_malformed_host_is_refused_and_nothing_changes(ip, fresh_session, magics, caplog):
    run(ip, "%config CoCalcMagics.host = 'cocalc.com'")
    # IPython's %config reports a rejected value through logging.error
    assert "host must be an http(s) URL such as https://cocalc.com, not 'cocalc.com'" in caplog.text
    assert get_default_session().host == "https://cocalc.com" and magics.host == "https://cocalc.com"


def test_a_missing_key_says_how_to_sign_in(ip, fresh_session):
    ran = run(ip, "%cocalc_whoami")
    assert "no CoCalc API key" in ran.usage_error and "%cocalc_login" in ran.usage_error


def test_without_a_project_or_default_the_error_says_how_to_set_one(ip, fresh_session, fake_key):
    fresh_session.set_api_key(fake_key)
    ran = run(ip, "%cocalc_stop")
    assert "no default project" in ran.usage_error and "%cocalc_project <id or title>" in ran.usage_error
    assert fake_key not in ran.text()


def test_cocalc_project_without_a_default_says_how_to_set_one(ip, fresh_session):
    ran = run(ip, "%cocalc_project")
    assert ran.error is None and "No default project" in ran.text() and "%cocalc_project <id or title>" in ran.text()


def test_short_errors_off_shows_the_original_exception(ip, fresh_session, magics):
    magics.short_errors = False
    ran = run(ip, "%cocalc_whoami")
    assert type(ran.error).__name__ == "ConfigurationError" and "Traceback" in ran.stdout + ran.stderr


@pytest.mark.parametrize("line", ["{key}", "--host https://cocalc.com {key}", "'{key}'", "--host={key}",
                                  "--host {key}", "--prompt {key}"])
def test_a_key_on_the_login_line_is_refused_without_repeating_it(ip, fresh_session, fake_key, monkeypatch, line):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    ran = run(ip, "%cocalc_login " + line.format(key=fake_key))
    assert "takes no API key on its line" in ran.usage_error
    assert fake_key not in ran.text() and fake_key[3:] not in ran.text()
    assert not get_default_session().has_api_key


def test_login_with_an_empty_prompt_changes_nothing(ip, fresh_session, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "  ")
    assert run(ip, "%cocalc_login").usage_error == "no key entered; nothing changed"
    assert not get_default_session().has_api_key


def test_an_undefined_name_in_the_cell_fails_before_any_request(ip, recorder):
    ran = run(ip, "%%cocalc_latex\n\\documentclass{article}\n\\begin{document}\n\\py{undefined_total}\n\\end{document}")
    assert ran.usage_error == ("\\py{undefined_total} on line 4 of the cell: "
                               "NameError: name 'undefined_total' is not defined")
    assert recorder.requests == []


def test_latex_argument_mistakes_fail_before_any_request(ip, recorder, tmp_path):
    assert "needs a local FILE.tex" in run(ip, "%cocalc_latex").usage_error
    assert "cannot read" in run(ip, f"%cocalc_latex {tmp_path}/missing.tex").usage_error
    assert "--command needs --path" in run(ip, "%%cocalc_latex --command make\nx").usage_error
    assert "the cell is empty" in run(ip, "%%cocalc_latex\n  \n").usage_error
    assert "--dpi must be between" in run(ip, "%%cocalc_latex --dpi 0\nx").usage_error
    assert "-o needs a Python variable name" in run(ip, "%%cocalc_latex -o 1x\nx").usage_error
    assert recorder.requests == []


def test_query_argument_mistakes_fail_before_any_request(ip, recorder):
    assert "not JSON" in run(ip, "%cocalc_query {accounts: nope").usage_error
    assert "not a list" in run(ip, "%cocalc_query [1, 2]").usage_error
    assert "needs a query" in run(ip, "%cocalc_query").usage_error
    assert "NameError" in run(ip, "%cocalc_query $no_such_variable").usage_error
    assert recorder.requests == []


def test_unknown_options_are_one_line_usage_errors(ip, recorder):
    assert "unrecognized arguments: --bogus" in run(ip, "%cocalc_projects --bogus").usage_error


def test_login_with_a_malformed_host_is_one_line_and_does_not_prompt(ip, fresh_session, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    ran = run(ip, "%cocalc_login --host cocalc.com")
    assert ran.usage_error == "host must be an http(s) URL such as https://cocalc.com, not 'cocalc.com'"
