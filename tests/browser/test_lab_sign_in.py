"""Signing in from the CoCalc sidebar, in a real JupyterLab whose server has no API key yet.

The sidebar says how to add a key and offers a sign-in dialog with a password field. The key goes once to
the server extension, which checks it with CoCalc (the emulator) and stores it in the config file with mode
0600; a refused key is reported in one line and stored nowhere. The key never stays in the page, in the
browser's storage or in Lab's settings. One Lab start for the module.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import tomllib
from lab_browser import headless_chromium, missing_requirements, running_jupyterlab

from emulator_process import corrupted_key
from secret_guard import register_secret

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def signed_out_lab(tmp_path_factory, emulator):
    work = tmp_path_factory.mktemp("lab-sign-in")
    root = work / "notebooks"
    root.mkdir()
    config_file = work / "cocalc" / "config.toml"
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("COCALC_API_KEY", raising=False)
        server_env = {"COCALC_HOST": emulator.url, "COCALC_MAGICS_CONFIG": str(config_file)}
        with running_jupyterlab(root, work / "jupyter", server_env) as server:
            yield server, config_file


def sign_in_with(page, key: str) -> None:
    page.locator(".cocalc-sidebar-signin").click()
    field = page.locator(".jp-Dialog input.cocalc-signin-key")
    field.wait_for(timeout=WAIT_MS)
    assert field.get_attribute("type") == "password"
    field.fill(key)
    page.locator(".jp-Dialog").screenshot(path=SCREENSHOTS / "lab-sign-in-dialog.png")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=WAIT_MS)


def test_sign_in_from_the_sidebar_stores_the_key_in_the_server_only(signed_out_lab, emulator):
    from playwright.sync_api import expect

    server, config_file = signed_out_lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with headless_chromium(viewport=(1100, 800)) as page:
        try:
            page.goto(f"{server.url}/lab?reset&token={server.token}")
            page.locator(".jp-LabShell").wait_for(timeout=WAIT_MS)
            page.evaluate("() => window.jupyterapp.commands.execute('cocalc-magics:show-sidebar')")
            sidebar = page.locator(".cocalc-sidebar")
            message = sidebar.locator(".cocalc-sidebar-message")
            expect(message).to_contain_text("COCALC_API_KEY", timeout=WAIT_MS)
            expect(message).to_contain_text(str(config_file))
            sidebar.screenshot(path=SCREENSHOTS / "lab-sidebar-signed-out.png")

            wrong = corrupted_key(emulator.api_key)
            register_secret(wrong)
            sign_in_with(page, wrong)
            expect(sidebar.locator(".cocalc-sidebar-error")).to_be_visible(timeout=WAIT_MS)
            expect(sidebar.locator(".cocalc-sidebar-error")).to_contain_text("Sign-in failed")
            assert "\n" not in sidebar.locator(".cocalc-sidebar-error").inner_text()
            assert not config_file.exists()

            sign_in_with(page, emulator.api_key)
            expect(sidebar.locator(".cocalc-sidebar-account")).to_contain_text("ada@", timeout=WAIT_MS)
            expect(sidebar.locator(f'[data-project-id="{emulator.project_id}"]')).to_have_count(1, timeout=WAIT_MS)
            expect(sidebar.locator(".cocalc-sidebar-signin")).to_be_hidden()
            sidebar.screenshot(path=SCREENSHOTS / "lab-sidebar-signed-in.png")

            assert stat.S_IMODE(os.stat(config_file).st_mode) == 0o600
            assert tomllib.loads(config_file.read_text())["api_key"] == emulator.api_key
            # Nothing in the page or the browser's storage kept the key.
            for text in (page.content(), page.evaluate("() => JSON.stringify({...localStorage})"),
                         page.evaluate("() => JSON.stringify({...sessionStorage})")):
                assert emulator.api_key not in text and wrong not in text
        except Exception:
            page.screenshot(path=SCREENSHOTS / "lab-sign-in-failure.png", full_page=True)
            raise
