"""%%cocalc_latex wired end to end in a real IPython shell against the emulator, with real TeX: errors and
warnings with their cause at the notebook editor's lines, the output contract, local files, \\pyfig, the cache,
the stable directory and the viewer's arguments."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cocalc_magics.latex.files import STABLE_ROOT
from cocalc_magics.latex.log import NO_LINE_NOTE
from cocalc_magics.widgets.static import LATEX_MIMETYPE
from magics_helpers import (  # noqa: F401 (fixtures)
    clean_environment,
    ip,
    magics,
    own_project,
    run,
    session,
)


def pdf_text(pdf: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return " ".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


ARTICLE = "\\documentclass{article}\n{preamble}\\begin{document}\n{body}\n\\end{document}\n"


def article(body: str, preamble: str = "") -> str:
    return ARTICLE.replace("{preamble}", preamble).replace("{body}", body)


@pytest.fixture
def requests_made(session) -> list[str]:
    made: list[str] = []
    session.client._api_http.hooks["response"].append(lambda response, *a, **k: made.append(response.url))
    return made


@pytest.fixture
def in_folder(tmp_path, monkeypatch):
    """The kernel's working directory: where the document's local files are found."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def contract(ran) -> dict:
    return ran.shown()[-1].data[LATEX_MIMETYPE]


def test_a_missing_package_names_the_file_at_the_editors_line(ip, session):
    run(ip, "%%cocalc_latex -o doc\n" + article("Hi.", "\\usepackage{nonexistentpkg}\n"))
    error = ip.user_ns["doc"].errors[0]
    # Editor line 1 is %%cocalc_latex, 2 \documentclass, 3 the \usepackage.
    assert (error.file, error.line, error.missing_file) == ("cell", 3, "nonexistentpkg.sty")
    assert str(error) == "line 3: File `nonexistentpkg.sty' not found."


def test_a_missing_end_document_points_at_the_last_line_and_says_so(ip, session):
    run(ip, "%%cocalc_latex -o doc\n\\documentclass{article}\n\\begin{document}\nUnfinished.\n")
    errors = ip.user_ns["doc"].errors
    assert errors and errors[0].line == 4 and errors[0].message.endswith(NO_LINE_NOTE)


def test_warnings_are_listed_with_their_line_and_the_output_contract_carries_both(ip, session):
    body = "See \\ref{nowhere} and \\undefinedmacro."
    ran = run(ip, "%%cocalc_latex --no-preview\n" + article(body))
    entry = contract(ran)
    assert entry["version"] == 1 and entry["ok"] is False and entry["live"] is False
    assert {"severity": "error", "line": 4, "file": "cell", "message": "Undefined control sequence \\undefinedmacro.",
            "context": "l.3 See \\ref{nowhere} and \\undefinedmacro ⟨here⟩ ."} in entry["diagnostics"]
    warnings = [d for d in entry["diagnostics"] if d["severity"] == "warning"]
    assert [(w["line"], w["file"]) for w in warnings if "nowhere" in w["message"]] == [(4, "cell")]
    html = ran.shown()[-1].data["text/html"]
    assert "class='cocalc-diagnostic' data-cocalc-line='4' data-cocalc-file='cell' data-cocalc-severity='error'" in html
    assert "data-cocalc-severity='warning'" in html
    # TeX's context, without its "l.3" (a line of the document sent, not of the editor).
    assert "<code>See \\ref{nowhere} and \\undefinedmacro ⟨here⟩ .</code>" in html
    assert "line 4: Undefined control sequence \\undefinedmacro." in ran.shown()[-1].data["text/plain"]
    json.dumps(entry)  # the front end reads it as JSON


def test_a_py_error_names_the_editors_line(ip, session):
    ran = run(ip, "%%cocalc_latex\nFirst line.\n\\py{not_defined_anywhere}\n")
    assert ran.usage_error.startswith("\\py{not_defined_anywhere} on line 3 of the cell: NameError")


def test_local_files_are_sent_and_an_input_file_keeps_its_own_lines(ip, session, in_folder):
    (in_folder / "part.tex").write_text("Fine text.\n\\brokenininput\n")
    run(ip, "%%cocalc_latex -o doc\n" + article("\\input{part}\nAfter."))
    result = ip.user_ns["doc"]
    assert [(e.file, e.line) for e in result.errors] == [("part.tex", 2)]
    assert str(result.errors[0]) == "part.tex:2: Undefined control sequence \\brokenininput."
    assert result.path.startswith(STABLE_ROOT + "/")


