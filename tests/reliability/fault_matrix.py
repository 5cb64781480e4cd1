"""Every injected fault against every entry point: session calls, magics, and the project panel's buttons.

One cell of the matrix: put a fresh project in the state the entry point starts from, arm the fault in the
emulator, run the entry point once, then switch the fault off and run it again. The cell passes when

1. the user saw one line (no traceback) that names the problem,
2. within the budget: the client's timeout per attempt (for a slow answer) times the attempts, plus the
   backoff between them, plus any wait the call is asked to make (a start waiting for "running"),
3. after exactly the safe number of attempts: retries only for calls that change nothing,
4. the session still has its key, host and default project (and a magic's cell asked for no rewrite),
5. with the fault off, the same entry point (the same panel button, the same cell) succeeds.

The matrix runs in three groups, each against its own emulator: session calls and panel buttons on worker
threads, the magics on the calling thread (they share the kernel's default session and output capture).
``benchmarks/fault_table.py`` runs the same matrix and prints the table the tests write to
``test-output/reliability/faults.txt``.
"""

from __future__ import annotations

import html
import re
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cocalc_magics import CoCalcError, get_default_session, set_default_session
from lab import BACKOFF, PROJECT_CALL_TIMEOUT, RETRIES, STATE_WAIT, TIMEOUT, Lab

HTTP_FAULTS = ("500", "502", "503", "reset", "slow", "invalid-json", "empty-object", "413", "truncated")
STUCK_FAULTS = ("stuck-starting", "stuck-stopping")
ALL_FAULTS = HTTP_FAULTS + STUCK_FAULTS
# What a client may safely try again when the call changes nothing: gateway errors and broken connections.
RETRYABLE = frozenset({"502", "503", "reset", "slow", "truncated"})
SLOW_DELAY = 8.0         # longer than any read timeout below
COMPILE_TIMEOUT = 5.0    # latex's compile limit: CoCalc's schema minimum (a warm hello-world takes ~0.3 s)
EXEC_TIMEOUT = 1.0
SLACK = 1.0              # bookkeeping around the faulted call (project look-ups, output capture, threads)
LATEX_BODY = "Fault matrix: \\py{6 * 7}"  # a cell body (the magic wraps a fragment in a document)
LATEX_DOCUMENT = "\\documentclass{article}\\begin{document}Fault matrix: 42\\end{document}"

# Words the one line must contain, per fault: it has to say what went wrong, not just that something did.
PROBLEM_WORDS = {
    "500": ("HTTP 500",), "502": ("HTTP 502",), "503": ("HTTP 503",), "413": ("HTTP 413",),
    "reset": ("connection reset",), "slow": ("did not answer within",), "truncated": ("cut short",),
    "invalid-json": ("not JSON", "not a PDF"),
    # CoCalc's {}: no result, or (start/stop, where {} means "ok") a project that never got there.
    "empty-object": ("without a result", "no answer", "still opened", "still running", "not a PDF"),
    "stuck-starting": ("still starting", "no answer from the project"),
    "stuck-stopping": ("still stopping", "no answer from the project"),
}
SHORT = {"invalid-json": "bad-json", "empty-object": "{}", "truncated": "cut", "stuck-starting": "stuck-start",
         "stuck-stopping": "stuck-stop"}


@dataclass
class Seen:
    """What the user saw from one run of an entry point."""

    error: str | None          # the line shown for a failure; None when it worked
    clean: bool = True         # False: a traceback or an undocumented exception type


@dataclass
class EntryPoint:
    name: str
    group: str                 # "session", "magic" or "widget"
    endpoint: str              # where the HTTP faults are injected
    read_only: bool            # the faulted call changes nothing, so the client may retry it
    read_timeout: float        # the client's wait for the faulted call's answer
    run: Callable[[Any, str | None, Any], Seen]  # (env, project_id, handle) -> Seen
    needs: str | None = None   # "stopped" / "running": the project state the call starts from
    waits: float = 0.0         # the wait the call itself makes when the project does not get there
    setup: float = 0.0         # time spent before the faulted call (a compile before a blob download)
    open: Callable[[Any, str | None], Any] = lambda env, project_id: None
    close: Callable[[Any], None] = lambda handle: None

    def applies(self, fault: str) -> bool:
        return fault in HTTP_FAULTS or self.needs is not None

    def attempts(self, fault: str) -> int:
        return 1 + RETRIES if self.read_only and fault in RETRYABLE else 1

    def budget(self, fault: str) -> float:
        attempts = self.attempts(fault)
        per_attempt = self.read_timeout if fault == "slow" else 0.0
        backoff = sum(BACKOFF * 2 ** i for i in range(attempts - 1))
        waiting = self.waits if fault in ("empty-object", *STUCK_FAULTS) else 0.0
        return attempts * per_attempt + backoff + waiting + self.setup + SLACK


