"""``POST /api/v2/projects/write-text-file``: put a text file into a project.

Follows ``next/pages/api/v2/projects/write-text-file.ts`` and ``server/projects/call.ts``:

1. Checks in this order, each answered 200 ``{"error": ...}``: ``must be authenticated`` (no account);
   ``must set project_id to a valid uuid``; ``must specify a 'path'`` (a falsy path); ``must include content of
   file`` (``content == null``; an empty string is fine).
2. ``callProject`` then checks collaboration (a project key counts for its own project):
   ``callProject -- authenticated user must be a collaborator on the project``.
3. The hub's call starts the project and sends ``write_text_file_to_project``; the project makes the parent
   directories and writes the file (``project_writer``). The answer is ``{"status":"ok"}``.
4. The project's reply is not looked at: ``callProjectMessage`` resolves with the project's ``error`` message
   rather than rejecting, and the handler ignores what it resolves with. So a write the project could not do
   (a directory in the way, a non-string ``content`` or ``path``) still answers ``{"status":"ok"}``; the emulator
   logs it. When the hub gives up on the project (60 s), ``{error: err.message}`` of the bare string "timeout"
   is ``{}``.

Emulator-only: a path that leaves the project's home and /tmp is refused with a one-line error before the project
is started, and nothing is written. The content is bounded by the 1 MiB body limit every API route has.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors import (
    ApiError,
    PathOutsideProject,
    PathRefused,
    ProjectCallTimeout,
    ProjectWriteError,
)
from .handler import ApiHandler
from .jsutil import is_valid_uuid, nullish, truthy
from .project_writer import write_text_file
from .projects import OK_STATUS

log = logging.getLogger("cocalc_magics.emulator")


class WriteTextFileHandler(ApiHandler):
    async def handle(self) -> Any:
        account_id = self.caller
        if account_id is None:
            raise ApiError("must be authenticated")
        project_id = self.param("project_id")
        path = self.param("path")
        content = self.param("content")
        if not is_valid_uuid(project_id):
            raise ApiError("must set project_id to a valid uuid")
        if not truthy(path):
            raise ApiError("must specify a 'path'")
        if nullish(content):
            raise ApiError("must include content of file")
        if not self.ctx.is_collaborator(account_id, project_id):
            raise ApiError("callProject -- authenticated user must be a collaborator on the project")
        fs = self.ctx.filesystem(project_id)
        if isinstance(path, str) and "\0" not in path:
            try:
                fs.host_path(path)
            except PathOutsideProject as refusal:  # the emulator's sandbox, not CoCalc
                raise ApiError(str(refusal)) from None
        try:
            await self.ctx.control.call(project_id, _write(fs, path, content))
        except ProjectCallTimeout:
            return {}
        return OK_STATUS


async def _write(fs: Any, path: Any, content: Any) -> None:
    """The project's handler: failures become its ``error`` reply, which the hub does not report."""
    try:
        write_text_file(fs, path, content)
    except PathRefused as refusal:
        log.warning("write-text-file refused: %s", refusal)
    except ProjectWriteError as failure:
        log.warning("write-text-file: the project could not write the file: %s", failure)


ROUTES = [(r"/api/v2/projects/write-text-file", WriteTextFileHandler)]
