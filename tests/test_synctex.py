"""SyncTeX, kernel side: the compile carries the ``.synctex.gz`` back, the index answers a spot on a page with
its source line and a line with its spot, through the fragment wrapper and ``\\py{}`` to editor lines.

Real latexmk, run here and through the emulator; the words' positions come from the PDF itself (pypdfium2)."""

from __future__ import annotations

import base64
import gzip
import subprocess

import pypdfium2
import pytest

from cocalc_magics.latex.interpolation import LatexSource, prepare_document
from cocalc_magics.latex.reply import split_synctex
from cocalc_magics.latex.request import SYNCTEX_LIMIT, SYNCTEX_MARKER
from cocalc_magics.latex.synctex import CellSync, SyncTex, SyncTexError
from emulator_process import seeded_session

# Three pages; each word of WORDS inside its own source line (SyncTeX knows where TeX read a line's words, and
# a source line's first word is often recorded with the line before), a paragraph spanning several lines.
DOCUMENT = r"""\documentclass{article}
\begin{document}
Alpha beta gamma
eta Zebra delta
epsilon Moose iota.

Second paragraph with Kiwi.
\newpage
Page two has Quokka here.

\[ x^2 + Wombat \]
\newpage
Third page: Narwhal
and Platypus.
\end{document}
"""
# word -> (source line, page)
WORDS = {"Alpha": (3, 1), "Zebra": (4, 1), "Moose": (5, 1), "Kiwi": (7, 1), "Quokka": (9, 2),
         "Narwhal": (13, 3), "Platypus": (14, 3)}


