"""Local files for a LaTeX compile, against the real emulator and real latexmk: what is found, where it lands,
what is not sent twice, what is refused, and the stable per-cell directory."""

from __future__ import annotations

import base64
import io
import re
import uuid
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image

from cocalc_magics import AuthenticationError, CoCalcSession, RequestTooLargeError
from cocalc_magics.client import MAX_UPLOAD_BYTES
from cocalc_magics.errors import PermissionDeniedError
from cocalc_magics.latex import files as lf
from cocalc_magics.latex.request import DEFAULT_LATEX_COMMAND
from emulator_process import corrupted_key

REPORT = r"""\documentclass{article}
\usepackage{graphicx}
\usepackage{mystyle}
\graphicspath{{figs/}}
\begin{document}
\hello. \input{part} See \cite{knuth}.

\includegraphics[width=2cm]{plot}
%FIGURE%
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""


def png_bytes() -> bytes:
    image = Image.new("L", (8, 8), 128)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


PNG = png_bytes()


@pytest.fixture
def notebook_folder(tmp_path) -> Path:
    """A notebook's folder with a figure, an input file, a .bib and a local package."""
    (tmp_path / "refs.bib").write_text("@article{knuth, author={Donald Knuth}, title={Literate Programming},\n"
                                       "  journal={The Computer Journal}, year={1984}}\n")
    (tmp_path / "part.tex").write_text("Text from the input file.\n")
    (tmp_path / "mystyle.sty").write_text("\\newcommand{\\hello}{Hello from the local package}\n")
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "plot.png").write_bytes(PNG)
    return tmp_path


@pytest.fixture
def requests_made(session) -> list[str]:
    """Every HTTP request the session sends, as ``METHOD /path`` (a real count, from requests' hook)."""
    made: list[str] = []
    session.client._api_http.hooks["response"].append(
        lambda response, *args, **kwargs: made.append(f"{response.request.method} "
                                                      f"{response.request.path_url.split('?')[0]}"))
    return made


def cell_directory() -> str:
    return lf.stable_directory(f"test.ipynb#{uuid.uuid4()}")


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


def project_file(session, path: str) -> str:
    return session.exec("cat", [path], timeout=20).stdout


def pdflatex_runs(result) -> int:
    # latexmk 4.x announces each run of a rule: "Run number 1 of rule 'pdflatex'".
    return len(re.findall(r"Run number \d+ of rule 'pdflatex'", result.log))


# -- found and sent where TeX finds them ---------------------------------------------------------------------------

def test_figure_input_bib_and_local_package_are_found_by_tex(session, notebook_folder):
    directory = cell_directory()
    files = lf.send_document_files(session, session.project_id, directory, REPORT.replace("%FIGURE%", ""),
                                   notebook_folder)
    assert sorted(f.relative_path for f in files) == ["figs/plot.png", "mystyle.sty", "part.tex", "refs.bib"]
    result = session.latex(REPORT.replace("%FIGURE%", ""), path=f"{directory}/cell.tex")
    assert result.ok, result.log[-2000:]
    text = pdf_text(result.pdf)
    assert "Hello from the local package" in text and "Text from the input file" in text
    assert "See [1]" in text and "Literate programming" in text  # bibtex ran on the sent .bib
    assert "figs//plot.png" in result.log  # latexmk -deps lists the figure TeX read


def test_a_binary_lands_byte_for_byte_and_text_unchanged(session, notebook_folder):
    directory = cell_directory()
    lf.send_document_files(session, session.project_id, directory, REPORT.replace("%FIGURE%", ""), notebook_folder)
    sums = session.exec("sha256sum", ["figs/plot.png", "refs.bib"], path=directory, timeout=20).stdout
    assert lf.find_local_files("\\includegraphics{figs/plot.png}", notebook_folder).files[0].sha256 in sums
    assert project_file(session, f"{directory}/refs.bib") == (notebook_folder / "refs.bib").read_text()


