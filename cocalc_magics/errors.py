"""The one exception hierarchy of cocalc-magics.

Every error the package raises derives from :class:`CoCalcError`, so callers (and the magics, which turn
these into one-line messages) can catch them all at once. No message ever holds the API key: messages are
built from the server's text (with the key redacted, in ``client.CoCalcClient.server_text``), the endpoint
and the host, never from request headers; and errors raised for a transport failure carry no
``__context__``, since requests' exceptions hold the request and so its Authorization header.
"""

from __future__ import annotations


class CoCalcError(Exception):
    """Base class of every error raised by cocalc-magics."""


class ConfigurationError(CoCalcError):
    """The session lacks something it needs (no API key, a malformed host or config file)."""


class RequestTooLargeError(CoCalcError):
    """The request body is over CoCalc's 1 MiB limit, so it was refused before it was sent."""


class TransportError(CoCalcError):
    """The server could not be reached, or did not answer in time."""


class CoCalcTimeoutError(TransportError):
    """The server (or a project state change) did not answer within the configured timeout."""


class HTTPStatusError(CoCalcError):
    """The server answered with a non-200 status: CoCalc's 400/413 texts, an HTML 404 page, a proxy 5xx."""

    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.status_code = status_code


class AnswerTooLargeError(HTTPStatusError):
    """The answer (decoded) is larger than the cap it is read under; the message names the cap."""


class UnexpectedReplyError(CoCalcError):
    """The server answered well-formed JSON, but not in the shape CoCalc's API gives (a list for an object,
    a string for a number, a missing field): the message says which endpoint and which part."""


class APIError(CoCalcError):
    """CoCalc answered 200 with ``{"error": "..."}``: the server's message, and the endpoint that said it."""

    def __init__(self, message: str, endpoint: str):
        super().__init__(message)
        self.endpoint = endpoint


class AuthenticationError(APIError):
    """The server did not accept the key ("must be signed in", "anonymous ... not allowed")."""


class PermissionDeniedError(APIError):
    """The account may not act on that project ("must be a collaborator ...", "no read access")."""


class NoAnswerError(APIError):
    """CoCalc answered ``{}`` where a result was expected: its hub gave up waiting for the project."""


class ProjectNotFoundError(CoCalcError):
    """No project of this account matches the given id or title."""


class AmbiguousProjectError(ProjectNotFoundError):
    """A title matches several projects; the message lists them so the user can pick an id."""

    def __init__(self, message: str, candidates: list):
        super().__init__(message)
        self.candidates = candidates


class ProjectStateTimeoutError(CoCalcTimeoutError):
    """A project did not reach the wanted state before the wait ran out; ``last_state`` says where it was."""

    def __init__(self, message: str, last_state: str | None):
        super().__init__(message)
        self.last_state = last_state


class InterpolationError(CoCalcError):
    """A ``\\py{…}`` in the cell could not be evaluated or is not closed; nothing was sent."""


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C during a wait: the message says what the project (or compile) may still be doing.

    A KeyboardInterrupt, not a CoCalcError: it must still stop a cell (and a loop of cells) as Ctrl-C does.
    """
