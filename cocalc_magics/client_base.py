"""What the CoCalc client's parts share: the answer read off the wire, how CoCalc's answers are read
(its error conventions, its JSON), and the guard on objects that hold the key.

CoCalc's conventions read here (see the shared API notes, sections 1-3 and 7): errors are HTTP 200 with
``{"error": "..."}`` and a bad key is never a 401, the endpoint says "must be signed in"; non-200 answers are
Next.js's plain text, its HTML 404 page, or a proxy's 5xx page.
"""

from __future__ import annotations

import http.client
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import APIError, AuthenticationError, NoAnswerError, PermissionDeniedError

# Of a non-200 answer only the start is read: its title or first line is all an error shows.
MAX_ERROR_PAGE_BYTES = 64 * 1024

_AUTH_MESSAGES = ("must be signed in", "must be authenticated", "anonymous", "must provide authentication")
_PERMISSION_MESSAGES = ("collaborator", "read access", "write access", "must be an owner", "permission denied")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


class KeyHolder:
    """Objects that hold the key refuse pickling and copying (a copy is one more place the key lives)."""

    def __reduce_ex__(self, protocol):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be pickled or copied")

    def __copy__(self):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be copied")

    def __deepcopy__(self, memo):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be copied")


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_reason(status: int, content_type: str, body: str) -> str:
    """A short reason for a non-200 answer: Next's plain text, an HTML page's title, or the status phrase."""
    phrase = http.client.responses.get(status, "")
    if "html" in content_type or body.lstrip().lower().startswith(("<!doctype", "<html")):
        title = _HTML_TITLE.search(body)
        return title.group(1) if title else phrase
    return body or phrase


def classify_api_error(message: str, endpoint: str) -> APIError:
    lowered = message.lower()
    # Permission first: latex says "must be signed in as a collaborator on the project" to signed-in users.
    if any(text in lowered for text in _PERMISSION_MESSAGES):
        return PermissionDeniedError(f"{endpoint}: {message}", endpoint)
    if any(text in lowered for text in _AUTH_MESSAGES):
        return AuthenticationError(f"{endpoint}: {message} (check the API key)", endpoint)
    if message == "undefined":
        # exec/jupyter stringify a bare-string rejection (the hub->project "timeout") as "undefined".
        return NoAnswerError(f"{endpoint}: no answer from the project (CoCalc said 'undefined', "
                             "usually its 60 s hub-to-project limit)", endpoint)
    return APIError(f"{endpoint}: {message}", endpoint)


def _refuse_non_finite(text: str):
    # CoCalc's JSON.stringify never writes NaN, Infinity or a number past a double's range (it writes null).
    raise ValueError(f"{text} is not a JSON number CoCalc sends")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _refuse_non_finite(text[:20])
    return value


NOT_JSON = object()


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_refuse_non_finite, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return NOT_JSON
