"""TLS: verification is on by default, so the emulator's self-signed certificate (made at start-up with
``--https``) is refused, until the client is given that certificate as its CA bundle, or told (loudly) not
to verify."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
import requests

from cocalc_magics import CoCalcSession, ConfigurationError, TransportError, set_default_session
from lab import start_test_emulator
from magics_helpers import ip, magics, run  # noqa: F401 (fixtures)
from secret_guard import register_secret

DOCUMENT = "\\documentclass{article}\\begin{document}Over TLS\\end{document}"


@pytest.fixture(scope="module")
def https_emulator(tmp_path_factory):
    """``python -m cocalc_magics.emulator --https``, with its whole ready line (which names the CA file)."""
    data_dir = tmp_path_factory.mktemp("https-emulator")
    process = subprocess.Popen([sys.executable, "-m", "cocalc_magics.emulator", "--port", "0", "--https",
                                "--data-dir", str(data_dir), "--transition-delay", "0.02"],
                               stdout=subprocess.PIPE, text=True)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    if not line or not line[0].strip():
        process.kill()
        pytest.fail("the HTTPS emulator did not get ready")
    ready = json.loads(line[0])
    register_secret(ready["api_key"])
    register_secret(ready["second"]["api_key"])
    yield ready
    process.terminate()
    process.wait(10)


def session(ready: dict, **options) -> CoCalcSession:
    return CoCalcSession(api_key=ready["api_key"], host=ready["url"], project_id=ready["project_id"],
                         config_file="/nonexistent/config.toml", timeout=10, **options)


def test_the_ready_line_names_an_https_url_and_the_certificate_to_trust(https_emulator):
    assert https_emulator["url"].startswith("https://127.0.0.1:")
    ca_file = Path(https_emulator["ca_file"])
    assert ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    key_file = ca_file.with_name("emulator-key.pem")
    assert key_file.stat().st_mode & 0o077 == 0, "the private key is readable by its owner only"


def test_by_default_the_self_signed_certificate_is_refused_in_one_line(https_emulator):
    with pytest.raises(TransportError) as refused:
        session(https_emulator).whoami()
    message = str(refused.value)
    assert message.startswith(f"user-query: TLS verification of {https_emulator['url']} failed (")
    assert "certificate verify failed" in message and "verify=<CA bundle path>" in message and "\n" not in message


def test_a_magic_says_the_same_in_one_line(https_emulator, ip, magics):  # noqa: F811
    set_default_session(session(https_emulator))
    try:
        ran = run(ip, "%cocalc_whoami")
    finally:
        set_default_session(None)
    assert ran.usage_error.startswith("user-query: TLS verification of https://")


@pytest.fixture
def system_ca_bundle_in_the_environment(monkeypatch):
    """REQUESTS_CA_BUNDLE set, as many machines have it: requests would let it override a session's verify."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())


def test_with_the_certificate_as_ca_bundle_everything_works_over_https(https_emulator,
                                                                      system_ca_bundle_in_the_environment):
    trusted = session(https_emulator, verify=https_emulator["ca_file"])
    assert trusted.whoami().account_id == https_emulator["account_id"]
    assert trusted.start(timeout=10).state == "running"
    result = trusted.latex(DOCUMENT, project_id=https_emulator["project_id"], timeout=30)
    assert result.url.startswith("https://") and result.pdf.startswith(b"%PDF")  # the blob, over TLS too


def test_the_ca_bundle_can_come_from_the_config_file(https_emulator, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'verify = "{https_emulator["ca_file"]}"\n')
    configured = CoCalcSession(api_key=https_emulator["api_key"], host=https_emulator["url"], config_file=config)
    assert configured.whoami().account_id == https_emulator["account_id"]


def test_switching_verification_off_works_and_warns(https_emulator, system_ca_bundle_in_the_environment):
    with pytest.warns(UserWarning, match="TLS verification is off"):
        unverified = session(https_emulator, verify=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning, once per request
        assert unverified.whoami().account_id == https_emulator["account_id"]


def test_a_ca_bundle_path_that_does_not_exist_is_a_configuration_error(https_emulator):
    with pytest.raises(ConfigurationError, match="no CA bundle at that path"):
        session(https_emulator, verify="/nonexistent/ca.pem").whoami()


def test_plain_http_to_the_https_port_is_one_line_too(https_emulator):
    plain = session(https_emulator, backoff=0.01)
    plain.host = https_emulator["url"].replace("https://", "http://")
    with pytest.raises(TransportError) as failed:
        plain.whoami()
    assert "\n" not in str(failed.value)


def test_a_certificate_given_with_tls_cert_and_tls_key_is_served(https_emulator, tmp_path):
    ca_file = Path(https_emulator["ca_file"])
    running = start_test_emulator(tmp_path, "--tls-cert", str(ca_file), "--tls-key",
                                  str(ca_file.with_name("emulator-key.pem")))
    try:
        assert running.url.startswith("https://")
        assert requests.post(f"{running.url}/api/v2/accounts/profile", json={}, verify=str(ca_file),
                             timeout=10).json() == {"profile": {}}
    finally:
        running.stop()
