"""The viewer's SyncTeX and live preview, kernel side, over real compiles on the emulator: the front end's
messages (as pdf_viewer.js sends them for a click, ``cocalc-magics:show-line`` and ``cocalc-magics:live-text``)
and what the kernel answers; live recompiles one at a time with the newest text winning; the same viewer
updated in place; no SyncTeX bytes in the saved widget state; ``%%cocalc_latex --live`` in a real shell."""

from __future__ import annotations

import base64
import json
import threading

import pypdfium2
import pytest

import cocalc_magics.widgets
from cocalc_magics.latex.interpolation import prepare_document
from cocalc_magics.latex.log import errors_in_source_lines
from cocalc_magics.widgets import PdfViewer
from emulator_process import seeded_session
from magics_helpers import clean_environment, ip, magics, run, session  # noqa: F401 (fixtures)
from test_synctex import DOCUMENT, word_spot

ONE_PAGE = "%%cocalc_latex --live\nLive text number {n} with Heron.\n"


@pytest.fixture(scope="module")
def module_session(emulator):
    with_key = seeded_session(emulator)
    yield with_key
    with_key.close()


def compile_text(session, text: str):
    """What the magic's recompile does with a whole cell text: the body after the magic line, as a cell."""
    source = prepare_document(text.split("\n", 1)[1], eval, first_line=2)
    return errors_in_source_lines(session.latex(source.text), source, "cell"), source


@pytest.fixture(scope="module")
def three_pages(module_session):
    return compile_text(module_session, "%%cocalc_latex\n" + DOCUMENT)


class Sent(list):
    """What the kernel sent to the viewer's front end."""

    def of(self, event: str) -> list[dict]:
        return [content for content in self if content.get("event") == event]


@pytest.fixture
def viewer_of():
    viewers = []

    def build(result_and_source, **options):
        result, source = result_and_source
        viewer = PdfViewer(result, cell_id=None, latex_source=source, **options)
        viewer.widget  # noqa: B018 (builds the widget, as display does)
        viewer.sent = Sent()
        viewer.frontend.send = viewer.sent.append
        viewers.append(viewer)
        return viewer

    yield build
    for viewer in viewers:
        viewer.close()


def click_on(viewer: PdfViewer, page: int, word: str) -> None:
    x, y, width, height = word_spot(viewer.result.pdf, page, word)
    viewer._on_frontend_message({"event": "click", "page": page, "x": x / width, "y": y / height})


@pytest.mark.parametrize(("word", "page", "line"), [("Zebra", 1, 5), ("Quokka", 2, 10), ("Platypus", 3, 15)])
def test_a_click_on_a_word_answers_goto_line_with_its_editor_line(viewer_of, three_pages, word, page, line):
    viewer = viewer_of(three_pages)
    click_on(viewer, page, word)
    assert viewer.sent.of("goto-line") == [{"event": "goto-line", "file": "cell", "line": line}]


def test_show_line_turns_to_the_page_and_marks_the_words_line(viewer_of, three_pages):
    viewer = viewer_of(three_pages)
    page_one_png = viewer.image.value
    viewer._on_frontend_message({"event": "show-line", "line": 14})  # Narwhal's line
    assert viewer.page == 3 and viewer.page_input.value == 3 and viewer.image.value != page_one_png
    [mark] = viewer.sent.of("mark")
    x, y, width, height = word_spot(viewer.result.pdf, 3, "Narwhal")
    assert mark["x"] <= x / width <= mark["x"] + mark["width"]
    assert mark["y"] <= y / height <= mark["y"] + mark["height"]
    assert 0 < mark["height"] < 0.05, "the mark is one line of text, not the page"


@pytest.mark.parametrize("message", [
    {"event": "click", "page": 1, "x": 2.0, "y": 0.5},
    {"event": "click", "page": 9, "x": 0.5, "y": 0.5},
    {"event": "click", "page": "one", "x": 0.5, "y": 0.5},
    {"event": "click", "page": 1, "x": float("nan"), "y": 0.5},
    {"event": "click", "page": 1},
    {"event": "show-line", "line": "5"},
    {"event": "show-line", "line": True},
    {"event": "show-line", "line": -3},
    {"event": "live-text", "text": "%%cocalc_latex\nnot live, so not compiled\n"},
])
def test_malformed_or_unwanted_messages_send_and_change_nothing(viewer_of, three_pages, message):
    viewer = viewer_of(three_pages, recompile=lambda text: pytest.fail("compiled while live is off"))
    before = (viewer.page, viewer.image.value, viewer.result)
    viewer._on_frontend_message(message)
    assert viewer.live_compiles.idle(5)
    assert viewer.sent == [] and (viewer.page, viewer.image.value, viewer.result) == before


def test_a_viewer_without_synctex_answers_nothing(viewer_of, three_pages):
    result, source = three_pages
    viewer = viewer_of((result, None))
    click_on(viewer, 1, "Zebra")
    viewer._on_frontend_message({"event": "show-line", "line": 5})
    assert viewer.sent == [] and viewer.page == 1


