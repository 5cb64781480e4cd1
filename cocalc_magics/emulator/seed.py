"""The seeded accounts: created with a data directory, given a fresh API key on every start.

Only key hashes are stored, so a key cannot be shown again later; each start therefore
mints a new key per seed account (earlier keys keep working) and the ready line prints it.
"""

from __future__ import annotations

import uuid
from typing import Any

from .context import Context
from .jsutil import iso_now
from .project_control import new_project

SEED_ACCOUNTS = (
    {"email_address": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
     "project_title": "Emulator project"},
    {"email_address": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
     "project_title": "Second project"},
)


def ensure_seeded(ctx: Context) -> list[dict]:
    """The seed accounts as ``[{account_id, email_address, project_id}]``, creating them once."""
    seeded = ctx.store.get_meta("seed")
    if seeded:
        return seeded
    seeded = []
    for spec in SEED_ACCOUNTS:
        now = iso_now()
        account: dict[str, Any] = {"account_id": str(uuid.uuid4()), "email_address": spec["email_address"],
                   "first_name": spec["first_name"], "last_name": spec["last_name"], "name": None,
                   "created": now, "last_active": now, "groups": [], "profile": None}
        ctx.store.insert_account(account)
        project = new_project(account["account_id"], spec["project_title"], "")
        ctx.store.insert_project(project)
        ctx.filesystem(project["project_id"])
        seeded.append({"account_id": account["account_id"], "email_address": account["email_address"],
                       "project_id": project["project_id"]})
    ctx.store.set_meta("seed", seeded)
    return seeded


def mint_start_keys(ctx: Context, seeded: list[dict]) -> list[dict]:
    """One new account-wide key per seed account, merged into the seed records."""
    return [{"api_key": ctx.keys.create(entry["account_id"], name="emulator start")["secret"], **entry}
            for entry in seeded]
