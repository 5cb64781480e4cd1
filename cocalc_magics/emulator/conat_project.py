"""The project methods behind ``/api/conat/project``, each confined to the project's own files.

Facts followed (``project/conat/api/{index,system}.ts``, ``project/exec_shell_code.ts``,
``backend/get-listing.ts``, ``backend/files/{delete,move,rename}-files.ts``,
``project/browser-websocket/realpath.ts``, ``server/api/project-bridge.ts``):

- The name ``ping`` (no group) answers ``"pong"``; ``system.ping`` -> ``{now}``; ``system.test`` -> ``{project_id,
  server_time}`` (the bridge writes ``project_id`` into ``args[0]``).
- ``system.exec(opts)`` is execute-code: ``{type: "blocking", stdout, stderr, exit_code}`` (an async job's
  fields merged in); a failure is execute-code's message as is (a rejected string: no ``Error: `` prefix).
- ``system.listing({path, hidden})`` lists ``HOME/<path>`` (path always under HOME, as Node's ``join``):
  ``[{name, mtime (s), size, isdir?, issymlink?, link_target?}]``, dot files only with ``hidden``; a directory's
  ``size`` is its number of (visible) entries.
- ``readTextFileFromProject({path})`` -> the text; ``writeTextFileToProject({path, content})`` creates parent
  directories -> ``null``; ``deleteFiles({paths})``, ``moveFiles({paths, dest})``, ``renameFile({src, dest})``
  -> ``null``; ``realpath(path)`` -> the resolved path relative to HOME, or ``path`` itself when it resolves
  outside HOME.
- Node's errors read ``Error: ENOENT: no such file or directory, open '<path>'``.
- Emulator-only: ``deleteFiles`` refuses to delete HOME or /tmp themselves; every path is checked by ``ProjectFilesystem.host_path`` (HOME and /tmp of this project),
  listings do not follow a symlink that leaves the project, and a text file read is capped at 10 MB
  (``COCALC_PROJECT_MAX_FILE_SIZE_MB``'s default).
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any

from . import jupyter
from .conat_methods import fail, options, split_name, unknown_function
from .context import Context
from .errors import CommandFailed, JupyterError, MethodError, PathOutsideProject
from .execute import execute_code
from .filesystem import HOME, ProjectFilesystem
from .jsutil import UNDEFINED, js_string, nullish, truthy

MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024


async def call_project_method(ctx: Context, project_id: str, name: Any, args: Any) -> Any:
    if name == "ping":
        return "pong"
    group, function = split_name(name)
    method = _METHODS.get(f"{group}.{function}")
    if method is None:
        raise unknown_function(name)
    if not isinstance(args, list):
        raise MethodError("TypeError: Spread syntax requires ...iterable[Symbol.iterator] to be a function")
    fs = ctx.filesystem(project_id)
    try:
        return await method(ctx, fs, project_id, args)
    except PathOutsideProject as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise MethodError(_node_error(err, fs)) from None


def _node_error(err: OSError, fs: ProjectFilesystem) -> str:
    """An OSError as Node words it (``Error: ENOENT: no such file or directory, open '<path>'``)."""
    code = errno.errorcode.get(err.errno or 0, "EIO")
    reason = (err.strerror or "i/o error").lower()
    where = f" '{_as_project_path(fs, err.filename)}'" if err.filename else ""
    return f"Error: {code}: {reason}, open{where}"


def _as_project_path(fs: ProjectFilesystem, host: Any) -> str:
    """A host path as the project names it; only the last component of anything outside (never host paths)."""
    text = os.fspath(host)
    root = str(fs.root)
    return "/" + os.path.relpath(text, root) if text.startswith(root + os.sep) else os.path.basename(text)


def _resolves_inside(fs: ProjectFilesystem, path: Path) -> bool:
    """Whether ``path``, every link followed, is in the project's HOME or /tmp on this machine."""
    real = os.path.realpath(path)
    trees = (os.path.realpath(fs.home), os.path.realpath(fs.root / "tmp"))
    return any(real == tree or real.startswith(tree + os.sep) for tree in trees)


def _home_relative(fs: ProjectFilesystem, path: Any) -> Path:
    """Node's ``join(HOME, path)``: even an absolute ``path`` stays under HOME."""
    return fs.host_path(f"{HOME}/{js_string(path)}")


def _project_path(fs: ProjectFilesystem, path: Any) -> Path:
    """A path the project's process opens: absolute, or relative to HOME (its working directory)."""
    if not isinstance(path, str):
        raise MethodError(f'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string. '
                          f"Received {js_string(path)}")
    return fs.host_path(path)


async def _ping(ctx, fs, project_id, args) -> Any:
    return {"now": int(time.time() * 1000)}


async def _test(ctx, fs, project_id, args) -> Any:
    return {"project_id": project_id, "server_time": int(time.time() * 1000)}


async def _exec(ctx, fs, project_id, args) -> Any:
    if not ctx.allow_exec:
        raise fail(ctx.exec_refusal)
    opts = options(args)
    try:
        output = await execute_code(fs, opts)
    except CommandFailed as err:
        # executeCode is callback_opts(execute_code): it rejects with execute-code's bare string, so `${err}`
        # has no "Error: " prefix here (only a thrown Error, e.g. an unknown async job, carries one).
        raise MethodError(str(err)) from None
    if output.get("type") == "async":
        return output
    return {"type": "blocking", "stdout": output.get("stdout"), "stderr": output.get("stderr"),
            "exit_code": output.get("exit_code")}


