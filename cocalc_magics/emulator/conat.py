"""The part of ``POST /api/conat/hub`` the client uses: ``system.ping``.

Facts followed (``pages/api/conat/hub.ts``, ``server/auth/api.ts``, ``server/api/hub-bridge.ts``):

- Unlike the v2 routes this bridge uses real status codes. It accepts only API keys:
  no ``Authorization`` header makes ``getApiKey`` throw, caught as **500**
  ``{"error":"You must provide authentication via an API key."}``; a key that resolves
  to no account (bad key, or a project key) gets **401** ``{"error":"must be signed in
  and MUST provide an api key (cookies are not allowed)"}``.
- ``system.ping`` answers ``{"now": <ms since the epoch>}``. Errors of the called method
  come back as ``{error: `${err}`}``, i.e. with an ``Error: `` prefix.
"""

from __future__ import annotations

import time
from typing import Any

from .handler import ALREADY_ANSWERED, ApiHandler
from .keys import key_from_authorization


class HubHandler(ApiHandler):
    async def handle(self) -> Any:
        header = self.request.headers.get("Authorization")
        if not header:
            self.write_json({"error": "You must provide authentication via an API key."}, status=500)
            return ALREADY_ANSWERED
        scheme = header.split()[0] if header.split() else ""
        if scheme not in ("Basic", "Bearer"):
            self.write_json({"error": f"Unknown authorization type '{scheme}'"}, status=500)
            return ALREADY_ANSWERED
        caller = self.ctx.keys.resolve(key_from_authorization(header))
        if not caller or self.ctx.store.get_account(caller) is None:
            self.write_json({"error": "must be signed in and MUST provide an api key (cookies are not allowed)"},
                            status=401)
            return ALREADY_ANSWERED
        name = self.param("name")
        if name == "system.ping":
            return {"now": int(time.time() * 1000)}
        return {"error": f"Error: the emulator does not implement the conat hub method '{name}'"}


ROUTES = [(r"/api/conat/hub", HubHandler)]
