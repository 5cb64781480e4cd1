"""SQLite state of the emulator: accounts, API keys, projects and blobs.

The tables mirror the CoCalc tables the API touches (``accounts``, ``api_keys``,
``projects``, ``blobs``). Rows that CoCalc keeps as many loosely-typed columns (a
project's ``users`` map, ``state``, ``title`` ...) are stored here as one JSON document
per row: the user-query engine filters them in Python, and there are only ever a few.

All access happens on the server's one IOLoop thread; each statement is short, so
synchronous SQLite does not hold up other requests.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id    TEXT PRIMARY KEY,
    email_address TEXT UNIQUE,
    api_key       TEXT UNIQUE,      -- legacy per-account key (accounts.api_key in CoCalc)
    doc           TEXT NOT NULL     -- JSON: first_name, last_name, created, profile, ...
);
CREATE TABLE IF NOT EXISTS api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- encoded in the key's last 6 chars
    account_id  TEXT NOT NULL,
    project_id  TEXT,                               -- set for project-specific keys
    name        TEXT,
    trunc       TEXT,
    hash        TEXT,
    created     TEXT NOT NULL,
    expire      TEXT,
    last_active TEXT
);
CREATE TABLE IF NOT EXISTS projects (
    project_id  TEXT PRIMARY KEY,
    last_edited TEXT NOT NULL,
    doc         TEXT NOT NULL       -- JSON: title, description, users, state, deleted, ...
);
CREATE TABLE IF NOT EXISTS blobs (
    uuid    TEXT PRIMARY KEY,
    data    BLOB NOT NULL,
    expire  REAL                    -- seconds since the epoch; NULL never expires
);
"""


