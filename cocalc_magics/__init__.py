"""Drive CoCalc (API v2) from Jupyter: IPython magics, widgets and a local API emulator.

``import cocalc_magics`` stays light: ipywidgets, pypdfium2, Pillow and tornado load only when a widget,
a PDF preview or the emulator is first used.
"""

from .errors import (
    AmbiguousProjectError,
    APIError,
    AuthenticationError,
    CoCalcError,
    CoCalcTimeoutError,
    ConfigurationError,
    HTTPStatusError,
    NoAnswerError,
    PermissionDeniedError,
    ProjectNotFoundError,
    ProjectStateTimeoutError,
    RequestTooLargeError,
    TransportError,
)
from .models import Account, ExecResult, LatexResult, Project, ProjectState, TexError
from .session import CoCalcSession, get_default_session, set_default_session

__version__ = "0.1.0"

__all__ = [
    "Account", "AmbiguousProjectError", "APIError", "AuthenticationError", "CoCalcError", "CoCalcSession",
    "CoCalcTimeoutError", "ConfigurationError", "ExecResult", "HTTPStatusError", "LatexResult", "NoAnswerError",
    "PermissionDeniedError", "Project", "ProjectNotFoundError", "ProjectState", "ProjectStateTimeoutError",
    "RequestTooLargeError", "TexError", "TransportError", "get_default_session", "set_default_session",
]


def load_ipython_extension(ipython) -> None:
    """``%load_ext cocalc_magics``: register the ``%cocalc_*`` magics (see :mod:`cocalc_magics.magics`)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
