"""The local files a LaTeX document names, sent into the compile's directory; the directory a cell compiles in.

Finding them is :mod:`cocalc_magics.latex.finding` (its names are importable from here too). Files are sent
under the names the document uses (relative to the compile's directory, where CoCalc's latex runs its command),
so TeX finds them as written. Text goes through ``projects/write-text-file`` (shared API notes §12), anything
else through the hub's ``POST /upload``; a file whose content was already sent to the same place is not sent
again. A named file that is neither here nor in the project is one error before anything is sent.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shlex
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import APIError, AuthenticationError, PermissionDeniedError

# What finding the files gives, importable from here as it always was.
from .finding import GRAPHICS_EXTENSIONS as GRAPHICS_EXTENSIONS
from .finding import MAX_FILE_BYTES as MAX_FILE_BYTES
from .finding import MAX_FILES as MAX_FILES
from .finding import DocumentFiles as DocumentFiles
from .finding import LocalFile as LocalFile
from .finding import LocalFileError as LocalFileError
from .finding import MissingFile as MissingFile
from .finding import MissingFilesError as MissingFilesError
from .finding import figure_file as figure_file
from .finding import find_local_files as find_local_files
from .finding import include_figure as include_figure
from .finding import strip_comments as strip_comments

if TYPE_CHECKING:
    from ..session import CoCalcSession

# pdfTeX's graphicx (pdftex.def's \Gin@extensions) in its order, then .eps (converted by epstopdf).
TEXT_SUFFIXES = {".tex", ".bib", ".sty", ".cls", ".bst", ".bbx", ".cbx", ".def", ".cfg", ".txt", ".csv", ".dat",
                 ".py", ".m", ".r", ".c", ".h", ".cpp", ".java", ".js", ".json", ".md", ".ltx", ".clo", ".lua"}
# write-text-file's content travels in a JSON body, and every v2 body is capped at 1 MiB (Next.js): larger text
# goes through the upload route instead.
MAX_TEXT_BODY_BYTES = 900 * 1024
# Where the stable per-cell directories live in the project: under HOME, not /tmp, so that what latexmk keeps
# between runs (.aux, .fdb_latexmk, .bbl) survives; CoCalc's latex removes only ``<path without .tex>.*`` of /tmp.
STABLE_ROOT = "/home/user/.cocalc-magics/latex"

# -- the compile's directory ----------------------------------------------------------------------------------------

def stable_directory(cell_identity: str) -> str:
    """The project directory a cell compiles in, the same on every run of that cell (notebook path + cell id,
    or a ``--name``): latexmk finds its .aux there and runs pdflatex once when the references did not change."""
    digest = hashlib.sha256(cell_identity.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{STABLE_ROOT}/{digest}"


# Files whose change means another pass is needed: latexmk reruns exactly when one of them changed in a pass.
_PASS_STATE_SUFFIXES = ("aux", "toc", "lof", "lot", "out", "nav", "snm", "idx", "bcf")


def stable_rerun_command(main_file: str, full_command: str) -> str:
    """A compile command for a stable directory: one pdflatex pass when that is all the document needs.

    latexmk costs a Perl start and its bookkeeping on every run (about as much as a pdflatex pass of a short
    document). When the directory already has the ``.aux`` of an earlier compile, pdflatex runs once; if the
    files a rerun depends on (``.aux``, ``.toc``, ...) come out byte-identical and no ``.bib`` is newer than the
    ``.bbl``, the document has converged, as latexmk would have concluded. Otherwise ``full_command`` (CoCalc's
    latexmk) runs and does what is left: more passes, bibtex. The last command's status is the command's.
    """
    stem = main_file.removesuffix(".tex")
    quoted_stem, quoted_main = shlex.quote(stem), shlex.quote(main_file)
    state = " ".join(f"{quoted_stem}.{suffix}" for suffix in _PASS_STATE_SUFFIXES)
    return (
        f"if [ -f {quoted_stem}.aux ]; then "
        f"before=$(cat {state} 2>/dev/null | md5sum); "
        f"pdflatex -interaction=nonstopmode -file-line-error -recorder -synctex=1 {quoted_main}; status=$?; "
        f"after=$(cat {state} 2>/dev/null | md5sum); "
        f"newer_bib=$(find . -maxdepth 3 -name '*.bib' -newer {quoted_stem}.bbl 2>/dev/null | head -1); "
        f"if [ -f {quoted_stem}.bbl ] || ! grep -q '^\\\\bibdata' {quoted_stem}.aux; then :; else newer_bib=yes; fi; "
        f'if [ "$before" = "$after" ] && [ -z "$newer_bib" ]; then (exit $status); else {full_command}; fi; '
        f"else {full_command}; fi"
    )


# -- sending ---------------------------------------------------------------------------------------------------------

class SentFiles:
    """What was sent where, in memory: (host, project, directory, name) -> sha256 of the content sent."""

    def __init__(self, limit: int = 10_000):
        self._sent: OrderedDict[tuple[str, str, str, str], str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def has(self, key: tuple[str, str, str, str], sha256: str) -> bool:
        with self._lock:
            return self._sent.get(key) == sha256

    def remember(self, key: tuple[str, str, str, str], sha256: str) -> None:
        with self._lock:
            self._sent[key] = sha256
            self._sent.move_to_end(key)
            while len(self._sent) > self._limit:
                self._sent.popitem(last=False)

    def forget(self, host: str, project_id: str) -> None:
        """After ``--force`` or a project reset: send everything to that project again."""
        with self._lock:
            for key in [k for k in self._sent if k[:2] == (host, project_id)]:
                del self._sent[key]


SENT_FILES = SentFiles()


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def missing_in_project(session: CoCalcSession, project_id: str, directory: str,
                       missing: list[MissingFile]) -> list[MissingFile]:
    """Those of ``missing`` that the project's ``directory`` has no candidate of (one ``exec`` of ``test -e``).

    When the server refuses ``exec`` the check is skipped (an empty list): the compile reports what TeX lacks."""
    if not missing:
        return []
    paths = sorted({posixpath.join(directory, c) for m in missing for c in m.candidates})
    script = 'for f do if test -e "$f"; then printf "%s\\0" "$f"; fi; done'
    try:
        result = session.exec("sh", ["-c", script, "sh", *paths], project_id, timeout=30)
    except (AuthenticationError, PermissionDeniedError):
        raise
    except APIError:
        return []  # a server that runs no commands: the compile will name what TeX lacks
    present = set(result.stdout.split("\0"))
    return [m for m in missing if not any(posixpath.join(directory, c) in present for c in m.candidates)]


def project_sha256s(session: CoCalcSession, project_id: str, directory: str,
                    names: list[str]) -> dict[str, str] | None:
    """The SHA-256 of those of ``names`` (relative to ``directory``) the project has: one ``exec`` of sha256sum.

    None when the server refuses ``exec``: then what was remembered as sent is trusted."""
    if not names:
        return {}
    try:
        # -z: NUL-terminated lines, so no name is escaped or split; a missing file is only a line on stderr.
        result = session.exec("sha256sum", ["-z", "--", *names], project_id, path=directory, timeout=30)
    except (AuthenticationError, PermissionDeniedError):
        raise
    except APIError:
        return None
    sums = {}
    for line in result.stdout.split("\0"):
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name:
            sums[name] = digest
    return sums


def send_files(session: CoCalcSession, project_id: str, directory: str, files: list[LocalFile],
               sent: SentFiles = SENT_FILES, *, check_project: bool = False) -> SendReport:
    """Put ``files`` into ``directory`` of the project under their relative names, skipping unchanged ones.

    Unchanged means remembered as sent in this kernel; with ``check_project`` the project's own copies are
    hashed first (one ``exec``), so a file it already has is not sent after a kernel restart, and one changed
    or removed there (a project reset) is sent again even though it was remembered.
    Text first: ``write-text-file`` starts the project, which the upload route needs and does not do."""
    report = SendReport()
    plans = []
    in_project = project_sha256s(session, project_id, directory, [f.relative_path for f in files]) \
        if check_project else None
    for local in files:
        key = (session.host, project_id, directory, local.relative_path)
        if in_project is not None:
            if in_project.get(local.relative_path) == local.sha256:
                sent.remember(key, local.sha256)
                report.unchanged.append(local.relative_path)
                continue
        elif sent.has(key, local.sha256):
            report.unchanged.append(local.relative_path)
            continue
        data = local.read_bytes()
        text = _as_text(local.relative_path, data)
        plans.append((text is None, key, local, data, text))
    for _, key, local, data, text in sorted(plans, key=lambda plan: plan[0]):
        target = posixpath.join(directory, local.relative_path)
        if text is None:
            folder, name = posixpath.split(target)
            session.upload_file(folder, name, data, project_id)
        else:
            session.write_text_file(target, text, project_id)
        sent.remember(key, local.sha256)
        report.sent.append(local.relative_path)
    return report


def _as_text(name: str, data: bytes) -> str | None:
    """The content as a string when it can go through write-text-file unchanged, else None (upload it)."""
    if Path(name).suffix.lower() not in TEXT_SUFFIXES:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in text or len(json.dumps(text)) > MAX_TEXT_BODY_BYTES:
        return None  # a JSON string keeps \r, but the project's writer may not: bytes go byte for byte
    return text


def send_document_files(session: CoCalcSession, project_id: str, directory: str, source: str, base: Path,
                        extra: Iterable[str] = (), figures: Iterable[LocalFile] = (), *,
                        check_project: bool = False) -> list[LocalFile]:
    """Find, check and send what ``source`` needs; returns the files, for the cache key.

    A named file that is neither in ``base`` nor in the project is a :class:`MissingFilesError`, raised before
    anything is sent. ``check_project``: see :func:`send_files`."""
    found = find_local_files(source, base, extra)
    figures = list(figures)
    made_here = {figure.relative_path for figure in figures}
    files = found.files + [figure for figure in figures if figure.relative_path not in
                           {local.relative_path for local in found.files}]
    unresolved = [m for m in found.missing if not made_here.intersection(m.candidates)]
    still_missing = missing_in_project(session, project_id, directory, unresolved)
    if still_missing:
        names = [m.name for m in still_missing]
        raise MissingFilesError(f"the document names {', '.join(map(repr, names))}, not found in {base} nor in "
                                f"the project's {directory}; nothing was sent", names)
    send_files(session, project_id, directory, files, check_project=check_project)
    return files


def send_figure(session: CoCalcSession, project_id: str, directory: str, figure: Any, options: str = "") -> str:
    """Save ``figure`` as PDF, send it into ``directory`` (unless already there) and return its include text."""
    text, local = include_figure(figure, options)
    send_files(session, project_id, directory, [local])
    return text
