"""GET /blobs/...: no auth, the uuid as capability, CoCalc's headers and 404/304 answers."""

from __future__ import annotations

import shutil
import sqlite3
import uuid

import pytest
import requests

from emulator_helpers import TEX_HELLO

pytestmark = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")


@pytest.fixture(scope="module")
def blob(ada) -> str:
    """The uuid of a freshly compiled PDF blob."""
    reply = ada.call("latex", {"path": "/tmp/blob.tex", "content": TEX_HELLO, "project_id": ada.new_project()})
    return reply["pdf"]["data_uuid"]


def get(emulator, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{emulator.url}/blobs/{path}", timeout=10, **kwargs)


def test_blob_needs_no_authentication(emulator, blob):
    assert get(emulator, f"x.pdf?uuid={blob}").content.startswith(b"%PDF")


def test_if_none_match_gives_304(emulator, blob):
    response = get(emulator, f"x.pdf?uuid={blob}", headers={"If-None-Match": blob})
    assert response.status_code == 304 and response.content == b""


def test_missing_uuid_is_invalid_undefined(emulator):
    response = get(emulator, "x.pdf")
    assert response.status_code == 404 and response.text == "invalid uuid=undefined"


def test_unknown_blob_is_not_found(emulator):
    missing = str(uuid.uuid4())
    response = get(emulator, f"x.pdf?uuid={missing}")
    assert response.status_code == 404 and response.text == f"blob {missing} not found"


def test_images_are_inline(emulator, blob):
    response = get(emulator, f"dir/pic.png?uuid={blob}")
    assert response.headers["Content-Type"] == "image/png"
    assert "Content-Disposition" not in response.headers


def test_download_forces_attachment(emulator, blob):
    response = get(emulator, f"pic.png?uuid={blob}&download")
    assert response.headers["Content-Disposition"] == 'attachment; filename="pic.png"'


def test_other_types_are_attachments(emulator, blob):
    response = get(emulator, f"page.html?uuid={blob}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_expired_blob_is_deleted_when_read(ada, emulator):
    reply = ada.call("latex", {"path": "/tmp/old.tex", "content": TEX_HELLO + "%old", "project_id": ada.new_project()})
    old = reply["pdf"]["data_uuid"]
    with sqlite3.connect(emulator.data_dir / "emulator.sqlite3") as db:
        db.execute("UPDATE blobs SET expire=1 WHERE uuid=?", (old,))
    response = get(emulator, f"old.pdf?uuid={old}")
    assert response.status_code == 404 and response.text == f"blob {old} not found"
    with sqlite3.connect(emulator.data_dir / "emulator.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM blobs WHERE uuid=?", (old,)).fetchone() == (0,)
