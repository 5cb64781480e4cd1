"""``/_emulator/faults``: the HTTP control of fault injection (what it does is described in ``faults``).

Registered only with ``--enable-fault-injection``. Loopback callers only (any other gets Next's 404, as if
the path did not exist), and never with credentials, so no key is ever sent there.
"""

from __future__ import annotations

import json
from typing import Any

import tornado.web

from .context import Context
from .faults import FAULTS
from .jsutil import is_valid_uuid
from .loopback import is_loopback
from .nextjs import answer_not_found, write_answer

STUCK_STATES = ("starting", "stopping")
DEFAULT_SLOW_SECONDS = 30.0
MAX_SLOW_SECONDS = 600.0


class FaultControlHandler(tornado.web.RequestHandler):
    """``/_emulator/faults``: arm, clear and read faults. Loopback callers only, and never with credentials."""

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx

    def prepare(self) -> None:
        if not is_loopback(self.request.remote_ip):
            # Looks exactly like the emulator without fault injection: nothing to discover remotely.
            answer_not_found(self)
            return
        if "Authorization" in self.request.headers or "Cookie" in self.request.headers:
            self._reply({"error": "the fault control endpoint takes no credentials; send the request without "
                                  "an Authorization header or cookies"}, 400)

    def get(self) -> None:
        assert self.ctx.faults is not None  # the route exists only with fault injection on
        self._reply(self.ctx.faults.describe())

    def post(self) -> None:
        try:
            request = json.loads(self.request.body or b"{}")
        except ValueError:
            self._reply({"error": "send a JSON object"}, 400)
            return
        problem = self._apply(request) if isinstance(request, dict) else "send a JSON object"
        if problem:
            self._reply({"error": problem}, 400)
        else:
            self.get()

    def _apply(self, request: dict) -> str | None:
        plan = self.ctx.faults
        assert plan is not None  # the route exists only with fault injection on
        if request.get("clear"):
            plan.clear()
            return None
        if "stuck" in request:
            project_id, state = request.get("project_id"), request["stuck"]
            if not is_valid_uuid(project_id) or self.ctx.store.get_project(project_id) is None:
                return "project_id must be the uuid of an existing project"
            if state is None:
                self.ctx.control.release(project_id)
            elif state in STUCK_STATES:
                self.ctx.control.hold(project_id, state)
            else:
                return f"stuck must be one of {', '.join(STUCK_STATES)} or null"
            return None
        endpoint, fault = request.get("endpoint"), request.get("fault")
        if not isinstance(endpoint, str) or not endpoint.strip("/"):
            return "endpoint must name an endpoint such as 'user-query', 'projects/start', 'blobs' or '*'"
        if fault not in FAULTS:
            return f"fault must be one of {', '.join(FAULTS)}"
        count, delay = request.get("count"), request.get("delay", DEFAULT_SLOW_SECONDS)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            return "count must be a positive integer (or absent: until cleared)"
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= MAX_SLOW_SECONDS:
            return f"delay must be a number of seconds between 0 and {MAX_SLOW_SECONDS:g}"
        plan.arm(endpoint.strip("/"), fault, count, float(delay))
        return None

    def _reply(self, value: Any, status: int = 200) -> None:
        write_answer(self, status, "application/json; charset=utf-8", json.dumps(value))


ROUTES = [(r"/_emulator/faults", FaultControlHandler)]
