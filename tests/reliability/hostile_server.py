"""A hostile HTTP server on 127.0.0.1 for tests: it answers every request with a scripted misbehaviour.

Each behaviour is a function ``(handler, request) -> None`` that writes a raw answer to ``handler.wfile``:
a trickle of one byte at a time, a gzip bomb, a 200 MB JSON answer, an echo of the Authorization header.
Bounded: one port on loopback, daemon threads, every trickle stops after ``MAX_SECONDS`` or when the client
hangs up, and the server closes with its ``with`` block.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SECONDS = 30.0


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body or b"null")


Behaviour = Callable[[BaseHTTPRequestHandler, Request], None]


class HostileServer:
    """Serve ``behaviour`` for every request on 127.0.0.1; ``requests`` records what came in."""

    def __init__(self, behaviour: Behaviour):
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers),
                                  self.rfile.read(length) if length else b"")
                server.requests.append(request)
                try:
                    behaviour(self, request)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, which is what most tests want
                self.close_connection = True

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def send_raw(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict | None = None) -> None:
    handler.send_response(status)
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)


# -- behaviours ----------------------------------------------------------------------------------------------

def answer(status: int = 200, body: bytes | str | object = b"{}", headers: dict | None = None) -> Behaviour:
    """A fixed answer; a body that is not bytes or str is sent as JSON."""
    if isinstance(body, str):
        payload = body.encode()
    elif isinstance(body, bytes):
        payload = body
    else:
        payload = json.dumps(body, allow_nan=True).encode()
    return lambda handler, request: send_raw(handler, status, payload, headers)


def trickle(body: bytes = b'{"query": {}}', every: float = 0.4, headers_too: bool = False) -> Behaviour:
    """One byte every ``every`` seconds: of the body, or (``headers_too``) of the whole answer from its status line."""

    def behave(handler, request):
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n" % (len(body) * 1000))
        whole = head + body * 1000
        start = 0 if headers_too else len(head)
        handler.wfile.write(whole[:start])
        handler.wfile.flush()
        stop = time.monotonic() + MAX_SECONDS
        for index in range(start, len(whole)):
            if time.monotonic() > stop:
                return
            handler.wfile.write(whole[index:index + 1])
            handler.wfile.flush()
            time.sleep(every)

    return behave


def gzip_bomb(decoded_mib: int = 2048, encoding: str = "gzip") -> Behaviour:
    """A small compressed answer that inflates to ``decoded_mib`` MiB of zeros (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    block = b"0" * (1024 * 1024)
    payload = b"".join(compressor.compress(block) for _ in range(decoded_mib)) + compressor.flush()
    return answer(200, payload, {"Content-Encoding": encoding})


def huge_json(megabytes: int = 200) -> Behaviour:
    """A well-formed JSON answer of ``megabytes`` MB, streamed (chunked) without holding it here."""

    def behave(handler, request):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        row = b'{"project_id": "00000000-0000-4000-8000-000000000000", "title": "' + b"x" * 900 + b'"},'
        chunk = row * 1000
        write = handler.wfile.write
        write(b"%x\r\n%s\r\n" % (len(b'{"query": {"projects_all": ['), b'{"query": {"projects_all": ['))
        for _ in range(megabytes * 1024 * 1024 // len(chunk)):
            write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        tail = b'{"project_id": "x"}]}}'
        write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))

    return behave


def compressed(body: bytes) -> bytes:
    return gzip.compress(body)
