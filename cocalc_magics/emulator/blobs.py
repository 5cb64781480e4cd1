"""Blob storage and ``GET /blobs/<anything>?uuid=<uuid>``.

Facts followed (``hub/servers/app/blobs.ts``, ``backend/sha1.ts``,
``server/projects/connection/handle-blob.ts``):

- A blob's uuid is ``uuidsha1(bytes)``: the SHA-1 hex laid into
  ``xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx``, consuming one hex digit per ``x`` or ``y``,
  with ``y = (digit & 3) | 8``; the literal ``4`` and the dashes consume nothing.
- Blobs from a project live 1 day (``TTL = 60*60*24``), whatever ``ttl`` the caller asked
  for; an expired blob is deleted when read. (Emulator-only: expired blobs are also purged at start and
  every 10 minutes, and the store is capped, ``--blob-store-mb``, by dropping the oldest first.)
- No authentication: the uuid is the capability. ``If-None-Match: <uuid>`` -> 304 (checked
  first); a malformed uuid -> 404 ``invalid uuid=<uuid>``; missing or expired -> 404
  ``blob <uuid> not found``.
- Success: ``ETag: <uuid>``, ``Cache-Control: public, max-age=31536000``,
  ``X-Content-Type-Options: nosniff``; the type comes from the last path component;
  only png, jpg, gif, webp, avif, bmp and ico are shown inline, everything else (a PDF
  too) is an attachment named after that component; ``?download`` forces attachment.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re

import tornado.web

from .context import Context
from .jsutil import is_valid_uuid
from .nextjs import EVERY_METHOD, answer_not_found

BLOB_TTL_SECONDS = 60 * 60 * 24
_INLINE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico"}
_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
          "gif": "image/gif", "webp": "image/webp", "avif": "image/avif", "bmp": "image/bmp",
          "ico": "image/x-icon", "svg": "image/svg+xml", "txt": "text/plain", "html": "text/html"}


def uuidsha1(data: bytes) -> str:
    digest = hashlib.sha1(data).hexdigest()
    digits = iter(digest)
    out = []
    for char in "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx":
        if char == "x":
            out.append(next(digits, "0"))
        elif char == "y":
            out.append(format((int(next(digits, "0"), 16) & 0x3) | 0x8, "x"))
        else:
            out.append(char)
    return "".join(out)


def save_blob(ctx: Context, data: bytes) -> str:
    """Store ``data`` as a project blob (1 day) and return its uuid."""
    blob_uuid = uuidsha1(data)
    ctx.store.save_blob(blob_uuid, data, BLOB_TTL_SECONDS)
    ctx.store.purge_blobs(ctx.blob_store_max_bytes)
    return blob_uuid


def _safe_filename(path: str) -> str:
    name = path[path.rfind("/") + 1:]
    return re.sub(r"[^A-Za-z0-9._ -]", "_", name) or "blob"


class BlobHandler(tornado.web.RequestHandler):
    # Express's router.get answers GET and HEAD; other methods fall through to Next, whose answer is its 404.
    SUPPORTED_METHODS = EVERY_METHOD

    def initialize(self, ctx: Context) -> None:
        self.ctx = ctx

    def _fall_through(self, splat: str) -> None:
        answer_not_found(self)

    post = put = patch = delete = options = _fall_through

    async def get(self, splat: str) -> None:
        if self.ctx.faults is not None and await self.ctx.faults.intercept(self, "blobs"):
            return
        # Express stringifies the query value: missing -> "undefined", repeated -> "a,b".
        values = self.get_query_arguments("uuid")
        blob_uuid = ",".join(values) if values else "undefined"
        if self.request.headers.get("If-None-Match") == blob_uuid:
            self.set_status(304)
            self.finish()
            return
        if not is_valid_uuid(blob_uuid):
            self._not_found(f"invalid uuid={blob_uuid}")
            return
        data = self.ctx.store.get_blob(blob_uuid)
        if data is None:
            self._not_found(f"blob {blob_uuid} not found")
            return
        filename = _safe_filename(self.request.path)
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        content_type = _TYPES.get(extension) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.set_header("Content-Type", content_type)
        if extension not in _INLINE_EXTENSIONS or self.get_query_argument("download", None) is not None:
            self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.set_header("Cache-Control", "public, max-age=31536000")
        self.set_header("ETag", blob_uuid)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(data)

    head = get

    def compute_etag(self) -> None:
        return None  # the ETag is the uuid, set explicitly

    def _not_found(self, text: str) -> None:
        self.set_status(404)
        # Express sends these as HTML; plain text keeps a reflected uuid from being markup.
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(text)


ROUTES = [(r"/blobs/(.*)", BlobHandler)]
