"""Store an API key in the cocalc-magics config file, readable by its owner only.

The file is the one :class:`~cocalc_magics.CoCalcSession` reads (TOML, see ``session.config_file_path``).
Only the top-level ``api_key = "..."`` line is written; every other line (host, project_id, comments,
tables) is kept as it was. The new file is written beside the old one with mode 0600 and renamed over it,
so a failed write loses nothing and the key is never readable by others, not even for a moment.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from ..config import toml_reader

_API_KEY_LINE = re.compile(r"^[ \t]*api_key[ \t]*=.*$", re.MULTILINE)
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def with_api_key(config_text: str, api_key: str) -> str:
    """The config text with its top-level ``api_key`` set (replaced in place, or added before any table)."""
    # A TOML basic string: JSON's escapes (\" \\ \uXXXX) are all valid TOML escapes.
    line = f"api_key = {json.dumps(api_key)}"
    first_table = _TABLE_HEADER.search(config_text)
    top_level = config_text[: first_table.start()] if first_table else config_text
    if _API_KEY_LINE.search(top_level):
        rest = config_text[len(top_level):]
        return _API_KEY_LINE.sub(lambda _: line, top_level, count=1) + rest
    return f"{line}\n{config_text}"


def store_api_key(path: Path, api_key: str) -> None:
    """Write ``api_key`` into the config file at ``path`` (created, with its folder, if missing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    updated = with_api_key(current, api_key)
    # An api_key written in a form the line edit cannot see (a multi-line string, a dotted key) would leave
    # a file with two keys or the old one: refuse rather than write something the session reads otherwise.
    tomllib = toml_reader()
    try:
        readable = tomllib.loads(updated).get("api_key") == api_key
    except tomllib.TOMLDecodeError:
        readable = False
    if not readable:
        raise ValueError(f"cannot update api_key in {path} safely; edit it by hand")
    descriptor, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)  # mkstemp already uses 0600; say it where it matters
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(updated)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
