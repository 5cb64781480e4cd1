"""The local files a LaTeX document names, found in the notebook's folder (and figures made in the kernel).

Read from the document (and, recursively, from the local files it inputs), with comments removed:
``\\includegraphics`` (with every ``\\graphicspath`` and the extensions pdfTeX's graphicx tries),
``\\input``/``\\include``/``\\subfile``/``\\import``, ``\\bibliography``/``\\addbibresource``/``\\bibliographystyle``,
``\\usepackage``/``\\RequirePackage``/``\\documentclass`` of a local ``.sty``/``.cls``, and
``\\lstinputlisting``/``\\verbatiminput``/``\\inputminted``.

Only files under the base folder are ever found: a name that leaves it (absolute, ``..`` past the base, or a
symlink out of it) is an error, since sending it would copy a file from elsewhere on the user's machine into the
project. Sending them is :mod:`cocalc_magics.latex.files`.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CoCalcError

# pdfTeX's graphicx (pdftex.def's \Gin@extensions) in its order, then .eps (converted by epstopdf).
GRAPHICS_EXTENSIONS = (".pdf", ".png", ".jpg", ".mps", ".jpeg", ".jbig2", ".jb2",
                       ".PDF", ".PNG", ".JPG", ".JPEG", ".JBIG2", ".JB2", ".eps")
MAX_FILES = 200
MAX_FILE_BYTES = 50 * 1024 * 1024

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
