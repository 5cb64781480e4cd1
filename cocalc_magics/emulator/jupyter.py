"""The stateless Jupyter API: v2 ``jupyter/kernels`` and ``jupyter/execute``, and what the conat methods share.

Facts followed (``server/jupyter/{execute,kernels}.ts``, ``next/pages/api/v2/jupyter/*.ts``,
``util/jupyter-api/compute-hash.ts``, ``jupyter/stateless-api/execute.ts``, ``jupyter/nbgrader/jupyter-run.ts``):

- kernels: with ``project_id`` the caller must be signed in (``account_id must be specified -- make sure you
  are signed in``) and a collaborator (``permission denied -- user must be collaborator on project``); the
  answer is cached for 30 s per project. Without one CoCalc uses its global pool, which a server without
  ``jupyter_api_enabled`` (like this emulator) refuses: ``Jupyter API is not enabled on this server.``
- execute: a ``hash`` alone (no ``noCache``) only looks the cache up (``null`` on a miss); then ``input or hash
  must not be null``, ``kernel must be specified in hash is not specified``. The cache key is
  ``sha1(JSON.stringify([history trimmed, input.trim(), kernel lower-cased and trimmed, project_id, path]))``;
  a hit answers the saved ``{output, created}`` without running anything; ``noCache`` runs and replaces it.
- In a project the limits are 45 s in total, 30 s per cell, 5,000,000 output characters in total and
  1,000,000 per cell. History runs first (its output dropped), then the input; a failed ``chdir`` to ``path``
  adds a stderr output. Each output is the iopub message's content without ``execution_state``,
  ``execution_count``, ``payload``, ``code``, ``status``, ``source`` and empty objects; widget (comm) messages
  are skipped; over a limit an output becomes a stdout note ``Output truncated since it exceeded the cell
  output limit of N characters`` (``global output limit`` for the total); tracebacks always stay. A cell
  starting after the total limit fails with ``Total time limit (=N seconds) exceeded``.
- v2 answers ``{kernels, success: true}`` / ``{output, created, success: true}`` (``{success: true}`` for a
  cache miss) and errors as ``{"error": message}``; the hub->project call gives up after 60 s.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from typing import Any

from .context import Context
from .errors import ApiError, JupyterError, ProjectCallTimeout
from .handler import ApiHandler
from .jsutil import UNDEFINED, iso_now, js_number, js_string, nullish, truthy
from .jupyter_kernels import (
    kernel_specs,
    refill_pool,
    running_kernels,
    stop_kernel,
    take_kernel,
)
from .sandbox import path_seen_by_project

__all__ = ["execute_request", "kernels_for", "run_in_project", "running_kernels", "stop_kernel"]

PROJECT_LIMITS = {"timeout_ms": 45000, "timeout_ms_per_cell": 30000, "max_output": 5000000,
                  "max_output_per_cell": 1000000}
# Kernel.execute's defaults when the caller (the conat project API) gives no limits.
STATELESS_LIMITS = {"timeout_ms": 30000, "timeout_ms_per_cell": 30000, "max_output": 5000000,
                    "max_output_per_cell": 1000000}
KERNEL_LIST_TTL_S = 30
# Emulator-only bounds: CoCalc keeps its cache in Postgres; here it lives in the emulator's memory.
CACHE_MAX_ENTRIES = 1000
CACHE_MAX_BYTES = 64 * 1024 * 1024
CACHE_TTL_S = 30 * 24 * 3600  # "expire in one month"
_DROPPED_FIELDS = ("execution_state", "execution_count", "payload", "code", "status", "source")

_kernel_lists: dict[str, tuple[float, list]] = {}
_cache: OrderedDict[str, dict] = OrderedDict()


def _require_collaborator(ctx: Context, account_id: Any, project_id: Any) -> None:
    if nullish(account_id) or not account_id:
        raise JupyterError("account_id must be specified -- make sure you are signed in")
    try:
        allowed = ctx.is_collaborator(account_id, project_id)
    except ApiError as err:
        raise JupyterError(err.message) from None
    if not allowed:
        raise JupyterError("permission denied -- user must be collaborator on project")


def _kernel_list() -> list[dict]:
    """``get_kernel_data``: what each installed kernel spec says, without host paths."""
    found = []
    for name, entry in sorted(kernel_specs().items()):
        spec = entry.get("spec") or {}
        found.append({"name": name, "display_name": spec.get("display_name", name),
                      "language": spec.get("language", ""), "interrupt_mode": spec.get("interrupt_mode", "signal"),
                      "metadata": spec.get("metadata") or {}})
    return found


async def kernels_for(ctx: Context, account_id: Any, project_id: Any) -> list[dict]:
    if nullish(project_id):
        raise JupyterError("Jupyter API is not enabled on this server.")
    _require_collaborator(ctx, account_id, project_id)
    cached = _kernel_lists.get(project_id)
    if cached and time.monotonic() - cached[0] < KERNEL_LIST_TTL_S:
        return cached[1]
    kernels = await ctx.control.call(project_id, _list_in_thread())
    _kernel_lists[project_id] = (time.monotonic(), kernels)
    return kernels


async def _list_in_thread() -> list[dict]:
    import asyncio
    return await asyncio.to_thread(_kernel_list)


def compute_hash(history: Any, input_: str, kernel: str, project_id: Any, path: Any) -> str:
    items = [[js_string(x).strip() for x in history] if isinstance(history, list) else [], input_.strip(),
             kernel.lower().strip(), None if nullish(project_id) else project_id, None if nullish(path) else path]
    return hashlib.sha1(json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def _cached(hash_: str) -> dict | None:
    entry = _cache.get(hash_)
    if entry is None or time.time() - entry["saved"] > CACHE_TTL_S:
        _cache.pop(hash_, None)
        return None
    _cache.move_to_end(hash_)
    entry["saved"] = time.time()  # a hit extends the expiry, as CoCalc's UPDATE ... expire=NOW()+1 month
    return {"output": entry["output"], "created": entry["created"]}


def _remember(hash_: str, result: dict) -> None:
    size = len(json.dumps(result["output"], separators=(",", ":"), ensure_ascii=False))
    if size > CACHE_MAX_BYTES // 4:
        return  # one huge answer would push out everything else
    _cache.pop(hash_, None)
    _cache[hash_] = {**result, "saved": time.time(), "size": size}
    while len(_cache) > CACHE_MAX_ENTRIES or sum(entry["size"] for entry in _cache.values()) > CACHE_MAX_BYTES:
        _cache.popitem(last=False)


async def execute_request(ctx: Context, account_id: Any, opts: dict) -> dict | None:
    """``server/jupyter/execute.ts``: the cache, the checks, then the run in the project."""
    hash_, input_, kernel = opts.get("hash"), opts.get("input"), opts.get("kernel")
    project_id, path, history = opts.get("project_id"), opts.get("path"), opts.get("history")
    no_cache = truthy(opts.get("noCache", UNDEFINED))
    if not nullish(hash_) and not no_cache:
        return _cached(js_string(hash_))
    if nullish(input_):
        raise JupyterError("input or hash must not be null")
    if nullish(kernel):
        raise JupyterError("kernel must be specified in hash is not specified")
    created = iso_now()
    hash_ = compute_hash(history, js_string(input_), js_string(kernel), project_id, path)
    if not no_cache:
        saved = _cached(hash_)
        if saved is not None:
            return saved
    if nullish(project_id):
        raise JupyterError("Jupyter API is not enabled on this server.")
    _require_collaborator(ctx, account_id, project_id)
    request = {"input": js_string(input_), "kernel": js_string(kernel), "history": history, "path": path,
               "limits": PROJECT_LIMITS}
    output = await ctx.control.call(str(project_id), run_in_project(ctx, str(project_id), request))
    result = {"output": output, "created": created}
    _remember(hash_, result)
    return result


async def run_in_project(ctx: Context, project_id: str, opts: dict) -> list[dict]:
    """The project's ``jupyterExecute``: a pooled kernel runs history, then the input, then is closed."""
    if not ctx.allow_exec:
        raise JupyterError(ctx.exec_refusal)
    input_, kernel_name = opts.get("input"), opts.get("kernel")
    if not isinstance(kernel_name, str) or not kernel_name:
        raise JupyterError("kernel must be specified")
    if not isinstance(input_, str):
        raise JupyterError("input must be a string")
    given = opts.get("limits")
    limits = {**STATELESS_LIMITS, **(given if isinstance(given, dict) else {})}
    limits = {k: js_number(v) or 0 for k, v in limits.items() if k in STATELESS_LIMITS}
    state = {"start": time.monotonic(), "total_output": 0}
    fs = ctx.filesystem(project_id)
    kernel = await take_kernel(fs, project_id, kernel_name)
    try:
        outputs: list[dict] = []
        path = opts.get("path")
        if not nullish(path):
            try:
                if not fs.host_path(fs.virtual(js_string(path))).is_dir():
                    raise FileNotFoundError(f"ENOENT: no such file or directory, chdir '{js_string(path)}'")
                await kernel.chdir(path_seen_by_project(fs, fs.virtual(js_string(path))))
            except Exception as err:  # noqa: BLE001 -- any chdir failure becomes a stderr output, as in CoCalc
                outputs.append({"name": "stderr", "text": f"Error: {err}"})
        history = opts.get("history")
        if isinstance(history, list) and history:
            await _run_cell(kernel, "\n".join(js_string(h) for h in history), limits, state)
        outputs.extend(await _run_cell(kernel, input_, limits, state))
        return outputs
    finally:
        kernel.close()
        refill_pool(fs, project_id, kernel_name)