def test_unchanged_files_are_not_sent_again_and_an_edited_one_is(session, notebook_folder, requests_made):
    directory = cell_directory()
    document = REPORT.replace("%FIGURE%", "")
    lf.send_document_files(session, session.project_id, directory, document, notebook_folder)
    assert len(requests_made) == 4  # three texts, one upload
    requests_made.clear()
    lf.send_document_files(session, session.project_id, directory, document, notebook_folder)
    assert requests_made == []
    (notebook_folder / "part.tex").write_text("Edited text.\n")
    lf.send_document_files(session, session.project_id, directory, document, notebook_folder)
    assert requests_made == ["POST /api/v2/projects/write-text-file"]
    assert project_file(session, f"{directory}/part.tex") == "Edited text.\n"


def test_the_same_file_in_another_directory_is_sent_there(session, notebook_folder, requests_made):
    document = "\\input{part}"
    lf.send_document_files(session, session.project_id, cell_directory(), document, notebook_folder)
    lf.send_document_files(session, session.project_id, cell_directory(), document, notebook_folder)
    assert requests_made.count("POST /api/v2/projects/write-text-file") == 2


# -- missing and refused -----------------------------------------------------------------------------------------

def test_a_file_missing_here_and_in_the_project_is_one_error_before_anything_is_sent(
        session, notebook_folder, requests_made):
    document = "\\input{part}\\includegraphics{nowhere}\\bibliography{norefs}"
    with pytest.raises(lf.MissingFilesError) as raised:
        lf.send_document_files(session, session.project_id, cell_directory(), document, notebook_folder)
    assert raised.value.names == ["nowhere", "norefs.bib"]
    assert "'nowhere', 'norefs.bib'" in str(raised.value) and "nothing was sent" in str(raised.value)
    assert requests_made == ["POST /api/v2/exec"]  # the one check in the project; no file went


def test_a_file_only_the_project_has_is_not_missing(session, notebook_folder):
    directory = cell_directory()
    session.write_text_file(f"{directory}/shared/data.bib", "@misc{x, title={X}}\n")
    files = lf.send_document_files(session, session.project_id, directory,
                                   "\\bibliography{shared/data}\\input{part}", notebook_folder)
    assert [f.relative_path for f in files] == ["part.tex"]


@pytest.mark.parametrize("document", [
    "\\input{../outside}",
    "\\includegraphics{figs/../../outside.png}",
    "\\includegraphics{/etc/hostname}",
    "\\graphicspath{{../}}\\includegraphics{outside}",
    "\\lstinputlisting{~/.bashrc}",
])
def test_names_outside_the_folder_are_refused_before_any_request(session, notebook_folder, requests_made, document):
    (notebook_folder.parent / "outside.tex").write_text("secret")
    with pytest.raises(lf.LocalFileError, match="outside the notebook's folder|an absolute path"):
        lf.send_document_files(session, session.project_id, cell_directory(), document, notebook_folder)
    assert requests_made == []


def test_a_symlink_out_of_the_folder_is_refused(notebook_folder, tmp_path_factory):
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.tex"
    secret.write_text("secret")
    (notebook_folder / "link.tex").symlink_to(secret)
    with pytest.raises(lf.LocalFileError, match="outside the notebook's folder"):
        lf.find_local_files("\\input{link}", notebook_folder)


def test_a_symlink_inside_the_folder_is_sent_under_the_documents_name(notebook_folder):
    (notebook_folder / "alias.png").symlink_to(notebook_folder / "figs" / "plot.png")
    assert [f.relative_path for f in lf.find_local_files("\\includegraphics{alias}", notebook_folder).files] == \
        ["alias.png"]


# -- what the scanner reads ------------------------------------------------------------------------------------

def test_comments_are_not_read_but_escaped_percent_signs_are_text(notebook_folder):
    found = lf.find_local_files("% \\input{part}\n50\\% \\input{part}\n\\\\% \\bibliography{refs}\n", notebook_folder)
    assert [f.relative_path for f in found.files] == ["part.tex"]


def test_graphicspath_of_the_main_document_holds_in_input_files(notebook_folder):
    (notebook_folder / "chapter.tex").write_text("\\includegraphics{plot}\n")
    found = lf.find_local_files("\\graphicspath{{figs/}}\n\\input{chapter}\n", notebook_folder)
    assert [f.relative_path for f in found.files] == ["chapter.tex", "figs/plot.png"]
    assert found.missing == []