@dataclass
class Cell:
    entry: EntryPoint
    fault: str
    seen: Seen
    elapsed: float
    attempts: int | None
    recovery: Seen
    problems: list[str] = field(default_factory=list)
    total: float = 0.0  # the whole cell: preparing, the faulted run, and the run after it

    @property
    def passed(self) -> bool:
        return not self.problems

    def short(self) -> str:
        tries = f"{self.attempts}x " if self.attempts is not None else ""
        return f"{tries}{self.elapsed:.1f}s" + ("" if self.passed else " FAIL")

    def describe(self) -> str:
        verdict = "PASS" if self.passed else "FAIL " + "; ".join(self.problems)
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}, " if self.attempts is not None else ""
        return (f"{verdict:5} {self.entry.name} × {self.fault}: {tries}{self.elapsed:.2f} s "
                f"(budget {self.entry.budget(self.fault):.2f} s) -> {self.seen.error}")


# -- running an entry point ----------------------------------------------------------------------------------

def _session_call(call: Callable[[Any, str | None, Any], Any]) -> Callable[[Any, str | None, Any], Seen]:
    def run(env, project_id, handle) -> Seen:
        try:
            problem = call(env, project_id, handle)
        except CoCalcError as error:
            return Seen(str(error))
        except Exception as error:  # not one of the package's documented errors: a finding
            return Seen(f"{type(error).__name__}: {error}", clean=False)
        return Seen(problem)

    return run


def _no_problem(result) -> None:
    return None


def _check_latex(result) -> str | None:
    return None if result.ok else f"the compile failed: {result.summary}"


def _check_pdf(data: bytes | None) -> str | None:
    return None if data and data.startswith(b"%PDF") else "no PDF came back"


def _compiled(env, project_id):
    """A compiled result whose PDF is not fetched yet (the blob is what the fault hits)."""
    return env.lab.session.latex(LATEX_DOCUMENT, project_id=project_id, timeout=COMPILE_TIMEOUT)


def _fetch_pdf(env, project_id, result):
    result._pdf = None  # each run downloads anew
    return _check_pdf(result.pdf)


def _magic(code: str) -> Callable[[Any, str | None, Any], Seen]:
    def run(env, project_id, handle) -> Seen:
        return env.run_cell(code.replace("{project}", str(project_id)))

    return run


def _latex_preview(env, project_id, handle) -> Seen:
    """%%cocalc_latex with its preview: the compile works, the PDF download is what fails. ``--force``: every
    cell compiles and downloads (the same document would otherwise be shown from the cache, with no download)."""
    seen = env.run_cell(f"%%cocalc_latex --force --project {project_id} --timeout {COMPILE_TIMEOUT:g}\n{LATEX_BODY}")
    if seen.error:
        return seen
    for line in env.last_output.splitlines():
        if "could not be shown" in line or "blob download" in line:
            return Seen(line.strip())
    if "compiled in" not in env.last_output:
        return Seen(f"no compile summary in the output: {env.last_output[:200]!r}")
    return Seen(None)


def _panel_button(action: str) -> Callable[[Any, str | None, Any], Seen]:
    """Click the panel's button; the outcome is the row's status line (the error shows inside the panel)."""

    def run(env, project_id, panel) -> Seen:
        row = panel.rows[0]
        button = row.buttons[action]
        if not (button.disabled and row.state is not None and row.state.is_changing) \
                and not _wait_until(lambda: not button.disabled, 5.0):
            return Seen(f"the {action} button stayed disabled (state {row.state})")
        # The button was enabled when the fault was armed (run_cell waits for it). If the panel's own poll has
        # since seen a stuck transition and disabled it, this is the click a user made just before that: it
        # must still end in one line (refused), not race the transition.
        button.click()
        panel.wait(timeout=60)
        text = _status_text(row.status.value)
        # A project stuck in a transition is refused at once, in one line, rather than waited on.
        if text.startswith((f"{action} failed", f"{action} refused")):
            return Seen(text)
        return Seen(None) if text.startswith(("started", "stopped", "restarted")) else Seen(f"status: {text!r}")

    return run