async def _run_cell(kernel, code: str, limits: dict, state: dict) -> list[dict]:
    """``run_cell``: the cell's outputs under the total and per-cell limits."""
    total_ms = limits.get("timeout_ms")
    if total_ms and (time.monotonic() - state["start"]) * 1000 >= total_ms:
        raise JupyterError(f"Total time limit (={math.floor(total_ms / 1000 + 0.5)} seconds) exceeded")
    outputs: list[dict] = []
    cell_chars = 0
    per_cell, total = limits.get("max_output_per_cell"), limits.get("max_output")
    for message in await kernel.execute(code, limits.get("timeout_ms_per_cell") or 0):
        if message["msg_type"] == "clear_output":
            outputs = []
        content = dict(message.get("content") or {})
        if content.get("comm_id") is not None:
            continue
        for field in _DROPPED_FIELDS:
            content.pop(field, None)
        content = {k: v for k, v in content.items() if not (isinstance(v, dict) and not v)}
        if not content:
            continue
        size = len(json.dumps(content, separators=(",", ":"), ensure_ascii=False))
        state["total_output"] += size
        if per_cell:
            cell_chars += size
        if content.get("traceback") is not None:
            outputs.append(content)
        elif per_cell and cell_chars > per_cell:
            outputs.append(_note(f"Output truncated since it exceeded the cell output limit of {int(per_cell)} "
                                 "characters"))
        elif total and state["total_output"] > total:
            outputs.append(_note(f"Output truncated since it exceeded the global output limit of {int(total)} "
                                 "characters"))
        else:
            outputs.append(content)
    return outputs


def _note(text: str) -> dict:
    return {"name": "stdout", "output_type": "stream", "text": [text]}


class KernelsHandler(ApiHandler):
    async def handle(self) -> Any:
        project_id = self.param("project_id")
        account_id = self.caller if not nullish(project_id) else None
        try:
            return {"kernels": await kernels_for(self.ctx, account_id, project_id), "success": True}
        except JupyterError as err:
            return {"error": str(err)}
        except ProjectCallTimeout:
            return {"error": "undefined"}


class ExecuteHandler(ApiHandler):
    async def handle(self) -> Any:
        opts = {name: self.param(name) for name in ("input", "kernel", "history", "tag", "noCache", "hash",
                                                    "project_id", "path")}
        try:
            result = await execute_request(self.ctx, self.caller, opts)
        except JupyterError as err:
            return {"error": str(err)}
        except ProjectCallTimeout:
            return {"error": "undefined"}
        return {**(result or {}), "success": True}


ROUTES = [(r"/api/v2/jupyter/kernels", KernelsHandler), (r"/api/v2/jupyter/execute", ExecuteHandler)]
