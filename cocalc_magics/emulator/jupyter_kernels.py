"""Real Jupyter kernels inside a project: started through ``sandbox.project_command``, kept in a small pool.

Facts followed (``jupyter/stateless-api/kernel.ts``, ``jupyter/kernel/launch-kernel.ts``,
``jupyter/execute/execute-code.ts``):

- A stateless-API kernel runs under ``ulimit -n 1000 -f 10485760 -t 30 -v 3000000`` (open files, written
  blocks, CPU seconds, virtual memory in KiB), in its own process group.
- Each request takes a kernel from the pool of its kernel name and closes it afterwards; the pool is refilled
  in the background and shrinks after it has been idle (30 min for a project's pool).
- ``listJupyterKernels`` -> ``[{pid, connectionFile, kernel_name}]``; ``stopJupyterKernel`` SIGKILLs the
  kernel's process group -> whether such a kernel was running.
- A cell over its time limit is interrupted (SIGINT, up to 3 tries 1 s apart, growing 1.3x), then killed,
  and the call fails with ``Timeout Error: execution time limit = <s> seconds``; a kernel that dies fails it
  with ``kernel crashed``.

Emulator choices: the kernel talks ZeroMQ over ``ipc`` sockets in the project's own ``/tmp`` (a sandbox
without network still reaches them); ``jupyter_client`` is imported only when a kernel is wanted.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import math
import os
import queue
import resource
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .errors import JupyterError
from .filesystem import ProjectFilesystem
from .sandbox import SANDBOX, path_seen_by_project, project_command

STARTUP_TIMEOUT_S = 60
IDLE_POOL_TIMEOUT_S = 30 * 60
_IPC_PATH_LIMIT = 100
log = logging.getLogger("cocalc_magics.emulator")
_THIS_PYTHON = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}  # sun_path holds 108 bytes; ZeroMQ appends "-<n>"


def _ulimits() -> None:
    """``ulimit -n 1000 -f 10485760 -t 30 -v 3000000``, applied in the kernel process before exec."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (1000, 1000))
    resource.setrlimit(resource.RLIMIT_FSIZE, (10485760 * 1024, 10485760 * 1024))
    resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
    resource.setrlimit(resource.RLIMIT_AS, (3000000 * 1024, 3000000 * 1024))


def kernel_specs() -> dict[str, dict]:
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().get_all_specs()


class ProjectKernel:
    """One kernel process of one project, with its client."""

    def __init__(self, fs: ProjectFilesystem, project_id: str, name: str):
        self.fs, self.project_id, self.name = fs, project_id, name
        self.process: asyncio.subprocess.Process | None = None
        self.client: Any = None
        self.connection_dir: Path | None = None
        self.connection_file = ""  # as the project sees it
        self.host_link: Path | None = None
        self.crashed = False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        from jupyter_client.asynchronous import AsyncKernelClient
        from jupyter_client.connect import write_connection_file
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            spec = KernelSpecManager().get_kernel_spec(self.name)
        except NoSuchKernel:
            raise JupyterError(f"No spec available for kernel '{self.name}'") from None
        name = f".jk{secrets.token_hex(4)}"
        self.connection_dir = self.fs.host_path("/tmp") / name
        self.connection_dir.mkdir(mode=0o700)
        host_side = self._short_host_path(self.connection_dir)
        kernel_side = path_seen_by_project(self.fs, f"/tmp/{name}")
        if kernel_side == str(self.connection_dir):
            kernel_side = str(host_side)  # unsandboxed: the kernel sees the host's paths too
        # One set of socket files in the project's /tmp, named from each side of the sandbox's wall.
        key = secrets.token_hex(16).encode()
        _, info = write_connection_file(str(self.connection_dir / "kernel.json"), transport="ipc",
                                        ip=f"{kernel_side}/k", key=key, kernel_name=self.name, shell_port=1,
                                        iopub_port=2, stdin_port=3, hb_port=4, control_port=5)
        connection_file = f"{kernel_side}/kernel.json"
        self.connection_file = f"/tmp/{name}/kernel.json"
        argv = [part.replace("{connection_file}", connection_file).replace("{resource_dir}", spec.resource_dir)
                for part in spec.argv]
        if argv and argv[0] in _THIS_PYTHON:
            argv[0] = sys.executable  # as jupyter_client does: the native kernel runs on the emulator's Python
        env = {**(spec.env or {}), "PYTHONWARNINGS": "ignore"}
        if not SANDBOX.available:
            # ipykernel exits when its parent is gone, so a killed emulator leaves no kernel behind (in the
            # sandbox, --die-with-parent does that, and the kernel's parent pid is the sandbox's own).
            env["JPY_PARENT_PID"] = str(os.getpid())
        command = project_command(self.fs, argv, cwd="/home/user", env=env)
        self.process = await asyncio.create_subprocess_exec(
            *command.argv, cwd=command.cwd, env=command.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_ulimits)
        _live[self.process.pid] = self
        self.client = AsyncKernelClient()
        self.client.load_connection_info({**info, "ip": f"{host_side}/k"})
        self.client.start_channels()
        if not await self._answers_kernel_info():
            self.close()
            raise JupyterError(f"kernel '{self.name}' did not start")

    async def _answers_kernel_info(self) -> bool:
        """Ask until the kernel replies (or dies, or the start-up time is over).

        Not ``client.wait_for_ready``: without a KernelManager it takes a heartbeat that has not beaten yet
        for a dead kernel, which a slow start on a busy machine hits.
        """
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        asked: set[str] = set()
        while time.monotonic() < deadline and self.alive:
            asked.add(self.client.kernel_info())
            try:
                reply = await self.client.get_shell_msg(timeout=1)
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") in asked:
                return await self._iopub_connected(deadline)
        return False

    async def _iopub_connected(self, deadline: float) -> bool:
        """ZeroMQ's slow joiner: only once an iopub message arrives is an execution's output sure to be seen."""
        while time.monotonic() < deadline and self.alive:
            try:
                await self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                self.client.kernel_info()  # its busy/idle status messages go out on iopub
                continue
            while True:  # drop what else is queued from start-up
                try:
                    await self.client.get_iopub_msg(timeout=0.05)
                except queue.Empty:
                    return True
        return False

    def _short_host_path(self, directory: Path) -> Path:
        """``directory``, or a short symlink to it when its socket paths would not fit AF_UNIX's limit."""
        if len(str(directory / "k")) + 3 <= _IPC_PATH_LIMIT:
            return directory
        import tempfile
        self.host_link = Path(tempfile.mkdtemp(prefix="cocalc-jk-")) / "k"
        self.host_link.symlink_to(directory)
        return self.host_link

    async def execute(self, code: str, timeout_ms: float) -> list[dict]:
        """The kernel's iopub messages for ``code`` (their header and content), until it is idle again."""
        if self.client is None or self.crashed:
            raise JupyterError("kernel already closed")
        msg_id = self.client.execute(code, allow_stdin=False)
        messages: list[dict] = []
        deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
        while True:
            if not self.alive:
                self.crashed = True
                raise JupyterError("kernel crashed")
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if wait <= 0:
                await self._interrupt_then_kill(msg_id)
                raise JupyterError(f"Timeout Error: execution time limit = {math.floor(timeout_ms / 1000 + 0.5)} seconds")
            try:
                message = await self.client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            messages.append(message)
            if message["msg_type"] == "status" and message["content"].get("execution_state") == "idle":
                return messages

    async def _interrupt_then_kill(self, msg_id: str) -> None:
        delay = 1.0
        for _ in range(3):
            if self.process is None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGINT)
            end = time.monotonic() + delay
            while time.monotonic() < end:
                try:
                    message = await self.client.get_iopub_msg(timeout=max(0.05, end - time.monotonic()))
                except queue.Empty:
                    continue
                if (message.get("parent_header", {}).get("msg_id") == msg_id and message["msg_type"] == "status"
                        and message["content"].get("execution_state") == "idle"):
                    return
            delay *= 1.3
        self.close()

    async def chdir(self, cwd: str) -> None:
        await self.execute(f"import os as _os; _os.chdir({cwd!r}); del _os", 10000)

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
            self.client = None
        if self.process is not None:
            _live.pop(self.process.pid, None)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            asyncio.ensure_future(self.process.wait())
        if self.connection_dir is not None:
            shutil.rmtree(self.connection_dir, ignore_errors=True)
            self.connection_dir = None
        if self.host_link is not None:
            shutil.rmtree(self.host_link.parent, ignore_errors=True)
            self.host_link = None
        self.crashed = True


