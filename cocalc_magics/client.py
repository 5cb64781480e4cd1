"""HTTP transport for CoCalc's API v2: POST JSON, auth, timeouts, safe retries and CoCalc's error conventions.

CoCalc's quirks this module absorbs (see the shared API notes, sections 1-3 and 7):
- Every endpoint is ``POST /api/v2/<name>``; only the body is read, so everything goes in a JSON body.
- The key is the HTTP Basic *username* with an empty password.
- Errors are HTTP 200 with ``{"error": "..."}``; a bad key is never a 401, the endpoint says "must be signed in".
- Non-200 answers are Next.js's plain-text 400 ``Invalid JSON`` / 413 ``Body exceeded 1mb limit``, its HTML
  404 page, or a proxy's 5xx page.
- Blobs (compiled PDFs) are public by uuid: they are fetched with no credentials at all.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

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
from .config import DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from .errors import (
    AnswerTooLargeError,
    APIError,
    AuthenticationError,
    CoCalcError,
    CoCalcTimeoutError,
    ConfigurationError,
    HTTPStatusError,
    NoAnswerError,
    PermissionDeniedError,
    RequestTooLargeError,
    TransportError,
)
from .text import key_hint, key_wire_forms, one_line, redact

# Next.js's default body parser limit ("1mb" = 1,048,576 bytes); larger bodies get 413 without being read.
MAX_BODY_BYTES = 1024 * 1024
# The largest decoded API answer read: CoCalc's biggest (a long projects_all, an exec's output) are a few MB.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
# CoCalc caps blobs at 15 MB; anything much larger is not a CoCalc PDF.
MAX_BLOB_BYTES = 16 * 1024 * 1024
# Of a non-200 answer only the start is read: its title or first line is all an error shows.
MAX_ERROR_PAGE_BYTES = 64 * 1024
RETRYABLE_STATUS = frozenset({502, 503, 504})
# The largest single-part upload sent. CoCalc's browser sends 8 MB Dropzone chunks and the hub's formidable
# accepts up to 200 MiB in one request; files sent with a compile are figures and data, far below this.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# hub/servers/app/upload.ts answers these as plain-text HTTP errors (not v2's 200 {"error"}).
UPLOAD_NOT_SIGNED_IN = 401
UPLOAD_SERVICE_NOT_RUNNING = "upload service not running"

_AUTH_MESSAGES = ("must be signed in", "must be authenticated", "anonymous", "must provide authentication")
_PERMISSION_MESSAGES = ("collaborator", "read access", "write access", "must be an owner", "permission denied")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def blob_origin(url: str) -> str:
    """``scheme://host:port`` of a blob URL, without any user:password@ part: how errors name a blob's host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


class _KeyHolder:
    """Objects that hold the key refuse pickling and copying (a copy is one more place the key lives)."""

    def __reduce_ex__(self, protocol):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be pickled or copied")

    def __copy__(self):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be copied")

    def __deepcopy__(self, memo):
        raise TypeError(f"a {type(self).__name__} holds an API key and cannot be copied")


class _ApiKeyAuth(_KeyHolder, AuthBase):
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


