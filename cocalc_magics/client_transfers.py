"""The CoCalc client's file transfers: blobs (compiled PDFs) fetched with no credentials, and files sent
into a project through the hub's ``POST /upload``.

Blobs are public by uuid: they are fetched with no credentials at all, and none follow a redirect either.
:class:`Transfers` is mixed into :class:`~cocalc_magics.client.CoCalcClient`, which sends and reads
each exchange (``_exchange``) within its deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.auth import AuthBase

from .client_base import MAX_ERROR_PAGE_BYTES, Answer, KeyHolder, decode_json
from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    HTTPStatusError,
    PermissionDeniedError,
    RequestTooLargeError,
)
from .text import one_line

# CoCalc caps blobs at 15 MB; anything much larger is not a CoCalc PDF.
MAX_BLOB_BYTES = 16 * 1024 * 1024
# The largest single-part upload sent. CoCalc's browser sends 8 MB Dropzone chunks and the hub's formidable
# accepts up to 200 MiB in one request; files sent with a compile are figures and data, far below this.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# hub/servers/app/upload.ts answers these as plain-text HTTP errors (not v2's 200 {"error"}).
UPLOAD_NOT_SIGNED_IN = 401
UPLOAD_SERVICE_NOT_RUNNING = "upload service not running"


def blob_origin(url: str) -> str:
    """``scheme://host:port`` of a blob URL, without any user:password@ part: how errors name a blob's host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


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


class Transfers:
    """Blob downloads and uploads of :class:`~cocalc_magics.client.CoCalcClient`; what they use of the
    client is declared here (the client sets or overrides each)."""

    host: str
    verify: bool | str
    timeout: float
    _api_auth: Any
    _api_http: requests.Session
    _blob_http: requests.Session

    def server_text(self, text: str, limit: int = 200) -> str:
        raise NotImplementedError

    def _reason(self, answer: Answer) -> str:
        raise NotImplementedError

    def _exchange(self, send: Callable[[float, float], requests.Response], *, what: str, server: str,
                  retry: bool, timeout: float, limit: int) -> Answer:
        raise NotImplementedError

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
        reply = decode_json(answer.body)
        if not (isinstance(reply, dict) and reply.get("status") == "ok"):
            raise HTTPStatusError(f"upload: the server answered 200 without CoCalc's status ok: {reason}", 200)


class PdfFetcher(KeyHolder):
    """What a :class:`~cocalc_magics.models.LatexResult` holds to download its PDF: one client's blob fetch.

    A 200 that is no PDF (a proxy's or portal's page) is an error naming the blob's host and the size, never
    the bytes: they are whatever that host sent.
    """

    def __init__(self, client: Transfers):
        self._client = client

    def __repr__(self) -> str:
        return f"PdfFetcher(host={self._client.host!r})"

    def __call__(self, url: str) -> bytes:
        data = self._client.fetch_blob(url)
        if b"%PDF-" not in data[:1024]:  # PDF 1.7 (ISO 32000-1, 7.5.2) wants the header in the first 1024 bytes
            raise HTTPStatusError(f"blob download from {blob_origin(url)}: "
                                  f"the server answered 200 with {len(data):,} bytes that are not a PDF", 200)
        return data
