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

Emulator-only limits (it runs on the user's machine; see ``sandbox``): every process is started through
``sandbox.project_command`` (bubblewrap, a capped file size, an environment built from nothing); a timeout
that is missing means 60 s as in CoCalc, but 0, a negative number or NaN — "no limit" there — and anything
above an hour mean one hour here; output is kept up to ``max_output`` characters, by default
``DEFAULT_MAX_OUTPUT`` and never more than ``MAX_OUTPUT_CEILING``, the rest is read and dropped so the child
never blocks and the emulator's memory stays bounded. A job is visible only through its own project.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import time
import uuid

from .background import consume_result
from .errors import CommandFailed, PathOutsideProject
from .filesystem import ProjectFilesystem
from .jsutil import UNDEFINED, js_number, js_string, nullish, truthy
from .sandbox import path_seen_by_project, project_command

DEFAULT_TIMEOUT_S = 60
MAX_TIMEOUT_S = 3600
ASYNC_MAX_OUTPUT = 1024 * 1024
DEFAULT_MAX_OUTPUT = 2 * 1000 * 1000
MAX_OUTPUT_CEILING = 10 * 1000 * 1000
_READ_CHUNK = 256 * 1024
_JOBS_MAX, _JOBS_TTL_S = 100, 3600
_live_process_groups: set[int] = set()
_jobs: dict[str, dict] = {}
_job_project: dict[str, str] = {}
_job_output: dict[str, tuple[bytearray, bytearray]] = {}
_job_finished: dict[str, asyncio.Event] = {}


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
        self.timeout_s = _time_limit(DEFAULT_TIMEOUT_S if nullish(timeout) else js_number(timeout))
        err_on_exit = opts.get("err_on_exit", UNDEFINED)
        self.err_on_exit = True if nullish(err_on_exit) else truthy(err_on_exit)
        max_output = opts.get("max_output", UNDEFINED)
        self.max_output = None if nullish(max_output) else _output_limit(js_number(max_output))
        bash = truthy(opts.get("bash", UNDEFINED))
        if isinstance(args, str) and bash:
            args = [args]
        if not isinstance(args, list):
            kind = f"type string ({js_string(args)!r})" if isinstance(args, str) else "an instance of Object"
            raise CommandFailed('error TypeError [ERR_INVALID_ARG_TYPE]: The "args" argument must be an instance '
                                f"of Array. Received {kind}")
        args = [js_string(a) for a in args]
        self.fixed_argv: list[str] | None = opts.get("_argv")  # set by the emulator itself, never by a request
        self.fs = fs
        if self.fixed_argv is not None:
            pass  # an argv, run without a shell; ``command`` is only how CoCalc's texts show it
        elif len(args) == 0 and len(re.split(r"\s+", command)) > 1:
            bash = True
        elif bash and args:
            command, args = shlex.join([command, *args]), []
        path = opts.get("path", UNDEFINED)
        try:
            fs.host_path(js_string(path) if not nullish(path) else "")
        except PathOutsideProject as err:
            raise CommandFailed(str(err)) from None
        self.cwd = fs.virtual("" if nullish(path) else js_string(path))
        self.env: dict[str, str] = {}
        if isinstance(opts.get("env"), dict):
            self.env.update({str(k): js_string(v) for k, v in opts["env"].items() if not nullish(v)})
        self.command, self.args, self.original_command = command, args, ""
        self.temp_dir: str | None = None
        if self.fixed_argv is not None:
            self.original_command = command
        elif bash:
            self._as_bash_script()

    def _as_bash_script(self) -> None:
        script = f"ulimit -t {math.ceil(self.timeout_s)}\n{self.command}"
        self.original_command = self.command
        # $TMPDIR/cocalc-XXXX/a.sh as in CoCalc: the project's own /tmp, where the sandbox can read it. Made
        # through directory fds with O_NOFOLLOW/O_EXCL: a project process may race to swap in a symlink.
        name = f"cocalc-{secrets.token_hex(4)}"
        project_tmp = self.fs.open_in_project("/tmp", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.mkdir(name, 0o700, dir_fd=project_tmp)
            self.temp_dir = str(self.fs.root / "tmp" / name)
            directory = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=project_tmp)
            try:
                fd = os.open("a.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o700, dir_fd=directory)
            finally:
                os.close(directory)
        finally:
            os.close(project_tmp)
        with os.fdopen(fd, "w") as handle:
            handle.write(script)
        self.command, self.args = "bash", [path_seen_by_project(self.fs, f"/tmp/{name}/a.sh")]

    @property
    def described(self) -> str:
        return self.original_command or f"'{self.command}' (args={' '.join(self.args)})"

    @property
    def argv(self) -> list[str]:
        return list(self.fixed_argv) if self.fixed_argv is not None else [self.command, *self.args]

    def cleanup(self) -> None:
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    async def launch(self) -> asyncio.subprocess.Process:
        try:
            prepared = project_command(self.fs, self.argv, cwd=self.cwd, env=self.env)
            if not os.path.isdir(self.fs.host_path(self.cwd)):
                raise FileNotFoundError(errno.ENOENT, "no such directory", self.cwd)
            program = self.argv[0]
            # Node's spawn fails with ENOENT for a program not on PATH; inside the sandbox bwrap would only
            # exit 1, so look it up first (the sandbox sees the system at the same paths).
            if "/" not in program and shutil.which(program, path=prepared.env["PATH"]) is None:
                raise FileNotFoundError(errno.ENOENT, "not found", program)
            process = await asyncio.create_subprocess_exec(
                *prepared.argv, cwd=prepared.cwd, env=prepared.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except (OSError, PathOutsideProject) as err:
            err = err if isinstance(err, OSError) else OSError(errno.EACCES, str(err))
            # Node emits 'error': exit_code 1, the error's JSON appended to stderr, ran_code false.
            stderr = json.dumps({"errno": -(err.errno or 0), "code": errno.errorcode.get(err.errno or 0, "UNKNOWN"),
                                 "syscall": f"spawn {self.command}", "path": self.command,
                                 "spawnargs": self.args}, separators=(",", ":"))
            verb = "exited with nonzero code 1" if self.err_on_exit else "was not able to run"
            raise CommandFailed(f"command '{self.described}' {verb} -- stderr='{trunc(stderr)}'") from None
        _live_process_groups.add(process.pid)
        return process

    async def finish(self, process: asyncio.subprocess.Process,
                     kept: tuple[bytearray, bytearray] | None = None, job: bool = False) -> dict:
        limit = DEFAULT_MAX_OUTPUT if self.max_output is None else self.max_output
        keep = limit * 4 + 4  # characters -> at most 4 UTF-8 bytes each
        out_buffer, err_buffer = kept or (bytearray(), bytearray())
        assert process.stdout is not None and process.stderr is not None  # both are PIPEs (launch)
        readers = asyncio.gather(_read_all(process.stdout, keep, out_buffer),
                                 _read_all(process.stderr, keep, err_buffer), process.wait())
        readers.add_done_callback(lambda _: _live_process_groups.discard(process.pid))
        try:
            _, _, code = await asyncio.wait_for(asyncio.shield(readers), self.timeout_s)
        except asyncio.TimeoutError:
            # The group holds bwrap; its sandbox dies with it (--die-with-parent, own PID namespace).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            readers.add_done_callback(consume_result)  # reaped in the background
            shown = self.original_command if self.fixed_argv is not None else f"{self.command} {' '.join(self.args)}"
            raise CommandFailed(f"killed command '{shown}'") from None
        stdout, stderr = _decode(out_buffer, limit), _decode(err_buffer, limit)
        exit_code = max(code, 0)  # Node: exit_code = code ?? 0 (a signal gives null)
        if self.err_on_exit and exit_code != 0:
            if job:
                raise CommandFailed(stderr)  # a job reports the bare stderr
            raise CommandFailed(f"command '{self.described}' exited with nonzero code {exit_code} -- "
                                f"stderr='{trunc(stderr)}'")
        if len(stdout) >= limit:
            stdout += f" (truncated at {limit} characters)"
        if len(stderr) >= limit:
            stderr += f" (truncated at {limit} characters)"
        return {"type": "blocking", "stdout": stdout, "stderr": stderr, "exit_code": exit_code}


def _time_limit(seconds: float | None) -> float:
    """The emulator always has a limit: CoCalc's "no limit" (0, negative, NaN) and huge values mean an hour."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return MAX_TIMEOUT_S
    return min(seconds, MAX_TIMEOUT_S)


def _output_limit(characters: float | None) -> int:
    if characters is None or not math.isfinite(characters):
        return 0
    return max(0, min(int(characters), MAX_OUTPUT_CEILING))


def _decode(data: bytes | bytearray, limit: int) -> str:
    return bytes(data).decode("utf-8", errors="replace")[:limit]


async def _read_all(stream: asyncio.StreamReader, keep_bytes: int, kept: bytearray) -> None:
    """Keep the first ``keep_bytes`` into ``kept``; read and drop the rest, so the child never blocks.

    Nothing is decoded here: decoding the kept text on every chunk was quadratic in the output.
    """
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            return
        if len(kept) < keep_bytes:
            kept += chunk[: keep_bytes - len(kept)]


async def execute_code(fs: ProjectFilesystem, opts: dict) -> dict:
    """CoCalc's ``executeCode``: the blocking output, an async job record, or CommandFailed."""
    if isinstance(opts.get("async_get"), str):
        return await _get_job(fs, opts["async_get"], truthy(opts.get("async_await")),
                              truthy(opts.get("async_stats")))
    run = _Run(fs, opts)
    if truthy(opts.get("async_call")):
        if run.max_output is None:
            run.max_output = ASYNC_MAX_OUTPUT
        return await _start_job(fs, run)
    try:
        return await run.finish(await run.launch())
    finally:
        run.cleanup()


async def _start_job(fs: ProjectFilesystem, run: _Run) -> dict:
    try:
        process = await run.launch()
    except CommandFailed:
        run.cleanup()
        raise
    job_id = str(uuid.uuid4())
    job = {"type": "async", "stdout": "", "stderr": "", "exit_code": 0, "start": int(time.time() * 1000),
           "job_id": job_id, "status": "running", "pid": process.pid}
    _remember_job(job, str(fs.root))
    asyncio.ensure_future(_finish_job(run, process, job))
    return dict(job)


async def _finish_job(run: _Run, process: asyncio.subprocess.Process, job: dict) -> None:
    try:
        result = await run.finish(process, _job_output[job["job_id"]], job=True)
        job.update({**result, "type": "async", "status": "completed"})
    except CommandFailed as err:
        job.update({"stdout": "", "stderr": str(err), "exit_code": 1, "status": "error"})
    finally:
        run.cleanup()
        job["elapsed_s"] = (time.time() * 1000 - job["start"]) / 1000
        if job["status"] == "running":
            job["status"] = "error"
        _job_finished[job["job_id"]].set()


def _forget_job(job_id: str) -> None:
    for table in (_jobs, _job_finished, _job_project, _job_output):
        table.pop(job_id, None)


def _remember_job(job: dict, project_root: str) -> None:
    now = time.time()
    for job_id in [k for k, j in _jobs.items() if now - j["start"] / 1000 > _JOBS_TTL_S]:
        _forget_job(job_id)
    while len(_jobs) >= _JOBS_MAX:
        _forget_job(next(iter(_jobs)))
    _jobs[job["job_id"]] = job
    _job_project[job["job_id"]] = project_root
    _job_output[job["job_id"]] = (bytearray(), bytearray())
    _job_finished[job["job_id"]] = asyncio.Event()


async def _get_job(fs: ProjectFilesystem, job_id: str, wait: bool, with_stats: bool) -> dict:
    job = _jobs.get(job_id)
    # CoCalc keeps jobs inside each project's own process: another project cannot even tell a job exists.
    if job is None or _job_project.get(job_id) != str(fs.root):
        raise CommandFailed(f"Error: Async operation '{job_id}' does not exist.")
    if job["status"] == "running" and wait:
        await _job_finished[job_id].wait()
    reply = dict(job)
    if reply["status"] == "running" and job_id in _job_output:
        limit = ASYNC_MAX_OUTPUT
        out, err = _job_output[job_id]
        reply["stdout"], reply["stderr"] = _decode(out, limit), _decode(err, limit)
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
