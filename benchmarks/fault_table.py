"""Print the fault table: every injected fault against every entry point (session, magics, panel buttons).

Run: .venv/bin/python benchmarks/fault_table.py
It runs the same matrix as tests/reliability/test_fault_matrix.py (three fault-injecting emulators side by
side, about 40 s) and prints faults x entry points with, per cell, the attempts the fault answered and the
seconds until the one-line error, then one line per cell with the error the user saw. Exit status 1 when a
cell fails a check.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "reliability")]

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from fault_matrix import format_table, run_matrix, start_labs  # noqa: E402


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="fault-table-"))
    labs = start_labs(lambda name: scratch / name)
    try:
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "cocalc_magics")
        started = time.monotonic()
        cells = run_matrix(labs, shell)
        print(format_table(cells, time.monotonic() - started))
    finally:
        for lab in labs.values():
            lab.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if all(cell.passed for cell in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
