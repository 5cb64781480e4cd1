"""Run CoCalc's own tests of its official Python client (``src/python/cocalc-api/tests/``) against the emulator.

Run by hand: .venv/bin/python benchmarks/official_client_suite.py [--mirror DIR] [-- extra pytest args]

``DIR`` is a git checkout or bare mirror of sagemathinc/cocalc (default: $COCALC_SOURCE, else
/work/.mirror/sagemathinc+cocalc/repo). Nothing of CoCalc's is kept in this repository: the test files are
extracted from the mirror into a temporary directory for the run and removed afterwards.

How CoCalc's suite is configured, and what this script sets:
- ``COCALC_API_KEY`` / ``COCALC_HOST`` / ``COCALC_PROJECT_ID``: the emulator's first account, its URL, its project.
- ``COCALC_TESTS_CLEANUP=false``: the suite's clean-up hard-deletes rows through Postgres (psycopg2, ``PGHOST``);
  the emulator has no Postgres. ``conftest.py`` still imports ``psycopg2.pool`` at the top, so when psycopg2
  is not installed an empty stand-in module is put on the path (it is never called with clean-up off).
- ``test_org.py`` / ``test_org_basic.py`` are left out: organizations need an admin account and CoCalc's
  ``org.*`` hub methods, which the emulator does not implement.
Prints pytest's one-line-per-test report and its summary.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from cocalc_magics.local_emulator import start_local_emulator

DEFAULT_MIRROR = "/work/.mirror/sagemathinc+cocalc/repo"
TESTS = "src/python/cocalc-api/tests"
SELECTED = ("test_hub.py", "test_project.py", "test_jupyter.py")


def extract_tests(mirror: Path, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(mirror), "archive", "--format=tar", "HEAD", TESTS],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / TESTS


def psycopg2_stand_in(into: Path) -> Path | None:
    try:
        import psycopg2  # noqa: F401
        return None
    except ImportError:
        package = into / "shim" / "psycopg2"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text('"""Stand-in: CoCalc\'s conftest imports psycopg2.pool at import."""\n')
        (package / "pool.py").write_text("")
        return package.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=os.environ.get("COCALC_SOURCE", DEFAULT_MIRROR))
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    mirror = Path(args.mirror)
    if not mirror.exists():
        print(f"no CoCalc checkout at {mirror}: pass --mirror DIR", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cocalc-api-tests-") as work:
        tests = extract_tests(mirror, Path(work))
        shim = psycopg2_stand_in(Path(work))
        with start_local_emulator(Path(work) / "emulator-data", transition_delay=0.1,
                                  stderr=subprocess.DEVNULL) as emulator:
            env = {**os.environ, "COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
                   "COCALC_PROJECT_ID": emulator.project_id, "COCALC_TESTS_CLEANUP": "false"}
            env.pop("CI", None)  # CoCalc's CI skips the Jupyter tests; here they run
            if shim:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))
            command = [sys.executable, "-m", "pytest", "-rA", "-q", "-p", "no:cacheprovider", "--tb=line",
                       "-o", "addopts=", *(f"tests/{name}" for name in SELECTED), *args.pytest_args]
            return subprocess.run(command, cwd=tests.parent, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