def test_a_local_bib_is_sent_and_bibtex_resolves_the_citation(ip, session, in_folder):
    (in_folder / "refs.bib").write_text("@book{knuth, author={Donald Knuth}, title={The TeXbook}, "
                                        "publisher={Addison-Wesley}, year={1984}}\n")
    body = "As in \\cite{knuth}.\n\\bibliographystyle{plain}\n\\bibliography{refs}"
    run(ip, "%%cocalc_latex -o doc\n" + article(body))
    result = ip.user_ns["doc"]
    assert result.ok and result.warnings == [], "the last LaTeX run has the citation"
    assert "Donald Knuth" in " ".join(pdf_text(result.pdf).split())


def test_a_named_file_missing_everywhere_is_one_error_before_anything_is_sent(ip, session, in_folder, requests_made):
    ran = run(ip, "%%cocalc_latex\n" + article("\\includegraphics{nofigure}", "\\usepackage{graphicx}\n"))
    assert "nofigure" in ran.usage_error and "nothing was sent" in ran.usage_error
    assert not any("/api/v2/latex" in url for url in requests_made)


class SavedPdf:
    """Anything with savefig is a figure to \\pyfig: this one writes a PDF compiled before."""

    def __init__(self, pdf: bytes):
        self.pdf = pdf

    def savefig(self, target, **options):
        target.write(self.pdf)


def test_pyfig_sends_a_figure_and_includes_it(ip, session, in_folder):
    run(ip, "%%cocalc_latex -o inner\n" + article("A small figure."))
    ip.user_ns["figure"] = SavedPdf(ip.user_ns["inner"].pdf)
    body = "Before. \\pyfig[width=3cm]{figure} After."
    run(ip, "%%cocalc_latex -o doc\n" + article(body, "\\usepackage{graphicx}\n"))
    result = ip.user_ns["doc"]
    assert result.ok, result.errors
    listed = session.exec("ls", [result.path.rsplit("/", 1)[0]]).stdout.split()
    assert any(name.startswith("pyfig-") and name.endswith(".pdf") for name in listed)


def test_pyfig_of_something_without_savefig_is_one_line(ip, session):
    ip.user_ns["not_a_figure"] = 42
    ran = run(ip, "%%cocalc_latex\n\\pyfig{not_a_figure}\n")
    assert "savefig" in ran.usage_error and "line 2" in ran.usage_error


def test_an_unchanged_rerun_comes_from_the_cache_and_force_compiles(ip, session, requests_made):
    cell = "%%cocalc_latex --no-preview\n" + article("Cached once.")
    first = run(ip, cell)
    assert "compiled in" in first.shown()[-1].data["text/plain"]
    requests_made.clear()
    session._compiled_in.clear()  # as in a new kernel whose disk cache has the result
    again = run(ip, cell)
    assert again.shown()[-1].data["text/plain"].startswith("compiled, from cache")
    assert not any("/api/v2/latex" in url for url in requests_made)
    # Only the magic's lookup of the project (for its name on the status line): not its state as well.
    assert sum("/api/v2/user-query" in url for url in requests_made) == 1
    assert LATEX_MIMETYPE in again.shown()[-1].data, "a cache hit carries the contract entry too"
    forced = run(ip, cell.replace("--no-preview", "--no-preview --force"))
    assert "compiled in" in forced.shown()[-1].data["text/plain"]
    assert sum("/api/v2/latex" in url for url in requests_made) == 1


def test_the_viewer_gets_its_arguments_from_the_magic(ip, session, monkeypatch):
    from cocalc_magics.widgets import PdfViewer

    made: list[PdfViewer] = []
    original = PdfViewer.__init__

    def recording(self, *args, **options):
        original(self, *args, **options)
        made.append(self)

    monkeypatch.setattr(PdfViewer, "__init__", recording)
    run(ip, "%%cocalc_latex\n$x^2$\n")
    assert made[-1].cropped is True, "a fragment the package wrapped is cropped to its content"
    ran = run(ip, "%%cocalc_latex --name 'Lab notes'\n" + article("Named."))
    assert made[-1].cropped is False and "download='Lab notes.pdf'" in ran.shown()[-1].data["text/html"]
    ran = run(ip, "%%cocalc_latex\n" + article("\\maketitle", "\\title{My Report}\n"))
    assert "download='My Report.pdf'" in ran.shown()[-1].data["text/html"]


