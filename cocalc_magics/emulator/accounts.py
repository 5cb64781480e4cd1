"""Account endpoints: ``accounts/profile``, ``accounts/get-names`` and ``api-keys``.

Facts followed (``pages/api/v2/accounts/profile.ts``, ``server/accounts/profile/*.ts``,
``pages/api/v2/api-keys.ts``, ``server/api/manage.ts``):

- profile without ``account_id``: your private profile, or ``{"profile":{}}`` when not
  signed in; with ``account_id``: that account's public profile. Unknown ids fail with
  ``no account with id <id>`` (which is also what a project key gets).
- api-keys: ``{"response": ...}``; actions get/create/delete/edit; ``project_id`` makes
  it a key of that project (caller must collaborate); create returns rows carrying
  ``secret`` and ``trunc``; delete and edit return nothing (so ``{}``).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .handler import ApiHandler
from .jsutil import UNDEFINED, is_valid_uuid, iso, js_string, nullish, parse_time


def _account(ctx: Any, account_id: Any) -> dict:
    if not is_valid_uuid(account_id):
        raise ApiError(f'invalid input syntax for type uuid: "{js_string(account_id)}"')
    account = ctx.store.get_account(account_id)
    if account is None:
        raise ApiError(f"no account with id {account_id}")
    return account


def public_profile(account: dict) -> dict:
    profile = account.get("profile") or {}
    return {
        "account_id": account["account_id"],
        "first_name": account.get("first_name") if account.get("first_name") is not None else "Anonymous",
        "last_name": account.get("last_name") if account.get("last_name") is not None else "User",
        "image": profile.get("image", UNDEFINED),
        "color": profile.get("color", UNDEFINED),
        "name": account.get("name"),
    }


class ProfileHandler(ApiHandler):
    async def handle(self) -> Any:
        account_id = self.param("account_id")
        if not nullish(account_id):
            return {"profile": public_profile(_account(self.ctx, account_id))}
        if self.caller is None:
            return {"profile": {}}
        account = _account(self.ctx, self.caller)
        groups = account.get("groups") or []
        return {"profile": {**public_profile(account), "is_admin": "admin" in groups,
                            "is_partner": "partner" in groups, "email_address": account.get("email_address")}}


def names_of(ctx: Any, account_ids: list) -> dict:
    """``getNames`` (``server/accounts/get-name.ts``): unknown ids read as ``Deleted User``."""
    names = {}
    for account_id in account_ids:
        account = ctx.store.get_account(account_id) if is_valid_uuid(account_id) else None
        if account is None:
            names[js_string(account_id)] = {"first_name": "Deleted", "last_name": "User"}
        else:
            profile = account.get("profile")
            names[account_id] = {"first_name": account.get("first_name"), "last_name": account.get("last_name"),
                                 **({"profile": profile} if profile else {})}
    return names


class GetNamesHandler(ApiHandler):
    async def handle(self) -> Any:
        if not self.caller:
            raise ApiError("must be signed in")
        account_ids = self.param("account_ids")
        return {"names": names_of(self.ctx, account_ids if isinstance(account_ids, list) else [])}


def _key_row(row: dict) -> dict:
    return {key: row.get(key) for key in ("id", "account_id", "expire", "created", "name", "trunc", "last_active")}


class ApiKeysHandler(ApiHandler):
    async def handle(self) -> Any:
        account_id = self.caller
        if not account_id:
            raise ApiError("must be signed in")
        if self.ctx.store.get_account(account_id) is None:
            raise ApiError("account_id is not a valid account")
        action, project_id, name, expire, key_id = (
            self.param(p) for p in ("action", "project_id", "name", "expire", "id"))
        project_id = None if nullish(project_id) else project_id
        if project_id is not None and not self.ctx.is_collaborator(account_id, project_id):
            raise ApiError("user must be collaborator on project to manage project_id api keys")
        store = self.ctx.store
        if action == "get":
            if nullish(key_id) or not key_id:
                return {"response": [_key_row(r) for r in store.list_api_keys(account_id, project_id)]}
            row = self._owned(account_id, project_id, key_id)
            return {"response": [None if row is None else _key_row(row)]}
        if action == "create":
            expire_at = self._expire(expire)
            created = self.ctx.keys.create(account_id, project_id, None if nullish(name) else js_string(name),
                                           expire_at)
            return {"response": [created]}
        if action == "delete":
            if self._owned(account_id, project_id, key_id) is not None:
                store.delete_api_key(int(key_id), account_id=account_id, project_id=project_id)
            return {}
        if action == "edit":
            row = self._owned(account_id, project_id, key_id)
            if row is None:
                raise ApiError(f"no api key with id {js_string(key_id)}")
            changes: dict[str, str | None] = {}
            if not nullish(name) and row["name"] != name:
                changes["name"] = js_string(name)
            if expire is not UNDEFINED:
                changes["expire"] = self._expire(expire)
            if changes:
                store.update_api_key(int(key_id), **changes)
            return {}
        return {}

    def _owned(self, account_id: str, project_id: str | None, key_id: Any) -> dict | None:
        try:
            row = self.ctx.store.get_api_key(int(key_id))
        except (TypeError, ValueError):
            return None
        if row is None:
            return None
        if project_id:
            return row if row["project_id"] == project_id else None
        return row if row["account_id"] == account_id else None

    @staticmethod
    def _expire(expire: Any) -> str | None:
        if nullish(expire):
            return None
        moment = parse_time(expire)
        if moment is None:
            raise ApiError(f'invalid input syntax for type timestamp: "{js_string(expire)}"')
        return iso(moment)


ROUTES = [
    (r"/api/v2/accounts/profile", ProfileHandler),
    (r"/api/v2/accounts/get-names", GetNamesHandler),
    (r"/api/v2/api-keys", ApiKeysHandler),
]
