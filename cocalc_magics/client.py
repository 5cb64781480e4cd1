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

import json
import os
import re
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .errors import (
    APIError,
    AuthenticationError,
    CoCalcTimeoutError,
    ConfigurationError,
    HTTPStatusError,
    NoAnswerError,
    PermissionDeniedError,
    RequestTooLargeError,
    TransportError,
)

# Next.js's default body parser limit ("1mb" = 1,048,576 bytes); larger bodies get 413 without being read.
MAX_BODY_BYTES = 1024 * 1024
# CoCalc caps blobs at 15 MB; anything much larger is not a CoCalc PDF.
MAX_BLOB_BYTES = 16 * 1024 * 1024
RETRYABLE_STATUS = frozenset({502, 503, 504})

_AUTH_MESSAGES = ("must be signed in", "must be authenticated", "anonymous", "must provide authentication")
_PERMISSION_MESSAGES = ("collaborator", "read access", "write access", "must be an owner", "permission denied")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def key_hint(api_key: str | None) -> str:
    """The only form in which a key is ever shown: its prefix and last four characters."""
    if not api_key:
        return "none"
    return f"{api_key[:3]}…{api_key[-4:]}" if len(api_key) > 10 else "sk-…"


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _ApiKeyAuth(AuthBase):
    """Basic auth with the key as username, attached only to requests for the configured host's origin."""

    def __init__(self, api_key: str, host: str):
        self._basic = HTTPBasicAuth(api_key, "")
        self._hint = key_hint(api_key)
        self._origin = origin(host)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin(request.url) == self._origin:
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


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_http_failure(response: requests.Response) -> str:
    """A short reason for a non-200 answer: Next's plain text, an HTML page's title, or the status phrase."""
    content_type = response.headers.get("Content-Type", "")
    body = response.text or ""
    if "html" in content_type or body.lstrip().lower().startswith(("<!doctype", "<html")):
        title = _HTML_TITLE.search(body)
        reason = title.group(1) if title else response.reason
    else:
        reason = body or response.reason
    return one_line(reason or "no reason given")


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


class CoCalcClient:
    """One pooled, keep-alive HTTP connection to a CoCalc server, speaking API v2.

    ``verify`` is requests' TLS setting: True (the default), a CA bundle path, or False to switch
    verification off (an explicit opt-out; never the default).
    """

    def __init__(self, host: str, api_key: str | None, *, timeout: float = 30.0, connect_timeout: float = 10.0,
                 verify: bool | str = True, retries: int = 2, backoff: float = 0.5):
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
        self._api_http = requests.Session()
        self._api_http.verify = verify
        self._api_http.headers["User-Agent"] = "cocalc-magics"
        self._blob_http = _BlobSession()
        self._blob_http.verify = verify
        self._blob_http.headers["User-Agent"] = "cocalc-magics"

    def __repr__(self) -> str:
        return f"CoCalcClient(host={self.host!r})"

    def close(self) -> None:
        self._api_http.close()
        self._blob_http.close()

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
        response = self._send(
            lambda read_timeout: self._api_http.post(
                url, data=body, headers={"Content-Type": "application/json"}, auth=self._api_auth,
                timeout=(self.connect_timeout, read_timeout), allow_redirects=False, verify=self.verify),
            what=endpoint, retry=read_only, timeout=timeout or self.timeout)
        if response.is_redirect:
            # Following it could hand the key to another origin; CoCalc's API never redirects.
            raise HTTPStatusError(f"{endpoint}: HTTP {response.status_code} redirect to "
                                  f"{response.headers.get('Location', '?')!r} was not followed", response.status_code)
        if response.status_code != 200:
            raise HTTPStatusError(f"{endpoint}: HTTP {response.status_code}: {describe_http_failure(response)}",
                                  response.status_code)
        try:
            reply = response.json()
        except ValueError:
            raise HTTPStatusError(f"{endpoint}: the server answered 200 with something that is not JSON: "
                                  f"{describe_http_failure(response)}", 200) from None
        if isinstance(reply, dict) and reply.get("error"):
            raise classify_api_error(str(reply["error"]), endpoint)
        return reply

    def fetch_blob(self, url: str) -> bytes:
        """Download a blob (e.g. a compiled PDF) with no credentials; safe to retry, since it is a GET."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise HTTPStatusError(f"blob: not an http(s) URL: {one_line(url, 120)!r}", 0)
        downloaded: list[bytes] = []

        def download(read_timeout: float) -> requests.Response:
            # The body is read here, inside _send, so that an answer cut short is retried like a reset.
            response = self._blob_http.get(url, auth=_NoCredentials(), timeout=(self.connect_timeout, read_timeout),
                                           stream=True, verify=self.verify)
            if response.status_code == 200:
                with response:
                    downloaded[:] = [_read_bounded(response)]
            return response

        response = self._send(download, what="blob download", retry=True, timeout=self.timeout)
        if response.status_code != 200:
            with response:
                raise HTTPStatusError(f"blob download: HTTP {response.status_code}: "
                                      f"{describe_http_failure(response)}", response.status_code)
        return downloaded[0]

    def _send(self, request, *, what: str, retry: bool, timeout: float) -> requests.Response:
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last_attempt = attempt == attempts - 1
            try:
                response = request(timeout)
            except requests.Timeout:
                if last_attempt:
                    raise CoCalcTimeoutError(f"{what}: {self.host} did not answer within {timeout:g} s") from None
            except requests.exceptions.SSLError as error:
                raise TransportError(f"{what}: TLS verification of {self.host} failed ({_short_cause(error)}); "
                                     "pass verify=<CA bundle path> for a private CA") from None
            except requests.ConnectionError as error:
                if last_attempt:
                    raise TransportError(f"{what}: cannot reach {self.host} ({_short_cause(error)})") from None
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as error:
                # The answer broke off (or would not decode) part way: like a reset, retried only when safe.
                if last_attempt:
                    raise TransportError(f"{what}: the answer from {self.host} was cut short "
                                         f"({_short_cause(error)})") from None
            except requests.RequestException as error:
                # Anything else requests raises (too many redirects, a malformed header ...) is not retried.
                raise TransportError(f"{what}: {type(error).__name__} talking to {self.host} "
                                     f"({_short_cause(error)})") from None
            else:
                if not (retry and response.status_code in RETRYABLE_STATUS and not last_attempt):
                    return response
                response.close()
            time.sleep(self.backoff * (2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def _read_bounded(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BLOB_BYTES:
            raise HTTPStatusError(f"blob download: larger than {MAX_BLOB_BYTES:,} bytes, refused", 200)
        chunks.append(chunk)
    return b"".join(chunks)


def _short_cause(error: Exception) -> str:
    """The innermost reason of a requests/urllib3 error, without the URL-laden wrapper text."""
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__
    text = str(cause) or type(cause).__name__
    if "Connection refused" in text:
        return "connection refused"
    if "reset" in text.lower():
        return "connection reset"
    return one_line(text, 120)
