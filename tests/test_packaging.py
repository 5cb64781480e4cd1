"""The package installs as users get it: the JupyterLab extension is built, shipped and enabled,
and importing the package stays cheap.

These tests run against the interpreter that runs pytest (the project's .venv under `make test`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EXTENSION_NAME = "cocalc-magics"
PLUGIN_ID = "cocalc-magics:plugin"
BUILT_EXTENSION = REPO_ROOT / "cocalc_magics" / "labextension"
# Where pip puts the wheel's shared-data, and so where JupyterLab of this environment looks.
INSTALLED_EXTENSION = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / EXTENSION_NAME
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter_isolated_from_user_dirs(tmp_path: Path) -> dict[str, str]:
    """Environment in which Jupyter sees only this interpreter's sys-prefix directories."""
    env = dict(os.environ)
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        directory = tmp_path / variable.lower()
        directory.mkdir()
        env[variable] = str(directory)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def _labextension_list_by_directory(output: str) -> dict[str, list[str]]:
    """Parse `jupyter labextension list` into {labextensions directory: extension lines}."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in ANSI_ESCAPE.sub("", output).splitlines():
        if line.startswith("/"):
            current = line.strip()
            sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line.strip())
    return sections


def test_jupyterlab_lists_the_extension_as_enabled_and_ok_in_this_environment(tmp_path):
    jupyter = Path(sys.executable).parent / "jupyter"
    completed = subprocess.run(
        [str(jupyter), "labextension", "list"],
        capture_output=True,
        text=True,
        env=_jupyter_isolated_from_user_dirs(tmp_path),
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output

    sections = _labextension_list_by_directory(output)
    lines = sections.get(str(INSTALLED_EXTENSION.parent), [])
    ours = [line for line in lines if line.split()[0] == EXTENSION_NAME]
    assert ours, f"{EXTENSION_NAME} not listed under {INSTALLED_EXTENSION.parent}:\n{output}"
    assert re.search(r"\benabled\s+OK\b", ours[0]), ours[0]


def _load_package_json(extension_dir: Path) -> dict:
    return json.loads((extension_dir / "package.json").read_text())


def test_built_extension_is_a_prebuilt_bundle_with_our_plugin():
    package = _load_package_json(BUILT_EXTENSION)

    assert package["name"] == EXTENSION_NAME
    assert package["jupyterlab"]["extension"] is True
    remote_entry = BUILT_EXTENSION / package["jupyterlab"]["_build"]["load"]
    assert re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", package["jupyterlab"]["_build"]["load"])
    assert remote_entry.is_file()

    bundle = "".join(path.read_text() for path in (BUILT_EXTENSION / "static").glob("*.js"))
    assert PLUGIN_ID in bundle
    assert "cocalc-magics: JupyterLab extension activated" in bundle


def test_built_extension_declares_its_settings():
    schema = json.loads((BUILT_EXTENSION / "schemas" / EXTENSION_NAME / "plugin.json").read_text())
    assert {"livePreviewDelay", "defaultZoom", "gutterMarks"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_environment_serves_the_current_build_of_the_extension():
    # A stale copy in the venv would make JupyterLab load old code after a rebuild:
    # `make venv` reinstalls whenever labextension/ changes.
    built = _load_package_json(BUILT_EXTENSION)["jupyterlab"]["_build"]["load"]
    installed = _load_package_json(INSTALLED_EXTENSION)["jupyterlab"]["_build"]["load"]
    assert installed == built
    assert (INSTALLED_EXTENSION / "install.json").is_file()


def modules_loaded_by(statement: str, candidates: list[str]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has in sys.modules after running ``statement``."""
    probe = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {candidates!r} if m in sys.modules]))\n"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_importing_the_package_does_not_import_heavy_optional_dependencies():
    heavy = ["ipywidgets", "pypdfium2", "PIL", "tornado"]
    assert modules_loaded_by("import cocalc_magics", heavy) == []
    assert modules_loaded_by("from cocalc_magics import CoCalcSession, CoCalcError", heavy) == []


def test_load_ext_leaves_requests_and_the_latex_package_for_the_first_call():
    later = ["requests", "urllib3", "cocalc_magics.client", "cocalc_magics.latex.request", "ipywidgets"]
    load = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\nshell.run_line_magic('load_ext', 'cocalc_magics')\n"
            "assert 'cocalc_latex' in shell.magics_manager.magics['cell']")
    assert modules_loaded_by(load, later) == []


def test_the_emulator_loads_none_of_the_client():
    client_side = ["cocalc_magics.session", "cocalc_magics.client", "cocalc_magics.models", "requests"]
    assert modules_loaded_by("import cocalc_magics.emulator.__main__", client_side) == []


def test_python_package_and_lab_extension_share_one_version():
    from importlib.metadata import version

    import cocalc_magics

    source_version = _load_package_json(REPO_ROOT / "labextension")["version"]
    assert cocalc_magics.__version__ == source_version
    assert version("cocalc-magics") == source_version
    assert _load_package_json(BUILT_EXTENSION)["version"] == source_version


def test_labextension_paths_point_at_the_built_extension():
    import cocalc_magics

    (path,) = cocalc_magics._jupyter_labextension_paths()
    assert path["dest"] == EXTENSION_NAME
    assert (Path(cocalc_magics.__file__).parent / path["src"] / "package.json").is_file()


def test_jupyter_server_loads_the_sidebars_server_extension_in_this_environment(tmp_path):
    # pip put jupyter-config/ into sys.prefix/etc/jupyter/jupyter_server_config.d (the wheel's shared-data).
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "cocalc_magics.labserver.json"
    assert json.loads(config.read_text()) == {"ServerApp": {"jpserver_extensions": {"cocalc_magics.labserver": True}}}

    jupyter = Path(sys.executable).parent / "jupyter"
    completed = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True, text=True,
                               check=False, env=_jupyter_isolated_from_user_dirs(tmp_path), timeout=120)
    output = ANSI_ESCAPE.sub("", completed.stdout + completed.stderr)
    assert completed.returncode == 0, output
    assert re.search(r"cocalc_magics\.labserver\s+enabled", output), output
    assert re.search(r"cocalc_magics\.labserver\s+\S*\s*OK", output), output


def test_the_demo_without_its_extra_says_what_to_install(tmp_path):
    probe = ("import sys\nsys.modules['nbclient'] = None\nfrom cocalc_magics.demo import main\n"
             f"sys.exit(main(['--output-dir', {str(tmp_path / 'out')!r}]))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and not (tmp_path / "out").exists()
    assert completed.stderr.strip() == "the demo needs nbclient: pip install 'cocalc-magics[demo]'"
