"""The hub methods behind ``/api/conat/hub`` that CoCalc's official client calls.

Facts followed (``server/conat/api/{system,projects,db,jupyter}.ts``, ``conat/hub/api/*.ts`` for which methods
get ``authFirst`` / ``requireAccount``, ``server/projects/{collaborators,collab,ownership-checks,delete}.ts``,
``server/accounts/{get-name,search}.ts``):

- ``system.ping`` -> ``{now}``; ``system.test`` -> ``{account_id, server_time}``; ``system.getNames(ids)`` ->
  ``{id: {first_name, last_name, profile?}}`` with ``Deleted User`` for unknown ids; ``system.userSearch``
  finds an account by exact id or e-mail address, or by every word of the query starting its first or last
  name, most recently active first (default limit 20, at most 50).
- ``projects.createProject`` -> the new id (a string); ``start``/``stop``/``touch``/``state``/``status``
  check ``must be collaborator on project to <start it|stop it|touch it|get state|get status>``;
  ``status`` of a running project is ``{start_ts, disk_MB, installed}``, of a stopped one ``{}``;
  ``deleteProject`` follows the v2 route's checks; ``addCollaborator``/``removeCollaborator`` take
  ``{opts: {project_id, account_id}}``; an owner cannot be removed; ``copyPathBetweenProjects`` copies
  ``src_path`` to ``target_path`` (default the same path) after ``user must be collaborator on source
  project`` / ``... on target project``.
- ``db.userQuery({query, options})`` is the user query without the ``{"query": ...}`` wrapper; its FATAL
  errors are rejected strings, so they arrive without an ``Error: `` prefix. ``db.touch`` -> ``null``.
- ``jupyter.kernels`` / ``jupyter.execute``: see ``jupyter``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from typing import Any

from . import jupyter
from .accounts import names_of
from .collaborators import in_project
from .conat_methods import fail, first_arg_with_caller, split_name, unknown_function
from .context import Context
from .errors import (
    ApiError,
    JupyterError,
    MethodError,
    PathOutsideProject,
    ProjectCallTimeout,
    QueryError,
)
from .jsutil import (
    UNDEFINED,
    is_valid_uuid,
    iso_now,
    js_number,
    js_string,
    nullish,
    parse_time,
)
from .project_control import new_project
from .user_query import UserQuery

USER_SEARCH_LIMIT, USER_SEARCH_MAX = 20, 50
_COLLABORATOR_VERBS = {"start": "start it", "stop": "stop it", "touch": "touch it", "state": "get state",
                       "status": "get status"}


async def call_hub_method(ctx: Context, account_id: str, name: Any, args: Any) -> Any:
    group, function = split_name(name)
    method = _METHODS.get(f"{group}.{function}")
    if method is None:
        raise unknown_function(name)
    try:
        return await method(ctx, account_id, args)
    except ApiError as err:  # a shared check (e.g. is_collaborator's uuid check) threw Error(message)
        raise fail(err.message) from None


# -- system ---------------------------------------------------------------------------------

async def _ping(ctx: Context, account_id: str, args: Any) -> Any:
    return {"now": int(time.time() * 1000)}


async def _test(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    return {"account_id": opts["account_id"] or "", "server_time": int(time.time() * 1000)}


async def _get_names(ctx: Context, account_id: str, args: Any) -> Any:
    account_ids = args[0] if isinstance(args, list) and args else None
    if not isinstance(account_ids, list):
        raise fail("invalid input syntax for type uuid array")
    for candidate in account_ids:
        if not is_valid_uuid(candidate):
            raise fail(f'invalid input syntax for type uuid: "{js_string(candidate)}"')
    return names_of(ctx, account_ids)


def _epoch_ms(value: Any) -> int | None:
    moment = parse_time(value) if value else None
    return None if moment is None else int(moment.timestamp() * 1000)


def _search_result(account: dict, with_email: bool) -> dict:
    found = {"account_id": account["account_id"], "first_name": account.get("first_name"),
             "last_name": account.get("last_name"), "name": account.get("name"),
             "last_active": _epoch_ms(account.get("last_active")), "created": _epoch_ms(account.get("created")),
             "email_address_verified": None}
    if with_email:
        found["email_address"] = account.get("email_address")
    return found


async def _user_search(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    if opts.get("admin"):
        raise fail("Must be an admin to do admin search.")
    query = js_string(opts.get("query", UNDEFINED)).strip()
    limit_value = js_number(opts.get("limit")) if not nullish(opts.get("limit")) else None
    limit = min(int(limit_value) if limit_value is not None else USER_SEARCH_LIMIT, USER_SEARCH_MAX)
    accounts = [json.loads(row["doc"]) for row in ctx.store.db.execute("SELECT doc FROM accounts")]
    accounts = [a for a in accounts if not a.get("deleted") and not a.get("banned")]
    if is_valid_uuid(query):
        return [_search_result(a, False) for a in accounts if a["account_id"] == query]
    if "@" in query and " " not in query:
        wanted = query.lower()
        return [_search_result(a, True) for a in accounts if (a.get("email_address") or "").lower() == wanted]
    if opts.get("only_email"):
        return []
    words = [word.lower() for word in query.replace(",", " ").split() if word]
    if not words:
        return []

    def matches(account: dict) -> bool:
        names = [(account.get("first_name") or "").lower(), (account.get("last_name") or "").lower()]
        return all(any(name.startswith(word) for name in names) for word in words)

    found = [_search_result(a, False) for a in accounts if matches(a)]
    found.sort(key=lambda u: max(u["last_active"] or 0, u["created"] or 0), reverse=True)
    return found[:max(limit, 0)]


# -- projects -------------------------------------------------------------------------------

def _require_collaborator(ctx: Context, account_id: str, project_id: Any, verb: str) -> str:
    if not ctx.is_collaborator(account_id, project_id):
        raise fail(f"must be collaborator on project to {_COLLABORATOR_VERBS[verb]}")
    return project_id


async def _create_project(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    project = new_project(account_id, opts.get("title", UNDEFINED), opts.get("description", UNDEFINED))
    ctx.store.insert_project(project)
    ctx.filesystem(project["project_id"])
    return project["project_id"]


def _project_action(verb: str):
    async def action(ctx: Context, account_id: str, args: Any) -> Any:
        opts = first_arg_with_caller(args, "account_id", account_id)
        project_id = _require_collaborator(ctx, account_id, opts.get("project_id"), verb)
        if verb == "start":
            ctx.control.touch(project_id)
            await ctx.control.start(project_id)
        elif verb == "stop":
            await ctx.control.stop(project_id)
        elif verb == "touch":
            ctx.control.touch(project_id, account_id)
            await ctx.control.start(project_id)
        elif verb == "state":
            project = ctx.store.get_project(project_id) or {}
            return project.get("state") or {"state": "opened", "time": iso_now()}
        elif verb == "status":
            return await _status(ctx, project_id)
        return UNDEFINED
    return action


async def _status(ctx: Context, project_id: str) -> dict:
    """``ProjectStatus`` (``util/db-schema/projects.ts``): what a running project reports; ``{}`` when stopped."""
    state = (ctx.store.get_project(project_id) or {}).get("state") or {}
    if state.get("state") != "running":
        return {}
    root = ctx.filesystem(project_id).root
    used = await asyncio.to_thread(lambda: sum(e.stat(follow_symlinks=False).st_size for e in _walk(root)))
    return {"start_ts": _epoch_ms(state.get("time")), "disk_MB": round(used / 1e6, 3), "installed": True}


def _walk(directory):
    with os.scandir(directory) as entries:
        for entry in entries:
            yield entry
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(entry.path)


async def _delete_project(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    project_id = opts.get("project_id")
    if not is_valid_uuid(project_id):
        raise fail("project_id must be a valid UUID")
    if not ctx.is_collaborator(account_id, project_id):
        raise fail("must be an owner to delete a project")
    await ctx.control.stop(str(project_id))
    project = _existing_project(ctx, project_id)
    project["deleted"] = True
    ctx.store.save_project(project)
    return UNDEFINED


def _existing_project(ctx: Context, project_id: Any) -> dict:
    """The project's row (``ownership-checks.ts``'s text if it is gone)."""
    project = ctx.store.get_project(str(project_id))
    if project is None:
        raise fail(f"Project not found: {js_string(project_id)}")
    return project


def _collaborator_opts(args: Any, account_id: str) -> dict:
    opts = first_arg_with_caller(args, "account_id", account_id).get("opts")
    if not isinstance(opts, dict):
        raise MethodError("TypeError: Cannot read properties of undefined (reading 'project_id')")
    return opts


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


async def _add_collaborator(ctx: Context, account_id: str, args: Any) -> Any:
    opts = _collaborator_opts(args, account_id)
    projects, accounts = _as_list(opts.get("project_id")), _as_list(opts.get("account_id"))
    for project_id in projects:
        if not is_valid_uuid(project_id) or not ctx.is_collaborator(account_id, project_id):
            raise fail(f"user {account_id} does not have write access to project {js_string(project_id)}")
    if len(projects) != len(accounts):
        raise fail("accounts and projects must be of the same length")
    for new_account in accounts:
        if not is_valid_uuid(new_account) or ctx.store.get_account(new_account) is None:
            raise fail(f"invalid account_id '{js_string(new_account)}'")
    for project_id, new_account in zip(projects, accounts, strict=True):
        project = _existing_project(ctx, project_id)
        users = project.setdefault("users", {})
        if not in_project(project, new_account):
            users[new_account] = {"group": "collaborator"}
        ctx.store.save_project(project)
    return {"project_id": opts.get("project_id")}


async def _remove_collaborator(ctx: Context, account_id: str, args: Any) -> Any:
    opts = _collaborator_opts(args, account_id)
    project_id, target = opts.get("project_id"), opts.get("account_id")
    if not ctx.is_collaborator(account_id, project_id):
        raise fail("user must be a collaborator")
    if not is_valid_uuid(target):
        raise fail(f"Invalid account_id: {js_string(target)}")
    project = _existing_project(ctx, project_id)
    users = project.get("users") or {}
    if (users.get(target) or {}).get("group") == "owner":
        raise fail("Cannot remove an owner. Demote to collaborator first.")
    users.pop(target, None)
    project["users"] = users
    ctx.store.save_project(project)
    return UNDEFINED


async def _copy_path(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    source_id, target_id = opts.get("src_project_id"), opts.get("target_project_id")
    if not ctx.is_collaborator(account_id, source_id):
        raise fail("user must be collaborator on source project")
    if target_id and target_id != source_id and not ctx.is_collaborator(account_id, target_id):
        raise fail("user must be collaborator on target project")
    source_id, target_id = str(source_id), str(target_id or source_id)
    src_path = js_string(opts.get("src_path", UNDEFINED))
    target_path = src_path if nullish(opts.get("target_path")) else js_string(opts["target_path"])
    await ctx.control.ensure_running(source_id)
    try:
        source = ctx.filesystem(source_id).host_path(src_path)
        target = ctx.filesystem(target_id).host_path(target_path)
    except PathOutsideProject as err:
        raise fail(str(err)) from None
    if not source.exists() and not source.is_symlink():
        raise fail(f"rsync: link_stat \"{src_path}\" failed: No such file or directory (2)")
    if source == target or source in target.parents:
        raise fail(f"cannot copy '{src_path}' into itself ('{target_path}')")
    try:
        await asyncio.to_thread(_copy_tree, source, target)
    except OSError as err:  # its text would name paths on this machine
        raise fail(f"copying '{src_path}' to '{target_path}' failed: {err.strerror or 'i/o error'}") from None
    return UNDEFINED


def _copy_tree(source, target) -> None:
    # Symlinks are copied as links, never followed: a link must not carry another project's files over.
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target, follow_symlinks=False)


# -- db -------------------------------------------------------------------------------------

async def _user_query(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    try:
        result = await UserQuery(ctx, account_id).run(opts.get("query", UNDEFINED))
    except QueryError as err:
        raise MethodError(str(err)) from None  # a rejected string: no "Error: " prefix
    return result


async def _db_touch(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    project_id = opts.get("project_id")
    if nullish(project_id) or not project_id:
        account = ctx.store.get_account(account_id)
        if account is not None:
            account["last_active"] = iso_now()
            ctx.store.save_account(account)
        return UNDEFINED
    if not ctx.is_collaborator(account_id, project_id):
        raise fail("user must be collaborator on project")
    ctx.control.touch(project_id, account_id)
    return UNDEFINED


# -- jupyter --------------------------------------------------------------------------------

async def _jupyter_kernels(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    try:
        return await jupyter.kernels_for(ctx, account_id, opts.get("project_id"))
    except JupyterError as err:
        raise fail(str(err)) from None
    except ProjectCallTimeout:
        raise MethodError("timeout") from None  # callProject rejects with the bare string after 60 s


async def _jupyter_execute(ctx: Context, account_id: str, args: Any) -> Any:
    opts = first_arg_with_caller(args, "account_id", account_id)
    try:
        return await jupyter.execute_request(ctx, account_id, opts)
    except JupyterError as err:
        raise fail(str(err)) from None
    except ProjectCallTimeout:
        raise MethodError("timeout") from None


_METHODS = {
    "system.ping": _ping, "system.test": _test, "system.getNames": _get_names, "system.userSearch": _user_search,
    "projects.createProject": _create_project, "projects.deleteProject": _delete_project,
    **{f"projects.{verb}": _project_action(verb) for verb in _COLLABORATOR_VERBS},
    "projects.addCollaborator": _add_collaborator, "projects.removeCollaborator": _remove_collaborator,
    "projects.copyPathBetweenProjects": _copy_path,
    "db.userQuery": _user_query, "db.touch": _db_touch,
    "jupyter.kernels": _jupyter_kernels, "jupyter.execute": _jupyter_execute,
}
