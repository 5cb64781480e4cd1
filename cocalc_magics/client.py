"""HTTP transport for CoCalc's API v2: POST JSON, auth, timeouts and safe retries.

CoCalc's quirks this module absorbs (see the shared API notes, sections 1-3 and 7):
- Every endpoint is ``POST /api/v2/<name>``; only the body is read, so everything goes in a JSON body.
- The key is the HTTP Basic *username* with an empty password.
- Errors are HTTP 200 with ``{"error": "..."}``; a bad key is never a 401, the endpoint says "must be signed in".
- Non-200 answers are Next.js's plain-text 400 ``Invalid JSON`` / 413 ``Body exceeded 1mb limit``, its HTML
  404 page, or a proxy's 5xx page.
- Blobs (compiled PDFs) are public by uuid: they are fetched with no credentials at all.

Reading CoCalc's answers is in :mod:`cocalc_magics.client_base`, blob downloads and uploads in
:mod:`cocalc_magics.client_transfers`.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.auth import AuthBase, HTTPBasicAuth

from .bounded_http import (
    ACCEPT_ENCODING,
    AnswerTooLarge,
    Deadline,
    DeadlineAdapter,
    DeadlinePassed,
    UndecodableAnswer,
    read_body,
)
from .client_base import MAX_ERROR_PAGE_BYTES as MAX_ERROR_PAGE_BYTES
from .client_base import NOT_JSON, Answer, KeyHolder, decode_json, http_reason
from .client_base import classify_api_error as classify_api_error

# The blob and upload names stay importable from here, where callers and tests have always found them.
from .client_transfers import MAX_BLOB_BYTES as MAX_BLOB_BYTES
from .client_transfers import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from .client_transfers import UPLOAD_NOT_SIGNED_IN as UPLOAD_NOT_SIGNED_IN
from .client_transfers import UPLOAD_SERVICE_NOT_RUNNING as UPLOAD_SERVICE_NOT_RUNNING
from .client_transfers import PdfFetcher as PdfFetcher
from .client_transfers import Transfers, _BlobSession
from .client_transfers import blob_origin as blob_origin
from .config import DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from .errors import (
    AnswerTooLargeError,
    CoCalcError,
    CoCalcTimeoutError,
    ConfigurationError,
    HTTPStatusError,
    RequestTooLargeError,
    TransportError,
)
from .text import key_hint, one_line, redact
from .text import key_wire_forms as key_wire_forms

# Next.js's default body parser limit ("1mb" = 1,048,576 bytes); larger bodies get 413 without being read.
MAX_BODY_BYTES = 1024 * 1024
# The largest decoded API answer read: CoCalc's biggest (a long projects_all, an exec's output) are a few MB.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
RETRYABLE_STATUS = frozenset({502, 503, 504})


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


class _ApiKeyAuth(KeyHolder, AuthBase):
    """Basic auth with the key as username, attached only to requests for the configured host's origin."""

    def __init__(self, api_key: str, host: str):
        self._basic = HTTPBasicAuth(api_key, "")
        self._hint = key_hint(api_key)
        self._origin = origin(host)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin(request.url or "") == self._origin:
            return self._basic(request)
        return request

    def __repr__(self) -> str:
        return f"<api key {self._hint}>"


