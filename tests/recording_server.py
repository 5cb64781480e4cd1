"""A second real HTTP server for tests: answers with scripted responses and records what it was sent.

The emulator is the faithful CoCalc peer; this one plays the parts CoCalc's front proxies play (502 pages,
redirects, slow answers) and checks which headers reach an origin that is not the configured host.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ScriptedResponse:
    status: int = 200
    body: bytes | str = b"{}"
    headers: dict = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: bytes


class RecordingServer:
    """Serve ``responses`` in order (the last one repeats) and keep every request in ``requests``."""

    def __init__(self, responses: list[ScriptedResponse] | None = None):
        self.responses = list(responses or [ScriptedResponse()])
        self.requests: list[RecordedRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(RecordedRequest(self.command, self.path, dict(self.headers), body))
                scripted = server.responses.pop(0) if len(server.responses) > 1 else server.responses[0]
                if scripted.delay:
                    time.sleep(scripted.delay)
                payload = scripted.body.encode() if isinstance(scripted.body, str) else scripted.body
                try:
                    self.send_response(scripted.status)
                    for name, value in scripted.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
