"""The hub's POST /upload against the real emulator: CoCalc's texts and codes, Dropzone chunks, hostile input."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests

from emulator_helpers import Api, basic, unknown_key
from emulator_process import start_emulator

BINARY = bytes(range(256)) * 41 + b"\x00\r\n--\r\n\x89PNG\r\n\x1a\n"  # every byte value, CRLFs, a fake boundary
NOT_SIGNED_IN = "user must be signed in to upload files"


def home(emulator, project_id: str) -> Path:
    return emulator.data_dir / "projects" / project_id / "home" / "user"


def upload_url(emulator, project_id: str | None, **query: str) -> str:
    params = {"compute_server_id": "0", "path": "figs", **query}
    if project_id is not None:
        params = {"project_id": project_id, **params}
    return f"{emulator.url}/upload?" + "&".join(f"{k}={v}" for k, v in params.items() if v is not None)


def upload(emulator, project_id: str | None, data: bytes = BINARY, *, filename: str = "plot.png",
           key: str | None = "default", fields: dict | None = None, **query: str) -> requests.Response:
    headers = basic(emulator.api_key if key == "default" else key) if key is not None else {}
    return requests.post(upload_url(emulator, project_id, **query), headers=headers, timeout=60,
                         files={"file": (filename, data, "application/octet-stream")}, data=fields or {})


def chunks_of(data: bytes, count: int) -> list[bytes]:
    size = -(-len(data) // count)
    return [data[i * size:(i + 1) * size] for i in range(count)]


def dz_fields(dzuuid: str, index: int, count: int, total: int, offset: int = 0) -> dict:
    """What Dropzone sends with each chunk."""
    return {"dzuuid": dzuuid, "dzchunkindex": str(index), "dztotalfilesize": str(total),
            "dzchunksize": "8000000", "dztotalchunkcount": str(count), "dzchunkbyteoffset": str(offset)}


def running_project(ada: Api) -> str:
    project_id = ada.new_project()
    assert ada.call("projects/start", {"project_id": project_id}) == {"status": "ok"}
    return project_id


def assert_failed(response: requests.Response, text: str) -> None:
    assert (response.status_code, response.text) == (500, text)


# -- success -------------------------------------------------------------------------------------------------------

def test_file_lands_in_the_directory_byte_for_byte(ada, emulator):
    project_id = running_project(ada)
    response = upload(emulator, project_id)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["Content-Type"].startswith("application/json")
    assert (home(emulator, project_id) / "figs" / "plot.png").read_bytes() == BINARY
    # and the project sees the same bytes
    listing = ada.call("exec", {"project_id": project_id, "command": "base64", "args": ["-w0", "figs/plot.png"]})
    assert base64.b64decode(listing["stdout"]) == BINARY


def test_without_path_the_file_lands_in_home(ada, emulator):
    project_id = running_project(ada)
    assert upload(emulator, project_id, b"top", filename="top.bin", path=None).json() == {"status": "ok"}
    assert (home(emulator, project_id) / "top.bin").read_bytes() == b"top"


def test_absolute_tmp_directory(ada, emulator):
    project_id = running_project(ada)
    assert upload(emulator, project_id, b"t", filename="t.pdf", path="/tmp/fig").status_code == 200
    assert (emulator.data_dir / "projects" / project_id / "tmp" / "fig" / "t.pdf").read_bytes() == b"t"


def test_full_path_field_wins_over_the_file_name(ada, emulator):
    project_id = running_project(ada)
    response = upload(emulator, project_id, b"deep", filename="ignored.png", fields={"fullPath": "a/b/c.png"})
    assert response.json() == {"status": "ok"}
    assert (home(emulator, project_id) / "figs" / "a" / "b" / "c.png").read_bytes() == b"deep"
    assert not (home(emulator, project_id) / "figs" / "ignored.png").exists()


def test_an_absolute_full_path_is_joined_like_nodes_path_join(ada, emulator):
    project_id = running_project(ada)
    assert upload(emulator, project_id, b"j", fields={"fullPath": "/sub/j.png"}).status_code == 200
    assert (home(emulator, project_id) / "figs" / "sub" / "j.png").read_bytes() == b"j"


def test_a_backslash_path_keeps_only_the_last_part_as_formidable_does(ada, emulator):
    project_id = running_project(ada)
    assert upload(emulator, project_id, b"w", filename="C:\\Users\\me\\w.png").status_code == 200
    assert (home(emulator, project_id) / "figs" / "w.png").read_bytes() == b"w"


def test_a_non_ascii_file_name_is_kept_as_utf8(ada, emulator):
    project_id = running_project(ada)
    assert upload(emulator, project_id, b"u", filename="Grüße π (2).png").json() == {"status": "ok"}
    assert (home(emulator, project_id) / "figs" / "Grüße π (2).png").read_bytes() == b"u"


def test_a_new_upload_replaces_the_old_file(ada, emulator):
    project_id = running_project(ada)
    upload(emulator, project_id, b"first version, longer")
    upload(emulator, project_id, b"second")
    assert (home(emulator, project_id) / "figs" / "plot.png").read_bytes() == b"second"


def test_bodies_over_the_api_routes_one_megabyte_are_fine(ada, emulator):
    project_id = running_project(ada)
    big = os.urandom(3 * 1024 * 1024)
    assert upload(emulator, project_id, big, filename="big.bin").json() == {"status": "ok"}
    assert (home(emulator, project_id) / "figs" / "big.bin").read_bytes() == big


def test_bearer_key_and_project_key_work(ada, emulator):
    project_id = running_project(ada)
    response = requests.post(upload_url(emulator, project_id), timeout=60,
                             headers={"Authorization": f"Bearer {emulator.api_key}"}, files={"file": ("b.png", b"b")})
    assert response.json() == {"status": "ok"}
    project_key = ada.call("api-keys", {"action": "create", "project_id": project_id})["response"][0]["secret"]
    assert upload(emulator, project_id, b"p", filename="p.png", key=project_key).json() == {"status": "ok"}
    assert (home(emulator, project_id) / "figs" / "p.png").read_bytes() == b"p"
    assert_failed(upload(emulator, emulator.project_id, key=project_key), "upload failed")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_form_upload(ada, emulator, tmp_path):
    project_id = running_project(ada)
    (tmp_path / "x.png").write_bytes(BINARY)
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-u", f"{emulator.api_key}:",
                           "-F", f"file=@{tmp_path / 'x.png'}",
                           f"{emulator.url}/upload?project_id={project_id}&compute_server_id=0&path=figs"],
                          capture_output=True, timeout=60, check=True)
    body, status = done.stdout.rsplit(b"\n", 1)
    assert status == b"200" and json.loads(body) == {"status": "ok"}
    assert (home(emulator, project_id) / "figs" / "x.png").read_bytes() == BINARY
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-F", f"file=@{tmp_path / 'x.png'}",
                           f"{emulator.url}/upload?project_id={project_id}&compute_server_id=0&path=figs"],
                          capture_output=True, timeout=60, check=True)
    assert done.stdout == NOT_SIGNED_IN.encode() + b"\n401"


# -- Dropzone chunks -----------------------------------------------------------------------------------------------

def test_chunks_are_assembled_and_the_file_appears_only_at_the_last(ada, emulator):
    project_id = running_project(ada)
    data = os.urandom(300_000)
    parts, dzuuid, target = chunks_of(data, 3), str(uuid.uuid4()), home(emulator, project_id) / "figs" / "c.bin"
    for index, part in enumerate(parts):
        response = upload(emulator, project_id, part, filename="c.bin",
                          fields=dz_fields(dzuuid, index, 3, len(data), index * len(parts[0])))
        assert response.json() == {"status": "ok"}
        if index < 2:
            assert not target.exists()
            assert len(list(target.parent.glob("c.bin.partialupload-*"))) == 1
    assert target.read_bytes() == data
    assert list(target.parent.iterdir()) == [target]


def test_a_chunk_out_of_order_ends_the_upload_and_leaves_nothing(ada, emulator):
    project_id = running_project(ada)
    parts, dzuuid = chunks_of(BINARY, 3), str(uuid.uuid4())
    assert upload(emulator, project_id, parts[0], fields=dz_fields(dzuuid, 0, 3, len(BINARY))).status_code == 200
    assert_failed(upload(emulator, project_id, parts[2], fields=dz_fields(dzuuid, 2, 3, len(BINARY))),
                  "Upload failed.")
    assert_failed(upload(emulator, project_id, parts[1], fields=dz_fields(dzuuid, 1, 3, len(BINARY))),
                  "upload failed")
    assert list((home(emulator, project_id) / "figs").iterdir()) == []


def test_a_chunk_of_an_upload_never_started_is_refused(ada, emulator):
    project_id = running_project(ada)
    assert_failed(upload(emulator, project_id, b"x", fields=dz_fields(str(uuid.uuid4()), 1, 2, 2)), "upload failed")
    assert not (home(emulator, project_id) / "figs" / "plot.png").exists()


@pytest.mark.parametrize("index, count", [("2", "2"), ("5", "3"), ("0", "0"), ("-1", "2"), ("0", "10001"),
                                          ("0", "99999999999999"), ("x", "2"), ("0", "1.5")])
def test_impossible_chunk_numbers_are_refused(ada, emulator, index, count):
    project_id = running_project(ada)
    fields = {"dzuuid": str(uuid.uuid4()), "dzchunkindex": index, "dztotalchunkcount": count}
    assert_failed(upload(emulator, project_id, b"x", fields=fields), "upload failed")
    assert not (home(emulator, project_id) / "figs").exists()


def test_a_second_chunk_zero_of_the_same_upload_ends_it(ada, emulator):
    project_id = running_project(ada)
    parts, dzuuid = chunks_of(BINARY, 2), str(uuid.uuid4())
    assert upload(emulator, project_id, parts[0], fields=dz_fields(dzuuid, 0, 2, len(BINARY))).status_code == 200
    assert_failed(upload(emulator, project_id, parts[0], fields=dz_fields(dzuuid, 0, 2, len(BINARY))),
                  "Upload failed.")
    assert_failed(upload(emulator, project_id, parts[1], fields=dz_fields(dzuuid, 1, 2, len(BINARY))),
                  "upload failed")
    assert list((home(emulator, project_id) / "figs").iterdir()) == []


def test_concurrent_uploads_of_one_dzuuid_never_place_a_mixed_file(ada, emulator):
    project_id = running_project(ada)
    dzuuid, sources = str(uuid.uuid4()), [os.urandom(64_000), os.urandom(64_000)]
    barrier = threading.Barrier(2)

    def send(data: bytes) -> None:
        barrier.wait()
        for index, part in enumerate(chunks_of(data, 8)):
            upload(emulator, project_id, part, filename="same.bin", fields=dz_fields(dzuuid, index, 8, len(data)))

    threads = [threading.Thread(target=send, args=(data,)) for data in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    target = home(emulator, project_id) / "figs" / "same.bin"
    assert not target.exists() or target.read_bytes() in sources
    assert list(target.parent.glob("*.partialupload-*")) == []


# -- CoCalc's refusals, in its order -------------------------------------------------------------------------------

def test_no_key_or_a_bad_key_is_401(ada, emulator):
    project_id = running_project(ada)
    for key in (None, unknown_key()):
        response = upload(emulator, project_id, key=key)
        assert (response.status_code, response.text) == (401, NOT_SIGNED_IN)
    assert not (home(emulator, project_id) / "figs").exists()


def test_401_comes_before_every_other_check(emulator):
    response = requests.post(f"{emulator.url}/upload", data=b"junk", timeout=30)
    assert (response.status_code, response.text) == (401, NOT_SIGNED_IN)


def test_not_a_collaborator_or_no_such_project_is_upload_failed(ada, grace, emulator):
    project_id = running_project(ada)
    assert_failed(upload(emulator, project_id, key=emulator.second["api_key"]), "upload failed")
    assert_failed(upload(emulator, "00000000-0000-4000-8000-000000000000"), "upload failed")
    assert_failed(upload(emulator, "not-a-uuid"), "upload failed")
    assert_failed(upload(emulator, None), "upload failed")
    assert not (home(emulator, project_id) / "figs").exists()


def test_missing_compute_server_id_is_upload_failed(ada, emulator):
    project_id = running_project(ada)
    assert_failed(upload(emulator, project_id, compute_server_id=None), "upload failed")


def test_a_repeated_path_is_an_array_to_express_and_upload_failed(ada, emulator):
    project_id = running_project(ada)
    response = requests.post(upload_url(emulator, project_id) + "&path=other", headers=basic(emulator.api_key),
                             files={"file": ("a.png", b"a")}, timeout=30)
    assert_failed(response, "upload failed")


def test_blob_uploads_are_not_implemented(ada, emulator):
    assert_failed(upload(emulator, running_project(ada), blob="1"), "upload failed")


def test_a_body_without_exactly_one_file_part_is_upload_failed(ada, emulator):
    project_id = running_project(ada)
    url = upload_url(emulator, project_id)
    for kwargs in ({"data": {"just": "fields"}, "files": {"x": (None, "y")}},
                   {"files": [("a", ("a.png", b"a")), ("b", ("b.png", b"b"))]},
                   {"data": b"raw bytes", "headers": {"Content-Type": "application/octet-stream"}}):
        headers = {**basic(emulator.api_key), **kwargs.pop("headers", {})}
        assert_failed(requests.post(url, headers=headers, timeout=30, **kwargs), "upload failed")
    assert not (home(emulator, project_id) / "figs").exists()


def test_a_stopped_project_has_no_upload_service(ada, emulator):
    project_id = ada.new_project()
    assert_failed(upload(emulator, project_id), "Upload failed: upload service not running.")
    assert ada.state(project_id) == "opened"  # the upload route does not start the project
    assert not (home(emulator, project_id) / "figs").exists()


def test_a_compute_server_that_does_not_exist_has_no_upload_service(ada, emulator):
    assert_failed(upload(emulator, running_project(ada), compute_server_id="3"),
                  "Upload failed: upload service not running.")


def test_a_request_body_over_64_mib_is_upload_failed(ada, emulator):
    project_id = running_project(ada)
    assert_failed(upload(emulator, project_id, bytes(64 * 1024 * 1024 + 1), filename="huge.bin"), "upload failed")
    assert not (home(emulator, project_id) / "figs").exists()


def test_other_methods_are_nexts_404_page(emulator):
    response = requests.get(f"{emulator.url}/upload", headers=basic(emulator.api_key), timeout=30)
    assert response.status_code == 404 and "This page could not be found." in response.text


# -- hostile names: a clean error, never a write outside the project ----------------------------------------------

@pytest.mark.parametrize("path", ["..", "../..", "/etc", "/home", "figs/../../..", "/tmp/../etc", "a%00b"])
def test_a_directory_outside_the_project_is_upload_failed(ada, emulator, path):
    project_id, name = running_project(ada), f"pwned-{uuid.uuid4()}.png"
    assert_failed(upload(emulator, project_id, b"x", filename=name, path=path), "upload failed")
    assert not list(emulator.data_dir.parent.rglob(name))
    assert not Path("/etc", name).exists()


@pytest.mark.parametrize("full_path, filename", [("../../../NAME", "a.png"), ("x/../../../../NAME", "a.png"),
                                                 (None, "../../../NAME"), ("a\x00b/NAME", "a.png")])
def test_a_file_name_that_leaves_the_project_is_upload_failed(ada, emulator, full_path, filename):
    project_id, name = running_project(ada), f"pwned-{uuid.uuid4()}.png"
    fields = {"fullPath": full_path.replace("NAME", name)} if full_path else {}
    response = upload(emulator, project_id, b"x", filename=filename.replace("NAME", name), fields=fields)
    assert_failed(response, "Upload failed.")
    assert not list(emulator.data_dir.parent.rglob(name))
    assert not list(emulator.data_dir.parent.rglob("*.partialupload-*"))


def test_a_nul_byte_in_a_part_header_is_refused_by_the_body_parser(ada, emulator):
    project_id = running_project(ada)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x00.png\"\r\n"
            f"Content-Type: image/png\r\n\r\npng\r\n--{boundary}--\r\n").encode()
    response = requests.post(upload_url(emulator, project_id), data=body, timeout=30,
                             headers={**basic(emulator.api_key),
                                      "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert_failed(response, "upload failed")
    assert not (home(emulator, project_id) / "figs").exists()


def test_symlinks_out_of_the_project_are_not_followed(ada, emulator, tmp_path):
    project_id = running_project(ada)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.png").write_bytes(b"precious")
    figs = home(emulator, project_id) / "figs"
    figs.mkdir(parents=True)
    os.symlink(outside, home(emulator, project_id) / "link")
    os.symlink(outside / "victim.png", figs / "victim.png")
    assert_failed(upload(emulator, project_id, b"x", path="link"), "upload failed")
    assert_failed(upload(emulator, project_id, b"x", fields={"fullPath": "../link/p.png"}), "Upload failed.")
    assert_failed(upload(emulator, project_id, b"x", filename="victim.png"), "Upload failed.")
    assert sorted(p.name for p in outside.iterdir()) == ["victim.png"]
    assert (outside / "victim.png").read_bytes() == b"precious"


# -- fault injection reaches /upload too (for the client's reliability tests) -------------------------------------

@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("faulty-upload"), "--enable-fault-injection")
    yield running
    running.stop()


def arm(emulator, body: dict) -> None:
    assert requests.post(f"{emulator.url}/_emulator/faults", json=body, timeout=10).status_code == 200


def test_an_armed_502_answers_instead_of_the_upload(faulty):
    api = Api(faulty.url, faulty.api_key)
    project_id = running_project(api)
    arm(faulty, {"endpoint": "upload", "fault": "502", "count": 1})
    assert upload(faulty, project_id).status_code == 502
    assert not (home(faulty, project_id) / "figs").exists()
    assert upload(faulty, project_id).json() == {"status": "ok"}


def test_a_project_stuck_starting_has_no_upload_service(faulty):
    api = Api(faulty.url, faulty.api_key)
    project_id = api.new_project()
    arm(faulty, {"project_id": project_id, "stuck": "starting"})
    assert_failed(upload(faulty, project_id), "Upload failed: upload service not running.")
    arm(faulty, {"clear": True})


def test_unfinished_uploads_are_bounded_and_finishing_them_frees_room(faulty):
    api = Api(faulty.url, faulty.api_key)
    project_id = running_project(api)
    started = []
    for number in range(64):
        fields = dz_fields(f"u{number}", 0, 2, 2)
        assert upload(faulty, project_id, b"a", filename=f"f{number}.bin", fields=fields).status_code == 200
        started.append(number)
    assert_failed(upload(faulty, project_id, b"a", filename="one-too-many.bin", fields=dz_fields("x", 0, 2, 2)),
                  "Upload failed.")
    for number in started:
        fields = dz_fields(f"u{number}", 1, 2, 2)
        assert upload(faulty, project_id, b"b", filename=f"f{number}.bin", fields=fields).status_code == 200
    assert (home(faulty, project_id) / "figs" / "f63.bin").read_bytes() == b"ab"
    assert upload(faulty, project_id, b"c", filename="room-again.bin").json() == {"status": "ok"}
