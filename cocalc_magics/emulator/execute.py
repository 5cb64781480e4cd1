"""Running commands in a project the way CoCalc's execute-code does (the project side of exec).

Facts followed (``backend/execute-code.ts``, ``project/exec_shell_code.ts``):

- ``args`` defaults to ``[]``, ``err_on_exit`` to true, ``timeout`` to 60 s; ``path`` is
  relative to HOME (default HOME). A command containing whitespace with no args runs
  under bash: CoCalc writes ``ulimit -t <timeout>`` plus the command to
  ``$TMPDIR/cocalc-XXXX/a.sh`` and runs ``bash <that file>``; ``bash`` with args
  shell-escapes them onto the command.
- The process gets its own process group; on timeout the group is SIGKILLed and the
  call fails with ``killed command '<command> <args joined by space>'``.
- With ``err_on_exit``, a nonzero exit fails with ``command '<x>' exited with nonzero
  code <n> -- stderr='<stderr truncated to 1024>'``, where ``<x>`` is the original bash
  command, or ``'<command>' (args=<args joined by space>)``. A failed spawn appends the
  JSON of Node's error to stderr and counts as exit code 1. A signal exit reads as 0.
- The project wraps failures as ``Error executing command '<command>' with args
  '<args>' -- <error>`` (JS string forms: missing args print ``undefined``).
- ``async_call`` starts a job and answers at once with ``{"type":"async","job_id",
  "status":"running","start","pid",...}``; ``async_get`` returns the job (waiting for it
  with ``async_await``); a finished job is ``completed`` or ``error`` with ``elapsed_s``.
  Jobs are kept for an hour, at most 100.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import math
import os
import re
import shlex
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable

from .filesystem import PathOutsideProject, ProjectFilesystem
from .jsutil import UNDEFINED, js_number, js_string, nullish, truthy

DEFAULT_TIMEOUT_S = 60
ASYNC_MAX_OUTPUT = 1024 * 1024
_JOBS_MAX, _JOBS_TTL_S = 100, 3600
_live_process_groups: set[int] = set()
_jobs: dict[str, dict] = {}
_job_finished: dict[str, asyncio.Event] = {}


class CommandFailed(Exception):
    """execute-code calling back with an error (its text is what CoCalc shows)."""


def kill_running_commands() -> None:
    """At shutdown: commands run in their own process groups, so nothing else would stop them."""
    for pgid in list(_live_process_groups):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    _live_process_groups.clear()


def trunc(text: str, max_length: int = 1024) -> str:
    """util/misc ``trunc``: cut to ``max_length`` characters, the last one an ellipsis."""
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


class _Run:
    """One prepared command: what CoCalc's executeCodeNoAggregate has decided before spawning."""

    def __init__(self, fs: ProjectFilesystem, opts: dict):
        command = opts.get("command", UNDEFINED)
        if not isinstance(command, str):
            raise CommandFailed(f"TypeError: Cannot read properties of {js_string(command)} (reading 'split')")
        args = opts.get("args", UNDEFINED)
        args = [] if nullish(args) else args
        timeout = opts.get("timeout", UNDEFINED)
        self.timeout_s = DEFAULT_TIMEOUT_S if nullish(timeout) else (js_number(timeout) or 0)
        err_on_exit = opts.get("err_on_exit", UNDEFINED)
        self.err_on_exit = True if nullish(err_on_exit) else truthy(err_on_exit)
        max_output = opts.get("max_output", UNDEFINED)
        self.max_output = None if nullish(max_output) else int(js_number(max_output) or 0)
        bash = truthy(opts.get("bash", UNDEFINED))
        if isinstance(args, str) and bash:
            args = [args]
        if not isinstance(args, list):
            kind = f"type string ({js_string(args)!r})" if isinstance(args, str) else "an instance of Object"
            raise CommandFailed('error TypeError [ERR_INVALID_ARG_TYPE]: The "args" argument must be an instance '
                                f"of Array. Received {kind}")
        args = [js_string(a) for a in args]
        if len(args) == 0 and len(re.split(r"\s+", command)) > 1:
            bash = True
        elif bash and args:
            command, args = shlex.join([command, *args]), []
        path = opts.get("path", UNDEFINED)
        try:
            self.cwd = str(fs.home if nullish(path) else fs.host_path(js_string(path)))
        except PathOutsideProject as err:
            raise CommandFailed(str(err)) from None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COCALC_")}
        self.env["HOME"] = str(fs.home)
        if isinstance(opts.get("env"), dict):
            self.env.update({str(k): js_string(v) for k, v in opts["env"].items() if not nullish(v)})
        self.command, self.args, self.original_command, self.temp_dir = command, args, "", None
        if bash:
            self._as_bash_script()

    def _as_bash_script(self) -> None:
        script = f"ulimit -t {math.ceil(self.timeout_s)}\n{self.command}" if self.timeout_s else self.command
        self.original_command = self.command
        self.temp_dir = tempfile.mkdtemp(prefix="cocalc-")
        script_path = os.path.join(self.temp_dir, "a.sh")
        with open(script_path, "w") as handle:
            handle.write(script)
        os.chmod(script_path, 0o700)
        self.command, self.args = "bash", [script_path]

    @property
    def described(self) -> str:
        return self.original_command or f"'{self.command}' (args={' '.join(self.args)})"

    def cleanup(self) -> None:
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    async def launch(self) -> asyncio.subprocess.Process:
        try:
            process = await asyncio.create_subprocess_exec(
                self.command, *self.args, cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as err:
            # Node emits 'error': exit_code 1, the error's JSON appended to stderr, ran_code false.
            stderr = json.dumps({"errno": -(err.errno or 0), "code": errno.errorcode.get(err.errno or 0, "UNKNOWN"),
                                 "syscall": f"spawn {self.command}", "path": self.command,
                                 "spawnargs": self.args}, separators=(",", ":"))
            verb = "exited with nonzero code 1" if self.err_on_exit else "was not able to run"
            raise CommandFailed(f"command '{self.described}' {verb} -- stderr='{trunc(stderr)}'") from None
        _live_process_groups.add(process.pid)
        return process

    async def finish(self, process: asyncio.subprocess.Process, job: dict | None = None) -> dict:
        keep = None if self.max_output is None else self.max_output * 4 + 4
        on_out = on_err = None
        if job is not None:
            on_out = lambda text: job.__setitem__("stdout", text)  # noqa: E731 -- live output of a job
            on_err = lambda text: job.__setitem__("stderr", text)  # noqa: E731
        readers = asyncio.gather(_read_all(process.stdout, keep, on_out), _read_all(process.stderr, keep, on_err),
                                 process.wait())
        readers.add_done_callback(lambda _: _live_process_groups.discard(process.pid))
        try:
            if self.timeout_s:
                out, err, code = await asyncio.wait_for(asyncio.shield(readers), self.timeout_s)
            else:
                out, err, code = await readers
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            readers.add_done_callback(_consume_result)  # reaped in the background
            raise CommandFailed(f"killed command '{self.command} {' '.join(self.args)}'") from None
        stdout, stderr = _decode(out, self.max_output), _decode(err, self.max_output)
        exit_code = code if code >= 0 else 0  # Node: exit_code = code ?? 0 (a signal gives null)
        if self.err_on_exit and exit_code != 0:
            if job is not None:
                raise CommandFailed(stderr)  # a job reports the bare stderr
            raise CommandFailed(f"command '{self.described}' exited with nonzero code {exit_code} -- "
                                f"stderr='{trunc(stderr)}'")
        if self.max_output is not None:
            if len(stdout) >= self.max_output:
                stdout += f" (truncated at {self.max_output} characters)"
            if len(stderr) >= self.max_output:
                stderr += f" (truncated at {self.max_output} characters)"
        return {"type": "blocking", "stdout": stdout, "stderr": stderr, "exit_code": exit_code}


def _decode(data: bytes, limit: int | None) -> str:
    text = data.decode("utf-8", errors="replace")
    return text if limit is None else text[:limit]


def _consume_result(future: asyncio.Future) -> None:
    """Retrieve the outcome of work nobody awaits any more, so asyncio does not warn about it."""
    if not future.cancelled():
        future.exception()


async def _read_all(stream: asyncio.StreamReader, keep_bytes: int | None,
                    on_data: Callable[[str], None] | None) -> bytes:
    kept = bytearray()
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return bytes(kept)
        if keep_bytes is None:
            kept += chunk
        elif len(kept) < keep_bytes:
            kept += chunk[: keep_bytes - len(kept)]
        if on_data is not None:
            on_data(kept.decode("utf-8", errors="replace"))


async def execute_code(fs: ProjectFilesystem, opts: dict) -> dict:
    """CoCalc's ``executeCode``: the blocking output, an async job record, or CommandFailed."""
    if isinstance(opts.get("async_get"), str):
        return await _get_job(opts["async_get"], truthy(opts.get("async_await")), truthy(opts.get("async_stats")))
    run = _Run(fs, opts)
    if truthy(opts.get("async_call")):
        if run.max_output is None:
            run.max_output = ASYNC_MAX_OUTPUT
        return await _start_job(run)
    try:
        return await run.finish(await run.launch())
    finally:
        run.cleanup()


async def _start_job(run: _Run) -> dict:
    try:
        process = await run.launch()
    except CommandFailed:
        run.cleanup()
        raise
    job_id = str(uuid.uuid4())
    job = {"type": "async", "stdout": "", "stderr": "", "exit_code": 0, "start": int(time.time() * 1000),
           "job_id": job_id, "status": "running", "pid": process.pid}
    _remember_job(job)
    asyncio.ensure_future(_finish_job(run, process, job))
    return dict(job)


async def _finish_job(run: _Run, process: asyncio.subprocess.Process, job: dict) -> None:
    try:
        result = await run.finish(process, job)
        job.update({**result, "type": "async", "status": "completed"})
    except CommandFailed as err:
        job.update({"stdout": "", "stderr": str(err), "exit_code": 1, "status": "error"})
    finally:
        run.cleanup()
        job["elapsed_s"] = (time.time() * 1000 - job["start"]) / 1000
        if job["status"] == "running":
            job["status"] = "error"
        _job_finished[job["job_id"]].set()


def _remember_job(job: dict) -> None:
    now = time.time()
    for job_id in [k for k, j in _jobs.items() if now - j["start"] / 1000 > _JOBS_TTL_S]:
        _jobs.pop(job_id, None)
        _job_finished.pop(job_id, None)
    while len(_jobs) >= _JOBS_MAX:
        oldest = next(iter(_jobs))
        _jobs.pop(oldest)
        _job_finished.pop(oldest, None)
    _jobs[job["job_id"]] = job
    _job_finished[job["job_id"]] = asyncio.Event()


async def _get_job(job_id: str, wait: bool, with_stats: bool) -> dict:
    job = _jobs.get(job_id)
    if job is None:
        raise CommandFailed(f"Error: Async operation '{job_id}' does not exist.")
    if job["status"] == "running" and wait:
        await _job_finished[job_id].wait()
    reply = dict(job)
    if not with_stats:
        reply.pop("stats", None)
    return reply


async def project_exec(fs: ProjectFilesystem, mesg: dict) -> dict:
    """The project's reply to a ``project_exec`` message: an output message or an error message."""
    message_id = str(uuid.uuid4())
    try:
        output = await execute_code(fs, mesg)
    except CommandFailed as err:
        error = (f"Error executing command '{js_string(mesg.get('command', UNDEFINED))}' with args "
                 f"'{js_string(mesg.get('args', UNDEFINED))}' -- {err}")
        return {"event": "error", "id": message_id, "error": error}
    return {"event": "project_exec_output", "id": message_id, **output}