def _open_panel(env, project_id):
    from cocalc_magics.widgets import ProjectControls

    panel = ProjectControls(env.lab.session, project_id, poll_min=0.05, poll_max=0.3)
    panel.widget  # noqa: B018 (builds the buttons, as displaying it does)
    return panel


def _status_text(value: str) -> str:
    """The full message of a status line (its title attribute holds the whole text, the span a short form)."""
    whole = re.search(r"title='([^']*)'", value)
    shown = whole.group(1) if whole else re.sub(r"<[^>]+>", "", value)
    return html.unescape(shown)


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def entry_points() -> list[EntryPoint]:
    T, W, C, E, P = TIMEOUT, STATE_WAIT, COMPILE_TIMEOUT, EXEC_TIMEOUT, PROJECT_CALL_TIMEOUT
    state_wait = {"read_timeout": W + T, "waits": W}
    hub_wait = {"waits": P}
    session = [
        EntryPoint("session.whoami()", "session", "user-query", True, T,
                   _session_call(lambda env, p, h: None if env.lab.session.whoami().account_id else "no account")),
        EntryPoint("session.query(set)", "session", "user-query", False, T,
                   _session_call(lambda env, p, h: _no_problem(env.lab.session.query(
                       {"accounts": {"first_name": "Ada"}})))),
        EntryPoint("session.start()", "session", "projects/start", False, needs="stopped", **state_wait,
                   run=_session_call(lambda env, p, h: _no_problem(env.lab.session.start(p, timeout=W)))),
        EntryPoint("session.stop()", "session", "projects/stop", False, needs="running", **state_wait,
                   run=_session_call(lambda env, p, h: _no_problem(env.lab.session.stop(p, timeout=W)))),
        EntryPoint("session.restart()", "session", "projects/start", False, needs="running", **state_wait,
                   run=_session_call(lambda env, p, h: _no_problem(env.lab.session.restart(p, timeout=W)))),
        EntryPoint("session.latex()", "session", "latex", False, C + T, needs="running", **hub_wait,
                   run=_session_call(lambda env, p, h: _check_latex(env.lab.session.latex(
                       LATEX_DOCUMENT, project_id=p, timeout=C)))),
        EntryPoint("session.exec()", "session", "exec", False, E + T, needs="running", **hub_wait,
                   run=_session_call(lambda env, p, h: None if env.lab.session.exec(
                       "echo", ["hi"], project=p, timeout=E).stdout == "hi\n" else "wrong output")),
        EntryPoint("LatexResult.pdf (blob)", "session", "blobs", True, T, setup=C,
                   open=lambda env, p: _compiled(env, env.latex_project),
                   run=_session_call(_fetch_pdf)),
    ]
    magics = [
        EntryPoint("%cocalc_login", "magic", "user-query", True, T, _magic("%cocalc_login")),
        EntryPoint("%cocalc_whoami", "magic", "user-query", True, T, _magic("%cocalc_whoami")),
        EntryPoint("%cocalc_project", "magic", "user-query", True, T, _magic("%cocalc_project")),
        EntryPoint("%cocalc_projects", "magic", "user-query", True, T, _magic("%cocalc_projects -o _listed")),
        EntryPoint("%cocalc_query", "magic", "user-query", True, T,
                   _magic('%cocalc_query {"accounts": {"account_id": null}}')),
        EntryPoint("%cocalc_start", "magic", "projects/start", False, needs="stopped", **state_wait,
                   run=_magic(f"%cocalc_start {{project}} --timeout {W:g}")),
        EntryPoint("%cocalc_stop", "magic", "projects/stop", False, needs="running", **state_wait,
                   run=_magic(f"%cocalc_stop {{project}} --timeout {W:g}")),
        EntryPoint("%cocalc_restart", "magic", "projects/start", False, needs="running", **state_wait,
                   run=_magic(f"%cocalc_restart {{project}} --timeout {W:g}")),
        EntryPoint("%%cocalc_latex", "magic", "latex", False, C + T, needs="running", **hub_wait,
                   run=_magic(f"%%cocalc_latex --project {{project}} --timeout {C:g} --no-preview\n{LATEX_BODY}")),
        EntryPoint("%%cocalc_latex preview (blob)", "magic", "blobs", True, T, setup=C + 1.0,
                   run=lambda env, p, h: _latex_preview(env, env.latex_project, h)),
    ]
    widgets = [
        EntryPoint(f"panel {action.capitalize()} button", "widget", endpoint, False, needs=needs, **state_wait,
                   run=_panel_button(action), open=_open_panel, close=lambda panel: panel.close())
        for action, endpoint, needs in (("start", "projects/start", "stopped"), ("stop", "projects/stop", "running"),
                                        ("restart", "projects/start", "running"))
    ]
    return session + magics + widgets


