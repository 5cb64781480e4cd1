"""The ``user-query`` endpoint: CoCalc's get/set user queries on accounts, projects, projects_all.

Facts followed (``pages/api/v2/user-query.ts``, ``database/postgres-user-queries.coffee``
and its TS port ``database/user-query/queries.ts``, ``user-get-query.ts``,
``util/db-schema/accounts.ts`` and ``projects.ts``):

- Only ``query`` is read; the reply is ``{"query": result}`` or ``{"error": text}``.
- A query with any ``null`` leaf (at any depth) is a get; otherwise it is a set.
- Get: only the requested fields; non-null fields filter (equality, or one comparison
  such as ``{">=": 5}``); schema defaults replace nulls (and fill missing keys of
  object defaults). A single-object result keeps its other nulls, array results drop
  null fields (CoffeeScript ``for obj in x`` never iterates a plain object). No match
  gives ``{"query":{}}`` because the table key is undefined.
- ``projects`` adds ``last_edited >= NOW() - 6 weeks``, limit 300, newest first;
  ``projects_all`` is the same without cutoff or limit. With a truthy ``project_id`` the
  caller must collaborate on it.
- Set: ``{"query":{}}`` on success; the primary key names the row; fields outside the
  set list are ``FATAL: changing <table>.<field> not allowed``; map fields merge deeply
  (a null value deletes the key); ``first_name``/``last_name`` must stay nonempty; a new
  ``action_request`` runs that action (start/stop/restart) *instead of* the update.
"""

from __future__ import annotations

import copy
import datetime as _dt
from typing import Any

from .collaborators import COLLABORATOR_GROUPS, in_project
from .context import Context
from .errors import ApiError, QueryError
from .handler import ApiHandler
from .jsutil import UNDEFINED, is_valid_uuid, iso_now, js_string, parse_time
from .schema import PROJECTS_CUTOFF, PROJECTS_LIMIT, TABLES, Table

_OPERATORS = {"=", "==", "!=", "<>", ">", ">=", "<", "<=", "is", "is not", "IS", "IS NOT"}


