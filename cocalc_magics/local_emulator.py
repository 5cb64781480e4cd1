"""Run the local CoCalc emulator as a subprocess and read its one-line JSON handshake.

This is how the demo, the benchmarks and the tests start ``python -m cocalc_magics.emulator``. It talks to
the emulator only through its command line and stdout, so the client side still shares no code with it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LocalEmulator:
    """What the emulator printed when it became ready, plus the process that serves it."""

    url: str
    account_id: str
    email_address: str
    project_id: str
    data_dir: Path
    api_key: str = field(repr=False)
    second: dict = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    # True when start_local_emulator made the data dir: then stopping removes it (the emulator keeps any
    # --data-dir it is given, as a user's own state).
    owns_data_dir: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalEmulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_local_emulator(data_dir: str | Path | None = None, *extra_args: str, transition_delay: float = 0.5,
                         startup_timeout: float = 30.0, stderr=None) -> LocalEmulator:
    """Start the emulator on a free loopback port and wait until it says it is ready."""
    owns_data_dir = not data_dir
    data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="cocalc-emulator-"))
    command = [sys.executable, "-m", "cocalc_magics.emulator", "--port", "0", "--data-dir", str(data_dir),
               "--transition-delay", str(transition_delay), *extra_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    first_line: list[str] = []
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE
    reader = threading.Thread(target=lambda: first_line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(startup_timeout)
    if not first_line or not first_line[0].strip():
        process.kill()
        process.wait()
        if owns_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise RuntimeError(f"the emulator did not get ready within {startup_timeout:g} s: {' '.join(command)}")
    info = json.loads(first_line[0])
    return LocalEmulator(url=info["url"], account_id=info["account_id"], email_address=info["email_address"],
                         project_id=info["project_id"], data_dir=data_dir, api_key=info["api_key"],
                         second=info["second"], process=process, owns_data_dir=owns_data_dir)
