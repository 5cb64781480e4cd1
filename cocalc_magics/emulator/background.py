"""Work that goes on after nobody waits for it any more (a hub call that timed out, a reader of a killed child)."""

from __future__ import annotations

import asyncio


def consume_result(future: asyncio.Future) -> None:
    """A done-callback that retrieves the outcome nobody awaits, so asyncio does not warn about it."""
    if not future.cancelled():
        future.exception()
