"""\\py{expr} and \\pyraw{expr} in a LaTeX cell: what is substituted, what stays LaTeX, and line bookkeeping."""

from __future__ import annotations

import pytest

from cocalc_magics.latex.interpolation import (
    FRAGMENT_PREAMBLE,
    InterpolationError,
    interpolate,
    latex_escape,
    prepare_document,
)


def evaluator(**names):
    return lambda expression: eval(expression, {}, names)


def test_py_inserts_the_value_escaped_for_latex():
    source = interpolate(r"Growth: \py{rate}.", evaluator(rate="50% & $5_a^b#~{x}\\ <>"))
    assert source.text == (r"Growth: 50\% \& \$5\_a\textasciicircum{}b\#\textasciitilde{}\{x\}"
                           r"\textbackslash{} \textless{}\textgreater{}.")


def test_pyraw_inserts_the_value_as_latex():
    assert interpolate(r"$\pyraw{formula}$", evaluator(formula=r"\frac{1}{2}")).text == r"$\frac{1}{2}$"


def test_numbers_and_other_objects_use_str():
    assert interpolate(r"\py{n} \py{round(x, 2)} \py{items}", evaluator(n=3, x=3.14159, items=[1])).text \
        == r"3 3.14 [1]"


def test_braces_dollars_percent_and_hash_stay_literal():
    body = "\\newcommand{\\twice}[1]{#1#1} $x^{2}$ 100\\% {\\bf b} % a comment\n\\def\\a{$}\n"
    assert interpolate(body, evaluator()).text == body


def test_expressions_may_hold_braces_and_quotes():
    values = evaluator(d={"}": "curly"}, x=2.5)
    assert interpolate(r'\py{d["}"]} \py{f"{x:.2f}"} \py{ {"a": 1}["a"] }', values).text == "curly 2.50 1"


def test_a_py_inside_a_comment_or_after_a_double_backslash_is_left_alone():
    body = "% \\py{undefined}\nline\\\\py{text}\n\\%\\py{x}\n"
    assert interpolate(body, evaluator(x=1)).text == "% \\py{undefined}\nline\\\\py{text}\n\\%1\n"


def test_a_percent_inside_an_expression_is_python_not_a_comment():
    assert interpolate(r'\py{"%d" % n} and \py{n}', evaluator(n=7)).text == "7 and 7"


def test_similar_commands_are_not_touched():
    body = r"\pyx{a} \python{b} \pyraws{c} \py {d}"
    assert interpolate(body, evaluator()).text == body


def test_an_undefined_name_names_the_expression_and_its_line():
    with pytest.raises(InterpolationError) as raised:
        interpolate("first\nsecond \\py{totl}\n", evaluator(total=1))
    assert str(raised.value) == "\\py{totl} on line 2 of the cell: NameError: name 'totl' is not defined"


def test_any_error_in_an_expression_is_reported_the_same_way():
    with pytest.raises(InterpolationError, match=r"\\pyraw\{1/0\} on line 1 of the cell: ZeroDivisionError"):
        interpolate(r"\pyraw{1/0}", evaluator())


def test_an_unclosed_or_empty_command_is_an_error():
    with pytest.raises(InterpolationError, match=r"\\py\{ on line 2 of the cell is never closed"):
        interpolate("ok\n\\py{x + (1\n", evaluator(x=1))
    with pytest.raises(InterpolationError, match="is empty"):
        interpolate(r"\py{ }", evaluator())


def test_line_map_follows_values_that_add_lines():
    body = "a\n\\pyraw{table}\nb\nc \\py{x}\nd"
    source = interpolate(body, evaluator(table="r1\nr2\nr3", x=1))
    assert source.text == "a\nr1\nr2\nr3\nb\nc 1\nd"
    assert [source.cell_line(n) for n in range(1, 8)] == [1, 2, 2, 2, 3, 4, 5]


def test_line_map_follows_expressions_that_span_lines():
    body = "a \\py{f(1,\n2)} b\nc"
    source = interpolate(body, evaluator(f=lambda a, b: a + b))
    assert source.text == "a 3 b\nc" and [source.cell_line(1), source.cell_line(2)] == [1, 3]


def test_a_fragment_is_wrapped_and_its_lines_still_point_into_the_cell():
    source = prepare_document("Hello $x$\n\\bad", evaluator())
    assert source.text.startswith(FRAGMENT_PREAMBLE) and source.text.rstrip().endswith("\\end{document}")
    preamble_lines = FRAGMENT_PREAMBLE.count("\n")
    assert source.cell_line(preamble_lines + 2) == 2
    assert source.cell_line(1) is None, "a line we added is nobody's line of the cell"
    assert source.cell_line(preamble_lines + 3) == 2, "an error at the added \\end{document} is the cell's end"


def test_a_full_document_is_sent_as_written():
    body = "\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n"
    assert prepare_document(body, evaluator()).text == body


def test_latex_escape_makes_every_special_character_literal():
    assert latex_escape("a_b") == r"a\_b" and latex_escape(5) == "5"


def test_pyfig_hands_the_value_and_its_options_to_the_figure_maker():
    made = []

    def figure(value, options):
        made.append((value, options))
        shown = f"[{options}]" if options else ""
        return f"\\includegraphics{shown}{{fig-{value}.pdf}}"

    source = interpolate("A \\pyfig[width=3cm]{n + 1}\nB \\pyfig{n}\n% \\pyfig{skipped}", evaluator(n=1),
                         figure=figure)
    assert made == [(2, "width=3cm"), (1, "")]
    assert source.text == "A \\includegraphics[width=3cm]{fig-2.pdf}\nB \\includegraphics{fig-1.pdf}\n% \\pyfig{skipped}"


def test_pyfig_without_a_figure_maker_and_a_failing_one_name_the_line():
    with pytest.raises(InterpolationError, match=r"\\pyfig on line 2: figures are not available here"):
        interpolate("x\n\\pyfig{1}", lambda expression: 1)

    def refuse(value, options):
        raise ValueError("not a figure")

    with pytest.raises(InterpolationError, match=r"\\pyfig\{1\} on line 3 of the cell: not a figure"):
        interpolate("x\n\\pyfig{1}", lambda expression: 1, first_line=2, figure=refuse)


def test_first_line_numbers_the_cell_as_the_editor_does():
    source = prepare_document("$x$\n\\py{a}\nend", evaluator(a="v"), first_line=2)
    assert source.wrapped and source.cell_line(source.text.split("\n").index("v") + 1) == 3
    with pytest.raises(InterpolationError, match="on line 3 of the cell"):
        interpolate("ok\n\\py{missing}", lambda expression: {}[expression], first_line=2)
