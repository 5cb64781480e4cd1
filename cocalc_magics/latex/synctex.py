"""SyncTeX, both ways: a click on a page → the source line (inverse), a source line → a spot on a page (forward).

The compile's ``.synctex.gz`` (``-synctex=1``; carried back by the wrapper, see ``request.synctex_tail``) is read
into a small index. The format (synctex_parser.c, "SyncTeX file format" in the TeX Live docs): a preamble of
``Input:<tag>:<path>``, ``Magnification:``, ``Unit:``, ``X Offset:``, ``Y Offset:``; then ``Content:`` and per
page ``{<page>`` … ``}<page>`` with records ``<kind><tag>,<line>[,<column>]:<x>,<y>[:<W>,<H>,<D>]``: ``(``/``[``
open an hbox/vbox, ``h``/``v`` are void boxes (W, H, D), ``k`` a kern (W), ``g`` glue, ``$`` math, ``x`` the
current point. Positions are in TeX's scaled points times ``Unit``, from the page's top-left corner, y at the
baseline. A box's line is where TeX packed it (for a paragraph's lines: the paragraph's end), so the points
inside a line of text (glue, kerns, math: the line where TeX read them) decide which line was clicked.

:class:`CellSync` maps the document's lines through the wrapper and the ``\\py{}`` substitutions
(:class:`LatexSource`) to lines of the notebook editor: line 1 is the ``%%cocalc_latex`` line.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass

from .interpolation import LatexSource

# A synctex file is a few KB per page; a runaway one is not read past these bounds.
MAX_UNCOMPRESSED = 64 * 1024 * 1024
MAX_RECORDS = 2_000_000
# TeX's scaled points per big (PDF) point: 65536 sp = 1 pt, 72.27 pt = 72 bp.
SP_PER_BP = 65536 * 72.27 / 72
# How far from the clicked line a forward search looks for a line that left a mark on a page (a blank line,
# a comment or \begin{…} leaves none).
FORWARD_REACH = 30
# The height given to a marked spot that has no box around it, in points.
LINE_HEIGHT = 12.0

_RECORD = re.compile(r"(?P<kind>[\[(hvkgx$])(?P<tag>\d+),(?P<line>-?\d+)(?:,-?\d+)?:(?P<x>-?\d+),(?P<y>-?\d+)"
                     r"(?::(?P<w>-?\d+)(?:,(?P<h>-?\d+),(?P<d>-?\d+))?)?")
_BOX_KINDS, _POINT_KINDS = "(h", "kgx$"


class SyncTexError(ValueError):
    """The SyncTeX data could not be read."""


@dataclass(frozen=True)
class Mark:
    """A spot on a page, in PDF points from the page's top-left corner."""

    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class _Record:
    kind: str
    tag: int
    line: int
    x: float
    y: float
    width: float = 0.0
    height: float = 0.0
    depth: float = 0.0


class SyncTex:
    """The records of one compile, by page: ``inverse`` and ``forward`` in TeX's own file/line terms."""

    def __init__(self, inputs: dict[int, str], pages: dict[int, list[_Record]]):
        self.inputs = inputs
        self.pages = pages

    @classmethod
    def from_gz(cls, data: bytes) -> SyncTex:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                text = stream.read(MAX_UNCOMPRESSED + 1)
        except (OSError, EOFError) as error:
            raise SyncTexError(f"the SyncTeX data is not gzip: {error}") from None
        if len(text) > MAX_UNCOMPRESSED:
            raise SyncTexError(f"the SyncTeX data is larger than {MAX_UNCOMPRESSED // 2**20} MB")
        if not text.startswith(b"SyncTeX Version:"):
            raise SyncTexError("the data is not SyncTeX (no 'SyncTeX Version' line)")
        return cls.parse(text.decode("utf-8", "replace"))

    @classmethod
    def parse(cls, text: str) -> SyncTex:
        inputs: dict[int, str] = {}
        settings = {"Unit": 1.0, "Magnification": 1000.0, "X Offset": 0.0, "Y Offset": 0.0}
        pages: dict[int, list[_Record]] = {}
        page: list[_Record] | None = None
        count = 0
        for line in text.splitlines():
            if line.startswith("Input:"):
                tag, _, path = line[6:].partition(":")
                if tag.isdigit():
                    inputs[int(tag)] = path
            elif line.startswith("{") and line[1:].isdigit():
                page = pages.setdefault(int(line[1:]), [])
            elif line.startswith("}"):
                page = None
            elif page is not None and (match := _RECORD.match(line)):
                count += 1
                if count > MAX_RECORDS:
                    raise SyncTexError(f"the SyncTeX data has more than {MAX_RECORDS:,} records")
                page.append(_record(match, settings))
            elif page is None and ":" in line:
                name, _, value = line.partition(":")
                if name in settings:
                    try:
                        settings[name] = float(value)
                    except ValueError:
                        raise SyncTexError(f"the SyncTeX preamble's {name} is not a number: {value!r}") from None
            elif line.startswith("Postamble:"):
                break
        return cls(inputs, pages)

    def inverse(self, page: int, x: float, y: float) -> tuple[int, int] | None:
        """(input tag, line) of what is at (x, y) on ``page``, or None when the page has nothing there."""
        records = self.pages.get(page) or []
        boxes = [r for r in records if r.kind in _BOX_KINDS and r.width > 0 and _inside(r, x, y)]
        if boxes:
            box = min(boxes, key=lambda r: (r.height + r.depth, r.width))
            on_line = [r for r in records if r.kind in _POINT_KINDS and abs(r.y - box.y) < 0.01
                       and box.x - 0.01 <= r.x <= box.x + box.width + 0.01]
            if not on_line:
                return box.tag, box.line
            before = [r for r in on_line if r.x <= x + 0.5]
            chosen = max(before, key=lambda r: r.x) if before else min(on_line, key=lambda r: r.x)
            return chosen.tag, chosen.line
        # Outside every line of text (a margin): the points TeX recorded, not the page's empty header boxes.
        points = [r for r in records if r.kind in _POINT_KINDS]
        if not points:
            return None
        # Nothing under the click: the nearest mark, a line above or below weighing more than a word aside.
        nearest = min(points, key=lambda r: (3 * (r.y - y)) ** 2 + (r.x - x) ** 2)
        return nearest.tag, nearest.line

    def forward(self, tag: int, line: int) -> Mark | None:
        """The first spot where line ``line`` of input ``tag`` left a mark: its line of text, or None."""
        for page in sorted(self.pages):
            records = self.pages[page]
            # Void boxes count only with a size: an empty page header is recorded with the line of \newpage.
            points = [r for r in records if r.tag == tag and r.line == line
                      and (r.kind in _POINT_KINDS or (r.kind in "hv" and r.height + r.depth > 0))]
            if not points:
                continue
            first = min(points, key=lambda r: (r.y, r.x))
            around = [r for r in records if r.kind == "(" and abs(r.y - first.y) < 0.01
                      and r.x - 0.01 <= first.x <= r.x + r.width + 0.01]
            if around:
                box = min(around, key=lambda r: r.width)
                height = max(box.height + box.depth, 1.0)
                return Mark(page, box.x, box.y - box.height, box.width, height)
            return Mark(page, first.x, first.y - LINE_HEIGHT * 0.8, max(first.width, LINE_HEIGHT), LINE_HEIGHT)
        return None

    def tag_of(self, file_name: str) -> int | None:
        """The tag of the input whose path ends in ``/file_name`` (or is it)."""
        for tag, path in self.inputs.items():
            if path == file_name or path.endswith("/" + file_name):
                return tag
        return None


