"""Base handler: request parsing and response conventions of CoCalc's Next.js API routes.

Facts followed (``next/lib/api/get-params.ts``, Next 15 ``parse-body.ts``,
``server/auth/get-account.ts``, ``lib/api/framework.ts``):

- Next parses the body of every request with its default body parser; ``getParams``
  then reads it **only for POST**, so any other method behaves as if no params were
  sent. The query string is never merged in.
- ``application/json``: ``JSON.parse``; empty body -> ``{}``; malformed -> **400
  ``Invalid JSON``** (plain text). ``application/x-www-form-urlencoded``:
  ``querystring.decode``, so every value is a string and repeated keys become lists.
  Anything else stays a raw string, so every param is undefined.
- Bodies over 1 MiB (1,048,576 bytes) get **413 ``Body exceeded 1mb limit``**.
- In production no schema validation runs: the handler itself answers.
- Handlers catch their errors and answer HTTP 200 ``{"error": message}``.
- A missing or bad API key is never a 401: the handler just runs anonymously.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any
from urllib.parse import parse_qs

import tornado.web

from .context import ApiError, Context
from .jsutil import UNDEFINED, drop_undefined
from .keys import key_from_authorization

log = logging.getLogger("cocalc_magics.emulator")

BODY_LIMIT = 1024 * 1024  # Next's default "1mb" (bytes.parse("1mb") == 1048576)
ALREADY_ANSWERED = object()
"""Returned by a handler that wrote its own response (status codes other than 200)."""


_NOT_FOUND_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"/>\
<title>404: This page could not be found.</title></head><body><div id="__next">\
<div style="font-family:system-ui,sans-serif;height:100vh;text-align:center;display:flex;\
flex-direction:column;align-items:center;justify-content:center"><div>\
<h1 class="next-error-h1" style="display:inline-block;margin:0 20px 0 0;padding:0 23px 0 0;\
font-size:24px;font-weight:500;vertical-align:top;line-height:49px">404</h1>\
<div style="display:inline-block"><h2 style="font-size:14px;font-weight:400;line-height:49px;margin:0">\
This page could not be found.</h2></div></div></div></div></body></html>"""


def answer_not_found(handler: tornado.web.RequestHandler) -> None:
    """Next's HTML 404 page, what any path without a route gets."""
    handler.set_status(404)
    handler.set_header("Content-Type", "text/html; charset=utf-8")
    handler.finish(_NOT_FOUND_PAGE if handler.request.method != "HEAD" else None)


class _UnreadableBody(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _UnreadableBody(name)  # JSON.parse has no NaN/Infinity


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """Next's ``parseBody``: the value that becomes ``req.body``. Raises _UnreadableBody with Next's 400 text."""
    media_type = (content_type or "text/plain").split(";")[0].strip().lower()
    charset = "utf-8"
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = raw.decode(charset, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    except (UnicodeError, ValueError, TypeError):
        # A codec that cannot decode leniently (idna, punycode ...): Next's getRawBody fails, answered as 400.
        raise _UnreadableBody("Invalid body") from None
    if media_type in ("application/json", "application/ld+json"):
        if len(text) == 0:
            return {}
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, _UnreadableBody, RecursionError):
            # RecursionError: nesting deeper than Python's stack (V8's iterative parser would take it; it is
            # refused here rather than crash the handler).
            raise _UnreadableBody("Invalid JSON") from None
    if media_type == "application/x-www-form-urlencoded":
        decoded = parse_qs(text, keep_blank_values=True)
        return {key: values[0] if len(values) == 1 else values for key, values in decoded.items()}
    return text


@tornado.web.stream_request_body
class ApiHandler(tornado.web.RequestHandler):
    """One CoCalc API route. Subclasses implement ``async handle()`` and return the JSON value."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx
        self._chunks: list[bytes] = []
        self._received = 0
        self._body: Any = None
        self._caller: Any = UNDEFINED

    def prepare(self) -> None:
        self.request.connection.set_max_body_size(1 << 40)  # we count and answer 413 ourselves

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= BODY_LIMIT:
            self._chunks.append(chunk)
        else:
            self._chunks = []  # drain the rest without keeping it

    async def _answer(self, *args: Any) -> None:
        if self.ctx.faults is not None and await self.ctx.faults.intercept(self):
            return
        if self._received > BODY_LIMIT:
            self._plain(413, "Body exceeded 1mb limit")
            return
        try:
            self._body = parse_body(self.request.headers.get("Content-Type"), b"".join(self._chunks))
        except _UnreadableBody as refusal:
            self._plain(400, str(refusal))
            return
        try:
            result = await self.handle()
        except ApiError as err:
            result = {"error": err.message}
        except Exception as err:  # CoCalc's handlers catch everything: res.json({error: err.message})
            log.error("internal error in %s: %s", self.request.path, traceback.format_exc())
            result = {"error": f"{err}"}
        if result is not ALREADY_ANSWERED and not self._finished:
            self.write_json(result)

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

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(drop_undefined(value), separators=(",", ":"), ensure_ascii=False))

    def _plain(self, status: int, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(text)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self._plain(status_code, "internal error")
