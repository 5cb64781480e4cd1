"""Fixtures and helpers shared by the magics tests (no tests here; the test_magics_* modules import these).

Every magic runs in a real IPython ``InteractiveShell`` with the extension loaded, its output captured with
IPython's own ``capture_output``, against the real emulator process through the shared default session.
"""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from cocalc_magics import CoCalcSession, set_default_session
from cocalc_magics.latex import cache as latex_cache
from cocalc_magics.magics import magics_options
from cocalc_magics.widgets.base import WidgetView

MAGIC_NAMES = ("cocalc_login", "cocalc_whoami", "cocalc_start", "cocalc_stop", "cocalc_restart",
               "cocalc_project", "cocalc_projects", "cocalc_query", "cocalc_latex")
# The options CoCalcMagics keeps itself; host, timeout and project are the shared session's (replaced per test).
CONFIG_DEFAULTS = {"preview_dpi": 100, "short_errors": True}


@pytest.fixture(scope="session")
def ip() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "cocalc_magics")
    return shell


@pytest.fixture
def magics(ip):
    """The extension's CoCalcMagics options; those it keeps itself are put back after each test."""
    instance = magics_options(ip)
    yield instance
    for name, value in CONFIG_DEFAULTS.items():
        setattr(instance, name, value)


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No key, host or project from the environment or a config file of the machine running the tests."""
    for name in ("COCALC_API_KEY", "COCALC_HOST", "COCALC_PROJECT_ID", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "no-config.toml"))
    # Each test starts with an empty LaTeX cache of its own (in memory and on disk).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(latex_cache, "_default_cache", None)


@pytest.fixture
def session(emulator, magics, clean_environment) -> CoCalcSession:
    """The shared session, pointed at the emulator with the first account's key and default project."""
    shared = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id)
    set_default_session(shared)
    yield shared
    # Panels that magics returned keep polling until closed: stop them, so no later test sees their calls.
    while _views_to_close:
        _views_to_close.pop().close()
    set_default_session(None)
    shared.close()


@pytest.fixture
def own_project(session):
    """A project of the first account that no other test touches (starts out stopped, i.e. "opened")."""
    import uuid

    return session.create_project(f"magics {uuid.uuid4().hex[:8]}")


class Ran:
    """What one cell did: its result, and everything it printed or displayed."""

    def __init__(self, captured, result):
        self.captured = captured
        self.result = result

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec

    @property
    def stdout(self) -> str:
        return self.captured.stdout

    @property
    def stderr(self) -> str:
        return self.captured.stderr

    @property
    def outputs(self) -> list:
        return self.captured.outputs

    @property
    def usage_error(self) -> str:
        """The one line IPython printed for a UsageError (asserting that it is the only thing on stderr)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("UsageError: "), self.stderr
        return lines[0][len("UsageError: "):]

    def status_updates(self) -> list[str]:
        """The texts the in-place status line went through (display/update with one display_id)."""
        return [o.data.get("text/plain", "") for o in self.outputs if o.transient.get("display_id")]

    def shown(self) -> list:
        """Outputs that stay: the last state of the status line (if it kept content) plus plain displays."""
        kept = [o for o in self.outputs if not o.transient.get("display_id")]
        statuses = [o for o in self.outputs if o.transient.get("display_id")]
        if statuses and statuses[-1].data.get("text/plain"):
            kept.append(statuses[-1])
        return kept

    def text(self) -> str:
        return "\n".join([self.stdout, self.stderr, *(str(o.data) for o in self.outputs)])


_views_to_close: list = []


def run(ip, code: str) -> Ran:
    with capture_output() as captured:
        result = ip.run_cell(code)
    if isinstance(result.result, WidgetView):
        _views_to_close.append(result.result)
    return Ran(captured, result)
