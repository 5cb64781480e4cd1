"""The ``latex`` endpoint: write a .tex file, compile it with latexmk, store the PDF as a blob.

Follows ``pages/api/v2/latex.ts`` step by step:

1. ``must be authenticated``; ``path must be specified and end in .tex``; with
   ``only_read_pdf``, a ``project_id`` is required and the path must not start ``/tmp``.
2. With ``project_id`` the caller must collaborate (``must be signed in as a
   collaborator on the project``); without it the most recently edited project that is
   neither deleted nor hidden is used, or a new ``Untitled Project`` is made.
3. Start the project, write ``content`` (creating directories), then run
   ``command ?? "latexmk -pdf -f -g -bibtex -deps -interaction=nonstopmode <file>"`` in the
   path's directory with ``timeout ?? 30`` and err_on_exit on. ``compile`` is the project's
   raw reply: ``project_exec_output`` or an ``error`` event (a TeX error exits 12, and
   thanks to ``-f`` a PDF usually exists anyway).
4. Read ``<path without .tex>.pdf`` (at most 10 MB) into a blob; ``pdf`` is
   ``file_read_from_project`` with ``data_uuid`` or an ``error`` event; ``url`` is
   ``siteURL + "/blobs/" + pdfpath + "?uuid=" + uuid``, not URL-encoded, so ``/tmp/d.tex``
   gives ``.../blobs//tmp/d.pdf?...``, and is absent when there is no PDF.
5. Finally, for a path starting ``/tmp``, remove ``<path without .tex>.*``.

Emulator-only hardening (it runs on the user's machine): the default command is run as an argv, never through
a shell, so no file name can run anything (error texts still show CoCalc's command string); ``timeout`` must
be a number of at least 5 s (CoCalc's schema for this endpoint) and the process tree dies at the limit; the
compile output kept is capped at ``exec``'s default cap and says so; the ``/tmp`` clean-up decides on the
normalised path (``/tmp/../home/user/x.tex`` is a home file and is kept).

The ``ttl`` param is ignored: project blobs always live 1 day. If the hub gives up on the
project (60 s) the handler's ``{error: err.message}`` of a bare string serialises as ``{}``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import uuid
from typing import Any

from .blobs import save_blob
from .errors import ApiError, PathOutsideProject, ProjectCallTimeout
from .execute import project_exec
from .filesystem import ProjectFilesystem
from .handler import ApiHandler
from .jsutil import UNDEFINED, js_number, nullish, truthy
from .project_control import new_project
from .projects import projects_for_listing

MAX_PDF_BYTES = 10 * 1000 * 1000  # COCALC_PROJECT_MAX_FILE_SIZE_MB = 10, in units of 1000*1000
DEFAULT_LATEX_ARGV = ["latexmk", "-pdf", "-f", "-g", "-bibtex", "-deps", "-interaction=nonstopmode"]
MIN_TIMEOUT_S = 5  # CoCalc's API schema for latex: timeout is a number, min 5


# latexmk runs pdflatex through a shell with the file name in double quotes (its $quote_filenames), where
# these still mean something; refused in the default command's file name rather than run.
_SHELL_ACTIVE_IN_DOUBLE_QUOTES = re.compile(r'["$`\\]|[\x00-\x1f\x7f]')


def default_latex_argv(filename: str) -> list[str]:
    """CoCalc's default command as an argv (no shell of ours); ApiError for a name latexmk cannot take safely."""
    if _SHELL_ACTIVE_IN_DOUBLE_QUOTES.search(filename):
        raise ApiError("the file name must not contain a double quote, $, `, \\ or a control character "
                       "(latexmk hands it to a shell); rename the file")
    # A leading "-" would make the name an option of latexmk (-e runs Perl code).
    return [*DEFAULT_LATEX_ARGV, f"./{filename}" if filename.startswith("-") else filename]


def latex_timeout(value: Any) -> float:
    """The compile's limit in seconds: 30 when absent, else a number of at least 5 (or ApiError)."""
    if nullish(value):
        return 30
    seconds = None if isinstance(value, bool) or (isinstance(value, str) and not value.strip()) else js_number(value)
    if seconds is None or math.isnan(seconds) or seconds < MIN_TIMEOUT_S:
        raise ApiError(f"timeout must be a number of seconds, at least {MIN_TIMEOUT_S}")
    return seconds


def path_split(path: str) -> tuple[str, str]:
    """util/misc ``path_split``: everything before the last slash, and the rest."""
    head, _, tail = path.rpartition("/")
    return head, tail


