"""The failures every layer of the emulator raises and the handlers turn into CoCalc's answers."""

from __future__ import annotations


class ApiError(Exception):
    """``throw Error(message)`` in a CoCalc handler: answered as HTTP 200 ``{"error": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ProjectCallTimeout(Exception):
    """The hub stopped waiting for the project: CoCalc rejects with the bare string "timeout"."""
