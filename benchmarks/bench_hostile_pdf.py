"""The viewer's preview of a hostile PDF (an 11 KB file with one 16,383 pt page) at 100 dpi: seconds,
peak RSS and the PNG bytes a saved notebook would keep, each in a fresh process.

Run: .venv/bin/python benchmarks/bench_hostile_pdf.py [--before CHECKOUT]
``--before`` also measures another checkout (e.g. one without the pixel budget); that run can take
~20 s and 3.5 GB of memory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hostile_pdf import measure_in_fresh_process  # benchmarks/hostile_pdf.py, beside this script

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout to measure the same way")
    args = parser.parse_args()
    runs = [("before", args.before)] if args.before else []
    runs.append(("this checkout", ROOT))
    for name, checkout in runs:
        figures = measure_in_fresh_process(checkout, timeout=300)
        width, height = figures["png_size"]
        print(f"{name:>14}: {figures['seconds']:6.2f} s  peak RSS {figures['peak_rss_mb']:5,} MB  "
              f"PNG {figures['png_bytes']:9,} bytes ({width:,} x {height:,} px)")


if __name__ == "__main__":
    main()
