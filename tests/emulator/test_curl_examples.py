"""CoCalc's three published curl examples, run with real curl against the emulator."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import requests

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

LATEX = r"\documentclass{article}\begin{document}\section{Main Section}Hello.\end{document}"


def curl(*args: str) -> str:
    done = subprocess.run(["curl", "-s", *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_curl_stop_a_project(emulator, ada):
    project_id = ada.new_project()
    out = curl("-u", f"{emulator.api_key}:", "-d", f"project_id={project_id}", f"{emulator.url}/api/v2/projects/stop")
    assert json.loads(out) == {"status": "ok"}


def test_curl_who_am_i(emulator):
    out = curl("-u", f"{emulator.api_key}:", "-d", '{"query":{"accounts":{"account_id":null,"email_address":null}}}',
               "-H", "Content-Type: application/json", f"{emulator.url}/api/v2/user-query")
    assert json.loads(out) == {"query": {"accounts": {"account_id": emulator.account_id,
                                                      "email_address": emulator.email_address}}}


def test_curl_latex_gives_a_url_serving_the_pdf(emulator):
    out = curl("-u", f"{emulator.api_key}:", "-d", "path=/tmp/d.tex", "-d", f"content={LATEX}",
               f"{emulator.url}/api/v2/latex")
    url = json.loads(out)["url"]
    assert url.startswith(f"{emulator.url}/blobs//tmp/d.pdf?uuid=")
    assert requests.get(url, timeout=10).content.startswith(b"%PDF")
