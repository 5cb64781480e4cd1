"""Where the reliability tests leave their figures: ``test-output/reliability/<name>.txt`` (gitignored).

pytest captures what tests print, so the figures the closing note cites (the fault table, fuzz counts,
load numbers) are written to files instead; ``benchmarks/fault_table.py`` and ``bench_load.py`` print
the same figures directly.
"""

from __future__ import annotations

from pathlib import Path

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output" / "reliability"


def write_figure(name: str, text: str) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.txt"
    path.write_text(text.rstrip("\n") + "\n")
    return path
