"""Every failure one part of the emulator raises and another catches (one place, as requests' exceptions.py).

Each carries the text CoCalc would show; the handlers turn them into CoCalc's answers.
"""

from __future__ import annotations


class ApiError(Exception):
    """``throw Error(message)`` in a CoCalc handler: answered as HTTP 200 ``{"error": message}``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnreadableBody(Exception):
    """Next could not parse the request body; ``str()`` is its 400 text (``Invalid JSON``, ``Invalid body``)."""


class ProjectCallTimeout(Exception):
    """The hub stopped waiting for the project: CoCalc rejects with the bare string "timeout"."""


class PathOutsideProject(Exception):
    """A path param that would leave the project's home or /tmp."""


class CommandFailed(Exception):
    """execute-code calling back with an error (its text is what CoCalc shows)."""


class ProjectWriteError(Exception):
    """The project's writer failed; the message is one line and never holds file content."""


class PathRefused(ProjectWriteError):
    """Emulator-only: the path leaves the project (its home and /tmp)."""


class JupyterError(Exception):
    """A failure of the stateless Jupyter API; ``str()`` is CoCalc's text."""


class QueryError(Exception):
    """A user-query failure; its text is returned verbatim (user-query keeps string errors)."""


class MethodError(Exception):
    """A called conat method failed; ``str()`` is `${err}` exactly as the API loop answers it."""


class TLSSetupError(Exception):
    """The certificate could not be made or loaded; the message says why."""
