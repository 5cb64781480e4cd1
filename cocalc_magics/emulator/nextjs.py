"""Next.js's conventions for API routes: how a request body becomes params, and the pages it answers with.

Facts followed (Next 15 ``parse-body.ts``, ``next/lib/api/get-params.ts``):

- ``application/json``: ``JSON.parse``; empty body -> ``{}``; malformed -> **400 ``Invalid JSON``** (plain
  text). ``application/x-www-form-urlencoded``: ``querystring.decode``, so every value is a string and repeated
  keys become lists. Anything else stays a raw string, so every param is undefined.
- Bodies over 1 MiB (1,048,576 bytes) get **413 ``Body exceeded 1mb limit``**.
- Any path without a route gets Next's HTML 404 page, whatever the method.
- CoCalc's handlers answer their errors as HTTP 200 ``{"error": message}``, as JSON without ``undefined`` fields.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import tornado.web
from tornado.http1connection import HTTP1Connection

from .errors import UnreadableBody
from .jsutil import drop_undefined

EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""Next runs a route (and its 404) for any method; tornado answers 405 to those outside ``SUPPORTED_METHODS``."""
BODY_LIMIT = 1024 * 1024  # Next's default "1mb" (bytes.parse("1mb") == 1048576)


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


def _reject_constant(name: str) -> Any:
    raise UnreadableBody(name)  # JSON.parse has no NaN/Infinity


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """Next's ``parseBody``: the value that becomes ``req.body``. Raises UnreadableBody with Next's 400 text."""
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
        raise UnreadableBody("Invalid body") from None
    if media_type in ("application/json", "application/ld+json"):
        if len(text) == 0:
            return {}
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, UnreadableBody, RecursionError):
            # RecursionError: nesting deeper than Python's stack (V8's iterative parser would take it; it is
            # refused here rather than crash the handler).
            raise UnreadableBody("Invalid JSON") from None
    if media_type == "application/x-www-form-urlencoded":
        decoded = parse_qs(text, keep_blank_values=True)
        return {key: values[0] if len(values) == 1 else values for key, values in decoded.items()}
    return text


class CappedBody:
    """A streamed request body, kept up to ``limit`` bytes and counted beyond it: the handler itself answers an
    oversized one (as Next's 413) instead of tornado dropping the connection, and never holds more than ``limit``."""

    def __init__(self, limit: int):
        self.limit, self.received = limit, 0
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes, keep: bool = True) -> None:
        self.received += len(chunk)
        if keep and self.received <= self.limit:
            self._chunks.append(chunk)
        else:
            self._chunks = []  # drain the rest without keeping it

    @property
    def too_large(self) -> bool:
        return self.received > self.limit

    def take(self) -> bytes:
        """The body, once: the chunks are let go, so it is in memory once, not twice."""
        body, self._chunks = b"".join(self._chunks), []
        return body


def count_body_here(handler: tornado.web.RequestHandler) -> None:
    """Lift tornado's own body limit for this request: a ``CappedBody`` counts it and the handler answers."""
    connection = handler.request.connection
    if isinstance(connection, HTTP1Connection):
        connection.set_max_body_size(1 << 40)


def json_text(value: Any) -> str:
    """``res.json(value)``: compact JSON, ``undefined`` fields left out, non-ASCII as is."""
    return json.dumps(drop_undefined(value), separators=(",", ":"), ensure_ascii=False)


def write_answer(handler: tornado.web.RequestHandler, status: int, content_type: str, body: str | bytes) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", content_type)
    handler.finish(body)


def write_plain(handler: tornado.web.RequestHandler, status: int, text: str) -> None:
    write_answer(handler, status, "text/plain; charset=utf-8", text)


def write_json(handler: tornado.web.RequestHandler, value: Any, status: int = 200) -> None:
    write_answer(handler, status, "application/json; charset=utf-8", json_text(value))


class NotFoundHandler(tornado.web.RequestHandler):
    """Next answers unknown paths (including unknown API routes) with its HTML 404 page."""

    SUPPORTED_METHODS = EVERY_METHOD

    def prepare(self) -> None:
        answer_not_found(self)
