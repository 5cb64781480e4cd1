"""JavaScript semantics that CoCalc's TypeScript relies on, so the emulator reproduces them.

CoCalc's handlers test params with JS truthiness (``if (params.only_read_pdf)``), build
error texts with template strings (`` `${mesg.args}` `` gives ``a,b`` for a list and
``undefined`` when missing), and validate ids with ``is_valid_uuid_string``. Form bodies
make every value a string, so ``only_read_pdf=false`` is truthy; this module is the one
place these rules live.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, TypeGuard

UNDEFINED = object()
"""Marker for a JS ``undefined`` (a param that was not sent), distinct from JSON ``null``."""

# util/misc.ts: length 36 plus an (unanchored) hex pattern, so any uuid version passes.
_UUID_RE = re.compile(r"[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}")


def is_valid_uuid(value: Any) -> TypeGuard[str]:
    """CoCalc's ``isValidUUID``: a 36-character string of the usual hex-and-dash shape."""
    return isinstance(value, str) and len(value) == 36 and bool(_UUID_RE.search(value))


def truthy(value: Any) -> bool:
    """JS truthiness: ``""``, ``0``, ``false``, ``null`` and ``undefined`` are false; ``"false"`` is true."""
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)  # NaN is falsy
    if isinstance(value, str):
        return value != ""
    return True


def nullish(value: Any) -> bool:
    """``value == null`` in JS: true for ``null`` and ``undefined`` only."""
    return value is None or value is UNDEFINED


def js_string(value: Any) -> str:
    """`` `${value}` `` in JS: arrays join with commas, missing values print ``undefined``."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ",".join("" if nullish(item) else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def js_number(value: Any) -> float | None:
    """``Number(value)`` for the numeric params that may arrive as strings from a form body."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(text)
        except ValueError:
            return None
    return None


def iso_now() -> str:
    return iso(_dt.datetime.now(_dt.timezone.utc))


def iso(moment: _dt.datetime) -> str:
    """``Date.prototype.toISOString``: UTC, milliseconds, trailing ``Z`` (what CoCalc's JSON shows)."""
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> _dt.datetime | None:
    """Parse an ISO date (or ms since the epoch) the way ``new Date(value)`` would, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value / 1000, _dt.timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment


def drop_undefined(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else drop_undefined(v) for v in value]
    return value
