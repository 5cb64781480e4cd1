"""Re-running a LaTeX cell: the cache for an unchanged cell, the stable per-cell directory for an edited one.

Run: .venv/bin/python benchmarks/bench_latex_rerun.py [--runs 10]
Goals (issue 10): unchanged re-run <= 0.15x a first run; edited re-run <= 1.8x one direct pdflatex pass.

- first run: ``compile_cell`` of a new cell: scan the document's local files, send them, compile (latexmk, as the
  new directory has no .aux), download the PDF and store it in the cache.
- unchanged re-run: ``compile_cell`` again: scan, key, cache hit (no HTTP at all).
- edited re-run: the same cell's stable directory, one word changed each time, PDF downloaded; once with CoCalc's
  latexmk command (it finds its .aux and runs pdflatex once, plus its own Perl start and bookkeeping), once through
  ``compile_cell`` (``stable_rerun_command``: one pdflatex pass, latexmk only when the document needs more).
- direct pdflatex: one ``pdflatex -interaction=nonstopmode`` pass of the same document in a temp dir, no HTTP.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
import uuid
from pathlib import Path

from cocalc_magics import CoCalcSession
from cocalc_magics.latex import files as lf
from cocalc_magics.latex.cache import LatexCache
from cocalc_magics.latex.compile import compile_cell
from cocalc_magics.local_emulator import start_local_emulator
from timing import interleaved_medians

DOCUMENT = r"""\documentclass{article}
\usepackage{graphicx}
\begin{document}
\section{Benchmark}\label{s}
A one-page document with a figure, $e^{i\pi}+1=0$, see Section~\ref{s}. %s
\includegraphics[width=3cm]{figure}
\end{document}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    words = itertools.count()
    with tempfile.TemporaryDirectory() as folder, start_local_emulator(stderr=subprocess.DEVNULL) as emulator:
        base = Path(folder)
        make_figure(base / "figure.pdf")
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id)
        project_id = emulator.project_id
        cache = LatexCache(base / "cache")
        stable = lf.stable_directory("bench.ipynb#edited-cell-latexmk")

        def cell(content: str, identity: str):
            result = compile_cell(session, content, base=base, cell_identity=identity, cache=cache)
            assert result.ok and result.pdf.startswith(b"%PDF")
            return result

        def first_run() -> None:
            cell(DOCUMENT % f"Run {uuid.uuid4().hex}.", f"bench.ipynb#{uuid.uuid4()}")

        def unchanged_rerun() -> None:
            cell(DOCUMENT % "Unchanged.", "bench.ipynb#unchanged")

        def edited_rerun() -> None:
            content = DOCUMENT % f"Edit {next(words)}."
            lf.send_document_files(session, project_id, stable, content, base)
            result = session.latex(content, path=f"{stable}/cell.tex")
            assert result.ok and result.pdf.startswith(b"%PDF")

        def edited_rerun_one_pass() -> None:
            assert "Latexmk:" not in cell(DOCUMENT % f"Edit {next(words)}.", "bench.ipynb#edited").log

        def direct_pdflatex() -> None:
            with tempfile.TemporaryDirectory() as directory:
                Path(directory, "d.tex").write_text(DOCUMENT % f"Edit {next(words)}.")
                Path(directory, "figure.pdf").write_bytes((base / "figure.pdf").read_bytes())
                subprocess.run(["pdflatex", "-interaction=nonstopmode", "d.tex"], cwd=directory, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

        # The cells' first compiles, which make their .aux (and the cache entry of the unchanged one).
        unchanged_rerun()
        edited_rerun()
        cell(DOCUMENT % "Start.", "bench.ipynb#edited")
        first, hit, edited, one_pass, direct = interleaved_medians(
            [first_run, unchanged_rerun, edited_rerun, edited_rerun_one_pass, direct_pdflatex], args.runs)
    print(f"one-page LaTeX with a figure, median of {args.runs} interleaved runs:")
    print(f"  first run (send, latexmk in a new dir, PDF, cache)  {first * 1000:8.1f} ms")
    print(f"  unchanged re-run (cache hit)                        {hit * 1000:8.1f} ms")
    print(f"  edited re-run in the stable directory, latexmk      {edited * 1000:8.1f} ms")
    print(f"  edited re-run, compile_cell (one pdflatex pass)     {one_pass * 1000:8.1f} ms")
    print(f"  one direct pdflatex pass                            {direct * 1000:8.1f} ms")
    print(f"  unchanged / first = {hit / first:.3f}  (goal <= 0.15)")
    print(f"  edited (latexmk) / direct pdflatex = {edited / direct:.3f}")
    print(f"  edited (one pass) / direct pdflatex = {one_pass / direct:.3f}  (goal <= 1.8)")


def make_figure(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    figure.add_subplot().plot([1, 3, 2])
    figure.savefig(path, format="pdf", bbox_inches="tight")


if __name__ == "__main__":
    main()
