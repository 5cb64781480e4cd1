"""Fault injection for tests: make a chosen endpoint fail the way servers, proxies and networks fail.

Off unless the emulator runs with ``--enable-fault-injection``; without it ``/_emulator/faults`` is Next's
HTML 404 like any unknown path. With it, a loopback caller controls the faults over HTTP, with no
credentials (a request carrying an ``Authorization`` header is refused, so no key is ever sent there)::

    POST /_emulator/faults {"endpoint": "user-query", "fault": "502", "count": 2}
        the next 2 requests to /api/v2/user-query get a proxy's 502 page (no count: until cleared)
    POST /_emulator/faults {"endpoint": "latex", "fault": "slow", "delay": 5}
        latex answers only after 5 s (then with a 504 page), i.e. later than a client's timeout
    POST /_emulator/faults {"project_id": "<uuid>", "stuck": "starting"}   (or "stopping")
        the project stays in that state: start/stop return at once (another transition is "under way"),
        exec and latex wait the hub's project-call limit and give up as CoCalc does
    POST /_emulator/faults {"project_id": "<uuid>", "stuck": null}
        the stuck transition completes (starting -> running, stopping -> opened)
    POST /_emulator/faults {"clear": true}
        disarm every fault and release every stuck project
    GET  /_emulator/faults
        {"armed": {endpoint: {"fault", "count"}}, "fired": {endpoint: {fault: n}}, "stuck": {project_id: state}}

``endpoint`` is the path after ``/api/v2/`` (``projects/start``), ``conat/hub``, ``blobs`` for
``GET /blobs/...``, or ``*`` for all of them. A faulted request is answered by the fault alone: the
endpoint's own work is not done, as when a proxy fails in front of the hub.

Faults: ``500`` (Next's plain-text 500), ``502`` and ``503`` (nginx HTML pages), ``413`` (Next's
``Body exceeded 1mb limit``), ``reset`` (the TCP connection is reset, no answer), ``slow`` (answer after
``delay`` seconds, default 30), ``invalid-json`` (200 with a JSON body cut short), ``empty-object``
(200 ``{}``: CoCalc's answer when its hub gave up on a project), ``truncated`` (200 whose body stops
before its Content-Length and the connection closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass

import tornado.iostream
import tornado.web
from tornado.http1connection import HTTP1Connection

from .nextjs import write_answer, write_plain
from .project_control import ProjectControl

FAULTS = ("500", "502", "503", "413", "reset", "slow", "invalid-json", "empty-object", "truncated")

_NGINX_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
               "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_CUT_JSON = b'{"query":{"accounts":{"account_id":"6a1b'
_WHOLE_JSON = b'{"query":{"accounts":{"account_id":"6a1b0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"}}}'


@dataclass
class ArmedFault:
    fault: str
    count: int | None  # None: until cleared
    delay: float


class FaultPlan:
    """Which endpoints fail how, and how often each fault has fired (tests read that to count retries)."""

    def __init__(self, control: ProjectControl):
        self.control = control  # for stuck projects
        self.armed: dict[str, ArmedFault] = {}
        self.fired: dict[str, dict[str, int]] = {}

    def arm(self, endpoint: str, fault: str, count: int | None, delay: float) -> None:
        self.armed[endpoint] = ArmedFault(fault, count, delay)

    def clear(self) -> None:
        self.armed.clear()
        self.fired.clear()
        self.control.release_all()

    def take(self, endpoint: str) -> ArmedFault | None:
        """The fault for this request, if one is armed (counting it down)."""
        key = endpoint if endpoint in self.armed else "*" if "*" in self.armed else None
        if key is None:
            return None
        armed = self.armed[key]
        if armed.count is not None:
            armed.count -= 1
            if armed.count <= 0:
                del self.armed[key]
        counts = self.fired.setdefault(endpoint, {})
        counts[armed.fault] = counts.get(armed.fault, 0) + 1
        return armed

    def describe(self) -> dict:
        """What ``GET /_emulator/faults`` shows."""
        return {"armed": {name: {"fault": a.fault, "count": a.count} for name, a in self.armed.items()},
                "fired": self.fired, "stuck": dict(self.control.stuck)}

    async def intercept(self, handler: tornado.web.RequestHandler, endpoint: str | None = None) -> bool:
        """Answer ``handler``'s request with the armed fault, if any; True when it did.

        ``endpoint`` defaults to the API endpoint the request's path names."""
        armed = self.take(endpoint or api_endpoint(handler.request.path))
        if armed is None:
            return False
        await _answer_with(handler, armed)
        return True


def api_endpoint(path: str) -> str:
    """``/api/v2/projects/start`` -> ``projects/start``; ``/api/conat/hub`` -> ``conat/hub``."""
    for prefix in ("/api/v2/", "/api/"):
        if path.startswith(prefix):
            return path[len(prefix):].rstrip("/")
    return path.strip("/")


async def _answer_with(handler: tornado.web.RequestHandler, armed: ArmedFault) -> None:
    fault = armed.fault
    if fault == "reset":
        stream = handler.detach()
        with contextlib.suppress(OSError):
            # Linger 0: close() sends RST instead of FIN, as a dropped NAT entry or a crashed proxy does.
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream.close()
        return
    if fault == "truncated":
        stream = handler.detach()
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(_WHOLE_JSON))
        with contextlib.suppress(tornado.iostream.StreamClosedError):
            await stream.write(head + _WHOLE_JSON[: len(_WHOLE_JSON) // 2])
        stream.close()
        return
    if fault == "slow":
        await asyncio.sleep(armed.delay)
        connection = handler.request.connection
        if not isinstance(connection, HTTP1Connection) or connection.stream.closed():
            return
        write_answer(handler, 504, "text/html", _NGINX_PAGE.format(status=504, reason="Gateway Time-out"))
        return
    if fault == "500":
        write_plain(handler, 500, "Internal Server Error")
    elif fault in ("502", "503"):
        reason = "Bad Gateway" if fault == "502" else "Service Temporarily Unavailable"
        write_answer(handler, int(fault), "text/html", _NGINX_PAGE.format(status=fault, reason=reason))
    elif fault == "413":
        write_plain(handler, 413, "Body exceeded 1mb limit")
    elif fault == "invalid-json":
        write_answer(handler, 200, "application/json; charset=utf-8", _CUT_JSON)
    elif fault == "empty-object":
        write_answer(handler, 200, "application/json; charset=utf-8", b"{}")