# -- the environments the groups run in ----------------------------------------------------------------------

class Env:
    """A group's lab, plus (for the magics) the IPython shell whose cells it runs."""

    def __init__(self, lab: Lab, shell=None):
        self.lab = lab
        self.shell = shell
        self.last_output = ""
        self.latex_project = lab.new_project(running=True)
        # A first compile warms TeX's caches, so the matrix times faults, not font generation.
        lab.session.latex(LATEX_DOCUMENT, project_id=self.latex_project, timeout=30)

    def run_cell(self, code: str) -> Seen:
        from IPython.utils.capture import capture_output

        self.shell.payload_manager.clear_payload()
        with capture_output() as captured:
            result = self.shell.run_cell(code)
        rewrites = [p for p in self.shell.payload_manager.read_payload() if p.get("source") == "set_next_input"]
        self.shell.payload_manager.clear_payload()
        value = result.result
        if hasattr(value, "close"):
            value.close()  # a project panel: stop its polling
        self.last_output = "\n".join([captured.stdout, *(str(o.data.get("text/plain", "")) for o in captured.outputs)])
        stderr = captured.stderr.strip()
        if rewrites:  # the cell's text must stay as the user wrote it
            return Seen(f"the magic asked to rewrite the cell: {rewrites[0].get('text', '')[:80]!r}", clean=False)
        if result.error_in_exec is not None or stderr:
            lines = stderr.splitlines()
            if len(lines) == 1 and lines[0].startswith("UsageError: "):
                return Seen(lines[0][len("UsageError: "):])
            return Seen(" | ".join(lines[-3:]) or repr(result.error_in_exec), clean=False)
        return Seen(None)


def run_cell(env: Env, entry: EntryPoint, fault: str) -> Cell:
    began = time.monotonic()
    lab = env.lab
    project_id = lab.new_project(running=entry.needs == "running") if entry.needs else None
    handle = entry.open(env, project_id)
    if entry.group == "widget":  # the panel has polled its project and enabled the buttons its state allows
        _wait_until(lambda: any(not button.disabled for button in handle.rows[0].buttons.values()), 5.0)
    try:
        if fault in STUCK_FAULTS:
            lab.control.hold(project_id, fault.split("-")[1])
        else:
            lab.control.arm(entry.endpoint, fault, delay=SLOW_DELAY)
        started = time.monotonic()
        seen = entry.run(env, project_id, handle)
        elapsed = time.monotonic() - started
        attempts = lab.control.fired(entry.endpoint, fault) if fault in HTTP_FAULTS else None
        lab.control.clear()  # the fault is off, and a stuck project is released
        intact = lab.intact()
        if entry.group == "magic" and get_default_session() is not lab.session:
            intact.append("the magics no longer use the kernel's session")
        if entry.needs:
            lab.put_in_state(project_id, running=entry.needs == "running")
        recovery = entry.run(env, project_id, handle)
    except Exception:  # the harness itself broke: report the cell as failed, with the reason
        lab.control.clear()
        return Cell(entry, fault, Seen(None), 0.0, None, Seen(None),
                    [f"harness error: {traceback.format_exc(limit=3)}"])
    finally:
        entry.close(handle)
    cell = Cell(entry, fault, seen, elapsed, attempts, recovery, total=time.monotonic() - began)
    cell.problems = judge(cell, intact)
    return cell


