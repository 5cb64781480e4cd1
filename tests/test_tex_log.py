"""TeX's log -> errors and warnings with their cause: real latexmk runs on small documents that fail in known ways."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cocalc_magics.latex.log import MAX_PRINT_LINE_ENV, PACKAGE_FOR_FILE, parse_log, unwrap

pytestmark = pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs latexmk")


def compile_log(tmp_path: Path, source: str, *, unwrapped: bool = True) -> str:
    """latexmk's terminal output for ``source`` (as the compile command captures it)."""
    (tmp_path / "doc.tex").write_text(source)
    env = {**os.environ, **(MAX_PRINT_LINE_ENV if unwrapped else {})}
    done = subprocess.run(["latexmk", "-pdf", "-f", "-g", "-interaction=nonstopmode", "-file-line-error", "doc.tex"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_an_undefined_control_sequence_names_the_macro_and_keeps_the_context_line(tmp_path):
    log = compile_log(tmp_path, "\\documentclass{article}\n\\begin{document}\nHello \\undefinedmacro{} world.\n"
                                "\\end{document}\n")
    errors, _ = parse_log(log, "doc.tex")
    assert [(e.file, e.line) for e in errors] == [("doc.tex", 3)]
    assert errors[0].message == "Undefined control sequence \\undefinedmacro."
    assert errors[0].context.startswith("l.3 Hello \\undefinedmacro")


def test_a_missing_package_names_the_file_and_where_texlive_has_it(tmp_path):
    log = compile_log(tmp_path, "\\documentclass{article}\n\\usepackage{tikz-nonexistent}\n\\usepackage{nonexistentpkg}\n"
                                "\\begin{document}\nHi\n\\end{document}\n")
    errors, _ = parse_log(log, "doc.tex")
    assert errors[0].missing_file == "tikz-nonexistent.sty"
    assert "File `tikz-nonexistent.sty' not found" in errors[0].message
    assert errors[0].line is not None
    assert not any("Emergency stop" in e.message for e in errors)


def test_a_known_missing_file_gets_its_package():
    log = "! LaTeX Error: File `tikz.sty' not found.\n\nType X to quit or <RETURN> to proceed,\n" \
          "or enter new name. (Default extension: sty)\n\nEnter file name: \n./doc.tex:2: Emergency stop.\n" \
          "<read *> \n         \nl.2 \\usepackage\n               {tikz}\n"
    errors, _ = parse_log(log, "doc.tex")
    assert errors[0].missing_file == "tikz.sty"
    assert errors[0].package_hint == PACKAGE_FOR_FILE["tikz.sty"]
    assert errors[0].line == 2
    assert "Type X" not in str(errors[0]) and "Enter file name" not in str(errors[0])


def test_a_missing_end_document_is_one_error_without_a_line(tmp_path):
    errors, _ = parse_log(compile_log(tmp_path, "\\documentclass{article}\n\\begin{document}\nHi there\n"), "doc.tex")
    assert len(errors) == 1
    assert errors[0].line is None
    assert "\\end{document}" in errors[0].message


def test_a_runaway_argument_says_which_command_and_shows_the_runaway_text(tmp_path):
    errors, _ = parse_log(compile_log(tmp_path, "\\documentclass{article}\n\\begin{document}\n\\textbf{unclosed\n"
                                                "\\par more\n\\end{document}\n"), "doc.tex")
    assert len(errors) == 1
    assert errors[0].message == "File ended while scanning use of \\textbf."
    assert errors[0].context.startswith("Runaway argument? {unclosed")


def test_messages_wrapped_at_79_columns_are_joined():
    long_message = "LaTeX Error: \\begin{itemize} on input line 5 ended by \\end{enumerate} and more words here."
    wrapped = ["./doc.tex:9: " + long_message[:66], long_message[66:], "", "l.9 \\end{enumerate}", ""]
    assert len(wrapped[0]) == 79
    errors, _ = parse_log("\n".join(wrapped), "doc.tex")
    assert errors[0].message == long_message.removeprefix("LaTeX Error: ")


def test_the_compile_environment_stops_tex_from_wrapping_and_cutting_the_context(tmp_path):
    macro = "\\" + "undefinedmacro" * 6
    source = f"\\documentclass{{article}}\n\\begin{{document}}\n{'x' * 70} {macro}\n\\end{{document}}\n"
    wrapped, unwrapped = compile_log(tmp_path, source, unwrapped=False), compile_log(tmp_path, source)
    assert not any(macro in line for line in wrapped.splitlines())  # TeX cut the name (wrap and "...")
    errors, _ = parse_log(wrapped, "doc.tex")
    assert errors[0].line == 3 and errors[0].message.startswith("Undefined control sequence")
    errors, _ = parse_log(unwrapped, "doc.tex")
    assert errors[0].line == 3 and errors[0].message == f"Undefined control sequence {macro}."


def test_warnings_are_listed_with_their_lines(tmp_path):
    _, warnings = parse_log(compile_log(tmp_path, "\\documentclass{article}\n\\begin{document}\n"
                                        "See \\ref{nolabel} and \\cite{nocite}.\n\\label{a}\\label{a}\n"
                                        "\\hbox to 10pt{This is an overfull box with far too much text}\n"
                                        "\\end{document}\n"), "doc.tex")
    by_text = {w.message: w.line for w in warnings}
    assert by_text["Reference `nolabel' on page 1 undefined on input line 3."] == 3
    assert by_text["Citation `nocite' on page 1 undefined on input line 3."] == 3
    assert "Label `a' multiply defined." in by_text
    overfull = [w for w in warnings if w.message.startswith("Overfull \\hbox")]
    assert overfull and overfull[0].line == 5 and "pt too wide" in overfull[0].message
    assert not any("There were undefined references" in m or "Rerun" in m for m in by_text)


def test_unwrap_keeps_context_lines_tex_cut_itself():
    cut = "l.4 " + "x" * 72 + "..."
    assert len(cut) == 79
    assert unwrap(cut + "\nnext") == [cut, "next"]
