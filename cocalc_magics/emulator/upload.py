"""The hub's ``POST /upload?project_id=…&compute_server_id=0&path=DIR``: a binary file into a project.

Follows ``hub/servers/app/upload.ts`` (an Express route, not a Next API route), with the project side of
``conat/files/write.ts`` and ``project/conat/files/write.ts``:

- ``getAccount(req)``: a remember-me cookie or an API key in ``Authorization`` (Basic or Bearer, as for v2); none
  gives **401** ``user must be signed in to upload files`` before anything else is looked at.
- Query params as Express reads them: a repeated name is an array. ``blob`` set, ``project_id`` not a string or
  not a project the caller collaborates on (a project key counts for its own project), ``compute_server_id`` not
  given, ``path`` not a string, or a body formidable refuses: **500** ``upload failed``.
- The body is ``multipart/form-data`` with one file part (formidable). The file lands at
  ``join(path, fields.fullPath ?? originalFilename)``, relative to HOME. Formidable keeps only what follows the
  file name's last backslash.
- Dropzone's chunk fields (``dzuuid``, ``dzchunkindex``, ``dztotalchunkcount``, ...) split one file over several
  requests, sent one after the other (CoCalc's Dropzone has ``parallelChunkUploads: false`` and the server appends
  chunks in arrival order). Chunk 0 starts the write, the last one (``index == count - 1``) finishes it; a part
  without those fields is chunk 0 of 1.
- The project writes into ``<target>.partialupload-<id>`` and renames it onto the target at the end; when its
  writer fails the answer is **500** ``Upload failed.``, and ``Upload failed: upload service not running.`` when
  nothing in the project listens (the project is not running, or no such compute server: a conat 503).
- Success: ``{"status":"ok"}`` (Express ``res.send`` of an object: JSON).

Emulator-only, so that no request can write outside its project or fill the disk:

- A request body over 64 MiB (CoCalc's Dropzone sends 8 MB chunks; formidable's default cap is 200 MiB) is
  ``upload failed``.
- Chunk numbers must be whole numbers with ``0 <= index < count <= 10000`` (else ``upload failed``), and chunks
  must come in order: a chunk that is not the next one of an upload under way, a second chunk 0 for the same
  ``dzuuid``, or a file over 1 GiB (CoCalc's browser allows 50 GB) ends that upload (``Upload failed.``);
  nothing reaches the target.
- At most 64 unfinished uploads; one idle for 10 minutes is dropped with its partial file (CoCalc's Dropzone gives
  a chunk 100 s; its hub waits up to a week for the rest of a file).
- ``path`` and the file name go through the project's writer (``project_writer``): ``..``, absolute paths outside
  HOME and /tmp, symlinks out of the project and NUL bytes are refused (``upload failed`` for ``path`` itself,
  ``Upload failed.`` for the file name), and the reason is logged.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import tornado.httputil
import tornado.web

from .context import Context
from .errors import ApiError, PathOutsideProject, ProjectWriteError
from .handler import StreamedRoute
from .keys import key_from_authorization
from .nextjs import answer_not_found
from .project_writer import PartialFile

log = logging.getLogger("cocalc_magics.emulator")

MAX_REQUEST_BYTES = 64 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_CHUNK_COUNT = 10_000
MAX_UNFINISHED_UPLOADS = 64
IDLE_UPLOAD_SECONDS = 600.0

NOT_SIGNED_IN = "user must be signed in to upload files"
HUB_FAILED = "upload failed"  # upload.ts's catch-all, before the project writes anything
WRITE_FAILED = "Upload failed."  # the project's writer reported an error
NOT_LISTENING = "Upload failed: upload service not running."  # conat 503: nothing in the project listens


class UploadRefused(Exception):
    """Answer HTTP 500 with ``text`` (one of the texts above); ``reason`` only goes to the log."""

    def __init__(self, text: str, reason: str):
        super().__init__(reason)
        self.text = text


@dataclass
class _Upload:
    """A file being assembled from Dropzone chunks."""

    dzuuid: str | None
    count: int
    partial: PartialFile
    next_index: int = 1
    touched: float = field(default_factory=time.monotonic)


# (data dir, project_id, target path as the project sees it) -> the upload under way. Chunks are appended
# synchronously on the event loop, so no two requests ever write to one upload at the same time.
_UPLOADS: dict[tuple[str, str, str], _Upload] = {}


def node_join(*parts: str) -> str:
    """Node's ``path.join``: join with "/", then normalise (``..`` resolved, a leading "/" kept once)."""
    joined = "/".join(part for part in parts if part)
    if not joined:
        return "."
    normal = posixpath.normpath(joined)
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


