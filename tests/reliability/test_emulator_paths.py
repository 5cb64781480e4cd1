"""Parameters that name files or jobs cannot reach past their project: no shell runs a path, jobs belong to
their project, the /tmp clean-up decides on the normalised path. Real HTTP, real TeX, real bwrap."""

from __future__ import annotations

import secrets
import shutil

import pytest
import requests

from attack import Exposed, start_exposed

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

HELLO = r"\documentclass{article}\begin{document}Hi\end{document}"


@pytest.fixture(scope="module")
def exposed(tmp_path_factory) -> Exposed:
    running = start_exposed(tmp_path_factory.mktemp("paths"))
    yield running
    running.emulator.stop()


@pytest.fixture(scope="module")
def project(exposed) -> str:
    return exposed.ada.new_project("paths")


INJECTIONS = {
    "semicolon": "a;touch {m};b.tex",
    "command substitution": "$(touch {m}).tex",
    "backticks": "`touch {m}`.tex",
    "newline": "a\ntouch {m}\nb.tex",
    "double quote": 'a";touch {m};".tex',
    "leading dash": "-e$(touch {m}).tex",
    "in /tmp": "/tmp/x;touch {m}.tex",
    "in a directory": "sub;touch {m}/$(touch {m}).tex",
}


@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_a_path_never_runs_a_command(exposed, project, kind, tmp_path):
    marker = f"marker-{secrets.token_hex(6)}"
    for where in ("", f"{tmp_path}/"):
        path = INJECTIONS[kind].format(m=f"{where}{marker}")
        reply = exposed.ada.call("latex", {"project_id": project, "path": path, "content": HELLO})
        assert isinstance(reply, dict)
        # Either a compile of that odd name, or a one-line error; never a half-done answer.
        assert ("error" in reply and "\n" not in reply["error"]) or "compile" in reply, reply
    # (files whose names merely contain the marker are the odd .tex files themselves)
    made = [str(f) for base in (exposed.project_dir(project), tmp_path) for f in base.rglob("*")
            if f.name == marker and f.is_file()]
    assert made == []


def test_a_plain_odd_name_still_compiles(exposed, project):
    reply = exposed.ada.call("latex", {"project_id": project, "path": "a;b (draft) & c.tex", "content": HELLO})
    assert reply["pdf"]["event"] == "file_read_from_project", reply


def test_an_async_job_is_reachable_only_through_its_own_project(exposed):
    project_a, other_of_a = exposed.ada.new_project("jobs a"), exposed.ada.new_project("jobs a2")
    project_b = exposed.grace.new_project("jobs b")
    job = exposed.ada.call("exec", {"project_id": project_a, "command": "echo", "args": ["a-output"],
                                    "async_call": True})
    for api, through in ((exposed.grace, project_b), (exposed.ada, other_of_a)):
        reply = api.call("exec", {"project_id": through, "async_get": job["job_id"], "async_await": True})
        assert reply == {"error": f"Error executing command 'undefined' with args 'undefined' -- "
                                  f"Error: Async operation '{job['job_id']}' does not exist."}
    mine = exposed.ada.call("exec", {"project_id": project_a, "async_get": job["job_id"], "async_await": True})
    assert mine["status"] == "completed" and mine["stdout"] == "a-output\n"


def test_the_tmp_clean_up_never_touches_home_files(exposed, project):
    home = exposed.project_dir(project) / "home" / "user"
    exposed.ada.call("latex", {"project_id": project, "path": "thesis.tex", "content": HELLO})
    (home / "thesis.bib").write_text("@misc{x}")
    before = sorted(p.name for p in home.glob("thesis.*"))
    assert {"thesis.tex", "thesis.pdf", "thesis.bib"} <= set(before)
    exposed.ada.call("latex", {"project_id": project, "path": "/tmp/../home/user/thesis.tex", "content": HELLO})
    assert sorted(p.name for p in home.glob("thesis.*")) == before


def test_the_tmp_clean_up_still_removes_tmp_outputs(exposed, project):
    reply = exposed.ada.call("latex", {"project_id": project, "path": "/tmp/scratch.tex", "content": HELLO})
    assert "url" in reply
    assert list((exposed.project_dir(project) / "tmp").glob("scratch.*")) == []


def test_a_project_process_racing_symlinks_cannot_steer_the_emulators_file_access(exposed, tmp_path):
    """A job swaps ``d`` between a real directory and a symlink to a host directory while latex writes
    ``d/x.tex`` and reads ``d/x.pdf``: the emulator never writes there nor hands out what is there."""
    project = exposed.ada.new_project("race")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = f"host-secret-{secrets.token_hex(6)}".encode()
    (outside / "x.pdf").write_bytes(secret)
    swapper = (f"end=$((SECONDS+20)); while [ ! -e stop ] && [ $SECONDS -lt $end ]; do rm -rf d; mkdir d; "
               f"echo mine > d/x.pdf; rm -rf d; ln -s {outside} d; done")
    job = exposed.ada.call("exec", {"project_id": project, "command": swapper, "async_call": True, "timeout": 30})
    try:
        for attempt in range(150):
            reply = exposed.ada.call("latex", {"project_id": project, "path": "d/x.tex", "command": "true",
                                               "content": "written by the emulator", "only_read_pdf": attempt % 2})
            if "url" in reply:
                assert secret not in requests.get(reply["url"], timeout=10).content
    finally:
        exposed.ada.call("exec", {"project_id": project, "command": "touch", "args": ["stop"]})
        exposed.ada.call("exec", {"project_id": project, "async_get": job["job_id"], "async_await": True})
    assert sorted(p.name for p in outside.iterdir()) == ["x.pdf"]


def test_a_fifo_where_the_pdf_should_be_does_not_block_the_emulator(exposed):
    project = exposed.ada.new_project("fifo")
    exposed.ada.call("exec", {"project_id": project, "command": "mkfifo", "args": ["f.pdf"]})
    reply = exposed.ada.call("latex", {"project_id": project, "path": "f.tex", "only_read_pdf": True})
    assert reply["pdf"]["event"] == "error" and "url" not in reply