class _NoCredentials(AuthBase):
    """Blobs are public by uuid: send no Authorization or cookies (and keep ~/.netrc out of it too)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        request.headers.pop("Cookie", None)
        return request


class _BlobSession(requests.Session):
    """A requests session that sends no credentials after a redirect either.

    requests re-reads ~/.netrc for the target of every redirect (``Session.rebuild_auth``), and netrc
    entries match a host on any port: a blob redirected to another port of the CoCalc host (or to any host
    netrc knows) would carry that login, which may be the API key itself.
    """

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        prepared_request.headers.pop("Authorization", None)
        prepared_request.headers.pop("Cookie", None)


def _http_reason(status: int, content_type: str, body: str) -> str:
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


@dataclass
class _Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class CoCalcClient(_KeyHolder):
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
        reply = _decode_json(answer.body)
        if reply is _NOT_JSON:
            raise HTTPStatusError(f"{endpoint}: the server answered 200 with something that is not JSON: "
                                  f"{self._reason(answer)}", 200)
        if isinstance(reply, dict) and reply.get("error"):
            raise classify_api_error(self.server_text(reply["error"], 400), endpoint)
        return reply

    def fetch_blob(self, url: str) -> bytes:
        """Download a blob (e.g. a compiled PDF) with no credentials; safe to retry, since it is a GET."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = f"a {parts.scheme}: URL" if parts.scheme else "not a URL"
            raise HTTPStatusError(f"blob: only http(s) blob URLs are fetched, this is {shown}", 0)
        blob_host = blob_origin(url)
        answer = self._exchange(
            lambda connect, read: self._blob_http.get(url, auth=_NoCredentials(), timeout=(connect, read),
                                                      stream=True, verify=self.verify),
            what="blob download", server=blob_host, retry=True, timeout=self.timeout, limit=MAX_BLOB_BYTES)
        if answer.status != 200:
            raise HTTPStatusError(f"blob download from {blob_host}: HTTP {answer.status}: {self._reason(answer)}",
                                  answer.status)
        return answer.body

    def _reason(self, answer: _Answer) -> str:
        content_type = str(answer.headers.get("Content-Type", ""))
        return self.server_text(_http_reason(answer.status, content_type, answer.text) or "no reason given")

    def _exchange(self, send: Callable[[float, float], requests.Response], *, what: str, server: str,
                  retry: bool, timeout: float, limit: int) -> _Answer:
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

    def _attempt(self, send, deadline: Deadline, limit: int) -> _Answer:
        # requests' read timeout is per socket read; the deadline bounds the attempt as a whole.
        response = send(min(self.connect_timeout, deadline.seconds), deadline.seconds)
        with response:
            truncate = response.status_code != 200
            if truncate:
                limit = MAX_ERROR_PAGE_BYTES
            encoding = response.headers.get("Content-Encoding", "")
            body = read_body(response.raw, encoding, limit, truncate=truncate, deadline=deadline)
            return _Answer(response.status_code, dict(response.headers), body)

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

    def upload(self, project_id: str, directory: str, name: str, data: bytes, *,
               timeout: float | None = None) -> None:
        """Send ``data`` as file ``name`` into ``directory`` of a project through the hub's ``POST /upload``.

        The key goes as Basic auth, as for API v2 (``getAccount`` in ``server/auth/get-account.ts``). The upload
        does not start the project: a stopped one answers 500 ``Upload failed: upload service not running.``,
        raised as an :class:`APIError` whose text says so (callers start the project and send again).
        """
        if len(data) > MAX_UPLOAD_BYTES:
            raise RequestTooLargeError(f"upload: {name} is {len(data):,} bytes, over the "
                                       f"{MAX_UPLOAD_BYTES // 2**20} MiB sent in one upload; nothing was sent")
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise ConfigurationError(f"upload: {one_line(repr(name), 80)} is not a plain file name "
                                     "(give the directory separately)")
        query = urlencode({"project_id": project_id, "compute_server_id": "0", "path": directory})
        url = f"{self.host}/upload?{query}"
        # Upload answers are a JSON status or a short text; a few KiB is plenty.
        answer = self._exchange(
            lambda connect, read: self._api_http.post(
                url, files={"file": (name, data, "application/octet-stream")}, auth=self._api_auth,
                timeout=(connect, read), allow_redirects=False, verify=self.verify, stream=True),
            what="upload", server=self.host, retry=False, timeout=timeout or self.timeout,
            limit=MAX_ERROR_PAGE_BYTES)
        # Express's res.send(text) labels plain text as text/html: a body with no markup is the reason itself.
        reason = self.server_text(answer.text) if "<" not in answer.text and answer.text.strip() else \
            self._reason(answer)
        if answer.status == UPLOAD_NOT_SIGNED_IN:
            raise AuthenticationError(f"upload: {reason} (check the API key)", "upload")
        if answer.status == 500:
            if reason == "upload failed":
                # upload.ts's catch-all before the project is asked: not a collaborator, or a bad path.
                raise PermissionDeniedError(
                    f"upload: {reason} (not a collaborator on project {project_id}, or the directory "
                    f"{one_line(repr(directory), 80)} was refused)", "upload")
            raise APIError(f"upload: {reason}", "upload")
        if answer.status != 200:
            raise HTTPStatusError(f"upload: HTTP {answer.status}: {reason}", answer.status)
        reply = _decode_json(answer.body)
        if not (isinstance(reply, dict) and reply.get("status") == "ok"):
            raise HTTPStatusError(f"upload: the server answered 200 without CoCalc's status ok: {reason}", 200)


_NOT_JSON = object()


class PdfFetcher(_KeyHolder):
    """What a :class:`~cocalc_magics.models.LatexResult` holds to download its PDF: one client's blob fetch.

    A 200 that is no PDF (a proxy's or portal's page) is an error naming the blob's host and the size, never
    the bytes: they are whatever that host sent.
    """

    def __init__(self, client: CoCalcClient):
        self._client = client

    def __repr__(self) -> str:
        return f"PdfFetcher(host={self._client.host!r})"

    def __call__(self, url: str) -> bytes:
        data = self._client.fetch_blob(url)
        if b"%PDF-" not in data[:1024]:  # PDF 1.7 (ISO 32000-1, 7.5.2) wants the header in the first 1024 bytes
            raise HTTPStatusError(f"blob download from {blob_origin(url)}: "
                                  f"the server answered 200 with {len(data):,} bytes that are not a PDF", 200)
        return data


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_refuse_non_finite, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return _NOT_JSON
