"""``python -m cocalc_magics.demo``: run the demo notebook headlessly against a fresh local emulator.

It starts the emulator, executes ``notebooks/demo.ipynb`` in a real IPython kernel whose environment holds
the emulator's key (the notebook reads it from ``COCALC_API_KEY``, so it is never written into a cell), saves
the executed notebook and a static HTML copy, checks that neither holds the key, and says where they are.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

from .local_emulator import start_local_emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cocalc_magics.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="notebooks/demo.ipynb", help="the notebook to run")
    parser.add_argument("--output-dir", default="demo-output", help="where the results go")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    try:  # the demo's own extra, not a dependency of the magics
        import nbformat
        from jupyter_client.manager import KernelManager
        from nbclient import NotebookClient
    except ImportError as missing:
        print(f"the demo needs {missing.name}: pip install 'cocalc-magics[demo]'", file=sys.stderr)
        return 2

    notebook_path = Path(args.notebook)
    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    emulator_log = open(output_dir / "emulator.log", "w")
    print(f"starting the local CoCalc emulator (log: {emulator_log.name})")
    with emulator_log, start_local_emulator(output_dir / "emulator-data", stderr=emulator_log) as emulator:
        print(f"emulator ready at {emulator.url}; running {notebook_path} headlessly")
        kernel_env = {**os.environ, "COCALC_API_KEY": emulator.api_key, "COCALC_HOST": emulator.url,
                      "COCALC_PROJECT_ID": emulator.project_id}
        notebook = nbformat.read(notebook_path, as_version=4)
        # IPC sockets rather than TCP: the kernel's traffic stays off the network, even loopback.
        with tempfile.TemporaryDirectory(prefix="cocalc-demo-kernel-") as kernel_dir:
            kernel = KernelManager(kernel_name="python3", transport="ipc",
                                   connection_file=os.path.join(kernel_dir, "kernel.json"))
            client = NotebookClient(notebook, km=kernel, timeout=args.timeout, store_widget_state=True,
                                    resources={"metadata": {"path": str(output_dir)}})
            try:
                client.execute(env=kernel_env)
            finally:
                if kernel.has_kernel:
                    kernel.shutdown_kernel()
        executed = output_dir / notebook_path.name
        nbformat.write(notebook, executed)
        html_path = export_html(notebook, executed.with_suffix(".html"))
        leaked = [str(p) for p in (executed, html_path) if p and emulator.api_key in p.read_text()]
    if leaked:
        print(f"error: the API key was found in {', '.join(leaked)}", file=sys.stderr)
        return 1
    print("\ndemo finished:")
    print(f"  executed notebook: {executed}")
    if html_path:
        print(f"  static HTML:       {html_path}")
    for pdf in sorted(output_dir.glob("*.pdf")):
        print(f"  compiled PDF:      {pdf}")
    return 0


def export_html(notebook, target: Path) -> Path | None:
    """A static copy for readers without Jupyter; skipped (with a note) when nbconvert is not installed."""
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        print("(nbconvert is not installed: no static HTML copy)")
        return None
    # With the widget state saved, nbconvert renders widget views, which draw only with the widget
    # JavaScript fetched from a CDN: offline they are empty. Without it, each output's static fallback
    # (the page-1 image, the panel's table) is used instead.
    static_copy = copy.deepcopy(notebook)
    static_copy.metadata.pop("widgets", None)
    body, _ = HTMLExporter().from_notebook_node(static_copy)
    target.write_text(body)
    return target


if __name__ == "__main__":
    sys.exit(main())
