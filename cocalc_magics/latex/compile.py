"""One LaTeX cell, start to end, from the blocks of :mod:`.files` and :mod:`.cache`.

scan the local files -> cache key -> a hit is shown at once (no HTTP) -> else check and send the files into the
cell's stable directory -> compile there (one pdflatex pass when that is enough) -> store a good result.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import APIError, AuthenticationError, NoAnswerError, PermissionDeniedError
from ..models import LatexResult
from .cache import LatexCache, cache_key, get_default_cache
from .files import (
    LocalFile,
    LocalFileError,
    find_local_files,
    send_document_files,
    stable_directory,
    stable_rerun_command,
)
from .request import DEFAULT_LATEX_COMMAND, SYNCTEX_OPTION

if TYPE_CHECKING:
    from ..session import CoCalcSession

MAIN_FILE = "cell.tex"


def compile_cell(session: CoCalcSession, content: str, *, base: Path, cell_identity: str,
                 project_id: str | None = None, command: str | None = None, figures: Iterable[LocalFile] = (),
                 extra_files: Iterable[str] = (), force: bool = False, cache: LatexCache | None = None,
                 timeout: float | None = None, path: str | None = None,
                 before_compile: Callable[[], None] | None = None) -> LatexResult:
    """Compile ``content`` (with the files it names in ``base``) as the cell ``cell_identity`` does.

    ``force`` (``--force``) compiles even when the cache has the result, and asks the project which files it
    really has rather than trusting what this kernel remembers sending. Only a good compile is stored: a
    failure (possibly a timeout) is compiled again on the next run. A result from the cache has ``from_cache``.
    ``path`` (``--path``) compiles there instead of the cell's stable directory; with no project at all
    (none given, no default) the server picks one and no local file can be sent. ``before_compile`` runs
    when the cache did not have the result, before anything is sent.
    """
    cache = cache if cache is not None else get_default_cache()
    if project_id is None and session.project_id:
        project_id = session.resolve_project_id()
    elif project_id is not None:
        project_id = session.resolve_project_id(project_id)
    figures, extra_files = list(figures), list(extra_files)
    named = find_local_files(content, base, extra_files).files
    files = named + [f for f in figures if f.relative_path not in {n.relative_path for n in named}]
    where = command if path is None else f"{command}\0{path}"
    key = cache_key(session.host, project_id, where, content, [(f.relative_path, f.sha256) for f in files])
    # With no project the server picks one for the account: the key cannot name it, so nothing is cached.
    cached = cache.get(key, force=force) if project_id is not None else None
    if cached is not None:
        return dataclasses.replace(cached, from_cache=True, elapsed=0.0)
    if before_compile is not None:
        before_compile()
    if project_id is None:
        if files or extra_files:
            raise LocalFileError("local files and \\pyfig figures need a project to be sent to: name one with "
                                 "--project or %cocalc_project")
        result = session.latex(content, path=path, command=command, report_errors=True, timeout=timeout)
    else:
        ours = None  # the command this function chose (not the caller's), which a server may refuse
        if path is None:
            directory, main_file = stable_directory(cell_identity), MAIN_FILE
            path = f"{directory}/{main_file}"
            if command is None and not session.refuses_latex_wrapper:
                # SyncTeX on both paths, so the viewer can map clicks and lines (the wrapper carries the file back).
                command = ours = stable_rerun_command(
                    main_file, f"{DEFAULT_LATEX_COMMAND} {SYNCTEX_OPTION} -file-line-error {main_file}")
        else:
            directory = posixpath.dirname(path) or "."
        send_document_files(session, project_id, directory, content, base, extra_files, figures,
                            check_project=force)
        try:
            result = session.latex(content, path=path, project_id=project_id, command=command,
                                   report_errors=True, timeout=timeout)
        except (AuthenticationError, PermissionDeniedError, NoAnswerError):
            raise
        except APIError:
            # A server that runs no custom commands (an emulator bound off loopback, a locked-down CoCalc)
            # refuses the one-pass command, not the document: compile with CoCalc's own, in the same directory.
            if ours is None:
                raise
            result = session.latex(content, path=path, project_id=project_id, report_errors=True, timeout=timeout)
    if result.ok and project_id is not None:
        cache.put(key, result)
    return result