def _stat_within(path: Path, fs: ProjectFilesystem) -> os.stat_result:
    """``stat`` (following a link) only when the link stays inside the project; otherwise ``lstat``."""
    if path.is_symlink() and not _resolves_inside(fs, path):
        return path.lstat()
    try:
        return path.stat()
    except OSError:  # a broken link
        return path.lstat()


def _entry(directory: Path, name: str, fs: ProjectFilesystem, hidden: bool) -> dict:
    path = directory / name
    entry: dict[str, Any] = {"name": name}
    if path.is_symlink():
        entry["issymlink"] = True
        entry["link_target"] = os.readlink(path)
    stats = _stat_within(path, fs)
    entry["mtime"] = stats.st_mtime
    if stat.S_ISDIR(stats.st_mode):
        entry["isdir"] = True
        try:
            children = os.listdir(path)
            entry["size"] = len(children) if hidden else sum(1 for child in children if not child.startswith("."))
        except OSError as err:
            entry["error"] = f"{err}"
    else:
        entry["size"] = stats.st_size
    return entry


async def _listing(ctx, fs, project_id, args) -> Any:
    opts = options(args)
    path = opts.get("path", "")
    path = "" if nullish(path) else path
    if not isinstance(path, str):
        raise MethodError('TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string. '
                          f"Received {js_string(path)}")
    directory = _home_relative(fs, path)
    hidden = truthy(opts.get("hidden", UNDEFINED))

    def scan() -> list[dict]:
        names = sorted(os.listdir(directory))
        return [_entry(directory, name, fs, hidden) for name in names if hidden or not name.startswith(".")]
    if not directory.is_dir():
        raise MethodError(f"Error: ENOENT: no such file or directory, opendir '{fs.virtual(HOME + '/' + path)}'")
    return await asyncio.to_thread(scan)


async def _read_text(ctx, fs, project_id, args) -> Any:
    path = _project_path(fs, options(args).get("path", UNDEFINED))
    if path.is_file() and path.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise fail(f"file '{options(args)['path']}' is larger than {MAX_TEXT_FILE_BYTES // 2**20} MB")
    return (await asyncio.to_thread(path.read_bytes)).decode("utf-8", errors="replace")


async def _write_text(ctx, fs, project_id, args) -> Any:
    opts = options(args)
    path = _project_path(fs, opts.get("path", UNDEFINED))
    content = opts.get("content", UNDEFINED)
    if not isinstance(content, str):
        raise MethodError('TypeError [ERR_INVALID_ARG_TYPE]: The "data" argument must be of type string or an '
                          f"instance of Buffer, TypedArray, or DataView. Received {js_string(content)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(path.write_text, content)
    return UNDEFINED


def _paths(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise MethodError("TypeError: paths.map is not a function")
    return [js_string(p) for p in value]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


async def _delete_files(ctx, fs, project_id, args) -> Any:
    targets = [_project_path(fs, p) for p in _paths(options(args).get("paths"))]
    if any(target in (fs.home, fs.root / "tmp") for target in targets):
        raise fail("refusing to delete the project's home or /tmp itself")
    for target in targets:
        await asyncio.to_thread(_remove, target)
    return UNDEFINED


async def _move_files(ctx, fs, project_id, args) -> Any:
    opts = options(args)
    sources = [_project_path(fs, p) for p in _paths(opts.get("paths"))]
    dest = _project_path(fs, opts.get("dest", UNDEFINED))
    dest.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if not source.exists() and not source.is_symlink():
            raise MethodError(f"Error: ENOENT: no such file or directory, rename '{_as_project_path(fs, source)}'")
        await asyncio.to_thread(shutil.move, str(source), str(dest / source.name))
    return UNDEFINED


async def _rename_file(ctx, fs, project_id, args) -> Any:
    opts = options(args)
    source = _project_path(fs, opts.get("src", UNDEFINED))
    dest = _project_path(fs, opts.get("dest", UNDEFINED))
    if source == dest:
        return UNDEFINED
    dest.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(os.rename, source, dest)
    return UNDEFINED


async def _realpath(ctx, fs, project_id, args) -> Any:
    path = args[0] if args else UNDEFINED
    seen = fs.virtual(f"{HOME}/{js_string(path)}")
    try:
        full = _home_relative(fs, path)
    except PathOutsideProject:
        return path  # CoCalc answers the input for anything that resolves outside HOME; nothing is looked at
    resolved = os.path.realpath(full)
    if not os.path.exists(resolved):
        raise MethodError(f"Error: ENOENT: no such file or directory, lstat '{seen}'")
    home = os.path.realpath(fs.home)
    if resolved == os.path.normpath(full) or not resolved.startswith(home + os.sep):
        return path
    return resolved[len(home) + 1:]


async def _jupyter_execute(ctx, fs, project_id, args) -> Any:
    try:
        return await jupyter.run_in_project(ctx, project_id, options(args))
    except JupyterError as err:
        raise MethodError(str(err) if str(err).startswith("Timeout") else f"Error: {err}") from None


async def _list_kernels(ctx, fs, project_id, args) -> Any:
    return jupyter.running_kernels(project_id)


async def _stop_kernel(ctx, fs, project_id, args) -> Any:
    pid = options(args).get("pid")
    return {"success": jupyter.stop_kernel(project_id, pid)}


_METHODS = {
    "system.ping": _ping, "system.test": _test, "system.exec": _exec, "system.listing": _listing,
    "system.readTextFileFromProject": _read_text, "system.writeTextFileToProject": _write_text,
    "system.deleteFiles": _delete_files, "system.moveFiles": _move_files, "system.renameFile": _rename_file,
    "system.realpath": _realpath, "system.jupyterExecute": _jupyter_execute,
    "system.listJupyterKernels": _list_kernels, "system.stopJupyterKernel": _stop_kernel,
}
