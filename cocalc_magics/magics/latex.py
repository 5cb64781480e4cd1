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
                                          "(default: the cell's own directory under ~/.cocalc-magics/latex, kept "
                                          "between runs so an edited re-run is one pdflatex pass)")
    @argument("--project", metavar="P", help="project id or title (default: the default project; without "
                                             "one, CoCalc uses your most recently edited project)")
    @argument("--command", metavar="C", help="compile command instead of CoCalc's latexmk; it runs in the "
                                             "directory of --path, which it therefore needs")
    @argument("--timeout", type=seconds, metavar="S", help="compile time limit in seconds (CoCalc's default: 30)")
    @argument("--files", nargs="+", metavar="PATH", default=[],
              help="more local files to send with the document (those it names are sent anyway)")
    @argument("--force", action="store_true", help="compile even when the cache has this cell's result")
    @argument("--name", metavar="NAME", help="name of the cell's compile and of the downloaded PDF "
                                             "(default: the document's \\title, else document.pdf)")
    @argument("--no-preview", action="store_true", help="show no preview of the pages (the PDF is not downloaded)")
    @argument("--live", action="store_true", help="start with live preview on: the viewer recompiles the cell "
                                                  "when typing stops (with the JupyterLab extension)")
    @argument("--dpi", type=int, metavar="N", help="resolution of the preview (default: CoCalcMagics.preview_dpi)")
    @output_argument
    @no_var_expand
    @line_cell_magic
    @reports_errors
    def cocalc_latex(self, line="", cell=None):
        """Compile LaTeX in a CoCalc project and show the PDF in a page-by-page viewer, with the TeX errors
        and warnings at the lines of the cell.

        The cell is the document; a cell without \\documentclass is wrapped in a plain article and shown
        cropped to its content. Python values enter it through \\py{expr} (escaped for LaTeX: 50% stays "50%"
        on the page), \\pyraw{expr} (inserted as LaTeX) and \\pyfig[options]{expr} (a matplotlib figure, or
        anything with savefig, included as a PDF). Every expression is evaluated before anything is sent.

        Local files the document names (\\includegraphics, \\input, \\bibliography, a local .sty, ...) are
        sent from the kernel's working directory, --files adds others; BibTeX runs when the document cites.
        The cell compiles in its own directory of the project, so a re-run after an edit is fast, and an
        unchanged re-run is shown at once from the cache (--force compiles anyway).

        A failed compile is a result, not an exception: errors read "line N: message" with N the line in the
        notebook editor (line 1 is %%cocalc_latex), "FILE.tex:N: message" in a file, with TeX's cause (the
        undefined macro, the missing file and its TeX Live package); warnings are listed too, the log is one
        click away. With -o VAR the LatexResult is stored (result.ok, .errors, .warnings, .pdf, .log,
        .save(name)) and nothing is shown.
        """
        # The LaTeX package loads on the first compile, not at %load_ext.
        from ..latex.compile import compile_cell
        from ..latex.log import errors_in_source_lines
        from ..widgets.base import current_execution

        args = parse_line(self.cocalc_latex, line)
        for option in ("file", "path", "project", "command", "name"):
            setattr(args, option, unquote(getattr(args, option)))
        args.files = [unquote(name) for name in args.files]
        output = output_name(args.output)
        figures: list = []
        source, shown_name, base = self._latex_source(args, cell, figures)
        if args.command and not args.path:
            raise UsageError("--command needs --path, so that the command can name the file it compiles")
        if args.dpi is not None and not 10 <= args.dpi <= 600:
            raise UsageError("--dpi must be between 10 and 600")
        session = self.session
        project = session.project(args.project) if (args.project or session.project_id) else None
        where = f"{host_name(session.host)}, " + (project_label(project) if project else "the project CoCalc picks")
        in_project = project_label(project) if project else "the project"
        cell_id = current_execution()[0] if cell is not None else None
        identity = _cell_identity(cell_id, args.name, args.file, source.text)
        with status_line(self._live, lambda elapsed: (
                f"Interrupted after {elapsed:.1f} s: the compile may still finish in {in_project}, "
                "but nothing will be shown")) as status:
            starting: list[bool] = []

            def check_started() -> None:
                # CoCalc's latex endpoint starts a stopped project first: say so, it takes a while.
                if project is not None and session.needs_start(project.project_id):
                    starting.append(True)

            def compile_now() -> LatexResult:
                result = compile_cell(session, source.text, base=base, cell_identity=identity,
                                      project_id=project and project.project_id, command=args.command,
                                      figures=figures, extra_files=args.files, force=args.force,
                                      timeout=args.timeout, path=args.path, before_compile=check_started)
                if project is not None and not result.from_cache:
                    session.compiled_in(project.project_id)
                return result

            result = status.run(compile_now, lambda elapsed: (
                f"starting {in_project} (it was stopped) and compiling on {host_name(session.host)}… "
                f"{elapsed:.1f} s" if starting else f"compiling on {where}… {elapsed:.1f} s"))
            result = errors_in_source_lines(result, source, shown_name)
            if output:
                # A %%cocalc_latex cell shows nothing but this line: clearing the cell's output leaves no gap.
                status.clear(only_output=cell is not None)
                return self._deliver(result, output)
            dpi = None if args.no_preview else (args.dpi or self.options.preview_dpi)
            if result.note:
                say(f"Note: {result.note}.")  # e.g. the server refused the error-reporting command
            sync = self._live_options(args, cell, source, shown_name, project and project.project_id, identity, base)
            view = _latex_view(result, dpi, status, cropped=source.wrapped, name=args.name, document=cell,
                               cell_id=cell_id, **sync) if dpi and result.url else LatexSummary(result, cell_id)
            status.finish(view)
        return None

    def _latex_source(self, args, cell: str | None, figures: list) -> tuple[LatexSource, str, Path]:
        """The document to send, the file name its errors carry ("cell": the editor's lines) and the folder
        its local files are read from. ``figures`` collects the files of the cell's ``\\pyfig``."""
        from ..latex.files import include_figure
        from ..latex.interpolation import LatexSource, prepare_document

        if cell is None:
            if not args.file:
                raise UsageError("%cocalc_latex needs a local FILE.tex; use %%cocalc_latex to compile a cell")
            try:
                local = Path(args.file).expanduser()  # RuntimeError for ~nosuchuser
                text = local.read_text()
            except (OSError, ValueError, RuntimeError) as error:  # ValueError: a NUL or undecodable text; ~nosuchuser
                raise UsageError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
            return LatexSource(text, tuple(range(1, text.count("\n") + 2))), args.file, local.parent.resolve()
        if args.file:
            raise UsageError(f"%%cocalc_latex compiles the cell; give {args.file} with --path, or use the line "
                             f"form %cocalc_latex {args.file}")
        if not cell.strip():
            raise UsageError("the cell is empty: write the LaTeX document (or a fragment) below %%cocalc_latex")

        def figure(value, options: str) -> str:
            text, local = include_figure(value, options)
            figures.append(local)
            return text

        # Line 1 of the cell, as the notebook editor numbers it, is the %%cocalc_latex line.
        return prepare_document(cell, self._evaluate, first_line=2, figure=figure), "cell", Path.cwd()

    def _live_options(self, args, cell: str | None, source: LatexSource, shown_name: str,
                      project_id: str | None, identity: str, base: Path) -> dict:
        """The viewer's SyncTeX map and, for a cell, the recompile its live preview calls with the whole cell
        text (the magic line included, as the extension sends it): same options, new body, same stable
        directory and cache as a run of the cell."""
        from ..latex.compile import compile_cell
        from ..latex.log import errors_in_source_lines

        options = {"latex_source": source, "shown_name": shown_name}
        if cell is None:
            return options
        session = self.session

        def recompile(text: str):
            body = text.split("\n", 1)[1] if "\n" in text else ""
            if not body.strip():
                raise UsageError("the cell is empty")
            figures: list = []
            new_source = self._latex_source(args, body, figures)[0]
            result = compile_cell(session, new_source.text, base=base, cell_identity=identity, project_id=project_id,
                                  command=args.command, figures=figures, extra_files=args.files,
                                  timeout=args.timeout, path=args.path)
            return errors_in_source_lines(result, new_source, shown_name), new_source

        return {**options, "recompile": recompile, "live": args.live}

    def _evaluate(self, expression: str):
        # Parenthesised, so an expression may span lines as it would inside a call.
        return self.shell.ev(f"({expression}\n)")


def _cell_identity(cell_id: str | None, name: str | None, file: str | None, text: str) -> str:
    """What names the cell's stable directory in the project: the notebook's cell id, else ``--name``, else the
    local file's path, else the document's content (then an edit compiles in a new directory)."""
    import hashlib

    if cell_id:
        return f"cell:{cell_id}"
    if name:
        return f"name:{name}"
    if file:
        return f"file:{Path(file).expanduser().resolve()}"
    return "content:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _latex_view(result: LatexResult, dpi: int, status: StatusLine, **options):
    """The PDF viewer, with the PDF fetched now so that Ctrl-C during the download still shows the result."""
    from ..widgets import PdfViewer

    status.show("fetching the PDF…")
    viewer = PdfViewer(result, dpi=dpi, **options)
    try:
        viewer.pages  # noqa: B018 (fetches the blob; a failure becomes viewer.problem, shown in the viewer)
    except KeyboardInterrupt:
        return LatexSummary(result, options.get("cell_id"))
    return viewer
