"""API keys: CoCalc's key format, password-style hashing and verification.

Facts followed (``server/api/manage.ts``, ``server/auth/api.ts``, ``get-account.ts``):

- A new key is ``"sk-" + 16 random alphanumerics + encode62(row id)``; the last 6
  characters are the ``api_keys`` row id in base62 (charset ``0-9a-zA-Z``), zero-padded,
  so the server finds the row without searching and then verifies a salted hash.
- A key not starting ``sk-`` or shorter than 9 characters is rejected early.
- An expired key is deleted and fails; a successful use updates ``last_active``.
- A legacy key is compared exactly against ``accounts.api_key``.
- A project-specific key resolves to its project_id, which is then used as the account_id.
- Auth comes only from the ``Authorization`` header, ``Basic base64(KEY:)`` (password
  ignored) or ``Bearer KEY``, with case-sensitive scheme names. Any failure just means
  "anonymous": CoCalc never answers 401 on the v2 endpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time

from .jsutil import iso_now, parse_time
from .store import Store

BASE62 = string.digits + string.ascii_lowercase + string.ascii_uppercase
_ALPHANUMERIC = string.ascii_letters + string.digits
_HASH_ITERATIONS = 1000  # CoCalc's password hash also uses 1000 rounds of sha512
_LAST_ACTIVE_EVERY_SECONDS = 30.0


def encode62(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
        if number == 0:
            break
    return digits.rjust(6, "0")


def decode62(text: str) -> int | None:
    value = 0
    for char in text:
        index = BASE62.find(char)
        if index < 0:
            return None
        value = value * 62 + index
    return value


def make_secret(key_id: int) -> str:
    return "sk-" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(16)) + encode62(key_id)


def truncated(secret: str) -> str:
    """The ``trunc`` column: shows which key it is without revealing it."""
    return secret[:3] + "..." + secret[-6:]


def hash_secret(secret: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt.encode(), _HASH_ITERATIONS).hex()
    return f"pbkdf2_sha512${_HASH_ITERATIONS}${salt}${digest}"


def verify_secret(secret: str, stored: str | None) -> bool:
    try:
        algorithm, iterations, salt, digest = (stored or "").split("$")
    except ValueError:
        return False
    if algorithm != "pbkdf2_sha512":
        return False
    candidate = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def key_from_authorization(header: str | None) -> str | None:
    """The key in an ``Authorization`` header, or None when there is none to find."""
    if not header:
        return None
    parts = header.split()
    if len(parts) < 2:
        return None
    scheme, credentials = parts[0], parts[1]
    if scheme == "Bearer":
        return credentials
    if scheme == "Basic":
        # Node's Buffer.from(x, "base64") is lenient about padding and stray characters.
        cleaned = "".join(c for c in credentials if c.isalnum() or c in "+/-_")
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            decoded = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"))
        except (binascii.Error, ValueError):
            return None
        return decoded.decode("utf-8", errors="replace").split(":")[0]
    return None


class KeyResolver:
    """Turns a presented key into the id CoCalc would act as (an account_id or a project key's project_id)."""

    def __init__(self, store: Store):
        self.store = store
        # sha256(secret) -> stored hash it verified against; saves a pbkdf2 per request.
        self._verified: dict[str, str] = {}
        self._last_active_written: dict[int, float] = {}

    def create(self, account_id: str, project_id: str | None = None, name: str | None = None,
               expire: str | None = None) -> dict:
        """Mint a key as manage.ts does: insert the row, then derive the secret from its id."""
        created = iso_now()
        key_id = self.store.insert_api_key(account_id, project_id, name, created, expire)
        secret = make_secret(key_id)
        trunc = truncated(secret)
        self.store.set_api_key_secret(key_id, trunc, hash_secret(secret))
        return {"id": key_id, "account_id": account_id, "expire": expire, "created": created,
                "name": name, "last_active": None, "trunc": trunc, "secret": secret}

    def resolve(self, secret: str | None) -> str | None:
        if not secret:
            return None
        if secret.startswith(("sk_", "sk-")):
            legacy_owner = self.store.account_id_for_legacy_key(secret)
            if legacy_owner is not None:
                return legacy_owner
        if not secret.startswith("sk-") or len(secret) < 9:
            return None
        key_id = decode62(secret[-6:])
        if key_id is None:
            return None
        row = self.store.get_api_key(key_id)
        if row is None or not self._matches(secret, row["hash"]):
            return None
        if row["project_id"]:
            # The key dies once its creator stops being a collaborator on the project.
            project = self.store.get_project(row["project_id"])
            if project is None or row["account_id"] not in (project.get("users") or {}):
                self.store.delete_api_key(key_id)
                return None
        expire = parse_time(row["expire"]) if row["expire"] else None
        if expire is not None and expire.timestamp() <= time.time():
            self.store.delete_api_key(key_id)
            return None
        self._note_use(key_id)
        return row["project_id"] or row["account_id"]

    def _matches(self, secret: str, stored_hash: str | None) -> bool:
        fingerprint = hashlib.sha256(secret.encode()).hexdigest()
        if stored_hash and self._verified.get(fingerprint) == stored_hash:
            return True
        if verify_secret(secret, stored_hash):
            self._verified[fingerprint] = stored_hash or ""
            return True
        return False

    def _note_use(self, key_id: int) -> None:
        now = time.monotonic()
        if now - self._last_active_written.get(key_id, -1e9) >= _LAST_ACTIVE_EVERY_SECONDS:
            self._last_active_written[key_id] = now
            self.store.update_api_key(key_id, last_active=iso_now())
