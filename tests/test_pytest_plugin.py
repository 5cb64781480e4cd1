"""The ``cocalc_emulator`` pytest plugin, tested as a user meets it: pytest run on a small project of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# A user's test file: the README's example plus the fault mode and the second account.
EXAMPLE = textwrap.dedent('''
    import cocalc_api
    import pytest
    import requests

    from cocalc_magics.errors import CoCalcError


    def test_the_official_client(cocalc_emulator):
        hub = cocalc_api.Hub(api_key=cocalc_emulator.api_key, host=cocalc_emulator.url)
        assert hub.system.test()["account_id"] == cocalc_emulator.account_id
        project = cocalc_api.Project(api_key=cocalc_emulator.api_key, host=cocalc_emulator.url,
                                     project_id=cocalc_emulator.project_id)
        assert project.system.exec("echo", args=["hi"])["stdout"] == "hi\\n"


    def test_plain_requests(cocalc_emulator):
        reply = requests.post(f"{cocalc_emulator.url}/api/v2/projects/start", auth=(cocalc_emulator.api_key, ""),
                              json={"project_id": cocalc_emulator.second.project_id}, timeout=30).json()
        assert reply == {"error": "must be a collaborator to start project"}


    def test_the_session_helper(cocalc_emulator):
        session = cocalc_emulator.session(cocalc_emulator.second)
        assert session.whoami().email_address == "grace@example.com"


    def test_a_fault_lasts_for_the_block(cocalc_emulator):
        session = cocalc_emulator.session(retries=0)
        with cocalc_emulator.with_fault("user-query", "502") as plan:
            assert plan["armed"]["user-query"]["fault"] == "502"
            with pytest.raises(CoCalcError):
                session.whoami()
        assert session.whoami().account_id == cocalc_emulator.account_id


    def test_the_key_stays_out_of_reprs(cocalc_emulator):
        assert cocalc_emulator.api_key not in repr(cocalc_emulator) + repr(cocalc_emulator.second)


    def test_no_emulator_unless_asked():
        pass
''')


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest in a fresh interpreter, as a user runs it: the plugin comes from the installed entry point."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCALC_", "PYTEST_"))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=240, check=False)


def readme_example() -> str:
    """The python block of the README's section "The emulator for your own tests"."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## The emulator for your own tests", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def user_project(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("user-project")
    (project / "test_my_cocalc_scripts.py").write_text(EXAMPLE)
    (project / "test_readme_example.py").write_text(readme_example())
    return project


def test_the_fixture_serves_a_users_tests_and_the_readme_example(user_project, tmp_path):
    result = run_pytest(user_project, f"--basetemp={tmp_path / 'run'}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "7 passed" in result.stdout
    [log] = (tmp_path / "run").glob("cocalc-emulator[0-9]*/emulator.log")  # not pytest's "...current" link
    assert "CoCalc API emulator listening" in log.read_text()
    assert "tornado.access" not in result.stdout + result.stderr  # its log stays in its file


def test_a_run_that_does_not_ask_starts_no_emulator(user_project, tmp_path):
    result = run_pytest(user_project, "-k", "no_emulator_unless_asked", f"--basetemp={tmp_path / 'run'}")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
    assert list((tmp_path / "run").glob("cocalc-emulator*")) == []
