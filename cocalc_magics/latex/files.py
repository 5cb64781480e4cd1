"""The local files a LaTeX document names, found in the notebook's folder and sent into the compile's directory.

Read from the document (and, recursively, from the local files it inputs), with comments removed:
``\\includegraphics`` (with every ``\\graphicspath`` and the extensions pdfTeX's graphicx tries),
``\\input``/``\\include``/``\\subfile``/``\\import``, ``\\bibliography``/``\\addbibresource``/``\\bibliographystyle``,
``\\usepackage``/``\\RequirePackage``/``\\documentclass`` of a local ``.sty``/``.cls``, and
``\\lstinputlisting``/``\\verbatiminput``/``\\inputminted``.

Only files under the base folder are ever sent: a name that leaves it (absolute, ``..`` past the base, or a
symlink out of it) is an error, since sending it would copy a file from elsewhere on the user's machine into the
project. Files are sent under the names the document uses (relative to the compile's directory, where CoCalc's
latex runs its command), so TeX finds them as written. Text goes through ``projects/write-text-file`` (shared API
notes §12), anything else through the hub's ``POST /upload``; a file whose content was already sent to the same
place is not sent again. A named file that is neither here nor in the project is one error before anything is sent.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import shlex
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import APIError, AuthenticationError, CoCalcError, PermissionDeniedError

if TYPE_CHECKING:
    from ..session import CoCalcSession

# pdfTeX's graphicx (pdftex.def's \Gin@extensions) in its order, then .eps (converted by epstopdf).
GRAPHICS_EXTENSIONS = (".pdf", ".png", ".jpg", ".mps", ".jpeg", ".jbig2", ".jb2",
                       ".PDF", ".PNG", ".JPG", ".JPEG", ".JBIG2", ".JB2", ".eps")
TEXT_SUFFIXES = {".tex", ".bib", ".sty", ".cls", ".bst", ".bbx", ".cbx", ".def", ".cfg", ".txt", ".csv", ".dat",
                 ".py", ".m", ".r", ".c", ".h", ".cpp", ".java", ".js", ".json", ".md", ".ltx", ".clo", ".lua"}
MAX_FILES = 200
MAX_FILE_BYTES = 50 * 1024 * 1024
# write-text-file's content travels in a JSON body, and every v2 body is capped at 1 MiB (Next.js): larger text
# goes through the upload route instead.
MAX_TEXT_BODY_BYTES = 900 * 1024
# Where the stable per-cell directories live in the project: under HOME, not /tmp, so that what latexmk keeps
# between runs (.aux, .fdb_latexmk, .bbl) survives; CoCalc's latex removes only ``<path without .tex>.*`` of /tmp.
STABLE_ROOT = "/home/user/.cocalc-magics/latex"

# A % that is not escaped: preceded by an even number (0, 2, ...) of backslashes, so ``\\%`` starts a comment.
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%.*$", re.MULTILINE)
_OPTIONAL = r"(?:\s*\[[^\]]*\])*"
_ARGUMENT = r"\s*\{(?P<names>[^{}]*)\}"
_REFERENCES = {
    "graphics": re.compile(r"\\includegraphics\*?" + _OPTIONAL + _ARGUMENT),
    "input": re.compile(r"\\(?:input|include|subfile)" + _ARGUMENT),
    "import": re.compile(r"\\(?:sub)?(?:import|inputfrom|includefrom)\*?\s*\{(?P<folder>[^{}]*)\}" + _ARGUMENT),
    "bibliography": re.compile(r"\\bibliography" + _ARGUMENT),
    "bibresource": re.compile(r"\\addbibresource" + _OPTIONAL + _ARGUMENT),
    "bibstyle": re.compile(r"\\bibliographystyle" + _ARGUMENT),
    "package": re.compile(r"\\(?:usepackage|RequirePackage)" + _OPTIONAL + _ARGUMENT),
    "class": re.compile(r"\\documentclass" + _OPTIONAL + _ARGUMENT),
    "listing": re.compile(r"\\(?:lstinputlisting|verbatiminput|inputminted\s*\{[^}]*\})" + _OPTIONAL + _ARGUMENT),
}
_GRAPHICSPATH = re.compile(r"\\graphicspath\s*\{(?P<paths>(?:\s*\{[^{}]*\})*)\s*\}")
# Kinds whose absence is the user's problem; a package, class or style not found here is TeX Live's.
_MUST_EXIST = {"graphics", "input", "import", "bibliography", "bibresource", "listing"}


class LocalFileError(CoCalcError):
    """A document names a file outside the folder it is compiled from, or too many or too big files."""


class MissingFilesError(LocalFileError):
    """Files the document names are neither in the notebook's folder nor in the compile's directory."""

    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names


@dataclass(frozen=True)
class LocalFile:
    """A file to send, named as the document names it (relative to the compile's directory, with extension).

    Its bytes are on disk at ``absolute_path`` or, for a figure made in the kernel, held in ``data``."""

    relative_path: str
    sha256: str
    size: int
    absolute_path: Path | None = None
    data: bytes | None = field(default=None, repr=False)

    def read_bytes(self) -> bytes:
        return self.data if self.data is not None else self.absolute_path.read_bytes()  # type: ignore[union-attr]


@dataclass(frozen=True)
class MissingFile:
    """A name the document uses that is not here; ``candidates`` are the files TeX would accept for it."""

    name: str
    candidates: tuple[str, ...]


@dataclass
class DocumentFiles:
    files: list[LocalFile] = field(default_factory=list)
    missing: list[MissingFile] = field(default_factory=list)


def strip_comments(source: str) -> str:
    return _COMMENT.sub(r"\1", source)


def find_local_files(source: str, base: Path, extra: Iterable[str] = ()) -> DocumentFiles:
    """The local files ``source`` (compiled from ``base``) needs, following local ``\\input`` files.

    ``extra`` are names given by hand (``--files``), sent as they are named, relative to ``base``."""
    base = base.resolve()
    found = DocumentFiles()
    seen: set[str] = set()
    graphics_dirs = [""]

    def add(local: LocalFile) -> None:
        if local.relative_path in seen:
            return
        seen.add(local.relative_path)
        found.files.append(local)
        if len(found.files) > MAX_FILES:
            raise LocalFileError(f"the document names more than {MAX_FILES} local files")

    for name in extra:
        local = _resolve("file", name, base, [""])
        if local is None:
            raise LocalFileError(f"{name!r} (given with --files) is not a file in {base}")
        add(local)
    pending = [source]
    while pending:
        text = strip_comments(pending.pop(0))
        for match in _GRAPHICSPATH.finditer(text):  # graphicx's setting holds for the rest of the document
            graphics_dirs += [p.strip() for p in re.findall(r"\{([^{}]*)\}", match.group("paths"))]
        for kind, pattern in _REFERENCES.items():
            for match in pattern.finditer(text):
                folder = match.group("folder").strip() if kind == "import" else ""
                for name in (n.strip() for n in match.group("names").split(",")):
                    if not name or "#" in name or "\\" in name:
                        continue  # a macro argument, not a file name
                    if folder:
                        name = posixpath.join(folder, name)
                    local = _resolve(kind, name, base, graphics_dirs)
                    if local is None:
                        candidates = tuple(_candidates(kind, name, graphics_dirs))
                        # Named as TeX would look for it when there is one choice (refs -> refs.bib).
                        missing = MissingFile(candidates[0] if len(candidates) == 1 else name, candidates)
                        if kind in _MUST_EXIST and missing not in found.missing:
                            found.missing.append(missing)
                        continue
                    if local.relative_path in seen:
                        continue
                    add(local)
                    if kind in ("input", "import"):
                        pending.append(local.read_bytes().decode("utf-8", errors="replace"))
    return found


def _candidates(kind: str, name: str, graphics_dirs: list[str]) -> list[str]:
    if kind == "graphics":
        stems = [posixpath.join(directory, name) for directory in dict.fromkeys(graphics_dirs)]
        if Path(name).suffix in GRAPHICS_EXTENSIONS:
            return stems
        return [stem + extension for stem in stems for extension in GRAPHICS_EXTENSIONS] + stems
    if kind == "input" or kind == "import":
        return [name] if Path(name).suffix == ".tex" else [name + ".tex", name]
    if kind == "bibliography":
        return [name if name.endswith(".bib") else name + ".bib"]
    if kind == "bibstyle":
        return [name + ".bst"]
    if kind == "package":
        return [name + ".sty"]
    if kind == "class":
        return [name + ".cls"]
    return [name]


def _resolve(kind: str, name: str, base: Path, graphics_dirs: list[str]) -> LocalFile | None:
    for candidate in _candidates(kind, name, graphics_dirs):
        if os.path.isabs(candidate) or candidate.startswith("~"):
            if kind in ("package", "class", "bibstyle"):
                return None  # \usepackage{/abs/x} is TeX's business, not a file we would send
            raise LocalFileError(f"the document names {name!r}, an absolute path: only files in the notebook's "
                                 "folder (and below it) are sent with a compile")
        relative = posixpath.normpath(candidate.replace(os.sep, "/"))
        path = (base / relative).resolve()  # follows symlinks: one that points out of the folder is refused
        if relative.startswith("../") or relative == ".." or (path != base and base not in path.parents):
            raise LocalFileError(f"the document names {name!r}, which is outside the notebook's folder: only "
                                 "files in that folder (and below it) are sent with a compile")
        if path.is_file():
            # Sent under the name the document uses (not the symlink's target), which is what TeX opens.
            return _describe(path, relative)
    return None


def _describe(path: Path, relative: str) -> LocalFile:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LocalFileError(f"{relative} is {size / 1e6:.0f} MB; files sent with a compile are limited to "
                             f"{MAX_FILE_BYTES / 1e6:.0f} MB")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return LocalFile(relative, digest.hexdigest(), size, absolute_path=path)


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


# -- figures made in the kernel --------------------------------------------------------------------------------------

def figure_file(figure: Any) -> LocalFile:
    """A figure (anything with matplotlib's ``savefig``) as a PDF named by its content: the same plot gives the
    same name, so a re-run neither sends it again nor changes the cache key."""
    if not callable(getattr(figure, "savefig", None)):
        raise LocalFileError(f"\\pyfig needs a figure with a savefig method (a matplotlib Figure), "
                             f"not {type(figure).__name__}")
    buffer = io.BytesIO()
    try:
        # matplotlib writes the time into a PDF's CreationDate; None leaves it out, so the bytes are reproducible.
        figure.savefig(buffer, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    except TypeError:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf", bbox_inches="tight")
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    return LocalFile(f"pyfig-{digest[:16]}.pdf", digest, len(data), data=data)


def include_figure(figure: Any, options: str = "") -> tuple[str, LocalFile]:
    """The ``\\includegraphics`` text for ``\\pyfig[options]{expr}`` and the file it names."""
    local = figure_file(figure)
    shown = f"[{options}]" if options else ""
    return f"\\includegraphics{shown}{{{local.relative_path}}}", local


def send_figure(session: CoCalcSession, project_id: str, directory: str, figure: Any, options: str = "") -> str:
    """Save ``figure`` as PDF, send it into ``directory`` (unless already there) and return its include text."""
    text, local = include_figure(figure, options)
    send_files(session, project_id, directory, [local])
    return text
