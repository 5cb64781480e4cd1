"""``%%cocalc_latex`` (and ``%cocalc_latex FILE.tex``): compile in a CoCalc project, show the PDF or the errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from ..display import LatexSummary, StatusLine, say, status_line
from .base import (
    AreaMagics,
    host_name,
    output_argument,
    output_name,
    parse_line,
    project_label,
    reports_errors,
    seconds,
    unquote,
)

if TYPE_CHECKING:
    from ..latex.interpolation import LatexSource
    from ..models import LatexResult


@magics_class
class LatexMagics(AreaMagics):

    @magic_arguments()
    @argument("file", nargs="?", metavar="FILE.tex", help="line form: compile this local file")
    @argument("--path", metavar="P", help="where the document is written in the project, ending in .tex "
                                          "(default: a fresh /tmp/….tex, which CoCalc deletes afterwards)")
    @argument("--project", metavar="P", help="project id or title (default: the default project; without "
                                             "one, CoCalc uses your most recently edited project)")
    @argument("--command", metavar="C", help="compile command instead of CoCalc's latexmk; it runs in the "
                                             "directory of --path, which it therefore needs")
    @argument("--timeout", type=seconds, metavar="S", help="compile time limit in seconds (CoCalc's default: 30)")
    @argument("--no-preview", action="store_true", help="show no page-1 preview (the PDF is not downloaded)")
    @argument("--live", action="store_true", help="start with live preview on: the viewer recompiles the cell "
                                                  "when typing stops (with the JupyterLab extension)")
    @argument("--dpi", type=int, metavar="N", help="resolution of the preview (default: CoCalcMagics.preview_dpi)")
    @output_argument
    @no_var_expand
    @line_cell_magic
    @reports_errors
    def cocalc_latex(self, line="", cell=None):
        """Compile LaTeX in a CoCalc project and show page 1 of the PDF, or the TeX errors.

        The cell is the document; a cell without \\documentclass is wrapped in a plain article. Python values
        enter it through \\py{expr} (escaped for LaTeX: 50% stays "50%" on the page) and \\pyraw{expr}
        (inserted as LaTeX). Nothing else is touched: braces, $, % and # are LaTeX's. Every expression is
        evaluated before anything is sent.

        A failed compile is a result, not an exception: the TeX errors are shown as file:line: message, with
        the line numbers of the cell, and the full log is one click away (result.log). The PDF that latexmk
        still makes is shown too. With -o VAR the LatexResult is stored (result.ok, .errors, .pdf, .log,
        .save(name)) and nothing is shown.
        """
        # The LaTeX package loads on the first compile, not at %load_ext.
        from ..latex.log import errors_in_source_lines

        args = parse_line(self.cocalc_latex, line)
        for option in ("file", "path", "project", "command"):
            setattr(args, option, unquote(getattr(args, option)))
        output = output_name(args.output)
        source, shown_name = self._latex_source(args, cell)
        if args.command and not args.path:
            raise UsageError("--command needs --path, so that the command can name the file it compiles")
        if args.dpi is not None and not 10 <= args.dpi <= 600:
            raise UsageError("--dpi must be between 10 and 600")
        session = self.session
        project = session.project(args.project) if (args.project or session.project_id) else None
        where = f"{host_name(session.host)}, " + (project_label(project) if project else "the project CoCalc picks")
        in_project = project_label(project) if project else "the project"
        with status_line(self._live, lambda elapsed: (
                f"Interrupted after {elapsed:.1f} s: the compile may still finish in {in_project}, "
                "but nothing will be shown")) as status:
            result = status.run(
                lambda: session.latex(source.text, path=args.path, project_id=project and project.project_id,
                                      command=args.command, timeout=args.timeout, report_errors=True),
                lambda elapsed: f"compiling on {where}… {elapsed:.1f} s")
            result = errors_in_source_lines(result, source, shown_name)
            if output:
                status.clear()
                return self._deliver(result, output)
            dpi = None if args.no_preview else (args.dpi or self.options.preview_dpi)
            if result.note:
                say(f"Note: {result.note}.")  # e.g. the server refused the error-reporting command
            sync = self._live_options(args, cell, source, shown_name, project and project.project_id)
            status.finish(_latex_view(result, dpi, status, sync) if dpi and result.url else LatexSummary(result))
        return None

    def _latex_source(self, args, cell: str | None) -> tuple[LatexSource, str]:
        """The document to send and the file name its errors should carry."""
        from ..latex.interpolation import LatexSource, prepare_document

        if cell is None:
            if not args.file:
                raise UsageError("%cocalc_latex needs a local FILE.tex; use %%cocalc_latex to compile a cell")
            try:
                text = Path(args.file).expanduser().read_text()
            except (OSError, ValueError, RuntimeError) as error:  # ValueError: a NUL or undecodable text; ~nosuchuser
                raise UsageError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
            return LatexSource(text, tuple(range(1, text.count("\n") + 2))), args.file
        if args.file:
            raise UsageError(f"%%cocalc_latex compiles the cell; give {args.file} with --path, or use the line "
                             f"form %cocalc_latex {args.file}")
        if not cell.strip():
            raise UsageError("the cell is empty: write the LaTeX document (or a fragment) below %%cocalc_latex")
        name = args.path.rsplit("/", 1)[-1] if args.path else "cell"
        return prepare_document(cell, self._evaluate), name

    def _live_options(self, args, cell: str | None, source: LatexSource, shown_name: str,
                      project_id: str | None) -> dict:
        """The viewer's SyncTeX map and, for a cell, the recompile its live preview calls with the whole cell
        text (the magic line included, as the extension sends it): same options, new body."""
        from ..latex.log import errors_in_source_lines

        options = {"latex_source": source, "shown_name": "cell" if cell is not None else shown_name}
        if cell is None:
            return options
        session = self.session

        def recompile(text: str):
            body = text.split("\n", 1)[1] if "\n" in text else ""
            if not body.strip():
                raise UsageError("the cell is empty")
            new_source = self._latex_source(args, body)[0]
            result = session.latex(new_source.text, path=args.path, project_id=project_id, command=args.command,
                                   timeout=args.timeout, report_errors=True)
            return errors_in_source_lines(result, new_source, shown_name), new_source

        return {**options, "recompile": recompile, "live": args.live}

    def _evaluate(self, expression: str):
        # Parenthesised, so an expression may span lines as it would inside a call.
        return self.shell.ev(f"({expression}\n)")


def _latex_view(result: LatexResult, dpi: int, status: StatusLine, sync: dict):
    """The PDF viewer, with the PDF fetched now so that Ctrl-C during the download still shows the result;
    ``sync`` are its SyncTeX and live-preview options."""
    from ..widgets import PdfViewer

    status.show("fetching the PDF…")
    viewer = PdfViewer(result, dpi=dpi, **sync)
    try:
        viewer.pages  # noqa: B018 (fetches the blob; a failure becomes viewer.problem, shown in the viewer)
    except KeyboardInterrupt:
        return LatexSummary(result)
    return viewer
