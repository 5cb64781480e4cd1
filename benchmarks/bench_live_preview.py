"""Live preview, kernel side: from a ``cocalc-magics:live-text`` message reaching the viewer to the new page's
PNG in its Image widget, for a one-page document compiled on the local emulator (real latexmk).

Issue 11's goal is typing pause -> updated page <= 0.6 s after the front end's debounce; this measures the
kernel's part of it (the browser adds the comm round trip and the PNG decode). Each run sends a new text (a
changed word), so nothing is served from a cache. Also printed: the compile's own share (the HTTP call to the
``latex`` endpoint, ``LatexResult.elapsed``), the SyncTeX bytes carried back, and the ratio of a compile with
SyncTeX (``-synctex=1`` and the base64 tail) to one without, interleaved.

Run: .venv/bin/python benchmarks/bench_live_preview.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from unittest import mock

from cocalc_magics import CoCalcSession
from cocalc_magics.latex.interpolation import prepare_document
from cocalc_magics.latex.log import errors_in_source_lines
from cocalc_magics.local_emulator import start_local_emulator
from cocalc_magics.widgets import PdfViewer
from timing import interleaved_medians

CELL = ("%%cocalc_latex --live\nA one-page document, version {n}: the quick brown fox jumps over the dog.\n\n"
        "$$e^{{i\\pi}} + {n} = {n} - 1$$\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with start_local_emulator(stderr=subprocess.DEVNULL) as emulator:
        session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id)

        def recompile(text: str):
            source = prepare_document(text.split("\n", 1)[1], eval)
            result = session.latex(source.text, report_errors=True)
            return errors_in_source_lines(result, source, "cell"), source

        first, source = recompile(CELL.format(n=0))
        viewer = PdfViewer(first, cell_id=None, latex_source=source, recompile=recompile, live=True)
        viewer.widget  # noqa: B018 (built as on display)
        viewer._on_frontend_message({"event": "size", "width": 800, "height": 900, "dpr": 1.0})
        totals, compiles, synctex_sizes = [], [], []
        for n in range(1, args.runs + 2):
            before = viewer.image.value
            started = time.perf_counter()
            viewer._on_frontend_message({"event": "live-text", "text": CELL.format(n=n)})
            if not viewer.live_compiles.idle(60):
                raise SystemExit("a live recompile took over 60 s")
            elapsed = time.perf_counter() - started
            if viewer.image.value == before:
                raise SystemExit("the page did not change")
            if n > 1:  # the first run warms up (imports, the first render)
                totals.append(elapsed)
                compiles.append(viewer.result.elapsed)
                synctex_sizes.append(len(viewer.result.synctex or b""))
        viewer.close()
        document = prepare_document(CELL.split("\n", 1)[1].format(n=99), eval).text

        def without_synctex():
            with mock.patch("cocalc_magics.latex.request.SYNCTEX_OPTION", ""), \
                    mock.patch("cocalc_magics.latex.request.synctex_tail", lambda filename: ""):
                assert session.latex(document).synctex is None

        def with_synctex():
            assert session.latex(document).synctex is not None

        plain, synced = interleaved_medians([without_synctex, with_synctex], runs=args.runs)
        session.close()
    print(f"live text -> updated page (kernel side), {len(totals)} runs: median {statistics.median(totals):.3f} s "
          f"(min {min(totals):.3f}, max {max(totals):.3f}); goal <= 0.6 s after the debounce")
    print(f"  of which the latex endpoint call: median {statistics.median(compiles):.3f} s; "
          f"SyncTeX carried back: {statistics.median(synctex_sizes):,.0f} bytes")
    print(f"  a compile with SyncTeX / without, interleaved: {synced:.3f} s / {plain:.3f} s = {synced / plain:.2f}")


if __name__ == "__main__":
    main()
