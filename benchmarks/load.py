"""A bounded load on loopback: N concurrent clients, each making 20 mixed requests, every answer checked.

Each client is a thread with its own CoCalcSession (no retries, so every request is exactly one HTTP
request, and any failure is an error): it creates a project, renames it, starts and stops it twice,
compiles a LaTeX document carrying its own token and downloads the PDF, and reads everything back.
Half the clients are one seeded account, half the other. A mixed-up answer (another client's title,
another account's project, a PDF with another token) counts as an error, as does any exception. The
emulator's resident memory is sampled before and after a warm-up and at the end.

Used by benchmarks/bench_load.py and tests/reliability/test_load.py.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cocalc_magics import CoCalcSession
from cocalc_magics.local_emulator import LocalEmulator

REQUESTS_PER_CLIENT = 20
DOCUMENT = ("\\pdfcompresslevel=0 \\pdfobjcompresslevel=0\n\\documentclass{article}\n\\pdfinfo{/Subject (TOKEN)}\n"
            "\\begin{document}Load test TOKEN\\end{document}\n")


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class LoadReport:
    clients: int
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    rss_start: int = 0
    rss_warm: int = 0
    rss_end: int = 0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if values is None else values)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    @property
    def growth_mib(self) -> float:
        return (self.rss_end - self.rss_warm) / 1024

    def summary(self) -> str:
        lines = [f"Load on loopback: {self.clients} concurrent clients x {REQUESTS_PER_CLIENT} mixed requests "
                 "(user-query get/set, projects/create, start/stop, latex, blob download)",
                 f"requests: {self.requests}, errors: {len(self.errors)}, wall time {self.seconds:.2f} s, "
                 f"{self.requests_per_second:.0f} requests/s",
                 f"latency p50 {self.percentile(0.5) * 1000:.1f} ms, p99 {self.percentile(0.99) * 1000:.1f} ms, "
                 f"max {max(self.latencies, default=0) * 1000:.0f} ms"]
        for kind, values in sorted(self.by_kind.items()):
            lines.append(f"  {kind:<12} n={len(values):<4} p50 {self.percentile(0.5, values) * 1000:7.1f} ms   "
                         f"p99 {self.percentile(0.99, values) * 1000:7.1f} ms")
        lines.append(f"emulator RSS: {self.rss_start / 1024:.1f} MiB at start, {self.rss_warm / 1024:.1f} MiB after "
                     f"warm-up, {self.rss_end / 1024:.1f} MiB at the end (growth after warm-up "
                     f"{self.growth_mib:+.1f} MiB)")
        lines += [f"error: {error}" for error in self.errors[:20]]
        return "\n".join(lines)


class _Client:
    """One client's 20 requests, each timed and checked."""

    def __init__(self, emulator: LocalEmulator, number: int, report: LoadReport, lock: threading.Lock):
        second = number % 2 == 1
        self.account_id = emulator.second["account_id"] if second else emulator.account_id
        self.session = CoCalcSession(api_key=emulator.second["api_key"] if second else emulator.api_key,
                                     host=emulator.url, timeout=120, retries=0,
                                     config_file=emulator.data_dir / "no-config.toml")
        self.token = f"client{number}-{secrets.token_hex(4)}"
        self.report, self.lock = report, lock
        self.project_id: str | None = None
        self.latencies: list[tuple[str, float]] = []

    def call(self, kind: str, endpoint: str, params: dict):
        started = time.perf_counter()
        try:
            return self.session.client.post(endpoint, params)
        finally:
            self.latencies.append((kind, time.perf_counter() - started))

    def query(self, kind: str, query: dict) -> dict:
        return self.call(kind, "user-query", {"query": query})["query"]

    def expect(self, what: str, seen, wanted) -> None:
        if seen != wanted:
            raise AssertionError(f"{self.token}: {what} is {seen!r}, expected {wanted!r}")

    def row(self, **fields) -> dict:
        return self.query("query get", {"projects_all": {"project_id": self.project_id, **fields}})["projects_all"]

    def state(self) -> str:
        return self.row(state=None)["state"]["state"]

    def run(self, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            self._requests()
        except Exception as error:  # any failure is an error of the load run, with its one line
            with self.lock:
                self.report.errors.append(f"{self.token}: {type(error).__name__}: {error}")
        finally:
            self.session.close()
            with self.lock:
                self.report.requests += len(self.latencies)
                for kind, seconds in self.latencies:
                    self.report.latencies.append(seconds)
                    self.report.by_kind.setdefault(kind, []).append(seconds)

    def _requests(self) -> None:
        project = {"project_id": None}
        self.project_id = self.call("create", "projects/create", {"title": f"{self.token}-created"})["project_id"]
        project["project_id"] = self.project_id
        self.query("query set", {"projects_all": {**project, "title": f"{self.token}-a"}})
        self.expect("the title", self.row(title=None)["title"], f"{self.token}-a")
        self.expect("start", self.call("start/stop", "projects/start", project), {"status": "ok"})
        self.expect("the state after start", self.state(), "running")
        whoami = self.query("query get", {"accounts": {"account_id": None}})["accounts"]["account_id"]
        self.expect("the account", whoami, self.account_id)
        compiled = self.call("latex", "latex", {"project_id": self.project_id, "path": f"load/{self.token}.tex",
                                                "content": DOCUMENT.replace("TOKEN", self.token)})
        self.expect("the compile's exit code", compiled["compile"].get("exit_code"), 0)
        started = time.perf_counter()
        pdf = self.session.client.fetch_blob(compiled["url"])
        self.latencies.append(("blob", time.perf_counter() - started))
        self.expect("the PDF's token", f"/Subject ({self.token})".encode() in pdf, True)
        self.expect("stop", self.call("start/stop", "projects/stop", project), {"status": "ok"})
        self.expect("the state after stop", self.state(), "opened")
        self.query("query set", {"projects_all": {**project, "description": f"{self.token}-d"}})
        row = self.row(title=None, description=None)
        self.expect("title and description", (row["title"], row["description"]), (f"{self.token}-a", f"{self.token}-d"))
        listing = self.query("query get", {"projects_all": [{"project_id": None, "users": None}]})["projects_all"]
        self.expect("own project listed", any(r["project_id"] == self.project_id for r in listing), True)
        strangers = [r["project_id"] for r in listing if self.account_id not in (r.get("users") or {})]
        self.expect("projects of another account listed", strangers, [])
        self.expect("start", self.call("start/stop", "projects/start", project), {"status": "ok"})
        self.expect("the state after start", self.state(), "running")
        self.expect("stop", self.call("start/stop", "projects/stop", project), {"status": "ok"})
        self.expect("the state after stop", self.state(), "opened")
        self.query("query set", {"projects_all": {**project, "title": f"{self.token}-b"}})
        self.expect("the final title", self.row(title=None)["title"], f"{self.token}-b")
        whoami = self.query("query get", {"accounts": {"account_id": None}})["accounts"]["account_id"]
        self.expect("the account", whoami, self.account_id)


def _run_clients(emulator: LocalEmulator, clients: int, report: LoadReport) -> list[_Client]:
    lock = threading.Lock()
    workers = [_Client(emulator, number, report, lock) for number in range(clients)]
    barrier = threading.Barrier(clients)
    threads = [threading.Thread(target=worker.run, args=(barrier,), name=f"load-client-{worker.token}")
               for worker in workers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    report.seconds = time.perf_counter() - started
    return workers


def _check_final_states(emulator: LocalEmulator, workers: list[_Client], report: LoadReport) -> None:
    """After the run, every project holds exactly what its own client last wrote."""
    checker = CoCalcSession(api_key=emulator.api_key, host=emulator.url, timeout=60,
                            config_file=emulator.data_dir / "no-config.toml")
    others = CoCalcSession(api_key=emulator.second["api_key"], host=emulator.url, timeout=60,
                           config_file=emulator.data_dir / "no-config.toml")
    try:
        for worker in workers:
            if worker.project_id is None:
                continue
            owner = others if worker.account_id == emulator.second["account_id"] else checker
            row = owner.query({"projects_all": {"project_id": worker.project_id, "title": None, "description": None,
                                                "state": None, "users": None}})["projects_all"]
            final = (row["title"], row["description"], row["state"]["state"], list(row["users"]))
            wanted = (f"{worker.token}-b", f"{worker.token}-d", "opened", [worker.account_id])
            if final != wanted:
                report.errors.append(f"{worker.token}: final state {final!r}, expected {wanted!r}")
    finally:
        checker.close()
        others.close()


def run_load(emulator: LocalEmulator, clients: int = 50, warmup_clients: int | None = None) -> LoadReport:
    """Warm up with a round of clients, then run ``clients`` clients x 20 requests and check the end states."""
    report = LoadReport(clients)
    pid = emulator.process.pid
    report.rss_start = rss_kib(pid)
    _run_clients(emulator, warmup_clients or clients, LoadReport(warmup_clients or clients))
    report.rss_warm = rss_kib(pid)
    workers = _run_clients(emulator, clients, report)
    _check_final_states(emulator, workers, report)
    report.rss_end = rss_kib(pid)
    return report
