"""Where the session finds its key, host and default project, and how it keeps the key to itself."""

from __future__ import annotations

import pickle
import secrets
import string

import pytest

from cocalc_magics import CoCalcSession, ConfigurationError
from cocalc_magics.config import DEFAULT_HOST, config_file_path


@pytest.fixture
def api_key() -> str:
    return "sk-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("COCALC_API_KEY", "COCALC_HOST", "COCALC_PROJECT_ID", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "config.toml"))


def write_config(tmp_path, text: str) -> None:
    (tmp_path / "config.toml").write_text(text)


def test_defaults_to_cocalc_com_with_no_key_and_no_project():
    session = CoCalcSession()
    assert session.host == DEFAULT_HOST and not session.has_api_key and session.project_id is None


def test_argument_beats_environment_beats_config_file(monkeypatch, tmp_path, api_key):
    config_key, argument_key = api_key[:-4] + "0001", api_key[:-4] + "0002"
    write_config(tmp_path, f'api_key = "{config_key}"\nhost = "https://config.example"\n'
                           'project_id = "config-project"\n')
    assert CoCalcSession().key_hint == "sk-…0001"
    assert CoCalcSession().host == "https://config.example"
    assert CoCalcSession().project_id == "config-project"
    monkeypatch.setenv("COCALC_HOST", "https://env.example/")
    monkeypatch.setenv("COCALC_PROJECT_ID", "env-project")
    monkeypatch.setenv("COCALC_API_KEY", api_key)
    from_env = CoCalcSession()
    assert (from_env.host, from_env.project_id, from_env.key_hint) == ("https://env.example", "env-project",
                                                                      f"sk-…{api_key[-4:]}")
    explicit = CoCalcSession(api_key=argument_key, host="http://127.0.0.1:1", project_id="p")
    assert (explicit.host, explicit.project_id, explicit.key_hint) == ("http://127.0.0.1:1", "p", "sk-…0002")


def test_config_file_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("COCALC_MAGICS_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_file_path() == tmp_path / "cocalc-magics" / "config.toml"


def test_a_broken_config_file_is_named_but_not_quoted(tmp_path, api_key):
    write_config(tmp_path, f'api_key = "{api_key}\n')  # unterminated string
    with pytest.raises(ConfigurationError) as raised:
        CoCalcSession()
    assert str(tmp_path / "config.toml") in str(raised.value) and api_key not in str(raised.value)


def test_a_call_without_a_key_says_how_to_provide_one():
    with pytest.raises(ConfigurationError, match="no CoCalc API key: set COCALC_API_KEY, .*%cocalc_login"):
        CoCalcSession().whoami()


def test_host_must_be_an_http_url(api_key):
    with pytest.raises(ConfigurationError, match="host must be an http"):
        CoCalcSession(host="cocalc.com")
    with pytest.raises(ConfigurationError) as raised:
        CoCalcSession(host=api_key)
    assert api_key not in str(raised.value)


def test_repr_and_str_show_only_the_last_four_characters_of_the_key(api_key):
    session = CoCalcSession(api_key=api_key, host="http://127.0.0.1:1")
    for text in (repr(session), str(session), repr(session.client), repr(session.client._api_auth)):
        assert api_key not in text and api_key[3:-4] not in text
    assert f"sk-…{api_key[-4:]}" in repr(session)


def test_a_session_cannot_be_pickled_with_its_key(api_key):
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(CoCalcSession(api_key=api_key))


def test_turning_tls_verification_off_is_explicit_and_warned(api_key):
    with pytest.warns(UserWarning, match="TLS verification is off"):
        session = CoCalcSession(api_key=api_key, verify=False)
    assert session.client._api_http.verify is False
    assert CoCalcSession(api_key=api_key).client._api_http.verify is True


def test_missing_default_project_says_how_to_set_one(api_key):
    with pytest.raises(ConfigurationError, match="no default project: .*COCALC_PROJECT_ID.*%cocalc_project"):
        CoCalcSession(api_key=api_key, host="http://127.0.0.1:1").state()