def test_the_status_line_says_when_a_compile_starts_a_stopped_project(ip, session, own_project):
    assert session.state(own_project.project_id).is_stopped
    ran = run(ip, f"%%cocalc_latex --project {own_project.project_id} --no-preview\n" + article("Wakes it."))
    assert any("(it was stopped) and compiling" in text for text in ran.status_updates())
    assert session.state(own_project.project_id).is_running, "CoCalc's latex started it"
    again = run(ip, f"%%cocalc_latex --project {own_project.project_id} --no-preview\n" + article("Again."))
    assert not any("it was stopped" in text for text in again.status_updates())


def test_output_variable_leaves_no_blank_output_behind(ip, session, tmp_path):
    ran = run(ip, "%%cocalc_latex -o kept\n" + article("Kept."))
    assert ip.user_ns["kept"].ok
    assert ran.outputs == [], "the cell's only output, the status line, is cleared away"
    # The line form may share its cell with other output: its line becomes a display with no data, which
    # JupyterLab gives an empty widget (the browser test measures it), and what was printed before stays.
    (tmp_path / "kept.tex").write_text(article("Kept too."))
    ran = run(ip, f"print('before')\n%cocalc_latex {tmp_path / 'kept.tex'} -o kept")
    assert ip.user_ns["kept"].ok and ran.stdout == "before\n" and ran.outputs[-1].data == {}



def test_files_sends_what_the_document_does_not_name_in_a_way_that_is_found(ip, session, in_folder):
    (in_folder / "notes.txt").write_text("Notes from the folder.")
    body = "\\InputIfFileExists{notes.txt}{}{NOTHING HERE}"
    run(ip, "%%cocalc_latex --name without -o without\n" + article(body))
    assert "NOTHING HERE" in pdf_text(ip.user_ns["without"].pdf)
    run(ip, "%%cocalc_latex --name with --files notes.txt -o with\n" + article(body))
    assert "Notes from the folder." in pdf_text(ip.user_ns["with"].pdf)


def test_tex_does_not_wrap_its_log_so_long_messages_arrive_whole(ip, session):
    label = "a-label-long-enough-that-tex-would-wrap-the-warning-line-at-seventy-nine-columns-" + "x" * 40
    run(ip, "%%cocalc_latex -o doc\n" + article(f"See \\ref{{{label}}}."))
    result = ip.user_ns["doc"]
    whole = f"LaTeX Warning: Reference `{label}' on page 1 undefined on input line 3."
    assert whole in result.log.splitlines(), "max_print_line from the compile command reached TeX"
    assert [(w.line, w.message) for w in result.warnings] == [
        (4, f"Reference `{label}' on page 1 undefined on input line 3.")]


def test_a_saved_output_lists_the_first_warnings_and_counts_the_rest(ip, session):
    refs = " ".join(f"\\ref{{missing{n}}}" for n in range(25))
    ran = run(ip, "%%cocalc_latex --no-preview\n" + article(refs))
    data = ran.shown()[-1].data
    assert len(contract(ran)["diagnostics"]) == 25, "the contract entry has every warning"
    assert data["text/html"].count("data-cocalc-severity='warning'") == 20 and "… and 5 more" in data["text/html"]
    assert data["text/plain"].count("warning: ") == 20 and "… and 5 more warnings" in data["text/plain"]


def test_a_fragment_with_a_pyfig_gets_graphicx_and_keeps_its_lines(ip, session, in_folder):
    run(ip, "%%cocalc_latex -o inner\n" + article("Inner."))
    ip.user_ns["figure"] = SavedPdf(ip.user_ns["inner"].pdf)
    run(ip, "%%cocalc_latex -o fragment\nA figure:\n\\pyfig[width=2cm]{figure}\n\\oops\n")
    result = ip.user_ns["fragment"]
    assert [str(e) for e in result.errors] == ["line 4: Undefined control sequence \\oops."]
    assert "Inner." in pdf_text(result.pdf)


@pytest.mark.skipif(bool(shutil.which("kpsewhich") and subprocess.run(
    ["kpsewhich", "cleveref.sty"], capture_output=True, text=True).stdout.strip()), reason="cleveref is installed")
def test_a_missing_tex_live_package_names_the_package_that_provides_it(ip, session):
    ran = run(ip, "%%cocalc_latex --no-preview\n" + article("Hi.", "\\usepackage{cleveref}\n"))
    text = ran.shown()[-1].data["text/plain"]
    assert ("line 3: File `cleveref.sty' not found. (provided by cleveref (Debian: texlive-latex-extra))"
            in text.splitlines())
