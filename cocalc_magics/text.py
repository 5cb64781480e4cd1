"""How text is shown in one line: errors, titles and server text (no I/O, imported by every layer)."""

from __future__ import annotations


def one_line(text: str, limit: int = 200) -> str:
    """``text`` with its whitespace runs folded to one space, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_hint(api_key: str | None) -> str:
    """The only form in which a key is ever shown: its prefix and last four characters."""
    if not api_key:
        return "none"
    return f"{api_key[:3]}…{api_key[-4:]}" if len(api_key) > 10 else "sk-…"
