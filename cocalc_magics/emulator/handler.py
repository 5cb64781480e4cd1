"""Base handler of CoCalc's Next.js API routes: params, the caller, CoCalc's error convention.

Facts followed (``next/lib/api/get-params.ts``, ``server/auth/get-account.ts``, ``lib/api/framework.ts``;
the body parsing itself is in ``nextjs``):

- Next parses the body of every request with its default body parser; ``getParams``
  then reads it **only for POST**, so any other method behaves as if no params were
  sent. The query string is never merged in.
- In production no schema validation runs: the handler itself answers.
- Handlers catch their errors and answer HTTP 200 ``{"error": message}``.
- A missing or bad API key is never a 401: the handler just runs anonymously.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import tornado.web

from .context import Context
from .errors import ApiError, UnreadableBody
from .jsutil import UNDEFINED
from .keys import key_from_authorization
from .nextjs import (
    BODY_LIMIT,
    EVERY_METHOD,
    CappedBody,
    count_body_here,
    parse_body,
    write_json,
    write_plain,
)

log = logging.getLogger("cocalc_magics.emulator")

ALREADY_ANSWERED = object()
"""Returned by a handler that wrote its own response (status codes other than 200)."""


@tornado.web.stream_request_body
class StreamedRoute(tornado.web.RequestHandler):
    """A route that runs for every method and reads its body as it streams in, up to ``body_limit`` bytes."""

    SUPPORTED_METHODS = EVERY_METHOD
    body_limit = BODY_LIMIT

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self._raw_body = CappedBody(self.body_limit)

    def prepare(self) -> None:
        count_body_here(self)  # the route answers an oversized body itself

    def data_received(self, chunk: bytes) -> None:
        self._raw_body.add(chunk)


class ApiHandler(StreamedRoute):
    """One CoCalc API route. Subclasses implement ``async handle()`` and return the JSON value."""

    def initialize(self, ctx: Context) -> None:
        super().initialize(ctx)
        self._body: Any = None
        self._caller: Any = UNDEFINED

    async def _answer(self, *args: Any) -> None:
        if self.ctx.faults is not None and await self.ctx.faults.intercept(self):
            return
        if self._raw_body.too_large:
            write_plain(self, 413, "Body exceeded 1mb limit")
            return
        try:
            self._body = parse_body(self.request.headers.get("Content-Type"), self._raw_body.take())
        except UnreadableBody as refusal:
            write_plain(self, 400, str(refusal))
            return
        try:
            result = await self.handle()
        except ApiError as err:
            result = {"error": err.message}
        except Exception as err:  # noqa: BLE001 -- CoCalc's handlers catch everything: res.json({error: err.message})
            log.error("internal error in %s: %s", self.request.path, traceback.format_exc())
            result = {"error": f"{err}"}
        if result is not ALREADY_ANSWERED and not self._finished:
            write_json(self, result)

    # Next runs an API route for every method (HEAD too: the answer without its body, which tornado drops).
    get = head = post = put = patch = delete = options = _answer

    async def handle(self) -> Any:
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------

    def param(self, name: str) -> Any:
        """``getParams(req)[name]``: POST body fields only, UNDEFINED when absent."""
        if self.request.method != "POST" or not isinstance(self._body, dict):
            return UNDEFINED
        return self._body.get(name, UNDEFINED)

    @property
    def caller(self) -> str | None:
        """``getAccountId(req)``: the account_id (or a project key's project_id), else None."""
        if self._caller is UNDEFINED:
            key = key_from_authorization(self.request.headers.get("Authorization"))
            self._caller = self.ctx.keys.resolve(key)
        return self._caller

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_plain(self, status_code, "internal error")
