"""projects/write-text-file against the real emulator: CoCalc's checks and texts, and writes only inside the project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from emulator_helpers import Api, basic
from emulator_process import start_emulator

ENDPOINT = "projects/write-text-file"


def home(emulator, project_id: str) -> Path:
    return emulator.data_dir / "projects" / project_id / "home" / "user"


def read_back(api: Api, project_id: str, path: str) -> str:
    """The file as the project itself sees it: ``cat`` run through exec."""
    return api.call("exec", {"project_id": project_id, "command": "cat", "args": [path]})["stdout"]


def test_writes_the_file_and_answers_ok_status(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call(ENDPOINT, {"project_id": project_id, "path": "refs.bib", "content": "@book{k, title={T}}\n"})
    assert reply == {"status": "ok"}
    assert read_back(ada, project_id, "refs.bib") == "@book{k, title={T}}\n"


def test_relative_path_lands_under_home_with_its_parent_directories_made(ada, emulator):
    project_id = ada.new_project()
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "chapters/one/intro.tex", "content": "x"}) == {
        "status": "ok"}
    written = home(emulator, project_id) / "chapters" / "one" / "intro.tex"
    assert written.read_text() == "x"
    # ensureContainingDirectoryExists makes them with mode 0700
    assert (written.parent.stat().st_mode & 0o777) == 0o700


def test_absolute_tmp_path_is_the_projects_tmp(ada, emulator):
    project_id = ada.new_project()
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "/tmp/w/a.sty", "content": "%sty"}) == {
        "status": "ok"}
    assert (emulator.data_dir / "projects" / project_id / "tmp" / "w" / "a.sty").read_text() == "%sty"


def test_empty_content_writes_an_empty_file(ada, emulator):
    project_id = ada.new_project()
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "empty.tex", "content": ""}) == {"status": "ok"}
    assert (home(emulator, project_id) / "empty.tex").read_bytes() == b""


def test_rewrite_replaces_the_whole_content(ada, emulator):
    project_id = ada.new_project()
    ada.call(ENDPOINT, {"project_id": project_id, "path": "a.tex", "content": "a much longer first version"})
    ada.call(ENDPOINT, {"project_id": project_id, "path": "a.tex", "content": "short"})
    assert read_back(ada, project_id, "a.tex") == "short"


def test_unicode_content_is_written_as_utf8(ada, emulator):
    project_id = ada.new_project()
    text = "Grüße, π ≈ 3.14159, 漢字, 🙂\n"
    ada.call(ENDPOINT, {"project_id": project_id, "path": "u.tex", "content": text})
    assert (home(emulator, project_id) / "u.tex").read_bytes() == text.encode("utf-8")


def test_a_lone_surrogate_becomes_the_replacement_character_as_in_node(ada, emulator):
    project_id = ada.new_project()
    ada.call(ENDPOINT, {"project_id": project_id, "path": "s.tex", "content": "a\ud800b"})
    assert (home(emulator, project_id) / "s.tex").read_bytes() == b"a\xef\xbf\xbdb"


def test_starts_a_stopped_project(ada):
    project_id = ada.new_project()
    assert ada.state(project_id) == "opened"
    ada.call(ENDPOINT, {"project_id": project_id, "path": "a.txt", "content": "a"})
    assert ada.state(project_id) == "running"


def test_form_encoded_body_works_as_curl_d_sends_it(ada, emulator):
    project_id = ada.new_project()
    response = requests.post(f"{emulator.url}/api/v2/{ENDPOINT}", headers=basic(emulator.api_key), timeout=30,
                             data={"project_id": project_id, "path": "form.txt", "content": "a=b&c"})
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert (home(emulator, project_id) / "form.txt").read_text() == "a=b&c"


def test_bearer_key_works_the_same(ada, emulator):
    project_id = ada.new_project()
    response = requests.post(f"{emulator.url}/api/v2/{ENDPOINT}", timeout=30,
                             headers={"Authorization": f"Bearer {emulator.api_key}"},
                             json={"project_id": project_id, "path": "bearer.txt", "content": "b"})
    assert response.json() == {"status": "ok"}
    assert (home(emulator, project_id) / "bearer.txt").read_text() == "b"


# -- the checks, in CoCalc's order -------------------------------------------------------------------------------

def test_no_key_is_must_be_authenticated_before_anything_else(anonymous):
    assert anonymous.call(ENDPOINT, {"project_id": "nope"}) == {"error": "must be authenticated"}


def test_bad_project_id_comes_before_a_missing_path(ada):
    assert ada.call(ENDPOINT, {"project_id": "nope"}) == {"error": "must set project_id to a valid uuid"}
    assert ada.call(ENDPOINT, {}) == {"error": "must set project_id to a valid uuid"}


def test_missing_or_empty_path_comes_before_missing_content(ada, emulator):
    assert ada.call(ENDPOINT, {"project_id": emulator.project_id}) == {"error": "must specify a 'path'"}
    assert ada.call(ENDPOINT, {"project_id": emulator.project_id, "path": ""}) == {"error": "must specify a 'path'"}


def test_missing_or_null_content_is_refused(ada, emulator):
    for body in ({"project_id": emulator.project_id, "path": "a.txt"},
                 {"project_id": emulator.project_id, "path": "a.txt", "content": None}):
        assert ada.call(ENDPOINT, body) == {"error": "must include content of file"}


def test_get_is_as_if_no_params_were_sent(emulator):
    response = requests.get(f"{emulator.url}/api/v2/{ENDPOINT}", headers=basic(emulator.api_key), timeout=30)
    assert response.json() == {"error": "must set project_id to a valid uuid"}


def test_non_collaborator_gets_call_projects_text_and_nothing_is_written(ada, grace, emulator):
    project_id = ada.new_project()
    reply = grace.call(ENDPOINT, {"project_id": project_id, "path": "intruder.txt", "content": "x"})
    assert reply == {"error": "callProject -- authenticated user must be a collaborator on the project"}
    assert not (home(emulator, project_id) / "intruder.txt").exists()
    assert ada.state(project_id) == "opened"


def test_unknown_project_is_the_collaborator_error(ada):
    reply = ada.call(ENDPOINT, {"project_id": "00000000-0000-4000-8000-000000000000", "path": "a", "content": "x"})
    assert reply == {"error": "callProject -- authenticated user must be a collaborator on the project"}


def test_project_key_writes_to_its_own_project_only(ada, emulator):
    project_id = ada.new_project()
    key = ada.call("api-keys", {"action": "create", "project_id": project_id})["response"][0]["secret"]
    scoped = ada.as_key(key)
    assert scoped.call(ENDPOINT, {"project_id": project_id, "path": "k.txt", "content": "k"}) == {"status": "ok"}
    assert (home(emulator, project_id) / "k.txt").read_text() == "k"
    reply = scoped.call(ENDPOINT, {"project_id": emulator.project_id, "path": "k.txt", "content": "k"})
    assert reply == {"error": "callProject -- authenticated user must be a collaborator on the project"}


def test_body_over_one_megabyte_is_413(ada, emulator):
    response = ada.post(ENDPOINT, {"project_id": emulator.project_id, "path": "big.txt", "content": "x" * 1048576})
    assert response.status_code == 413 and response.text == "Body exceeded 1mb limit"
    assert not (home(emulator, emulator.project_id) / "big.txt").exists()


def test_a_failed_write_in_the_project_still_answers_ok_as_cocalc_does(ada, emulator):
    # callProjectMessage resolves with the project's error reply and write-text-file.ts never looks at it.
    project_id = ada.new_project()
    (home(emulator, project_id) / "taken").mkdir(parents=True)
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "taken", "content": "x"}) == {"status": "ok"}
    assert (home(emulator, project_id) / "taken").is_dir()
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "n.txt", "content": 5}) == {"status": "ok"}
    assert not (home(emulator, project_id) / "n.txt").exists()


# -- hostile paths: a clean error, never a write outside the project ---------------------------------------------

@pytest.mark.parametrize("path", ["../outside.txt", "../../../../outside.txt", "/etc/cocalc-magics-outside.txt",
                                  "/home/other/outside.txt", "/tmp/../outside.txt", "a/../../outside.txt"])
def test_a_path_that_leaves_the_project_is_refused(ada, emulator, path):
    project_id = ada.new_project()
    before = set((emulator.data_dir / "projects").iterdir())
    reply = ada.call(ENDPOINT, {"project_id": project_id, "path": path, "content": "x"})
    assert "is outside the project" in reply["error"]
    assert "\n" not in reply["error"]
    assert not Path("/etc/cocalc-magics-outside.txt").exists()
    assert set((emulator.data_dir / "projects").iterdir()) == before
    assert not list((emulator.data_dir / "projects").glob("*/outside.txt"))
    assert not list((emulator.data_dir / "projects").glob("*/home/outside.txt"))
    assert not (emulator.data_dir / "outside.txt").exists()


def test_a_symlink_out_of_the_project_is_not_followed(ada, emulator, tmp_path):
    project_id = ada.new_project()
    outside = tmp_path / "outside"
    outside.mkdir()
    (home(emulator, project_id)).mkdir(parents=True, exist_ok=True)
    os.symlink(outside, home(emulator, project_id) / "link")
    os.symlink(outside / "victim.txt", home(emulator, project_id) / "victim.txt")
    for path in ("link/pwned.txt", "link/deeper/pwned.txt", "victim.txt"):
        reply = ada.call(ENDPOINT, {"project_id": project_id, "path": path, "content": "pwned"})
        assert "is outside the project" in reply["error"]
    assert list(outside.iterdir()) == []


def test_a_symlink_inside_the_project_is_followed_like_the_projects_writefile(ada, emulator):
    project_id = ada.new_project()
    (home(emulator, project_id) / "real").mkdir(parents=True)
    os.symlink(home(emulator, project_id) / "real", home(emulator, project_id) / "alias")
    assert ada.call(ENDPOINT, {"project_id": project_id, "path": "alias/f.tex", "content": "f"}) == {"status": "ok"}
    assert (home(emulator, project_id) / "real" / "f.tex").read_text() == "f"


def test_a_nul_byte_in_the_path_writes_nothing(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call(ENDPOINT, {"project_id": project_id, "path": "a\u0000b.txt", "content": "x"})
    assert reply == {"status": "ok"}  # Node's fs throws in the project; the hub does not report it
    assert list(home(emulator, project_id).iterdir()) == []


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_writes_a_file(ada, emulator):
    project_id = ada.new_project()
    done = subprocess.run(["curl", "-s", "-u", f"{emulator.api_key}:", "-d", f"project_id={project_id}",
                           "-d", "path=figs/notes.txt", "--data-urlencode", "content=line 1\nline 2 & more",
                           f"{emulator.url}/api/v2/{ENDPOINT}"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == {"status": "ok"}
    assert read_back(ada, project_id, "figs/notes.txt") == "line 1\nline 2 & more"


def test_a_symlink_swapped_in_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """Another process of the project replaces a checked directory with a symlink out of it: the write fails."""
    from cocalc_magics.emulator import project_writer
    from cocalc_magics.emulator.filesystem import ProjectFilesystem

    fs = ProjectFilesystem(tmp_path / "projects", "p")
    fs.ensure()
    outside = tmp_path / "outside"
    outside.mkdir()
    (fs.home / "figs").mkdir()
    real_realpath = os.path.realpath
    looks = []

    def realpath_then_swap(path, *args, **kwargs):
        resolved = real_realpath(path, *args, **kwargs)
        if str(path).endswith("x.png"):
            looks.append(path)
            if len(looks) % 2 == 0:  # after host_path's check and the writer's own second look
                (fs.home / "figs").rmdir()
                os.symlink(outside, fs.home / "figs")
        return resolved

    monkeypatch.setattr(project_writer.os.path, "realpath", realpath_then_swap)
    with pytest.raises(project_writer.ProjectWriteError):
        project_writer.write_text_file(fs, "figs/x.png", "pwned")
    os.unlink(fs.home / "figs")
    (fs.home / "figs").mkdir()
    with pytest.raises(project_writer.ProjectWriteError):
        project_writer.PartialFile(fs, "figs/x.png")
    assert list(outside.iterdir()) == []


def test_when_the_hub_gives_up_on_the_project_the_answer_is_an_empty_object(tmp_path):
    # callProjectMessage rejects with the bare string "timeout", and {error: err.message} of it is {}.
    running = start_emulator(tmp_path / "impatient", "--project-call-timeout", "1", "--enable-fault-injection")
    try:
        api = Api(running.url, running.api_key)
        project_id = api.new_project()
        faults = requests.post(f"{running.url}/_emulator/faults", json={"project_id": project_id,
                                                                       "stuck": "starting"}, timeout=10)
        assert faults.status_code == 200
        assert api.call(ENDPOINT, {"project_id": project_id, "path": "late.txt", "content": "x"}) == {}
        assert not (home(running, project_id) / "late.txt").exists()
    finally:
        running.stop()