def read_file_from_project(fs: ProjectFilesystem, path: str) -> tuple[dict, bytes | None]:
    """The project's ``read_file_from_project`` reply, plus the bytes when it succeeded."""
    message_id = str(uuid.uuid4())
    virtual = fs.virtual(path)
    try:
        fs.host_path(path)
        fd = fs.open_in_project(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(fd).st_size
            if size > MAX_PDF_BYTES:
                raise ValueError(f"Attempt to open large file of size {round(size / 1000000)}MB; the maximum "
                                 f"allowed size is {round(MAX_PDF_BYTES / 1000000)}MB. Use vim, emacs, or pico "
                                 "from a terminal instead.")
            data = handle.read(MAX_PDF_BYTES + 1)[:MAX_PDF_BYTES]
    except FileNotFoundError:
        return {"event": "error", "id": message_id,
                "error": f"Error: ENOENT: no such file or directory, stat '{virtual}'"}, None
    except (OSError, ValueError, PathOutsideProject) as err:
        return {"event": "error", "id": message_id, "error": f"Error: {err}"}, None
    return {"event": "file_read_from_project", "id": message_id}, data


def in_project_tmp(fs: ProjectFilesystem, path: str) -> bool:
    """Whether ``path`` names a file in the project's /tmp once ``..`` are resolved (not by its text)."""
    return fs.virtual(path).startswith("/tmp/")


def remove_tmp_outputs(fs: ProjectFilesystem, tex_path: str) -> None:
    """``rm <path without .tex>.*``, done in Python so it can only touch the project's /tmp."""
    if not in_project_tmp(fs, tex_path):
        return
    parent, _, name = fs.virtual(tex_path).rpartition("/")
    prefix = name[: -len(".tex")] + "."
    try:
        directory = fs.open_in_project(parent, os.O_RDONLY | os.O_DIRECTORY)
    except (OSError, PathOutsideProject):
        return  # gone, or swapped for a symlink by a project process: nothing of ours to remove there
    try:
        for entry in os.listdir(directory):
            if entry.startswith(prefix):
                with contextlib.suppress(OSError):  # a directory, or already gone
                    os.unlink(entry, dir_fd=directory)
    finally:
        os.close(directory)


class LatexHandler(ApiHandler):
    async def handle(self) -> Any:
        account_id = self.caller
        path = self.param("path")
        only_read_pdf = truthy(self.param("only_read_pdf"))
        if not account_id:
            raise ApiError("must be authenticated")
        if not truthy(path):
            raise ApiError("path must be specified and end in .tex")
        if not isinstance(path, str):
            raise ApiError("params.path.endsWith is not a function")
        if not path.endswith(".tex"):
            raise ApiError("path must be specified and end in .tex")
        directory, filename = path_split(path)
        if only_read_pdf:
            if nullish(self.param("project_id")):
                raise ApiError("if only_read_pdf is set then project_id must also be set")
            if path.startswith("/tmp"):
                raise ApiError("if only_read_pdf is set then path must not start with /tmp "
                               "(otherwise the pdf would be removed)")
        project_id = self._choose_project(account_id)
        fs = self.ctx.filesystem(project_id)
        try:
            fs.host_path(path)
        except PathOutsideProject as err:
            raise ApiError(str(err)) from None
        command = self.param("command")
        if not nullish(command) and not self.ctx.allow_exec:
            raise ApiError(self.ctx.exec_refusal)
        latex_timeout(self.param("timeout"))
        if nullish(command) and not only_read_pdf:
            default_latex_argv(filename)
        try:
            return await self._compile_and_read(fs, project_id, path, directory, filename, only_read_pdf)
        except ProjectCallTimeout:
            return {}  # {error: err.message} of the bare string "timeout"

    def _choose_project(self, account_id: str) -> str:
        project_id = self.param("project_id")
        if not nullish(project_id):
            if not self.ctx.is_collaborator(account_id, project_id):
                raise ApiError("must be signed in as a collaborator on the project")
            return project_id
        # server/projects/get-one.ts: the newest visible project, or a new one.
        newest = projects_for_listing(self.ctx.store, account_id, 1)
        if newest:
            return newest[0]["project_id"]
        project = new_project(account_id, "Untitled Project")
        self.ctx.store.insert_project(project)
        return project["project_id"]

    async def _compile_and_read(self, fs: ProjectFilesystem, project_id: str, path: str, directory: str,
                                filename: str, only_read_pdf: bool) -> dict:
        compile_reply: Any = UNDEFINED
        try:
            await self.ctx.control.ensure_running(project_id)
            if not only_read_pdf:
                content = self.param("content")
                if not nullish(content):
                    self._write_text_file(fs, path, content)
                command = self.param("command")
                mesg: dict[str, Any] = {"timeout": latex_timeout(self.param("timeout")), "path": directory}
                if nullish(command):
                    # An argv: the file name is one argument whatever it holds (; $( ) ` newline ...).
                    argv = default_latex_argv(filename)
                    mesg["_argv"], mesg["command"] = argv, " ".join(argv)  # command: how CoCalc's texts show it
                else:
                    mesg["command"] = command
                compile_reply = await self.ctx.control.call(project_id, project_exec(fs, mesg))
            pdf_path = path[:-4] + ".pdf"
            pdf, data = await self.ctx.control.call(project_id, _read(fs, pdf_path))
            url: Any = UNDEFINED
            if data is not None:
                pdf["data_uuid"] = save_blob(self.ctx, data)
                url = f"{self.ctx.site_url}/blobs/{pdf_path}?uuid={pdf['data_uuid']}"
            return {"compile": compile_reply, "url": url, "pdf": pdf}
        finally:
            remove_tmp_outputs(fs, path)

    @staticmethod
    def _write_text_file(fs: ProjectFilesystem, path: str, content: Any) -> None:
        """write_text_file_to_project: mkdir -p, then write; failures are not reported (latex.ts ignores them)."""
        try:
            fs.host_path(path)
            fd = fs.open_in_project(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, make_parents=True)
            text = content if isinstance(content, str) else str(content)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        except (OSError, PathOutsideProject):
            pass


async def _read(fs: ProjectFilesystem, path: str) -> tuple[dict, bytes | None]:
    return read_file_from_project(fs, path)


ROUTES = [(r"/api/v2/latex", LatexHandler)]