def judge(cell: Cell, intact: list[str]) -> list[str]:
    entry, fault, seen = cell.entry, cell.fault, cell.seen
    problems = []
    if seen.error is None:
        problems.append("no error was shown")
    else:
        if not seen.clean:
            problems.append("not a one-line error of the package")
        if "\n" in seen.error:
            problems.append("the error is not one line")
        if not any(word in seen.error for word in PROBLEM_WORDS[fault]):
            problems.append("the error does not name the problem")
    if cell.elapsed > entry.budget(fault):
        problems.append(f"took {cell.elapsed:.2f} s, over the {entry.budget(fault):.2f} s budget")
    if cell.attempts is not None and cell.attempts != entry.attempts(fault):
        problems.append(f"{cell.attempts} attempts where {entry.attempts(fault)} are safe")
    problems.extend(intact)
    if cell.recovery.error is not None:
        problems.append(f"with the fault off it still failed: {cell.recovery.error}")
    return problems


def run_group(env: Env, entries: list[EntryPoint], faults=ALL_FAULTS) -> list[Cell]:
    return [run_cell(env, entry, fault) for entry in entries for fault in faults if entry.applies(fault)]


GROUPS = ("session", "widget", "magic")


def run_matrix(labs: dict[str, Lab], shell, faults=ALL_FAULTS) -> list[Cell]:
    """All groups, each against its own lab: session and widget cells on threads, magics here."""
    entries = entry_points()
    by_group = {group: [e for e in entries if e.group == group] for group in GROUPS}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="fault-matrix") as pool:
        threaded = {group: pool.submit(lambda g=group: run_group(Env(labs[g]), by_group[g], faults))
                    for group in ("session", "widget")}
        set_default_session(labs["magic"].session)
        try:
            magic_cells = run_group(Env(labs["magic"], shell), by_group["magic"], faults)
        finally:
            set_default_session(None)
        cells = threaded["session"].result() + magic_cells + threaded["widget"].result()
    order = {entry.name: index for index, entry in enumerate(entries)}
    return sorted(cells, key=lambda c: (order[c.entry.name], ALL_FAULTS.index(c.fault)))


def start_labs(make_dir: Callable[[str], Any]) -> dict[str, Lab]:
    """One fault-injecting emulator per group, so that the groups can run side by side."""
    return {group: Lab.start(make_dir(f"faults-{group}")) for group in GROUPS}


def format_table(cells: list[Cell], seconds: float | None = None) -> str:
    faults = [f for f in ALL_FAULTS if any(c.fault == f for c in cells)]
    names = list(dict.fromkeys(c.entry.name for c in cells))
    by_key = {(c.entry.name, c.fault): c for c in cells}
    width = max(len(n) for n in names) + 2
    column = 12
    lines = ["Fault matrix: faults (columns) x entry points (rows).",
             f"Cell: attempts the fault answered x seconds until the one-line error; FAIL marks a failed check. "
             f"Session timeout {TIMEOUT:g} s, {RETRIES} retries (backoff {BACKOFF:g} s) for calls that change "
             f"nothing, start/stop wait {STATE_WAIT:g} s, hub->project limit {PROJECT_CALL_TIMEOUT:g} s.",
             "", "".ljust(width) + "".join(SHORT.get(f, f).ljust(column) for f in faults)]
    for name in names:
        cells_of_row = [by_key.get((name, f)) for f in faults]
        lines.append(name.ljust(width) + "".join((c.short() if c else "n/a").ljust(column) for c in cells_of_row))
    passed = sum(c.passed for c in cells)
    group_seconds = {g: sum(c.total for c in cells if c.entry.group == g) for g in GROUPS}
    lines += ["", f"faults survived: {passed} of {len(cells)} (fault x entry point cells)"
              + (f", matrix run in {seconds:.1f} s" if seconds is not None else "")
              + " (groups side by side: " + ", ".join(f"{g} {t:.1f} s" for g, t in group_seconds.items()) + ")",
              "", "Each cell:"]
    lines += [cell.describe() for cell in cells]
    return "\n".join(lines)
