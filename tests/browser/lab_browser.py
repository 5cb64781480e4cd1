"""A real JupyterLab server and a headless Chromium for the browser tests.

The server is isolated from the user's Jupyter directories, has the news toast switched off, exposes
``window.jupyterapp`` so a test can run Lab commands, and gets the CoCalc settings through the
environment of its kernels, so no notebook ever holds the key. Chromium is the system's
(/usr/bin/chromium): ``playwright install`` is never needed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# The status bar text once the notebook's kernel is attached and idle; the execution indicator says idle
# earlier, before the kernel is attached, and a run then silently does nothing.
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    for module in ("jupyterlab", "playwright"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[test]')"
    return None


@dataclass
class LabServer:
    url: str
    token: str
    log_path: Path
    app: str = "lab"

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def notebook_url(self, notebook: str) -> str:
        """The notebook opened in this server's front end: JupyterLab, or Notebook 7's one-notebook page."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{notebook}?token={self.token}"
        return self.lab_url(notebook)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_jupyterlab(root_dir: Path, work_dir: Path, kernel_env: dict[str, str],
                       startup_timeout: float = 60.0, app: str = "lab"):
    """Start ``jupyter lab`` (or, with ``app="notebook"``, Notebook 7) serving ``root_dir``; its kernels
    inherit ``kernel_env``."""
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, **kernel_env}
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env[variable] = str(work_dir / variable.lower())
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    settings_dir = work_dir / "app-settings"
    settings_dir.mkdir(parents=True, exist_ok=True)
    (settings_dir / "overrides.json").write_text(json.dumps(NO_NEWS))
    module, app_class = {"lab": ("jupyterlab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}[app]
    command = [sys.executable, "-m", module, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}", f"--{app_class}.expose_app_in_browser=True",
               f"--{app_class}.app_settings_dir={settings_dir}",
               f"--{app_class}.workspaces_dir={work_dir / 'workspaces'}"]
    log_path = work_dir / "jupyterlab.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
    server = LabServer(f"http://127.0.0.1:{port}", token, log_path, app)
    try:
        _wait_until_serving(server, process, startup_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: LabServer, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}; see {server.log_path}")
        try:
            if requests.get(f"{server.url}/api/status", params={"token": server.token}, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not answer within {timeout:g} s; see {server.log_path}")


@contextmanager
def headless_chromium(viewport=(1300, 1700)):
    """A Playwright page in the system's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        finally:
            browser.close()


# Notebook 7 has no status bar: ask the app whether the notebook's kernel is connected and idle.
KERNEL_READY_JS = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
                 && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === "connected" && kernel.status === "idle";
}"""


def open_notebook_and_run_all(page, server: LabServer, notebook: str, timeout_ms: int = 60_000) -> None:
    """Open a notebook, wait for its kernel to be attached and idle, then run all its cells."""
    page.goto(server.notebook_url(notebook))
    if server.app == "lab":
        page.get_by_text(KERNEL_IDLE).first.wait_for(timeout=timeout_ms)
    else:
        page.wait_for_function(KERNEL_READY_JS, timeout=timeout_ms)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