def test_import_reads_its_folder_and_packages_from_tex_live_are_not_missing(notebook_folder):
    (notebook_folder / "sec").mkdir()
    (notebook_folder / "sec" / "intro.tex").write_text("Intro.\n")
    found = lf.find_local_files("\\usepackage{amsmath,mystyle}\\import{sec/}{intro}\\bibliographystyle{plain}",
                                notebook_folder)
    assert [f.relative_path for f in found.files] == ["sec/intro.tex", "mystyle.sty"]
    assert found.missing == []


def test_files_given_by_hand_are_sent_and_must_exist(notebook_folder):
    (notebook_folder / "data.csv").write_text("1,2\n")
    assert [f.relative_path for f in lf.find_local_files("", notebook_folder, ["data.csv"]).files] == ["data.csv"]
    with pytest.raises(lf.LocalFileError, match="given with --files"):
        lf.find_local_files("", notebook_folder, ["nope.csv"])


# -- figures from Python ---------------------------------------------------------------------------------------

def test_a_matplotlib_figure_is_included_by_a_name_that_follows_its_content(session, requests_made):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    figure.add_subplot().plot([1, 3, 2])
    directory = cell_directory()
    text = lf.send_figure(session, session.project_id, directory, figure, "width=4cm")
    assert re.fullmatch(r"\\includegraphics\[width=4cm\]\{pyfig-[0-9a-f]{16}\.pdf\}", text)
    assert lf.send_figure(session, session.project_id, directory, figure, "width=4cm") == text
    assert requests_made == ["POST /upload"]  # the same figure again is neither renamed nor re-sent
    result = session.latex(REPORT.replace("%FIGURE%", text).replace("\\usepackage{mystyle}", "")
                           .replace("\\hello. \\input{part} See \\cite{knuth}.", "")
                           .replace("\\includegraphics[width=2cm]{plot}", "")
                           .replace("\\bibliographystyle{plain}\n\\bibliography{refs}", ""),
                           path=f"{directory}/cell.tex")
    assert result.ok, result.log[-2000:]
    figure.axes[0].plot([2, 2, 2])
    assert lf.include_figure(figure)[0] != text.replace("[width=4cm]", "")


def test_something_without_savefig_is_refused():
    with pytest.raises(lf.LocalFileError, match="savefig"):
        lf.figure_file([1, 2, 3])


# -- the upload call -----------------------------------------------------------------------------------------------

def test_upload_starts_a_stopped_project_and_sends_again(session):
    project = session.create_project(f"upload {uuid.uuid4().hex[:8]}")
    session.stop(project.project_id)
    session.upload_file("figs", "p.png", PNG, project.project_id)
    assert session.state(project.project_id).state == "running"
    assert session.exec("base64", ["-w0", "figs/p.png"], project.project_id, timeout=20).stdout == \
        base64.b64encode(PNG).decode()


def test_upload_errors_are_package_errors_without_the_key(emulator, session):
    wrong = CoCalcSession(api_key=corrupted_key(emulator.api_key), host=emulator.url, project_id=emulator.project_id)
    with pytest.raises(AuthenticationError) as raised:
        wrong.client.upload(emulator.project_id, "", "x.bin", b"x")
    assert "user must be signed in to upload files" in str(raised.value)
    assert corrupted_key(emulator.api_key) not in repr(raised.value)
    with pytest.raises(PermissionDeniedError, match="upload failed"):
        session.client.upload(emulator.second["project_id"], "", "x.bin", b"x")
    with pytest.raises(RequestTooLargeError, match="nothing was sent"):
        session.client.upload(emulator.project_id, "", "x.bin", bytes(MAX_UPLOAD_BYTES + 1))


# -- the stable per-cell directory -----------------------------------------------------------------------------

def test_the_stable_directory_is_per_cell_outside_tmp():
    assert lf.stable_directory("a.ipynb#1") == lf.stable_directory("a.ipynb#1")
    assert lf.stable_directory("a.ipynb#1") != lf.stable_directory("a.ipynb#2")
    assert re.fullmatch(r"/home/user/\.cocalc-magics/latex/[0-9a-f]{12}", lf.stable_directory("../../x"))