def _chunk_number(fields: dict[str, list[bytes]], name: str, default: int) -> int:
    values = fields.get(name)
    if not values:
        return default
    text = values[0].decode("utf-8", errors="replace").strip()
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise UploadRefused(HUB_FAILED, f"{name} is not a whole number")
    return int(text)


def _parse_int(text: str) -> int | None:
    """JavaScript's ``parseInt(text)``: the leading integer, or None for NaN."""
    match = re.match(r"\s*([+-]?[0-9]+)", text)
    return int(match.group(1)) if match else None


def _field(fields: dict[str, list[bytes]], name: str) -> str | None:
    values = fields.get(name)
    return values[0].decode("utf-8", errors="replace") if values else None


def _drop_idle_uploads() -> None:
    cutoff = time.monotonic() - IDLE_UPLOAD_SECONDS
    for key, upload in list(_UPLOADS.items()):
        if upload.touched < cutoff:
            upload.partial.discard()
            del _UPLOADS[key]


def _end_upload(key: tuple[str, str, str]) -> None:
    upload = _UPLOADS.pop(key, None)
    if upload is not None:
        upload.partial.discard()


class UploadHandler(StreamedRoute):
    # Express's router.post answers POST only; other methods fall through to Next, whose answer is its 404.
    body_limit = MAX_REQUEST_BYTES

    def initialize(self, ctx: Context) -> None:
        super().initialize(ctx)
        self._account_id: str | None = None

    def prepare(self) -> None:
        super().prepare()
        if self.request.method == "POST":
            key = key_from_authorization(self.request.headers.get("Authorization"))
            self._account_id = self.ctx.keys.resolve(key)

    def data_received(self, chunk: bytes) -> None:
        self._raw_body.add(chunk, keep=bool(self._account_id))

    def _fall_through(self, *args: Any) -> None:
        answer_not_found(self)

    get = head = put = patch = delete = options = _fall_through

    async def post(self) -> None:
        if self.ctx.faults is not None and await self.ctx.faults.intercept(self, "upload"):
            return
        if not self._account_id:
            self._text(401, NOT_SIGNED_IN)
            return
        try:
            self._receive(self._account_id)
        except UploadRefused as refusal:
            log.warning("upload refused (%s): %s", refusal.text, refusal)
            self._text(500, refusal.text)
            return
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"status": "ok"}, separators=(",", ":")))

    def _query(self, name: str) -> str | list[str] | None:
        """Express's ``req.query[name]``: absent, one string, or an array when repeated."""
        # parse_qs, not get_query_arguments: tornado turns control characters (NUL too) into spaces.
        values = parse_qs(self.request.query, keep_blank_values=True).get(name)
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _receive(self, account_id: str) -> None:
        project_id, compute_server_id, path = self._checked_query(account_id)
        fs = self.ctx.filesystem(project_id)
        try:
            fs.host_path(node_join(path, "x"))
        except (PathOutsideProject, ValueError) as refusal:  # ValueError: a NUL byte
            raise UploadRefused(HUB_FAILED, str(refusal)) from None
        part, fields = self._one_file_part()
        index = _chunk_number(fields, "dzchunkindex", 0)
        count = _chunk_number(fields, "dztotalchunkcount", 1)
        if not 0 <= index < count <= MAX_CHUNK_COUNT:
            raise UploadRefused(HUB_FAILED, f"chunk {index} of {count} (at most {MAX_CHUNK_COUNT} chunks)")
        filename = part.filename[part.filename.rfind("\\") + 1:]  # formidable's originalFilename
        full_path = _field(fields, "fullPath")
        target = node_join(path, full_path if full_path is not None else filename)
        key = (str(self.ctx.data_dir), project_id, fs.virtual(target))
        dzuuid = _field(fields, "dzuuid")
        _drop_idle_uploads()
        if index == 0:
            self._start(key, fs, target, dzuuid, count, compute_server_id)
        upload = self._continue(key, index, count, dzuuid)
        if upload.partial.size + len(part.body) > MAX_FILE_BYTES:
            _end_upload(key)
            raise UploadRefused(WRITE_FAILED, f"the file would be over {MAX_FILE_BYTES} bytes")
        try:
            upload.partial.append(part.body)
            if index == count - 1:
                del _UPLOADS[key]
                upload.partial.finish()
        except ProjectWriteError as failure:
            _end_upload(key)
            raise UploadRefused(WRITE_FAILED, str(failure)) from None

    def _checked_query(self, account_id: str) -> tuple[str, str, str]:
        """upload.ts's checks of the query, in its order: ``project_id``, ``compute_server_id``, ``path``."""
        project_id, compute_server_id = self._query("project_id"), self._query("compute_server_id")
        path = self._query("path")
        if path is None:
            path = ""
        if self._query("blob"):
            raise UploadRefused(HUB_FAILED, "blob uploads are not implemented (as in CoCalc)")
        if not isinstance(project_id, str):
            raise UploadRefused(HUB_FAILED, "user must be collaborator on project")
        try:
            if not self.ctx.is_collaborator(account_id, project_id):
                raise UploadRefused(HUB_FAILED, "user must be collaborator on project")
        except ApiError as err:  # not a uuid
            raise UploadRefused(HUB_FAILED, err.message) from None
        if not isinstance(compute_server_id, str):
            raise UploadRefused(HUB_FAILED, "compute_server_id must be given")
        if not isinstance(path, str):
            raise UploadRefused(HUB_FAILED, "path must be given")
        return project_id, compute_server_id, path

    def _one_file_part(self) -> tuple[tornado.httputil.HTTPFile, dict[str, list[bytes]]]:
        """formidable's parse of the body: the one file part, and the other fields."""
        if self._raw_body.too_large:
            raise UploadRefused(HUB_FAILED, f"request body over {MAX_REQUEST_BYTES} bytes")
        fields: dict[str, list[bytes]] = {}
        files: dict[str, list[tornado.httputil.HTTPFile]] = {}
        content_type = self.request.headers.get("Content-Type", "")
        body = self._raw_body.take()
        if content_type.lower().startswith("multipart/form-data"):
            try:
                tornado.httputil.parse_body_arguments(content_type, body, fields, files)
            except tornado.httputil.HTTPInputError as err:  # formidable's parse rejects: upload.ts's catch
                raise UploadRefused(HUB_FAILED, str(err)) from None
        parts = [part for group in files.values() for part in group]
        if len(parts) != 1:
            raise UploadRefused(HUB_FAILED, f"expected one file part in a multipart/form-data body, got {len(parts)}")
        return parts[0], fields

    def _start(self, key: tuple[str, str, str], fs: Any, target: str, dzuuid: str | None, count: int,
               compute_server_id: str) -> None:
        """Chunk 0: the hub asks the project's writer to take the file."""
        running = _UPLOADS.get(key)
        if running is not None:
            _end_upload(key)
            if dzuuid is not None and running.dzuuid == dzuuid:
                raise UploadRefused(WRITE_FAILED, "chunk 0 of an upload that is already under way")
        if _parse_int(compute_server_id) != 0 or self.ctx.control.state(key[1]) != "running":
            # Nothing subscribes to the project's files:write subject: conat answers 503.
            raise UploadRefused(NOT_LISTENING, "the project is not running (or no such compute server)")
        if len(_UPLOADS) >= MAX_UNFINISHED_UPLOADS:
            raise UploadRefused(WRITE_FAILED, f"{MAX_UNFINISHED_UPLOADS} uploads are already under way")
        try:
            partial = PartialFile(fs, target)
        except ProjectWriteError as failure:
            raise UploadRefused(WRITE_FAILED, str(failure)) from None
        _UPLOADS[key] = _Upload(dzuuid=dzuuid, count=count, partial=partial, next_index=0)

    @staticmethod
    def _continue(key: tuple[str, str, str], index: int, count: int, dzuuid: str | None) -> _Upload:
        """The upload this chunk belongs to, when it is the next chunk of it."""
        upload = _UPLOADS.get(key)
        if upload is None:
            raise UploadRefused(HUB_FAILED, f"chunk {index} of an upload that was never started (or has ended)")
        if upload.dzuuid != dzuuid:
            raise UploadRefused(WRITE_FAILED, "chunk of another upload of the same file")
        if index != upload.next_index or count != upload.count:
            _end_upload(key)
            raise UploadRefused(WRITE_FAILED, f"chunk {index} of {count} came when chunk {upload.next_index} "
                                              f"of {upload.count} was due")
        upload.next_index += 1
        upload.touched = time.monotonic()
        return upload

    def _text(self, status: int, text: str) -> None:
        # Express's res.status(n).send(string): an HTML content type; the texts are fixed, never reflected input.
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(text)


ROUTES = [(r"/upload", UploadHandler)]