class CoCalcClient(Transfers, KeyHolder):
    """One pooled, keep-alive HTTP connection to a CoCalc server, speaking API v2.

    ``verify`` is requests' TLS setting: True (the default), a CA bundle path, or False to switch
    verification off (an explicit opt-out; never the default). ``timeout`` bounds each attempt as a whole
    (connect, send, and the complete answer), so a call takes at most ``timeout`` × attempts plus backoff.
    """

    def __init__(self, host: str, api_key: str | None, *, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = 10.0, verify: bool | str = True, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF):
        if isinstance(verify, str) and not os.path.exists(verify):
            # requests would raise a bare OSError on the first call; say what is wrong, once, now.
            raise ConfigurationError(f"verify={verify!r}: no CA bundle at that path (give a PEM file, True for "
                                     "the system's CAs, or False to switch verification off)")
        self.host = host.rstrip("/")
        # Passed with every request, not only set on the sessions: requests lets REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE override a session's verify (psf/requests#3829), which would silently undo
        # verify=False or a CA bundle given here.
        self.verify = verify
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self._api_auth = _ApiKeyAuth(api_key, self.host) if api_key else None
        self._key_forms = key_wire_forms(api_key) if api_key else ()
        self._api_http = self._http_session(requests.Session())
        self._blob_http = self._http_session(_BlobSession())

    def _http_session(self, http: requests.Session) -> requests.Session:
        http.verify = self.verify
        http.headers["User-Agent"] = "cocalc-magics"
        http.headers["Accept-Encoding"] = ACCEPT_ENCODING
        for prefix in ("http://", "https://"):
            http.mount(prefix, DeadlineAdapter())
        return http

    def __repr__(self) -> str:
        return f"CoCalcClient(host={self.host!r})"

    def close(self) -> None:
        self._api_http.close()
        self._blob_http.close()

    def server_text(self, text: str, limit: int = 200) -> str:
        """The one way text from a server enters a message: the key redacted in every wire form, one line."""
        return one_line(redact(str(text), self._key_forms), limit)

    def post(self, endpoint: str, params: dict, *, read_only: bool = False, timeout: float | None = None) -> Any:
        """POST ``params`` as JSON to ``/api/v2/<endpoint>`` and return the decoded answer.

        Raises an :class:`APIError` subclass for CoCalc's 200 ``{"error"}`` answers. Connection failures and
        502/503/504 are retried with backoff only when ``read_only`` says the call changes nothing.
        """
        body = json.dumps(params).encode()
        if len(body) > MAX_BODY_BYTES:
            raise RequestTooLargeError(
                f"{endpoint}: the request is {len(body):,} bytes, over CoCalc's 1 MiB limit "
                f"({MAX_BODY_BYTES:,} bytes); nothing was sent")
        url = f"{self.host}/api/v2/{endpoint}"
        answer = self._exchange(
            lambda connect, read: self._api_http.post(
                url, data=body, headers={"Content-Type": "application/json"}, auth=self._api_auth,
                timeout=(connect, read), allow_redirects=False, verify=self.verify, stream=True),
            what=endpoint, server=self.host, retry=read_only, timeout=timeout or self.timeout,
            limit=MAX_ANSWER_BYTES)
        if 300 <= answer.status < 400 and "Location" in answer.headers:
            # Following it could hand the key to another origin; CoCalc's API never redirects.
            raise HTTPStatusError(f"{endpoint}: HTTP {answer.status} redirect to "
                                  f"{self.server_text(answer.headers['Location'], 120)!r} was not followed",
                                  answer.status)
        if answer.status != 200:
            raise HTTPStatusError(f"{endpoint}: HTTP {answer.status}: {self._reason(answer)}", answer.status)
        reply = decode_json(answer.body)
        if reply is NOT_JSON:
            raise HTTPStatusError(f"{endpoint}: the server answered 200 with something that is not JSON: "
                                  f"{self._reason(answer)}", 200)
        if isinstance(reply, dict) and reply.get("error"):
            raise classify_api_error(self.server_text(reply["error"], 400), endpoint)
        return reply

    def _reason(self, answer: Answer) -> str:
        content_type = str(answer.headers.get("Content-Type", ""))
        return self.server_text(http_reason(answer.status, content_type, answer.text) or "no reason given")

    def _exchange(self, send: Callable[[float, float], requests.Response], *, what: str, server: str,
                  retry: bool, timeout: float, limit: int) -> Answer:
        """Send, and read the whole answer, each attempt within ``timeout`` seconds in total.

        Errors are raised outside any ``except`` block: requests' exceptions hold the PreparedRequest (and its
        Authorization header), which must not ride along as the package error's ``__context__``.
        """
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last_attempt = attempt == attempts - 1
            failure: CoCalcError | None = None
            retryable = False
            with Deadline(timeout) as deadline:
                try:
                    answer = self._attempt(send, deadline, limit)
                except AnswerTooLarge:
                    failure = AnswerTooLargeError(
                        f"{what}: the answer from {server} is larger than the {limit // 2**20} MiB this package "
                        "reads (far more than CoCalc sends), refused", 200)
                except DeadlinePassed:
                    failure, retryable = self._timeout(what, server, deadline), True
                except UndecodableAnswer as error:
                    failure = TransportError(f"{what}: {error} (from {server})")
                except requests.exceptions.SSLError as error:
                    failure = TransportError(f"{what}: TLS verification of {server} failed "
                                             f"({self._short_cause(error)}); pass verify=<CA bundle path> "
                                             "for a private CA")
                except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
                        OSError) as error:
                    failure, retryable = self._transport_failure(error, what, server, deadline)
            if failure is None:
                if not (retry and answer.status in RETRYABLE_STATUS and not last_attempt):
                    return answer
            elif not (retryable and retry and not last_attempt):
                raise failure
            time.sleep(self.backoff * (2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, send, deadline: Deadline, limit: int) -> Answer:
        # requests' read timeout is per socket read; the deadline bounds the attempt as a whole.
        response = send(min(self.connect_timeout, deadline.seconds), deadline.seconds)
        with response:
            truncate = response.status_code != 200
            if truncate:
                limit = MAX_ERROR_PAGE_BYTES
            encoding = response.headers.get("Content-Encoding", "")
            body = read_body(response.raw, encoding, limit, truncate=truncate, deadline=deadline)
            return Answer(response.status_code, dict(response.headers), body)

    def _transport_failure(self, error: Exception, what: str, server: str,
                           deadline: Deadline) -> tuple[TransportError, bool]:
        """The package error for a failed attempt, and whether the attempt may be retried."""
        if deadline.expired or isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
            return self._timeout(what, server, deadline), True
        cause = self._short_cause(error)
        if isinstance(error, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                              urllib3.exceptions.ProtocolError, http.client.HTTPException)) \
                and not isinstance(error, requests.ConnectionError):
            # The answer broke off (or would not decode) part way: like a reset, retried only when safe.
            return TransportError(f"{what}: the answer from {server} was cut short ({cause})"), True
        if isinstance(error, (requests.ConnectionError, OSError)):
            return TransportError(f"{what}: cannot reach {server} ({cause})"), True
        # Anything else requests raises (too many redirects, a malformed header ...) is not retried.
        return TransportError(f"{what}: {type(error).__name__} talking to {server} ({cause})"), False

    @staticmethod
    def _timeout(what: str, server: str, deadline: Deadline) -> CoCalcTimeoutError:
        return CoCalcTimeoutError(f"{what}: {server} did not answer within {deadline.seconds:g} s")

    def _short_cause(self, error: BaseException) -> str:
        """The innermost reason of a requests/urllib3 error, without the URL-laden wrapper text."""
        cause = error
        for _ in range(20):  # a chain can loop back on itself
            inner = cause.__cause__ or cause.__context__
            if inner is None:
                break
            cause = inner
        text = str(cause) or type(cause).__name__
        if "Connection refused" in text:
            return "connection refused"
        if "reset" in text.lower():
            return "connection reset"
        return self.server_text(text, 120)

