"""HTTP hygiene of the emulator: idle, half-sent and surplus connections are closed; in loopback mode only
loopback Host names are answered (DNS rebinding); the data dir is private; the blob store is purged and capped.
Real sockets to 127.0.0.1, bounded in count and time."""

from __future__ import annotations

import socket
import sqlite3
import stat
import time

import pytest
import requests

from attack import WHOAMI
from lab import start_test_emulator

IDLE_S = 1.0
MAX_CONNECTIONS = 8


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    running = start_test_emulator(tmp_path_factory.mktemp("http"), "--idle-timeout", str(IDLE_S),
                                  "--body-timeout", str(IDLE_S), "--max-connections", str(MAX_CONNECTIONS))
    yield running
    running.stop()


def address(emulator) -> tuple[str, int]:
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def seconds_until_closed(sock: socket.socket, limit: float = 10) -> float:
    """How long the server keeps ``sock`` open (reading and dropping whatever it sends)."""
    began = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return float("inf")
    except ConnectionResetError:
        pass
    return time.monotonic() - began


@pytest.mark.parametrize("sent", [
    b"",
    b"POST /api/v2/user-query HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    (b"POST /api/v2/user-query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
     b"Content-Length: 100\r\n\r\n{\"a\":"),
], ids=["idle", "half-sent headers", "half-sent body"])
def test_a_silent_or_stalled_connection_is_closed(strict, sent):
    with socket.create_connection(address(strict), timeout=5) as sock:
        sock.sendall(sent)
        assert seconds_until_closed(sock) < IDLE_S + 3


def test_connections_over_the_cap_are_closed_at_once_and_service_resumes(strict):
    held = [socket.create_connection(address(strict), timeout=5) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)  # let the server accept them all
        with socket.create_connection(address(strict), timeout=5) as surplus:
            assert seconds_until_closed(surplus, limit=IDLE_S / 2) < IDLE_S / 2
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    reply = requests.post(f"{strict.url}/api/v2/user-query", auth=(strict.api_key, ""), json=WHOAMI, timeout=10)
    assert reply.status_code == 200 and reply.json()["query"]["accounts"]["account_id"] == strict.account_id


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}",
                                  "localhost.evil.example", "10.0.0.1:{port}"])
def test_a_foreign_host_header_is_refused_in_loopback_mode(strict, host):
    port = address(strict)[1]
    for path in ("/api/v2/whoami", "/blobs/x.pdf?uuid=00000000-0000-4000-8000-000000000000", "/"):
        reply = requests.post(f"{strict.url}{path}", headers={"Host": host.format(port=port)},
                              auth=(strict.api_key, ""), json=WHOAMI, timeout=10)
        assert reply.status_code == 403
        assert reply.text.startswith("Blocked request with a non-loopback Host header") and reply.text.count("\n") == 1


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "127.1.2.3:{port}",
                                  "[::1]:{port}"])
def test_loopback_host_headers_are_answered(strict, host):
    reply = requests.post(f"{strict.url}/api/v2/user-query", headers={"Host": host.format(port=address(strict)[1])},
                          auth=(strict.api_key, ""), json=WHOAMI, timeout=10)
    assert reply.status_code == 200 and reply.json()["query"]["accounts"]["account_id"] == strict.account_id


def test_the_data_dir_and_its_files_are_private(strict):
    data = strict.data_dir
    requests.post(f"{strict.url}/api/v2/exec", auth=(strict.api_key, ""), timeout=30,
                  json={"project_id": strict.project_id, "command": "true"})
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "emulator.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "projects").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "projects" / strict.project_id).stat().st_mode) == 0o700
    others = [p for p in data.rglob("*") if p.stat().st_mode & 0o077 and not p.is_symlink()]
    assert others == []


def test_expired_blobs_are_purged_at_start_and_the_store_is_capped(tmp_path):
    first = start_test_emulator(tmp_path)
    first.stop()
    now = time.time()
    with sqlite3.connect(tmp_path / "emulator.sqlite3") as db:
        db.executemany("INSERT INTO blobs(uuid, data, expire) VALUES(?, ?, ?)", [
            ("expired", b"x" * 1000, now - 10),
            ("oldest", b"o" * 20_000, now + 100), ("middle", b"m" * 20_000, now + 200),
            ("newest", b"n" * 20_000, now + 300)])
    second = start_test_emulator(tmp_path, "--blob-store-mb", "0.045")
    try:
        with sqlite3.connect(tmp_path / "emulator.sqlite3") as db:
            kept = sorted(row[0] for row in db.execute("SELECT uuid FROM blobs"))
    finally:
        second.stop()
    assert kept == ["middle", "newest"]
