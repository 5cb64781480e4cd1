"""A page flip in the kernel: the time from a click on "next" to the new page's PNG in the Image widget,
for pages not shown before, at 100 dpi, in this checkout and (``--before``) another one, interleaved.

Each checkout runs in its own worker process (a viewer over the same 50-page PDF of dense text, made
here with pdflatex); the driver asks the workers for one flip at a time in a random order and each
worker times its own flip. Two ways of reading are measured:

- ``reading``: a pause of ``--pause`` seconds before each flip, as a reader reads the page (the new
  viewer renders the next page ahead in that time);
- ``key held``: the timed flip comes right after another one, as with a key held down (the page ahead
  is still being rendered).

Run: .venv/bin/python benchmarks/bench_page_flip.py [--before CHECKOUT] [--flips 40]
Prints the median milliseconds of each and, with ``--before``, the ratio this/before (goal: <= 20 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = r"""\documentclass{article}
\newcount\pagesleft \pagesleft=50
\newcommand\sentence{The viewer renders each page of the compiled document in the kernel and shows it
inline, so that a reader can check equations, figures and references without leaving the notebook. }
\newcommand\paragraphs{\sentence\sentence\sentence\sentence\sentence\par}
\begin{document}
\loop \section{Part \the\pagesleft} \paragraphs\paragraphs\paragraphs $$\int_0^1 x^{\the\pagesleft}\,dx$$
\newpage \advance\pagesleft by -1 \ifnum\pagesleft>0 \repeat
\end{document}
"""
# The worker: one viewer at a time; "flip" turns to the next page (a fresh viewer after the last one,
# built before the timed part) and answers the milliseconds the click took.
WORKER = r"""
import sys, time, json
sys.path.insert(0, sys.argv[1])
from cocalc_magics.widgets import PdfViewer
pdf = open(sys.argv[2], "rb").read()

def fresh():
    viewer = PdfViewer(pdf, dpi=100)
    viewer.widget
    return viewer

viewer = fresh()
print(json.dumps({"module": sys.modules["cocalc_magics"].__file__}), flush=True)
for line in sys.stdin:
    if viewer.page >= viewer.page_count - 1:
        viewer.close()
        viewer = fresh()
    if line.strip() == "pause":
        time.sleep(float(sys.argv[3]))
    else:  # key held: the timed flip follows an untimed one at once
        viewer.next_button.click()
    started = time.perf_counter()
    viewer.next_button.click()
    elapsed = time.perf_counter() - started
    assert bytes(viewer.image.value[:4]) == b"\x89PNG"
    print(json.dumps({"ms": elapsed * 1000}), flush=True)
"""


def compile_pdf(directory: Path) -> Path:
    (directory / "pages.tex").write_text(DOCUMENT)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "pages.tex"], cwd=directory,
                   check=True, capture_output=True, timeout=120)
    return directory / "pages.pdf"


class Worker:
    def __init__(self, checkout: Path, pdf: Path, pause: float):
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        self.process = subprocess.Popen([sys.executable, "-c", WORKER, str(checkout), str(pdf), str(pause)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        module = json.loads(self.process.stdout.readline())["module"]
        if not module.startswith(str(checkout)):
            raise RuntimeError(f"the worker for {checkout} imported {module}")

    def flip(self, pause: bool) -> float:
        self.process.stdin.write("pause\n" if pause else "now\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["ms"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def medians(workers: dict[str, Worker], flips: int, pause: bool) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in workers}
    for worker in workers.values():  # warm-up: imports, first renders
        worker.flip(pause)
    for _ in range(flips):
        order = list(workers)
        random.shuffle(order)
        for name in order:
            samples[name].append(workers[name].flip(pause))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--flips", type=int, default=40, help="timed flips per checkout and way (default 40)")
    parser.add_argument("--pause", type=float, default=0.15, help="seconds 'read' before each flip (0.15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pdf = compile_pdf(Path(directory))
        checkouts = {"this checkout": ROOT, **({"before": args.before.resolve()} if args.before else {})}
        workers = {name: Worker(checkout, pdf, args.pause) for name, checkout in checkouts.items()}
        try:
            started = time.monotonic()
            for way, pause in (("reading", True), ("key held", False)):
                figures = medians(workers, args.flips, pause)
                line = "  ".join(f"{name} {ms:6.1f} ms" for name, ms in figures.items())
                if "before" in figures:
                    line += f"  ratio {figures['this checkout'] / figures['before']:.2f}"
                print(f"{way:>9}: {line}")
            print(f"({args.flips} flips each, {time.monotonic() - started:.0f} s)")
        finally:
            for worker in workers.values():
                worker.close()


if __name__ == "__main__":
    main()
