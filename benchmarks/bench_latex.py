"""session.latex() of a one-page document (HTTP + emulator + blob download) vs latexmk run directly.

Run: .venv/bin/python benchmarks/bench_latex.py [--runs 15]
Goal: ours / direct <= 1.15. Both compile from scratch each time (CoCalc removes /tmp/<name>.* afterwards,
so no aux files survive; the direct run uses a fresh temp dir), with CoCalc's default latexmk command.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from cocalc_magics import CoCalcSession
from cocalc_magics.latex.request import DEFAULT_LATEX_COMMAND
from cocalc_magics.local_emulator import start_local_emulator
from timing import interleaved_medians

DOCUMENT = r"""\documentclass{article}
\begin{document}
\section{Benchmark}
A one-page document, $e^{i\pi}+1=0$.
\end{document}
"""


def compile_directly() -> None:
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "d.tex").write_text(DOCUMENT)
        subprocess.run(f"{DEFAULT_LATEX_COMMAND} d.tex", shell=True, cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert Path(directory, "d.pdf").read_bytes().startswith(b"%PDF")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with start_local_emulator(stderr=subprocess.DEVNULL) as emulator:
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id)

        def compile_through_cocalc() -> None:
            result = session.latex(DOCUMENT, path="/tmp/d.tex")
            assert result.ok and result.pdf.startswith(b"%PDF")

        ours, direct = interleaved_medians([compile_through_cocalc, compile_directly], args.runs)
    print(f"one-page LaTeX, median of {args.runs} runs:")
    print(f"  session.latex() via emulator + blob  {ours * 1000:7.1f} ms")
    print(f"  latexmk directly in a temp dir       {direct * 1000:7.1f} ms")
    print(f"  ours / direct = {ours / direct:.3f}  (goal <= 1.15)")


if __name__ == "__main__":
    main()