class Store:
    """Thin query layer over one SQLite file in the data directory."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None)
        self.path.chmod(0o600)  # it holds every account's (hashed) keys; the -wal/-shm follow the umask
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row["value"])

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, json.dumps(value)),
        )

    # -- accounts ---------------------------------------------------------------------

    def insert_account(self, account: dict) -> None:
        self.db.execute(
            "INSERT INTO accounts(account_id, email_address, api_key, doc) VALUES(?, ?, ?, ?)",
            (account["account_id"], account.get("email_address"), account.get("api_key"), json.dumps(account)),
        )

    def get_account(self, account_id: str) -> dict | None:
        row = self.db.execute("SELECT doc FROM accounts WHERE account_id=?", (account_id,)).fetchone()
        return None if row is None else json.loads(row["doc"])

    def account_id_for_legacy_key(self, secret: str) -> str | None:
        row = self.db.execute("SELECT account_id FROM accounts WHERE api_key=?", (secret,)).fetchone()
        return None if row is None else row["account_id"]

    def save_account(self, account: dict) -> None:
        self.db.execute(
            "UPDATE accounts SET email_address=?, api_key=?, doc=? WHERE account_id=?",
            (account.get("email_address"), account.get("api_key"), json.dumps(account), account["account_id"]),
        )

    # -- api keys ---------------------------------------------------------------------

    def insert_api_key(self, account_id: str, project_id: str | None, name: str | None,
                       created: str, expire: str | None) -> int:
        cursor = self.db.execute(
            "INSERT INTO api_keys(account_id, project_id, name, created, expire) VALUES(?, ?, ?, ?, ?)",
            (account_id, project_id, name, created, expire),
        )
        assert cursor.lastrowid is not None  # set by every successful INSERT
        return cursor.lastrowid

    def set_api_key_secret(self, key_id: int, trunc: str, hash_: str) -> None:
        self.db.execute("UPDATE api_keys SET trunc=?, hash=? WHERE id=?", (trunc, hash_, key_id))

    def get_api_key(self, key_id: int) -> dict | None:
        row = self.db.execute("SELECT * FROM api_keys WHERE id=?", (key_id,)).fetchone()
        return None if row is None else dict(row)

    def list_api_keys(self, account_id: str, project_id: str | None) -> list[dict]:
        # server/api/manage.ts: project keys are listed per project, account keys per account.
        if project_id:
            rows = self.db.execute(
                "SELECT * FROM api_keys WHERE project_id=? ORDER BY created DESC, id DESC", (project_id,))
        else:
            rows = self.db.execute(
                "SELECT * FROM api_keys WHERE account_id=? AND project_id IS NULL ORDER BY created DESC, id DESC",
                (account_id,))
        return [dict(row) for row in rows]

    def delete_api_key(self, key_id: int, account_id: str | None = None, project_id: str | None = None) -> None:
        if project_id:
            self.db.execute("DELETE FROM api_keys WHERE id=? AND project_id=?", (key_id, project_id))
        elif account_id:
            self.db.execute("DELETE FROM api_keys WHERE id=? AND account_id=?", (key_id, account_id))
        else:
            self.db.execute("DELETE FROM api_keys WHERE id=?", (key_id,))

    def update_api_key(self, key_id: int, **fields: Any) -> None:
        for column in fields:
            if column not in ("name", "expire", "last_active"):
                raise ValueError(f"not an updatable api_keys column: {column}")
        assignments = ", ".join(f"{column}=?" for column in fields)
        self.db.execute(f"UPDATE api_keys SET {assignments} WHERE id=?", (*fields.values(), key_id))

    # -- projects ---------------------------------------------------------------------

    def insert_project(self, project: dict) -> None:
        self.db.execute(
            "INSERT INTO projects(project_id, last_edited, doc) VALUES(?, ?, ?)",
            (project["project_id"], project["last_edited"], json.dumps(project)),
        )

    def get_project(self, project_id: str) -> dict | None:
        row = self.db.execute("SELECT doc FROM projects WHERE project_id=?", (project_id,)).fetchone()
        return None if row is None else json.loads(row["doc"])

    def save_project(self, project: dict) -> None:
        self.db.execute(
            "UPDATE projects SET last_edited=?, doc=? WHERE project_id=?",
            (project["last_edited"], json.dumps(project), project["project_id"]),
        )

    def all_projects(self) -> Iterator[dict]:
        """Every project, most recently edited first."""
        for row in self.db.execute("SELECT doc FROM projects ORDER BY last_edited DESC"):
            yield json.loads(row["doc"])

    def projects_of(self, account_id: str) -> list[dict]:
        """Projects whose ``users`` map has ``account_id``, most recently edited first."""
        return [p for p in self.all_projects() if account_id in (p.get("users") or {})]

    # -- blobs ------------------------------------------------------------------------

    def save_blob(self, uuid: str, data: bytes, ttl_seconds: float) -> None:
        expire = time.time() + ttl_seconds
        self.db.execute(
            "INSERT INTO blobs(uuid, data, expire) VALUES(?, ?, ?) "
            "ON CONFLICT(uuid) DO UPDATE SET expire=max(coalesce(blobs.expire, 0), excluded.expire)",
            (uuid, data, expire),
        )

    def get_blob(self, uuid: str) -> bytes | None:
        """The blob's bytes, or None when missing; an expired blob is deleted on read."""
        row = self.db.execute("SELECT data, expire FROM blobs WHERE uuid=?", (uuid,)).fetchone()
        if row is None:
            return None
        if row["expire"] is not None and row["expire"] <= time.time():
            self.db.execute("DELETE FROM blobs WHERE uuid=?", (uuid,))
            return None
        return bytes(row["data"])

    def purge_blobs(self, max_total_bytes: int) -> None:
        """Delete expired blobs, then the oldest ones until the rest fit in ``max_total_bytes``.

        Every project blob lives the same day, so the soonest to expire is the oldest.
        """
        self.db.execute("DELETE FROM blobs WHERE expire IS NOT NULL AND expire <= ?", (time.time(),))
        total = 0
        doomed = []
        rows = self.db.execute("SELECT uuid, length(data) AS size FROM blobs ORDER BY coalesce(expire, 1e300) DESC")
        for row in rows:
            total += row["size"]
            if total > max_total_bytes:
                doomed.append(row["uuid"])
        self.db.executemany("DELETE FROM blobs WHERE uuid=?", [(uuid,) for uuid in doomed])
