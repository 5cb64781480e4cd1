"""The suite-wide secret guard catches a key wherever a test lets it out, and never shows it.

A small test suite that leaks a registered key in each of the places the guard watches is run in a
pytest of its own (the guard's hooks, as tests/conftest.py uses them); every leaking test must fail
naming the place, the clean one must pass, and the key must appear nowhere in that run's output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
KEY = "sk-" + "Gu4rdT3stK3yAbCd" + "00009Z"  # a made-up key in CoCalc's shape
LEAKS = {
    "test_stdout": "Captured stdout call",
    "test_stderr": "Captured stderr call",
    "test_debug_log": "Captured log call",
    "test_caught_package_error": "exception text",
    "test_caught_usage_error": "exception text",
    "test_live_widget": "widget state",
    "test_closed_widget": "widget state",
    "test_saved_notebook": "saved notebook",
    "test_saved_notebook_with_an_unregistered_key": "saved notebook",
    "test_failure_report": "failure report",
}

LEAKING_SUITE = '''
import logging, sys
import nbformat
from secret_guard import register_secret

KEY = {key!r}
register_secret(KEY)

def test_clean():
    print("sk-…9Z is how a key may be shown")

def test_stdout():
    print("using", KEY)

def test_stderr():
    sys.stderr.write(KEY)

def test_debug_log():
    logging.getLogger("cocalc_magics").debug("sending %s", KEY)

def test_caught_package_error():
    from cocalc_magics import APIError
    try:
        raise APIError("rejected " + KEY, "user-query")
    except APIError:
        pass

def test_caught_usage_error():
    from IPython.core.error import UsageError
    try:
        raise UsageError("bad line " + KEY)
    except UsageError:
        pass

def test_live_widget():
    import ipywidgets
    test_live_widget.kept = ipywidgets.HTML(value="<b>" + KEY + "</b>")

def test_closed_widget():
    import ipywidgets
    ipywidgets.Text(value=KEY).close()

def _notebook_with(text, path):
    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", text=text)])
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)

def test_saved_notebook(tmp_path):
    _notebook_with(KEY, tmp_path / "shared.ipynb")

def test_saved_notebook_with_an_unregistered_key(tmp_path):
    _notebook_with("sk-" + "N0tRegisteredButSh4ped", tmp_path / "other.ipynb")

def test_failure_report():
    key = KEY
    assert key == "something else"
'''

CONFTEST = '''
import sys
sys.path.insert(0, {tests!r})
from secret_guard import pytest_configure, pytest_runtest_makereport, pytest_runtest_protocol  # noqa: F401
'''


def test_the_guard_fails_every_leak_by_place_and_never_shows_the_key(tmp_path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST.format(tests=str(TESTS))))
    (tmp_path / "test_leaks.py").write_text(LEAKING_SUITE.format(key=KEY))
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "log_level=DEBUG",
                              "-rA", "-q", "--basetemp", str(tmp_path / "basetemp"), "test_leaks.py"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        # The leaking notebooks are the inner run's; this suite's own guard would (rightly) find them too.
        shutil.rmtree(tmp_path / "basetemp", ignore_errors=True)
    output = run.stdout + run.stderr
    assert KEY not in output, "the guard showed the key it guards"
    outcomes = {test: outcome for outcome, test in re.findall(r"^(PASSED|FAILED) test_leaks\.py::(\w+)", output, re.M)}
    reasons = dict(re.findall(r"^_{3,} (\w+) _{3,}\n(an API key appeared in: [^\n]*)", output, re.M))
    assert outcomes.pop("test_clean") == "PASSED", output[-3000:]
    assert outcomes == {test: "FAILED" for test in LEAKS}, output[-3000:]
    for test, place in LEAKS.items():
        # Each test is blamed for its own leak, and only for that (not for what earlier tests left behind).
        assert reasons[test].startswith(f"an API key appeared in: {place}") and reasons[test].count(",") == 0, \
            f"{test}: {reasons[test]}"
