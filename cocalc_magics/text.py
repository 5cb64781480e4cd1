"""How text may be shown: in one line, the key only as a hint, a server's echo of the key redacted.

No I/O and nothing heavy: every layer imports it.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

REDACTED = "[redacted key]"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` with its whitespace runs folded to one space, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_hint(api_key: str | None) -> str:
    """The only form in which a key is ever shown: its prefix and last four characters."""
    if not api_key:
        return "none"
    return f"{api_key[:3]}…{api_key[-4:]}" if len(api_key) > 10 else "sk-…"


def key_wire_forms(api_key: str) -> tuple[str, ...]:
    """Every form in which a server could echo the key: as sent, URL-quoted, and base64 of ``KEY:`` (the
    Basic credentials) or of ``KEY`` alone, standard and URL-safe, with and without padding. Longest first,
    so that a form is replaced before a shorter one inside it."""
    forms = {api_key, quote(api_key, safe="")}
    for raw in (f"{api_key}:", api_key):
        data = raw.encode("utf-8", "surrogateescape")
        for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
            forms.update({encoded, encoded.rstrip("=")})
    return tuple(sorted((form for form in forms if len(form) >= 8), key=len, reverse=True))


def redact(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        text = text.replace(form, REDACTED)
    return text