_live: dict[int, ProjectKernel] = {}
_pools: dict[tuple[str, str], list[ProjectKernel]] = {}
_last_used: dict[tuple[str, str], float] = {}
_refilling: set[tuple[str, str]] = set()


async def take_kernel(fs: ProjectFilesystem, project_id: str, name: str) -> ProjectKernel:
    """A ready kernel from the pool (started now if the pool is empty); the pool is refilled afterwards."""
    key = (project_id, name)
    _last_used[key] = time.monotonic()
    pool = _pools.setdefault(key, [])
    while pool:
        kernel = pool.pop(0)
        if kernel.alive and not kernel.crashed:
            return kernel
        kernel.close()
    kernel = ProjectKernel(fs, project_id, name)
    await kernel.start()
    return kernel


def refill_pool(fs: ProjectFilesystem, project_id: str, name: str) -> None:
    """Start one kernel for the next request in the background, unless one is ready or on its way."""
    key = (project_id, name)
    if _pools.get(key) or key in _refilling:
        return

    async def refill() -> None:
        kernel = ProjectKernel(fs, project_id, name)
        try:
            await kernel.start()
        except (JupyterError, OSError) as err:
            log.warning("could not refill the %s kernel pool of project %s: %s", name, project_id, err)
            kernel.close()
            return
        finally:
            _refilling.discard(key)
        _pools.setdefault(key, []).append(kernel)
        asyncio.get_running_loop().call_later(IDLE_POOL_TIMEOUT_S, _shrink_if_idle, key)

    _refilling.add(key)
    asyncio.ensure_future(refill())


def _shrink_if_idle(key: tuple[str, str]) -> None:
    if time.monotonic() - _last_used.get(key, 0) >= IDLE_POOL_TIMEOUT_S:
        for kernel in _pools.pop(key, []):
            kernel.close()


def running_kernels(project_id: str) -> list[dict]:
    return [{"pid": pid, "connectionFile": kernel.connection_file, "kernel_name": kernel.name}
            for pid, kernel in _live.items() if kernel.project_id == project_id]


def stop_kernel(project_id: str, pid: Any) -> bool:
    kernel = _live.get(pid) if isinstance(pid, int) else None
    if kernel is None or kernel.project_id != project_id:
        return False
    for pool in _pools.values():
        if kernel in pool:
            pool.remove(kernel)
    kernel.close()
    return True


@atexit.register
def _kill_all_kernels() -> None:
    """At shutdown: kernels run in their own process groups, so nothing else would stop them."""
    for pid in list(_live):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        kernel = _live.pop(pid)
        for leftover in (kernel.connection_dir, kernel.host_link and kernel.host_link.parent):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)
