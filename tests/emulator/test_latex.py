"""latex: real latexmk, the blob it makes, CoCalc's error shapes, /tmp cleanup, and path safety."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from emulator_helpers import TEX_HELLO, Api
from emulator_process import start_emulator

pytestmark = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")

TEX_ERROR = "\\documentclass{article}\n\\begin{document}\nHi\n\\undefinedmacro\n\\end{document}\n"


def uuidsha1(data: bytes) -> str:
    h = hashlib.sha1(data).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[12:15]}-{(int(h[15], 16) & 3) | 8:x}{h[16:19]}-{h[19:31]}"


def project_dir(emulator, project_id: str) -> Path:
    return emulator.data_dir / "projects" / project_id


def test_pdf_blob_matches_its_uuid_and_headers(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "/tmp/d.tex", "content": TEX_HELLO, "project_id": project_id})
    response = requests.get(reply["url"], timeout=10)
    assert response.content.startswith(b"%PDF")
    assert reply["pdf"]["data_uuid"] == uuidsha1(response.content)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="d.pdf"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_tmp_outputs_are_removed_afterwards(ada, emulator):
    project_id = ada.new_project()
    ada.call("latex", {"path": "/tmp/clean/d.tex", "content": TEX_HELLO, "project_id": project_id})
    leftovers = list((project_dir(emulator, project_id) / "tmp" / "clean").iterdir())
    assert leftovers == []


def test_home_outputs_are_kept(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "paper/main.tex", "content": TEX_HELLO, "project_id": project_id})
    assert reply["url"] == f"{emulator.url}/blobs/paper/main.pdf?uuid={reply['pdf']['data_uuid']}"
    home = project_dir(emulator, project_id) / "home" / "user" / "paper"
    assert (home / "main.tex").read_text() == TEX_HELLO and (home / "main.pdf").exists()


def test_tex_error_is_a_compile_error_event_yet_a_pdf_exists(ada):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "/tmp/e.tex", "content": TEX_ERROR, "project_id": project_id})
    compile_ = reply["compile"]
    assert compile_["event"] == "error" and set(compile_) == {"event", "id", "error"}
    command = "latexmk -pdf -f -g -bibtex -deps -interaction=nonstopmode e.tex"
    assert compile_["error"].startswith(f"Error executing command '{command}' with args 'undefined' -- "
                                        f"command '{command}' exited with nonzero code 12 -- stderr='")
    assert "url" in reply and reply["pdf"]["event"] == "file_read_from_project"


def test_no_pdf_means_no_url_and_an_enoent_pdf_event(ada):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "/tmp/n.tex", "content": TEX_HELLO, "command": "true",
                               "project_id": project_id})
    assert "url" not in reply
    assert reply["compile"]["event"] == "project_exec_output" and reply["compile"]["exit_code"] == 0
    assert reply["pdf"]["event"] == "error"
    assert reply["pdf"]["error"] == "Error: ENOENT: no such file or directory, stat '/tmp/n.pdf'"


def test_only_read_pdf_collects_an_earlier_pdf(ada):
    project_id = ada.new_project()
    first = ada.call("latex", {"path": "keep/r.tex", "content": TEX_HELLO, "project_id": project_id})
    again = ada.call("latex", {"path": "keep/r.tex", "only_read_pdf": True, "project_id": project_id})
    assert "compile" not in again and again["pdf"]["data_uuid"] == first["pdf"]["data_uuid"]


def test_only_read_pdf_refuses_tmp(ada, emulator):
    reply = ada.call("latex", {"path": "/tmp/x.tex", "only_read_pdf": True, "project_id": emulator.project_id})
    assert reply == {"error": "if only_read_pdf is set then path must not start with /tmp "
                              "(otherwise the pdf would be removed)"}


def test_someone_elses_project_is_refused(ada, emulator):
    reply = ada.call("latex", {"path": "x.tex", "content": TEX_HELLO, "project_id": emulator.second["project_id"]})
    assert reply == {"error": "must be signed in as a collaborator on the project"}


def test_without_project_id_the_newest_project_is_used(ada):
    newest = ada.new_project("latex target")
    reply = ada.call("latex", {"path": "auto.tex", "content": TEX_HELLO})
    assert reply["compile"]["exit_code"] == 0
    listing = ada.call("exec", {"project_id": newest, "command": "ls"})
    assert "auto.pdf" in listing["stdout"]


def test_without_any_project_an_untitled_project_is_made(tmp_path):
    running = start_emulator(tmp_path / "fresh")
    try:
        api = Api(running.url, running.api_key)
        api.call("user-query", {"query": {"projects": {"project_id": running.project_id, "deleted": True}}})
        reply = api.call("latex", {"path": "u.tex", "content": TEX_HELLO})
        assert reply["compile"]["exit_code"] == 0
        assert [p["title"] for p in api.call("projects/get", {})] == ["Untitled Project"]
    finally:
        running.stop()


def test_path_traversal_is_refused(ada, emulator):
    project_id = ada.new_project()
    for path in ("../../x.tex", "/etc/x.tex", "sub/../../../etc/x.tex"):
        reply = ada.call("latex", {"path": path, "content": TEX_HELLO, "project_id": project_id})
        assert "outside the project" in reply["error"], path
    assert not (project_dir(emulator, project_id) / "x.tex").exists()


def test_symlink_out_of_the_project_is_refused(ada, emulator, tmp_path):
    project_id = ada.new_project()
    ada.call("exec", {"project_id": project_id, "command": "ln", "args": ["-s", str(tmp_path), "out"]})
    reply = ada.call("latex", {"path": "out/x.tex", "content": TEX_HELLO, "project_id": project_id})
    assert "outside the project" in reply["error"]
    assert list(tmp_path.iterdir()) == []


def test_user_query_answers_while_a_compile_runs(ada):
    project_id = ada.new_project()
    ada.call("projects/start", {"project_id": project_id})
    compiler = threading.Thread(target=ada.call, args=("latex", {
        "path": "slow.tex", "content": TEX_HELLO, "command": "sleep 1.5", "project_id": project_id}))
    compiler.start()
    time.sleep(0.2)
    began = time.monotonic()
    reply = ada.call("user-query", {"query": {"accounts": {"account_id": None}}})
    assert "query" in reply and time.monotonic() - began < 0.5
    compiler.join()


def test_ttl_is_ignored_and_blobs_live_one_day(ada, emulator):
    project_id = ada.new_project()
    reply = ada.call("latex", {"path": "/tmp/t.tex", "content": TEX_HELLO, "project_id": project_id, "ttl": 60})
    with sqlite3.connect(emulator.data_dir / "emulator.sqlite3") as db:
        (expire,) = db.execute("SELECT expire FROM blobs WHERE uuid=?", (reply["pdf"]["data_uuid"],)).fetchone()
    assert abs(expire - time.time() - 86400) < 60
