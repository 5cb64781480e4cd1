"""The tables user queries reach, as CoCalc's schema declares them (``util/db-schema/accounts.ts``,
``projects.ts``): which fields a get may read (with their defaults), which a set may write, which are jsonb
maps and which are timestamps.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

PROJECTS_CUTOFF = _dt.timedelta(weeks=6)
PROJECTS_LIMIT = 300
_SETTINGS_DEFAULT = {"cores": 1, "cpu_shares": 0, "disk_quota": 3000, "memory": 1000, "memory_request": 0,
                     "mintime": 1800, "network": 0, "member_host": 0, "ephemeral_state": 0,
                     "ephemeral_disk": 0, "always_running": 0}


@dataclass(frozen=True)
class Table:
    """One table as user queries see it (``user_query.get.fields`` / ``set.fields`` of its schema)."""

    name: str
    primary_key: str
    get_fields: dict  # field -> default (None: no default)
    set_fields: dict  # field -> True, or the check on the primary key ("account_id", "project_write")
    map_fields: set  # jsonb fields: a set merges into them
    time_fields: set  # timestamps: compared as dates
    projects: bool = False  # rows are the caller's projects
    cutoff: bool = False  # the 'projects' table: last 6 weeks, at most PROJECTS_LIMIT rows


_ACCOUNT_GET: dict[str, Any] = {
    "account_id": None, "email_address": None, "name": None, "first_name": "", "last_name": "",
    "created": None, "last_active": None, "groups": [], "profile": {"color": "rgb(170,170,170)"},
    "other_settings": {"katex": True, "confirm_close": False, "mask_files": False, "page_size": 500,
                       "standby_timeout_m": 15, "first_steps": True, "newsletter": False,
                       "time_ago_absolute": False, "no_free_warnings": False, "allow_mentions": True,
                       "dark_mode": False, "i18n": "en"},
    "editor_settings": {"line_wrapping": True, "line_numbers": True, "bindings": "standard",
                        "theme": "default", "tab_size": 4, "indent_unit": 4},
    "terminal": {"font_size": 14, "color_scheme": "default", "font": "monospace"},
    "autosave": 45, "evaluate_key": "Shift-Enter", "font_size": 14, "passports": {}, "ssh_keys": {},
    "unlisted": False, "tags": None, "tours": None, "email_address_verified": None,
    "email_address_problem": None, "org": None, "lti_id": None, "stripe_checkout_session": None,
    "stripe_customer": None, "coupon_history": None, "customize": None, "ephemeral": None,
    "min_balance": None, "balance": None, "balance_alert": None, "auto_balance": None,
    "purchase_closing_day": None, "stripe_usage_subscription": None, "email_daily_statements": None,
    "unread_message_count": None,
}
_ACCOUNT_SET: dict[str, bool | str] = {name: True for name in (
    "name", "editor_settings", "other_settings", "first_name", "last_name", "terminal", "autosave",
    "evaluate_key", "font_size", "profile", "ssh_keys", "sign_up_usage_intent", "unlisted", "tags", "tours",
    "email_daily_statements", "auto_balance")}
_ACCOUNT_SET["account_id"] = "account_id"
_PROJECT_GET = {
    "project_id": None, "name": None, "title": "", "description": "", "users": {}, "invite": None,
    "invite_requests": None, "deleted": None, "host": None, "settings": _SETTINGS_DEFAULT, "run_quota": None,
    "site_license": None, "status": None, "secret_token": None, "state": None, "last_edited": None,
    "last_active": None, "action_request": None, "course": None, "compute_image": "default", "created": None,
    "env": None, "sandbox": None, "avatar_image_tiny": None, "color": None, "pay_as_you_go_quotas": None,
    "snapshots": None, "backups": None, "rootfs_image": None,
}
_PROJECT_SET: dict[str, bool | str] = {name: True for name in (
    "title", "name", "description", "deleted", "invite_requests", "users", "action_request", "compute_image",
    "rootfs_image", "site_license", "env", "sandbox", "avatar_image_tiny", "avatar_image_full", "snapshots",
    "backups", "color")}
_PROJECT_SET["project_id"] = "project_write"
_ACCOUNT_MAPS = {"profile", "other_settings", "editor_settings", "terminal", "passports", "ssh_keys",
                 "email_address_verified", "email_address_problem", "stripe_checkout_session",
                 "stripe_customer", "coupon_history", "customize", "auto_balance"}
_PROJECT_MAPS = {"users", "invite", "invite_requests", "host", "settings", "run_quota", "site_license", "status",
                 "state", "last_active", "action_request", "course", "env", "pay_as_you_go_quotas", "snapshots",
                 "backups"}

TABLES = {
    "accounts": Table("accounts", "account_id", _ACCOUNT_GET, _ACCOUNT_SET, _ACCOUNT_MAPS,
                      {"created", "last_active"}),
    "projects": Table("projects", "project_id", _PROJECT_GET, _PROJECT_SET, _PROJECT_MAPS,
                      {"created", "last_edited"}, projects=True, cutoff=True),
    "projects_all": Table("projects_all", "project_id", _PROJECT_GET, _PROJECT_SET, _PROJECT_MAPS,
                          {"created", "last_edited"}, projects=True),
}
