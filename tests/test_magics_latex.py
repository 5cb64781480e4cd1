"""%%cocalc_latex and %cocalc_latex FILE.tex in a real IPython shell against the emulator, with real TeX."""

from __future__ import annotations

import base64
import os
import re
import signal
import struct
import threading

from cocalc_magics import CoCalcSession, LatexResult, set_default_session
from cocalc_magics.client import MAX_BODY_BYTES
from emulator_process import corrupted_key
from magics_helpers import (  # noqa: F401 (fixtures)
    clean_environment,
    ip,
    magics,
    own_project,
    run,
    session,
)

DOCUMENT = "\\documentclass{article}\n\\begin{document}\n{body}\n\\end{document}\n"


def cell(body: str, options: str = "") -> str:
    return f"%%cocalc_latex {options}\n" + DOCUMENT.replace("{body}", body)


def preview_png(ran) -> bytes:
    html = ran.shown()[-1].data["text/html"]
    return base64.b64decode(re.search(r"data:image/png;base64,([^'\"]+)", html).group(1))


def png_width(png: bytes) -> int:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">I", png[16:20])[0]


def test_a_compiled_cell_shows_page_one_and_a_download_link(ip, session):
    ran = run(ip, cell("Hello \\py{6 * 7}."))
    assert ran.error is None
    updates = ran.status_updates()
    assert updates[0].startswith("compiling on 127.0.0.1:") and ", project 'Emulator project'… 0.0 s" in updates[0]
    assert len({o.transient["display_id"] for o in ran.outputs}) == 1, "the status line is replaced by the result"
    result_view = ran.shown()[-1]
    assert result_view.data["text/plain"].startswith("compiled in ") and "1 page" in result_view.data["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in result_view.data, "the PDF viewer widget"
    html = result_view.data["text/html"]
    assert "download PDF</a>" in html and re.search(r"/blobs/[^'\"?]+\.pdf\?uuid=[0-9a-f-]{36}", html)
    assert png_width(preview_png(ran)) > 100


def test_dpi_sets_the_preview_resolution_and_no_preview_skips_it(ip, session, magics):
    small = png_width(preview_png(run(ip, cell("Hi", "--dpi 40"))))
    magics.preview_dpi = 80
    assert png_width(preview_png(run(ip, cell("Hi")))) == 2 * small
    assert "<img" not in run(ip, cell("Hi", "--no-preview")).shown()[-1].data["text/html"]


def test_output_variable_gets_the_result_and_nothing_stays_on_screen(ip, session):
    ran = run(ip, cell("Hello.", "-o doc"))
    result = ip.user_ns["doc"]
    assert isinstance(result, LatexResult) and result.ok and result.pdf.startswith(b"%PDF")
    assert ran.shown() == []


def test_tex_errors_point_at_lines_of_the_cell(ip, session):
    body = "First \\py{1}\n\\pyraw{table}\n\\undefinedcommand\nok\n\\alsoundefined"
    ip.user_ns["table"] = "row 1\\\\\nrow 2\\\\\nrow 3"
    ran = run(ip, cell(body, "-o failed"))
    result = ip.user_ns["failed"]
    assert result.ok is False and ran.error is None, "a failed compile is a result, not an exception"
    # Lines as the notebook editor numbers them: line 1 is %%cocalc_latex, then \documentclass, \begin{document},
    # so \undefinedcommand (after the three lines \pyraw added, which count as its one line) is line 6.
    assert [str(error) for error in result.errors] == [
        "line 6: Undefined control sequence \\undefinedcommand.",
        "line 8: Undefined control sequence \\alsoundefined."]
    assert [(e.file, e.line, e.severity) for e in result.errors] == [("cell", 6, "error"), ("cell", 8, "error")]
    assert result.pdf.startswith(b"%PDF") and "Undefined control sequence" in result.log


def test_a_failed_compile_shows_every_error_the_pdf_and_the_log_behind_a_click(ip, session):
    ran = run(ip, cell("Text \\foo\n\nMore \\baz", "--path thesis/ch1.tex"))
    view = ran.shown()[-1]
    assert view.data["text/plain"].splitlines()[1:3] == [
        "line 4: Undefined control sequence \\foo.", "line 6: Undefined control sequence \\baz."]
    html = view.data["text/html"]
    assert "failed with 2 errors" in html and "<img" in html, "the PDF latexmk made anyway is shown"
    assert "Undefined control sequence" in html, "the errors are in the saved HTML"
    assert "Latexmk" not in html, "the log is not saved with the notebook (the viewer shows it)"


def test_a_fragment_is_compiled_in_an_article_and_errors_keep_cell_lines(ip, session):
    ran = run(ip, "%%cocalc_latex -o fragment\nLine one, $x^2$.\n\\oops\n")
    assert [str(error) for error in ip.user_ns["fragment"].errors] == ["line 3: Undefined control sequence \\oops."]
    assert ran.error is None


def test_values_are_escaped_raw_values_are_not_and_latex_syntax_stays_literal(ip, session):
    ip.user_ns.update(price="5$ & 50% off #1 {now}", formula=r"\frac{a}{b}")
    body = "\\newcommand{\\two}[1]{#1#1}% comment \\py{not_evaluated}\n\\py{price} $\\pyraw{formula}$ 10\\% \\two{x}"
    run(ip, cell(body, "--path notes/interpolated.tex -o doc"))
    assert ip.user_ns["doc"].ok
    sent = session.exec("cat", ["notes/interpolated.tex"]).stdout
    assert ("\\newcommand{\\two}[1]{#1#1}% comment \\py{not_evaluated}\n"
            "5\\$ \\& 50\\% off \\#1 \\{now\\} $\\frac{a}{b}$ 10\\% \\two{x}") in sent


def test_the_line_form_compiles_a_local_file_and_names_it_in_errors(ip, session, tmp_path):
    paper = tmp_path / "paper.tex"
    paper.write_text(DOCUMENT.replace("{body}", "Fine.\n\\broken"))
    run(ip, f"%cocalc_latex {paper} -o local")
    assert [str(error) for error in ip.user_ns["local"].errors] == [f"{paper}:4: Undefined control sequence \\broken."]


def test_project_option_by_title_and_the_servers_choice_without_any(ip, session, own_project):
    run(ip, cell("Hi", f"--project '{own_project.title}' -o chosen"))
    assert ip.user_ns["chosen"].ok and ip.user_ns["chosen"].project_id == own_project.project_id
    session.project_id = None
    ran = run(ip, cell("Hi"))
    assert "the project CoCalc picks" in ran.status_updates()[0] and ran.shown()[-1].data["text/plain"].startswith(
        "compiled in ")


def test_another_accounts_project_is_one_line(ip, session, emulator):
    victim = emulator.second["project_id"]
    assert run(ip, cell("Hi", f"--project {victim}")).usage_error.startswith(f"project {victim} is not one of")


def test_request_errors_are_one_line(ip, session, emulator):
    assert run(ip, cell("Hi", "--path notes/paper.txt")).usage_error == "latex: path must be specified and end in .tex"
    set_default_session(CoCalcSession(api_key=corrupted_key(emulator.api_key), host=emulator.url))
    assert "must be authenticated" in run(ip, cell("Hi")).usage_error


def test_an_oversized_cell_is_refused_before_sending_and_the_session_still_works(ip, session):
    ran = run(ip, cell("%" * MAX_BODY_BYTES))
    assert "over CoCalc's 1 MiB limit" in ran.usage_error and "nothing was sent" in ran.usage_error
    assert ran.shown() == []
    assert run(ip, "%cocalc_whoami").error is None


def test_a_custom_command_runs_in_the_directory_of_the_path(ip, session):
    command = "pdflatex -interaction=nonstopmode -file-line-error custom.tex"
    run(ip, cell("Custom \\undefinedhere", f'--path work/custom.tex --command "{command}" -o custom'))
    result = ip.user_ns["custom"]
    assert result.url and [str(e) for e in result.errors] == ["line 4: Undefined control sequence \\undefinedhere."]


def test_ctrl_c_during_a_compile_stops_the_wait_and_the_next_cell_works(ip, session):
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        ran = run(ip, cell("Slow", '--path work/slow.tex --command "sleep 2; latexmk -pdf slow.tex"'))
    finally:
        timer.join()
    assert ran.usage_error.startswith("Interrupted after 0.") and "the compile may still finish in project " \
        "'Emulator project'" in ran.usage_error
    assert ran.shown() == []
    assert run(ip, cell("Next", "-o next_one")).error is None and ip.user_ns["next_one"].ok
