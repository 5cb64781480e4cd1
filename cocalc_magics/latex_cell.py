"""One LaTeX cell, start to end, from the blocks of ``latex_files`` and ``latex_cache``.

scan the local files -> cache key -> a hit is shown at once (no HTTP) -> else check and send the files into the
cell's stable directory -> compile there (one pdflatex pass when that is enough) -> store a good result.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .latex.request import DEFAULT_LATEX_COMMAND
from .latex_cache import LatexCache, cache_key, get_default_cache
from .latex_files import LocalFile, find_local_files, send_document_files, stable_directory, stable_rerun_command
from .models import LatexResult

if TYPE_CHECKING:
    from .session import CoCalcSession

MAIN_FILE = "cell.tex"


def compile_cell(session: CoCalcSession, content: str, *, base: Path, cell_identity: str,
                 project_id: str | None = None, command: str | None = None, figures: Iterable[LocalFile] = (),
                 extra_files: Iterable[str] = (), force: bool = False, cache: LatexCache | None = None,
                 timeout: float | None = None) -> LatexResult:
    """Compile ``content`` (with the files it names in ``base``) as the cell ``cell_identity`` does.

    ``force`` (``--force``) compiles even when the cache has the result, and asks the project which files it
    really has rather than trusting what this kernel remembers sending. Only a good compile is stored: a
    failure (possibly a timeout) is compiled again on the next run.
    """
    cache = cache if cache is not None else get_default_cache()
    project_id = session.resolve_project_id(project_id)
    figures, extra_files = list(figures), list(extra_files)
    named = find_local_files(content, base, extra_files).files
    files = named + [f for f in figures if f.relative_path not in {n.relative_path for n in named}]
    key = cache_key(session.host, project_id, command, content, [(f.relative_path, f.sha256) for f in files])
    cached = cache.get(key, force=force)
    if cached is not None:
        return cached
    directory = stable_directory(cell_identity)
    send_document_files(session, project_id, directory, content, base, extra_files, figures, check_project=force)
    if command is None:
        command = stable_rerun_command(MAIN_FILE, f"{DEFAULT_LATEX_COMMAND} -file-line-error {MAIN_FILE}")
    result = session.latex(content, path=f"{directory}/{MAIN_FILE}", project_id=project_id, command=command,
                           report_errors=True, timeout=timeout)
    if result.ok:
        cache.put(key, result)
    return result
