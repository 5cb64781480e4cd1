"""A project process (exec, the latex command) sees its own project and nothing else of the machine.

The emulator is started as a user would: its environment holds ``COCALC_API_KEY`` and the user's HOME holds a
config file with a key. Each target is tried three ways — ``cat`` through ``exec``, TeX's ``\\openin`` in a
document compiled with the default command (bubblewrap + TeX's walls), and the same document compiled with
TeX's walls switched off (``openin_any=a``: bubblewrap alone) — and must stay unread. Real bwrap, real TeX.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket

import pytest

from attack import Exposed, read_probe, start_exposed
from emulator_helpers import Api
from lab import start_test_emulator


@pytest.fixture(scope="module")
def exposed(tmp_path_factory) -> Exposed:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")  # `make test` installs it
    running = start_exposed(tmp_path_factory.mktemp("sandbox"))
    yield running
    running.emulator.stop()


@pytest.fixture(scope="module")
def victim(exposed):
    """grace's project holding a secret file, and that file's content."""
    project_id = exposed.grace.new_project("victim")
    content = f"grace-secret-{secrets.token_hex(8)}"
    secret = exposed.project_dir(project_id) / "home" / "user" / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(content + "\n")
    return project_id, content


@pytest.fixture(scope="module")
def attacker(exposed) -> str:
    return exposed.ada.new_project("attacker")


def targets(exposed: Exposed, victim) -> dict[str, tuple[str, list[str]]]:
    """name -> (path tried, texts that must not come out)"""
    victim_id, victim_secret = victim
    with open("/etc/passwd") as passwd:
        host_passwd_first_line = passwd.readline().strip()
    victim_file = exposed.project_dir(victim_id) / "home" / "user" / "secret.txt"
    return {
        "/etc/passwd": ("/etc/passwd", [host_passwd_first_line]),
        "other project, absolute": (str(victim_file), [victim_secret]),
        "other project, ../../": (f"../../{victim_id}/home/user/secret.txt", [victim_secret]),
        "other project, ../../../": (f"../../../{victim_id}/home/user/secret.txt", [victim_secret]),
        "emulator's environ": (f"/proc/{exposed.pid}/environ", exposed.secrets()),
        "the user's config file": (str(exposed.config_file), [exposed.config_key]),
    }


TARGETS = ["/etc/passwd", "other project, absolute", "other project, ../../", "other project, ../../../",
           "emulator's environ", "the user's config file"]


def leaked(texts: list[str], *outputs: str) -> list[str]:
    return [text for text in texts if any(text in output for output in outputs)]


@pytest.mark.parametrize("target", TARGETS)
def test_exec_cannot_read(exposed, victim, attacker, target):
    path, must_not_leak = targets(exposed, victim)[target]
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "cat", "args": [path], "err_on_exit": False})
    assert leaked(must_not_leak, json.dumps(reply)) == []
    if target != "/etc/passwd":  # the sandbox has its own one-line passwd
        assert reply["exit_code"] != 0, reply


@pytest.mark.parametrize("walls", ["bubblewrap and TeX's walls", "bubblewrap alone"])
@pytest.mark.parametrize("target", TARGETS)
def test_a_document_cannot_read(exposed, victim, attacker, target, walls):
    path, must_not_leak = targets(exposed, victim)[target]
    body = {"project_id": attacker, "path": "probe.tex", "content": read_probe(path)}
    if walls == "bubblewrap alone":
        body["command"] = "openin_any=a pdflatex -interaction=nonstopmode probe.tex"
    reply = exposed.ada.call("latex", body)
    log = (exposed.project_dir(attacker) / "home" / "user" / "probe.log").read_text(errors="replace")
    assert leaked(must_not_leak, json.dumps(reply), log) == []
    if target != "/etc/passwd":
        assert "PROBE-UNREADABLE" in log


def test_reading_and_writing_inside_the_own_project_works(exposed, attacker):
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "echo mine > own.txt && cat own.txt"})
    assert reply["stdout"] == "mine\n"
    exposed.ada.call("latex", {"project_id": attacker, "path": "own.tex", "content": read_probe("own.txt")})
    log = (exposed.project_dir(attacker) / "home" / "user" / "own.log").read_text()
    assert "PROBE-READ:mine" in log


def test_a_document_writes_only_into_its_project(exposed, attacker, tmp_path):
    outside = tmp_path / "written-by-tex"
    document = (r"\documentclass{article}\begin{document}\newwrite\out"
                r"\immediate\openout\out=" + str(outside) + r" \immediate\write\out{x}\immediate\closeout\out"
                r" Hi\end{document}")
    exposed.ada.call("latex", {"project_id": attacker, "path": "w.tex", "content": document,
                               "command": "openout_any=a pdflatex -interaction=nonstopmode w.tex"})
    assert not outside.exists()


def test_no_network_not_even_the_emulator(exposed, attacker):
    port = int(exposed.emulator.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # reachable from here
    code = (f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('connected')")
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "python3", "args": ["-c", code],
                                      "err_on_exit": False})
    assert reply["exit_code"] != 0 and "connected" not in reply["stdout"], reply


def test_the_project_sees_only_its_own_processes(exposed, attacker):
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "ls /proc | grep -c '^[0-9]'"})
    assert int(reply["stdout"]) <= 4, reply  # bwrap's init, bash, ls, grep: not the emulator nor anything else


def test_the_environment_holds_no_secret_of_the_emulator(exposed, attacker):
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "env"})
    assert leaked(exposed.secrets(), reply["stdout"]) == []
    assert "COCALC" not in reply["stdout"]
    assert "openin_any=p" in reply["stdout"] and "shell_escape=f" in reply["stdout"]


@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "--allow-unsandboxed-exec"])
def test_without_bubblewrap_exec_is_refused_unless_allowed(tmp_path, allowed):
    bin_dir = tmp_path / "bin"  # a PATH with the tools exec needs, but no bwrap
    bin_dir.mkdir()
    for tool in ("bash", "echo", "prlimit"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "emulator.log"
    with pytest.MonkeyPatch.context() as patch, log.open("w") as stderr:
        patch.setenv("PATH", str(bin_dir))
        running = start_test_emulator(tmp_path / "data", *(["--allow-unsandboxed-exec"] if allowed else []),
                                      stderr=stderr)
    try:
        reply = Api(running.url, running.api_key).call("exec", {"project_id": running.project_id,
                                                                "command": "echo", "args": ["ran"]})
        custom = Api(running.url, running.api_key).call("latex", {"project_id": running.project_id,
                                                                  "path": "c.tex", "command": "true"})
    finally:
        running.stop()
    warnings = [line for line in log.read_text().splitlines() if "NOT sandboxed" in line]
    assert len(warnings) == 1 and "bubblewrap (bwrap) is not installed" in warnings[0]
    if allowed:
        assert reply["stdout"] == "ran\n" and "compile" in custom
    else:
        refusal = reply["error"]
        assert refusal.startswith("the emulator cannot sandbox project processes here") and "\n" not in refusal
        assert custom == {"error": refusal}


def test_a_requests_environment_reaches_only_the_project_process(exposed, attacker):
    """exec's ``env`` is set inside the sandbox only: LD_PRELOAD must not load into prlimit/bwrap on the host."""
    library = f"/no-such-{secrets.token_hex(4)}.so"
    reply = exposed.ada.call("exec", {"project_id": attacker, "command": "true", "env": {"LD_PRELOAD": library}})
    assert reply["stderr"].count(library) == 1, reply  # the dynamic linker's complaint, from `true` alone