def test_an_edited_rerun_in_the_stable_directory_runs_pdflatex_once(session):
    document = "\\documentclass{article}\\begin{document}\\section{A}\\label{a}See \\ref{a}. %s\\end{document}\n"
    directory = cell_directory()
    first = session.latex(document % "First.", path=f"{directory}/cell.tex")
    edited = session.latex(document % "Edited.", path=f"{directory}/cell.tex")
    in_tmp = session.latex(document % "Edited.")
    assert first.ok and edited.ok and in_tmp.ok
    assert pdflatex_runs(first) == 2 and pdflatex_runs(in_tmp) == 2  # no .aux yet: latexmk runs it again
    assert pdflatex_runs(edited) == 1
    assert "See 1." in pdf_text(edited.pdf)


def compile_in(session, directory: str, document: str):
    command = lf.stable_rerun_command("cell.tex", f"{DEFAULT_LATEX_COMMAND} -file-line-error cell.tex")
    result = session.latex(document, path=f"{directory}/cell.tex", command=command, report_errors=True)
    return result, pdf_text(result.pdf), ("latexmk" if "Latexmk:" in result.log else "one pass")


def test_the_stable_rerun_command_runs_one_pass_unless_the_document_needs_more(session):
    """One pdflatex pass for an edit of the text; latexmk (more passes, bibtex) when a table of contents,
    the citations or the .bib change, so the PDF is always the converged one."""
    directory = cell_directory()
    session.write_text_file(f"{directory}/refs.bib", "@misc{a, title={Alpha}}\n@misc{b, title={Beta}}\n")
    document = ("\\documentclass{article}\\begin{document}\\tableofcontents\\section{%s}\\label{s}See \\ref{s} %s."
                "\\bibliographystyle{plain}\\bibliography{refs}\\end{document}\n")
    steps = [
        (("Intro", "\\cite{a}"), "latexmk", "1 Intro 1 1 Intro See 1 [1]. References [1] Alpha."),
        (("Intro", "\\cite{a} edited"), "one pass", "See 1 [1] edited."),
        (("Introduction", "\\cite{a}"), "latexmk", "Contents 1 Introduction 1 1 Introduction"),
        (("Introduction", "\\cite{a} and \\cite{b}"), "latexmk", "[1] and [2]. References [1] Alpha. [2] Beta."),
        (("Introduction", "\\cite{a} and \\cite{b} edited"), "one pass", "[2] edited."),
    ]
    for values, how, expected in steps:
        result, text, ran = compile_in(session, directory, document % values)
        assert (result.ok, ran) == (True, how), (values, result.log[-1500:])
        assert expected in text
    session.write_text_file(f"{directory}/refs.bib", "@misc{a, title={Alpha2}}\n@misc{b, title={Beta}}\n")
    result, text, ran = compile_in(session, directory, document % ("Introduction", "\\cite{a} and \\cite{b}"))
    assert ran == "latexmk" and "[1] Alpha2." in text
    result, text, ran = compile_in(session, directory, document % ("Introduction", "\\undefinedmacro"))
    assert not result.ok and any("Undefined control sequence" in str(e) for e in result.errors)


def test_checking_the_project_skips_what_it_has_and_resends_what_it_lost(session, notebook_folder, requests_made):
    directory = cell_directory()
    document = REPORT.replace("%FIGURE%", "")
    lf.send_document_files(session, session.project_id, directory, document, notebook_folder)
    requests_made.clear()
    # a new kernel: nothing remembered, but the project has every file already
    files = lf.find_local_files(document, notebook_folder).files
    report = lf.send_files(session, session.project_id, directory, files, lf.SentFiles(), check_project=True)
    assert requests_made == ["POST /api/v2/exec"] and report.sent == []
    # the project lost one file and another changed there: both go again, though remembered as sent
    session.exec("rm", ["part.tex"], path=directory)
    session.write_text_file(f"{directory}/refs.bib", "changed in the project\n")
    requests_made.clear()
    report = lf.send_files(session, session.project_id, directory, files, check_project=True)
    assert sorted(report.sent) == ["part.tex", "refs.bib"]
    assert sorted(report.unchanged) == ["figs/plot.png", "mystyle.sty"]
    assert project_file(session, f"{directory}/refs.bib") == (notebook_folder / "refs.bib").read_text()
