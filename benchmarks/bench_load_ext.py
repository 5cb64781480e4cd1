"""What ``%load_ext cocalc_magics`` adds to the start of a fresh IPython (budget: 60 ms).

Each run is a fresh ``python -c`` that creates an ``InteractiveShell``, with and without loading the
extension; the script prints the median wall time of each and their difference, and checks that the heavy
modules (ipywidgets, pypdfium2, PIL) were not imported by the load.

    .venv/bin/python benchmarks/bench_load_ext.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

SHELL_ONLY = "from IPython.core.interactiveshell import InteractiveShell; shell = InteractiveShell.instance()"
WITH_EXTENSION = SHELL_ONLY + "; shell.run_line_magic('load_ext', 'cocalc_magics')"
# requests (about 100 ms of a load once) and urllib3 load on the first call, not with the magics.
HEAVY_MODULES = ("ipywidgets", "pypdfium2", "PIL", "tornado", "requests", "urllib3")
CHECK_LIGHT = (WITH_EXTENSION + f"; import sys; heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]; "
               "assert 'cocalc_whoami' in shell.magics_manager.magics['line']; print(','.join(heavy))")


def time_once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each variant (default 15)")
    args = parser.parse_args()

    heavy = subprocess.run([sys.executable, "-c", CHECK_LIGHT], check=True, capture_output=True, text=True)
    loaded_heavy = heavy.stdout.strip()

    time_once(WITH_EXTENSION)  # warm the OS file cache and __pycache__ before measuring
    shell_only, with_extension = [], []
    for _ in range(args.runs):  # interleaved, so drift in machine load hits both variants alike
        shell_only.append(time_once(SHELL_ONLY))
        with_extension.append(time_once(WITH_EXTENSION))

    base, loaded = statistics.median(shell_only), statistics.median(with_extension)
    print(f"runs per variant:            {args.runs}")
    print(f"InteractiveShell only:       {base * 1000:7.1f} ms (median)")
    print(f"+ %load_ext cocalc_magics:   {loaded * 1000:7.1f} ms (median)")
    print(f"added by the extension:      {(loaded - base) * 1000:7.1f} ms (budget 60 ms)")
    print(f"heavy modules imported:      {loaded_heavy or 'none'}")
    if loaded_heavy:
        sys.exit(f"the extension imported {loaded_heavy} at load time; they must load on first use")


if __name__ == "__main__":
    main()