def has_null_leaf(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(v is None or (isinstance(v, (dict, list)) and has_null_leaf(v)) for v in items)


def _comparison(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        op = next(iter(value))
        if op in _OPERATORS:
            return op
    return None


def _comparable(value: Any, is_time: bool) -> Any:
    if is_time:
        moment = parse_time(value)
        return moment if moment is not None else value
    return value


def _matches(row_value: Any, wanted: Any, is_time: bool) -> bool:
    """One where-condition of userGetQueryFilter, with SQL's NULL rules."""
    op = _comparison(wanted)
    if op is None:
        op, operand = "=", wanted
    else:
        operand = wanted[op]
    op = op.lower()
    if op in ("is", "is not"):
        target = {"null": None, "true": True, "false": False}.get(js_string(operand).lower(), operand)
        return (row_value is target or row_value == target) == (op == "is")
    if row_value is None or operand is None:
        return False
    left, right = _comparable(row_value, is_time), _comparable(operand, is_time)
    try:
        if op in ("=", "=="):
            return left == right
        if op in ("!=", "<>"):
            return left != right
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    except TypeError:
        return False


def deep_merge(old: Any, new: Any) -> Any:
    """jsonb merge of a set query: objects merge recursively, a null value deletes the key."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    merged = dict(old)
    for key, value in new.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged.get(key), value)
    return merged


class UserQuery:
    def __init__(self, ctx: Context, account_id: str | None):
        self.ctx, self.account_id = ctx, account_id

    async def run(self, query: Any) -> Any:
        if isinstance(query, list):  # _user_query_array: one result per query, in order
            return [await self.run(item) for item in query]
        # lodash.keys: a string's keys are its indices, any other non-object has none.
        if isinstance(query, dict):
            keys = list(query)
        elif isinstance(query, str):
            keys = [str(i) for i in range(len(query))]
        else:
            keys = []
        if len(keys) > 1:
            raise QueryError("FATAL: must specify exactly one key in the query")
        table = keys[0] if keys else "undefined"
        body = query.get(table, UNDEFINED) if isinstance(query, dict) else query[0] if keys else UNDEFINED
        multi = isinstance(body, list)
        if isinstance(body, list):
            if len(body) > 1:
                raise QueryError("FATAL: array of length > 1 not yet implemented")
            body = body[0] if body else UNDEFINED
        if not isinstance(body, dict):
            raise QueryError(f"FATAL: invalid user_query of '{table}' -- query must be an object")
        if has_null_leaf(body):
            return {table: self.get(table, copy.deepcopy(body), multi)}
        if not self.account_id:
            raise QueryError("FATAL: no anonymous set queries")
        await self.set(table, copy.deepcopy(body), self.account_id)
        return {table: UNDEFINED}

    # -- get ------------------------------------------------------------------------------

    def get(self, name: str, query: dict, multi: bool) -> Any:
        table = TABLES.get(name)
        if table is None:
            raise QueryError(f"FATAL: get queries not allowed for table '{name}'")
        if not self.account_id:
            raise QueryError(f"FATAL: anonymous get queries not allowed for table '{name}'")
        for field in query:
            if field not in table.get_fields:
                raise QueryError(f"FATAL: user get query not allowed for {name}.{field}")
        rows = self._candidate_rows(table, query, self.account_id)
        rows = [r for r in rows if all(_matches(r.get(f), v, f in table.time_fields)
                                       for f, v in query.items() if v is not None)]
        if table.cutoff:
            rows = rows[:PROJECTS_LIMIT]
        if not multi:
            rows = rows[:1]
        results = [self._select(table, row, query) for row in rows]
        if not multi:
            return results[0] if results else UNDEFINED
        return [{k: v for k, v in row.items() if v is not None} for row in results]

    def _candidate_rows(self, table: Table, query: dict, account_id: str) -> list[dict]:
        store = self.ctx.store
        if not table.projects:
            account = store.get_account(account_id)
            return [account] if account else []
        project_id = query.get("project_id")
        if project_id:  # the 'projects' pg_where: a read-access check on that one project
            if not self._in_project(project_id):
                raise QueryError(f"FATAL: you do not have read access to this project -- "
                                 f"account_id={self.account_id}, project_id_=undefined")
            project = store.get_project(project_id)
            rows = [project] if project is not None else []
        else:
            rows = store.projects_of(account_id)
        if table.cutoff:
            oldest = _dt.datetime.now(_dt.timezone.utc) - PROJECTS_CUTOFF
            rows = [r for r in rows if (parse_time(r.get("last_edited")) or oldest) >= oldest]
        return rows

    def _in_project(self, project_id: Any) -> bool:
        if not is_valid_uuid(project_id):
            raise QueryError(f'invalid input syntax for type uuid: "{js_string(project_id)}"')
        return in_project(self.ctx.store.get_project(project_id), self.account_id)

    @staticmethod
    def _select(table: Table, row: dict, query: dict) -> dict:
        selected = {}
        for field in query:
            value = copy.deepcopy(row.get(field))
            default = table.get_fields.get(field)
            if default is not None:
                if value is None:
                    value = copy.deepcopy(default)
                elif isinstance(default, dict) and isinstance(value, dict):
                    for key, fallback in default.items():
                        if value.get(key) is None:
                            value[key] = copy.deepcopy(fallback)
            selected[field] = value
        return selected

    # -- set ------------------------------------------------------------------------------

    async def set(self, name: str, query: dict, account_id: str) -> None:
        table = TABLES.get(name)
        if table is None:
            raise QueryError(f"FATAL: table '{name}' does not exist")
        if not any(table.set_fields.get(f) not in ("account_id", "project_write") for f in query):
            return  # _mod_fields: nothing would change
        if table.projects:
            project_id = query.get("project_id")
            if project_id is None:
                raise QueryError(f"FATAL: must specify {name}.project_id")
        else:
            query["account_id"] = account_id
        for field in query:
            if field != table.primary_key and field not in table.set_fields:
                raise QueryError(f"FATAL: changing {name}.{field} not allowed")
        if table.projects:
            await self._set_project(name, query)
        else:
            self._set_account(query, account_id)

    def _set_account(self, query: dict, account_id: str) -> None:
        for field in ("first_name", "last_name"):
            if query.get(field) is not None:
                query[field] = js_string(query[field])[:254]
                if not query[field]:
                    raise QueryError(f"{field} must be nonempty")
        account = self.ctx.store.get_account(account_id)
        if account is None:
            raise QueryError(f"no account with id {account_id}")
        self._apply(TABLES["accounts"], account, query)
        self.ctx.store.save_account(account)

    async def _set_project(self, name: str, query: dict) -> None:
        project_id = query["project_id"]
        if not is_valid_uuid(project_id):
            raise QueryError(f'invalid input syntax for type uuid: "{js_string(project_id)}"')
        project = self.ctx.store.get_project(project_id)
        if project is None:
            raise QueryError(f"FATAL: unknown project_id '{project_id}'")
        if not self._in_project(project_id):
            raise QueryError("FATAL: user must be an admin")
        if "users" in query and query["users"] is not None:
            query["users"] = self._checked_users(query["users"])
        request = query.get("action_request")
        old_request = project.get("action_request") or {}
        if isinstance(request, dict) and js_string(request.get("time")) != js_string(old_request.get("time")):
            await self._project_action(project_id, request)
            return  # before_change answered "stop": the rest of the set is not applied
        self._apply(TABLES[name], project, query)
        self.ctx.store.save_project(project)

    @staticmethod
    def _checked_users(users: Any) -> dict:
        if not isinstance(users, dict):
            return {}
        checked = {}
        for user_id, entry in users.items():
            if not is_valid_uuid(user_id):
                continue
            for key in entry or {}:
                if key not in ("group", "hide", "upgrades", "ssh_keys"):
                    raise QueryError(f"FATAL: error setting 'users' -- Error: unknown field '{key}")
            if (entry or {}).get("group") not in (None, *COLLABORATOR_GROUPS):
                raise QueryError("FATAL: error setting 'users' -- Error: invalid value for field 'group'")
            if "hide" in (entry or {}) and not isinstance(entry["hide"], bool):
                raise QueryError("FATAL: error setting 'users' -- Error: invalid type for field 'hide'")
            checked[user_id] = entry
        return checked

    async def _project_action(self, project_id: str, request: dict) -> None:
        """project_action in postgres-user-queries: record start/finish around the action itself."""
        action = request.get("action")
        if action == "test":
            return
        record = {"action": action, "time": request.get("time"), "started": iso_now()}
        self._save_action_request(project_id, record)
        control = self.ctx.control
        try:
            if action == "start":
                await control.start(project_id)
            elif action == "stop":
                await control.stop(project_id)
            elif action == "restart":
                await control.restart(project_id)
            else:
                raise QueryError(f"FATAL: action '{js_string(action)}' not implemented")
        except QueryError as err:
            record["err"] = str(err)
        record["finished"] = iso_now()
        self._save_action_request(project_id, record)

    def _save_action_request(self, project_id: str, record: dict) -> None:
        project = self.ctx.store.get_project(project_id)
        if project is not None:
            project["action_request"] = record
            self.ctx.store.save_project(project)

    @staticmethod
    def _apply(table: Table, row: dict, query: dict) -> None:
        for field, value in query.items():
            if field == table.primary_key or value is None:
                continue  # allow_field_deletes is off: nulls are dropped from a set
            if field in table.map_fields:
                row[field] = deep_merge(row.get(field), value)
            else:
                row[field] = value


class UserQueryHandler(ApiHandler):
    async def handle(self) -> Any:
        try:
            result = await UserQuery(self.ctx, self.caller).run(self.param("query"))
        except (QueryError, ApiError) as err:
            return {"error": str(err)}
        return {"query": result}


ROUTES = [(r"/api/v2/user-query", UserQueryHandler)]