def _record(match: re.Match, settings: dict[str, float]) -> _Record:
    scale = settings["Unit"] * settings["Magnification"] / 1000 / SP_PER_BP

    def length(name: str) -> float:
        value = match.group(name)
        return int(value) * scale if value else 0.0

    return _Record(match.group("kind"), int(match.group("tag")), int(match.group("line")),
                   length("x") + settings["X Offset"] / SP_PER_BP, length("y") + settings["Y Offset"] / SP_PER_BP,
                   length("w"), length("h"), length("d"))


def _inside(box: _Record, x: float, y: float) -> bool:
    return box.x <= x <= box.x + box.width and box.y - box.height - 0.5 <= y <= box.y + box.depth + 0.5


class CellSync:
    """SyncTeX in the editor's lines: ``line_at`` for a click, ``mark_for`` for "show in PDF".

    ``source`` is the document that was sent and its map to the cell's lines; ``main_file`` the name it was
    compiled under; ``shown_name`` is ``"cell"`` for a ``%%cocalc_latex`` cell (whose body starts on editor
    line 2) or the local file's name for ``%cocalc_latex FILE.tex`` (its own lines).
    """

    def __init__(self, synctex: SyncTex, source: LatexSource, main_file: str, shown_name: str = "cell"):
        self.synctex, self.source, self.shown_name = synctex, source, shown_name
        self.main_tag = synctex.tag_of(main_file)
        self.directory = synctex.inputs.get(self.main_tag, "").rsplit("/", 1)[0] if self.main_tag else None

    def line_at(self, page: int, x: float, y: float) -> tuple[str, int] | None:
        """(file, editor line) of what is at (x, y) points on ``page``: ``"cell"`` (or the local file's name),
        or the name of an ``\\input`` file next to the document; None for what no line of ours made."""
        found = self.synctex.inverse(page, x, y)
        if found is None:
            return None
        tag, line = found
        if tag == self.main_tag:
            # LatexSource's map gives the lines the user edits: the notebook editor's for a cell (line 1 is the
            # %%cocalc_latex line, see prepare_document's first_line), the file's own for FILE.tex.
            editor_line = self.source.cell_line(line)
            return None if editor_line is None else (self.shown_name, editor_line)
        path = self.synctex.inputs.get(tag, "")
        prefix = f"{self.directory}/"
        if self.directory is None or not path.startswith(prefix) or line < 1:
            return None  # a class or package file: nothing the user wrote
        return path[len(prefix):].removeprefix("./"), line

    def mark_for(self, line: int) -> Mark | None:
        """The spot on a page made by editor line ``line`` of the cell, or by the nearest line after (then
        before) it that made one."""
        if self.main_tag is None:
            return None
        for distance in range(FORWARD_REACH + 1):
            for candidate in ((line + distance, line - distance) if distance else (line,)):
                for document_line in self._document_lines(candidate):
                    mark = self.synctex.forward(self.main_tag, document_line)
                    if mark is not None:
                        return mark
        return None

    def _document_lines(self, editor_line: int) -> list[int]:
        return [index + 1 for index, mapped in enumerate(self.source.line_map) if mapped == editor_line]