def test_three_live_texts_in_a_row_make_at_most_two_compiles_and_show_the_last(viewer_of, module_session):
    first = compile_text(module_session, ONE_PAGE.format(n=0))
    gate, started, compiled = threading.Event(), threading.Event(), []

    def recompile(text):
        compiled.append(text)
        started.set()
        gate.wait(30)  # the first compile is still running while the other texts arrive
        return compile_text(module_session, text)

    viewer = viewer_of(first, recompile=recompile, live=True)
    image, root = viewer.image, viewer.root
    texts = [ONE_PAGE.format(n=n) for n in (1, 2, 3)]
    viewer._on_frontend_message({"event": "live-text", "text": texts[0]})
    assert started.wait(10)
    for text in texts[1:]:
        viewer._on_frontend_message({"event": "live-text", "text": text})
    gate.set()
    assert viewer.live_compiles.idle(60)
    assert compiled == [texts[0], texts[2]], "the text that was overtaken while waiting is never compiled"
    assert viewer.image is image and viewer.root is root, "the same viewer, updated in place"
    page_text = pypdfium2.PdfDocument(viewer.result.pdf)[0].get_textpage().get_text_range()
    assert "number 3" in page_text
    # The new result's SyncTeX is the one answering clicks.
    click_on(viewer, 1, "Heron")
    assert viewer.sent.of("goto-line") == [{"event": "goto-line", "file": "cell", "line": 2}]


def test_the_same_text_again_is_not_compiled_and_a_failure_is_one_line(viewer_of, three_pages):
    calls = []

    def recompile(text):
        calls.append(text)
        if text.endswith("A\n"):
            raise RuntimeError("the project is gone\nand more")
        return three_pages

    viewer = viewer_of(three_pages, recompile=recompile, live=True)
    viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex\nA\n"})
    assert viewer.live_compiles.idle(10)
    assert "live preview: RuntimeError: the project is gone and more" in viewer.summary.value
    viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex\nB\n"})
    viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex\nB\n"})
    assert viewer.live_compiles.idle(10)
    assert calls == ["%%cocalc_latex\nA\n", "%%cocalc_latex\nB\n"], "a good compile of B is not repeated"
    viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex\nA\n"})
    assert viewer.live_compiles.idle(10)
    assert calls[-1] == "%%cocalc_latex\nA\n", "a failed text is tried again"


def test_a_live_recompile_keeps_the_page_and_a_failed_one_lists_its_errors(viewer_of, module_session):
    first = compile_text(module_session, "%%cocalc_latex\n" + DOCUMENT)
    viewer = viewer_of(first, recompile=lambda text: compile_text(module_session, text), live=True)
    viewer.show_page(2)
    broken = "%%cocalc_latex\n" + DOCUMENT.replace("Page two", "Page \\undefinedthing two")
    viewer._on_frontend_message({"event": "live-text", "text": broken})
    assert viewer.live_compiles.idle(60)
    assert viewer.page == 2 and viewer.page_count == 3
    assert viewer.errors_part is not None and viewer.errors_part in viewer.root.children
    # The line the error part shows is the log reader's (latex/log.py), whatever its convention.
    [error] = viewer.result.errors
    assert error.message == "Undefined control sequence \\undefinedthing." and str(error) in viewer.errors_html.value


def test_the_live_toggle_is_the_front_ends_live_trait(viewer_of, three_pages):
    viewer = viewer_of(three_pages, recompile=lambda text: three_pages, live=True)
    assert viewer.live_button.value is True and viewer.frontend.live is True
    viewer.live_button.value = False
    assert viewer.live is False and viewer.frontend.live is False
    plain = viewer_of(three_pages)
    assert plain.live_button is None and plain.frontend.live is None, "no live preview: no toggle, no event"


def test_no_synctex_bytes_in_the_saved_widget_state(viewer_of, three_pages):
    import ipywidgets

    from cocalc_magics.widgets.base import widget_tree

    result, _ = three_pages
    viewer = viewer_of(three_pages, recompile=lambda text: three_pages, live=True)
    viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex\nanything\n"})
    assert viewer.live_compiles.idle(10) and viewer.result is result
    saved = json.dumps(ipywidgets.Widget.get_manager_state(drop_defaults=True, widgets=widget_tree(viewer.widget)))
    assert result.synctex and base64.b64encode(result.synctex[:30]).decode()[:32] not in saved
    assert "SyncTeX" not in saved and "synctex" not in saved.lower()
    assert "cocalc-pdf-viewer" in saved, "the state that was searched is the viewer's"


def test_the_magic_with_live_starts_live_and_recompiles_without_an_execution(ip, session, monkeypatch):
    viewers = []

    class Recorded(PdfViewer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            viewers.append(self)

    monkeypatch.setattr(cocalc_magics.widgets, "PdfViewer", Recorded)
    ran = run(ip, ONE_PAGE.format(n=1))
    assert ran.error is None, ran.text()
    [viewer] = viewers
    try:
        viewer.widget  # noqa: B018 (builds the widget, as display does)
        assert viewer.live and viewer.frontend.live is True
        count = ip.execution_count
        viewer._on_frontend_message({"event": "live-text", "text": "%%cocalc_latex --live\nNow \\py{6*7} Herons.\n"})
        assert viewer.live_compiles.idle(60)
        page_text = pypdfium2.PdfDocument(viewer.result.pdf)[0].get_textpage().get_text_range()
        assert "Now 42 Herons" in page_text and ip.execution_count == count
    finally:
        viewer.close()
