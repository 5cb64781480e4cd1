"""Start the local CoCalc emulator as a real subprocess and read its one-line JSON handshake."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from secret_guard import register_secret


@dataclass
class RunningEmulator:
    """What the emulator printed when it became ready, plus the process that serves it."""

    url: str
    api_key: str
    account_id: str
    email_address: str
    project_id: str
    second: dict
    data_dir: Path
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(data_dir: Path, *extra_args: str, startup_timeout: float = 30.0) -> RunningEmulator:
    """Start ``python -m cocalc_magics.emulator`` on a free loopback port and wait for its JSON line."""
    command = [
        sys.executable, "-m", "cocalc_magics.emulator",
        "--port", "0", "--data-dir", str(data_dir), "--transition-delay", "0.2", *extra_args,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(startup_timeout)
    if not first_line or not first_line[0].strip():
        process.kill()
        raise RuntimeError(f"emulator did not print its JSON line within {startup_timeout} s: {command}")
    info = json.loads(first_line[0])
    register_secret(info["api_key"])
    register_secret(info["second"]["api_key"])
    return RunningEmulator(
        url=info["url"], api_key=info["api_key"], account_id=info["account_id"],
        email_address=info["email_address"], project_id=info["project_id"], second=info["second"],
        data_dir=Path(data_dir), process=process,
    )
