"""The suite-wide secret guard: any test that lets a known API key escape fails.

Where it looks, for every test (the hooks are imported into conftest.py):

- the test's captured stdout and stderr, and its log records (captured at DEBUG, see pyproject.toml);
- the failure report (tracebacks with their locals, assertion texts);
- the text of every exception of the package (``CoCalcError``) and every IPython ``UsageError`` created
  during the test, even when the test catches it;
- widget state: whatever any ipywidget serialises (what the frontend is sent, what a notebook saves),
  and the state of the widgets alive when the test ends;
- saved notebooks: ``.ipynb`` files written during the test under pytest's temporary directory,
  test-output/ or demo-output/ (these are also checked for anything shaped like a CoCalc key, since a
  notebook run in another process may use a key this process never saw).

Keys are registered here as the emulator mints them (see emulator_process.py). The failure message names
where the key was found, never the key itself, so the guard cannot leak what it guards.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

KNOWN_SECRETS: set[str] = set()
# CoCalc's key format (sk- + 16 random + 6 base62 characters, or a legacy sk_ key), for saved notebooks.
KEY_SHAPE = re.compile(r"sk[-_][A-Za-z0-9]{20,}")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = (REPO / "test-output", REPO / "demo-output")


def register_secret(secret: str) -> None:
    if secret:
        KNOWN_SECRETS.add(secret)


def holds_a_secret(text: str) -> bool:
    return any(secret in text for secret in KNOWN_SECRETS)


# -- what tests produce besides their output ----------------------------------------------------------------

class _Sightings:
    """Places a key was seen while the current test ran (exception texts, widget state).

    A leaking widget that stays alive, or a leaking notebook that stays on disk, is blamed on the test that
    made it only, not on every test after it.
    """

    def __init__(self):
        self.places: list[str] = []
        self.blamed: set = set()

    def note(self, place: str, *texts: Any, culprit: Any = None) -> None:
        if not KNOWN_SECRETS or (culprit is not None and culprit in self.blamed):
            return
        if any(_contains_secret(text) for text in texts):
            if culprit is not None:
                self.blamed.add(culprit)
            if place not in self.places:
                self.places.append(place)


_sightings = _Sightings()


def _contains_secret(value: Any, depth: int = 0) -> bool:
    """Whether a key appears in ``value`` (strings, and the strings inside dicts, lists and tuples)."""
    if isinstance(value, str):
        return holds_a_secret(value)
    if depth > 50:
        return False
    if isinstance(value, dict):
        return any(_contains_secret(k, depth + 1) or _contains_secret(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(_contains_secret(item, depth + 1) for item in value)
    return False


def _watch_exception_texts(cls, place: str) -> None:
    """Record the text of every ``cls`` created from now on, caught or not."""
    if getattr(cls, "_secret_guard_watched", False):
        return
    original_init = cls.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        _sightings.note(place, *(arg for arg in args if isinstance(arg, str)))

    cls.__init__ = init
    cls._secret_guard_watched = True


def _watch_widget_state() -> None:
    """Check every state an ipywidget serialises (once ipywidgets is in use)."""
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    if widget_module is None or getattr(widget_module.Widget.get_state, "_secret_guard_watched", False):
        return
    original_get_state = widget_module.Widget.get_state

    def get_state(self, *args, **kwargs):
        state = original_get_state(self, *args, **kwargs)
        _sightings.note("widget state", state, culprit=("widget", getattr(self, "model_id", id(self))))
        return state

    get_state._secret_guard_watched = True
    widget_module.Widget.get_state = get_state


def _live_widget_states() -> None:
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    if widget_module is None:
        return
    for widget in list(getattr(widget_module, "_instances", {}).values()):
        try:
            widget.get_state()  # checked by the watch above
        except Exception:  # a half-closed widget: nothing to serialise
            pass


def _notebooks(root: Path | str):
    """Every .ipynb under ``root``, not following symlinks (emulator projects may link to /etc)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            yield from _notebooks(entry.path)


def _notebooks_written_since(started: float, roots: list[Path]) -> list[str]:
    leaking = []
    for root in roots:
        for notebook in _notebooks(root):
            try:
                modified = notebook.stat().st_mtime_ns
                culprit = ("notebook", str(notebook), modified)
                if modified < started * 1e9 or culprit in _sightings.blamed:
                    continue
                text = notebook.read_text(errors="replace")
            except OSError:
                continue
            if holds_a_secret(text) or KEY_SHAPE.search(text):
                _sightings.blamed.add(culprit)
                leaking.append(f"saved notebook {notebook.name}")
    return leaking


def places_holding_a_secret(report: pytest.TestReport) -> list[str]:
    # Captured sections accumulate over setup, call and teardown: read them once, in the call's report.
    texts = [(name, content) for name, content in report.sections] if report.when == "call" else []
    if report.longrepr is not None:
        texts.append(("failure report", report.longreprtext))
    return [name for name, content in texts if any(secret in content for secret in KNOWN_SECRETS)]


# -- the hooks (imported into conftest.py) ------------------------------------------------------------------

def pytest_configure(config) -> None:
    from IPython.core.error import UsageError

    from cocalc_magics.errors import CoCalcError

    _watch_exception_texts(CoCalcError, "exception text")
    _watch_exception_texts(UsageError, "exception text")
    try:
        import ipywidgets  # noqa: F401 (loaded now, so that every widget state is watched from the start)
    except ImportError:
        return
    _watch_widget_state()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _sightings.places.clear()
    item._secret_guard_started = time.time() - 1.0  # mtime resolution
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fail any test that let a known API key out (see the module docstring for where it looks)."""
    outcome = yield
    report = outcome.get_result()
    _watch_widget_state()
    leaked_in = places_holding_a_secret(report)
    if report.when == "call":
        _live_widget_states()
        roots = [*NOTEBOOK_DIRS]
        factory = getattr(item.config, "_tmp_path_factory", None)
        if factory is not None and factory._basetemp is not None:
            roots.append(factory._basetemp)
        leaked_in += _notebooks_written_since(getattr(item, "_secret_guard_started", time.time()), roots)
    if report.when in ("call", "teardown"):
        leaked_in += [place for place in _sightings.places if place not in leaked_in]
        _sightings.places.clear()
    if leaked_in:
        report.outcome = "failed"
        report.longrepr = f"an API key appeared in: {', '.join(leaked_in)} (the key itself is not shown)"
        report.sections = [(name, content) for name, content in report.sections if name not in leaked_in]