def word_spot(pdf: bytes, page: int, word: str) -> tuple[float, float, float, float]:
    """(x, y, page width, page height) of the middle of ``word`` on ``page``, in points from the top-left."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        sheet = document[page - 1]
        width, height = sheet.get_size()
        text = sheet.get_textpage()
        start = text.get_text_range().index(word)
        boxes = [text.get_charbox(index) for index in range(start, start + len(word))]
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        return (left + right) / 2, height - (bottom + top) / 2, width, height
    finally:
        document.close()


@pytest.fixture(scope="module")
def local_compile(tmp_path_factory) -> tuple[bytes, bytes]:
    """(PDF, .synctex.gz) of DOCUMENT, compiled here by latexmk with -synctex=1."""
    directory = tmp_path_factory.mktemp("synctex")
    (directory / "doc.tex").write_text(DOCUMENT)
    subprocess.run(["latexmk", "-pdf", "-synctex=1", "-interaction=nonstopmode", "doc.tex"], cwd=directory,
                   capture_output=True, timeout=120, check=True)
    return (directory / "doc.pdf").read_bytes(), (directory / "doc.synctex.gz").read_bytes()


@pytest.fixture(scope="module")
def module_session(emulator):
    with_key = seeded_session(emulator)
    yield with_key
    with_key.close()


@pytest.fixture(scope="module")
def emulator_compile(module_session):
    return module_session.latex(DOCUMENT)


@pytest.mark.parametrize("word", WORDS)
def test_a_words_spot_gives_its_line_and_its_line_gives_its_page_locally(local_compile, word):
    pdf, synctex_gz = local_compile
    synctex = SyncTex.from_gz(synctex_gz)
    tag = synctex.tag_of("doc.tex")
    line, page = WORDS[word]
    x, y, _, _ = word_spot(pdf, page, word)
    assert synctex.inverse(page, x, y) == (tag, line)
    mark = synctex.forward(tag, line)
    assert mark.page == page
    assert mark.x <= x <= mark.x + mark.width and mark.y <= y <= mark.y + mark.height, "the mark covers the word"


def test_the_compile_through_the_emulator_carries_the_synctex_back_and_not_in_the_log(emulator_compile):
    result = emulator_compile
    assert result.ok and result.synctex is not None
    assert gzip.decompress(result.synctex).startswith(b"SyncTeX Version:1")
    assert SYNCTEX_MARKER not in result.log and "exit status" not in result.log
    assert "synctex" not in repr(result).lower(), "the bytes are never shown"


@pytest.mark.parametrize("word", WORDS)
def test_editor_lines_of_a_whole_document_cell_through_the_emulator(emulator_compile, word):
    result = emulator_compile
    source = prepare_document(DOCUMENT, eval, first_line=2)  # a cell: line 1 is the magic line
    sync = CellSync(SyncTex.from_gz(result.synctex), source, result.path.rsplit("/", 1)[-1])
    line, page = WORDS[word]
    x, y, _, _ = word_spot(result.pdf, page, word)
    # Line 1 of the editor is the %%cocalc_latex line: the document's line N is editor line N + 1.
    assert sync.line_at(page, x, y) == ("cell", line + 1)
    assert sync.mark_for(line + 1).page == page


def test_a_line_without_a_mark_of_its_own_shows_a_line_near_it_and_beyond_the_end_nothing(emulator_compile):
    result = emulator_compile
    sync = CellSync(SyncTex.from_gz(result.synctex), prepare_document(DOCUMENT, eval, first_line=2),
                    result.path.rsplit("/")[-1])
    # Editor line 3 is \begin{document}, which typesets nothing: the next line with marks is Alpha's.
    assert sync.mark_for(3) == sync.mark_for(4)
    # Editor line 11, the blank line after Quokka, ends that paragraph on page 2.
    assert sync.mark_for(11).page == 2
    assert sync.mark_for(10_000) is None


FRAGMENT = "Intro with Aardvark.\n\\pyraw{table}\n\nAfter \\py{name} comes Bison.\n\\newpage\nLast Capybara.\n"


def test_lines_map_through_the_wrapper_and_py_substitutions(module_session):
    values = {"table": "First\\\\\nsecond\\\\\nthird line", "name": "50% off"}
    source = prepare_document(FRAGMENT, lambda expression: values[expression], first_line=2)
    assert source.text.startswith("\\documentclass"), "a fragment is wrapped"
    result = module_session.latex(source.text)
    assert result.ok, result.log
    sync = CellSync(SyncTex.from_gz(result.synctex), source, result.path.rsplit("/", 1)[-1])
    # Editor lines: 1 the magic, 2 Aardvark, 3 \pyraw (three lines in the document), 5 Bison, 7 Capybara.
    for word, page, editor_line in (("Aardvark", 1, 2), ("line", 1, 3), ("Bison", 1, 5), ("Capybara", 2, 7)):
        x, y, _, _ = word_spot(result.pdf, page, word)
        assert sync.line_at(page, x, y) == ("cell", editor_line), word
        assert sync.mark_for(editor_line).page == page, word
    assert sync.line_at(1, 1.0, 1.0) in (None, ("cell", 2)), "a margin gives nothing or the nearest line"


def test_a_local_file_keeps_its_own_line_numbers(local_compile):
    pdf, synctex_gz = local_compile
    source = LatexSource(DOCUMENT, tuple(range(1, DOCUMENT.count("\n") + 2)))
    sync = CellSync(SyncTex.from_gz(synctex_gz), source, "doc.tex", "doc.tex")
    x, y, _, _ = word_spot(pdf, 2, "Quokka")
    assert sync.line_at(2, x, y) == ("doc.tex", 9)
    assert sync.mark_for(9).page == 2


def test_an_input_file_next_to_the_document_is_named_and_class_files_are_not(tmp_path):
    (tmp_path / "chapter.tex").write_text("Chapter text with Ibex.\n")
    (tmp_path / "main.tex").write_text("\\documentclass{article}\n\\begin{document}\nMain Mole.\n\n"
                                       "\\input{chapter}\n\\end{document}\n")
    subprocess.run(["latexmk", "-pdf", "-synctex=1", "-interaction=nonstopmode", "main.tex"], cwd=tmp_path,
                   capture_output=True, timeout=120, check=True)
    text = (tmp_path / "main.tex").read_text()
    sync = CellSync(SyncTex.from_gz((tmp_path / "main.synctex.gz").read_bytes()),
                    LatexSource(text, tuple(range(2, text.count("\n") + 3))), "main.tex")  # as a cell's lines
    pdf = (tmp_path / "main.pdf").read_bytes()
    assert sync.line_at(1, *word_spot(pdf, 1, "Ibex")[:2]) == ("chapter.tex", 1)
    assert sync.line_at(1, *word_spot(pdf, 1, "Mole")[:2]) == ("cell", 4)


def test_split_synctex_takes_the_last_marker_and_refuses_what_is_not_synctex():
    data = gzip.compress(b"SyncTeX Version:1\n")
    ours = f"\n{SYNCTEX_MARKER}\n{base64.b64encode(data).decode()}\n"
    spoofed = f"{SYNCTEX_MARKER}\nAAAA\n"
    # What the document printed stays in its log; only the wrapper's own (last) block is taken off.
    assert split_synctex("log line\n" + spoofed + "more log" + ours) == (data, "log line\n" + spoofed + "more log")
    assert split_synctex("no marker here") == (None, "no marker here")
    assert split_synctex(f"{SYNCTEX_MARKER}\nnot base64!\n")[0] is None
    too_big = base64.b64encode(b"x" * (SYNCTEX_LIMIT + 1)).decode()
    assert split_synctex(f"{SYNCTEX_MARKER}\n{too_big}\n")[0] is None


@pytest.mark.parametrize("data", [b"", b"not gzip at all", gzip.compress(b"\x00" * 10)[:-4]])
def test_broken_synctex_data_is_one_clear_error(data):
    with pytest.raises(SyncTexError):
        SyncTex.from_gz(data)


def test_a_synctex_bomb_is_not_read_past_its_bound(monkeypatch):
    import cocalc_magics.latex.synctex as synctex_module

    monkeypatch.setattr(synctex_module, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(SyncTexError, match="larger than"):
        SyncTex.from_gz(gzip.compress(b"x" * 5000))


def test_a_preamble_with_unit_magnification_and_offsets_scales_positions():
    text = ("SyncTeX Version:1\nInput:1:/p/./a.tex\nMagnification:2000\nUnit:2\nX Offset:65781\n"
            "Y Offset:0\nContent:\n{1\n(1,3:65781,131563:6578,100,0\ng1,3:65781,131563\n)\n}1\n")
    synctex = SyncTex.parse(text)
    record = synctex.pages[1][1]
    # 65781 sp x Unit 2 x Magnification 2 = 4 bp, plus an X Offset of 1 bp.
    assert round(record.x, 2) == 5.0 and round(record.y, 2) == 8.0
    assert synctex.inverse(1, 5.0, 8.0) == (1, 3)
