"""Drive CoCalc (API v2) from Jupyter: IPython magics, widgets and a local API emulator.

The public names below load on first use (PEP 562), so ``import cocalc_magics`` costs almost nothing and
``python -m cocalc_magics.emulator`` loads none of the client: the emulator shares no code with it.
ipywidgets, pypdfium2 and Pillow load only when a widget or a PDF preview is first shown.
"""

from __future__ import annotations

import importlib

try:
    # Written by the build from labextension/package.json: one version for the Python and the Lab side.
    from ._version import __version__
except ImportError:  # a source tree that was never built or installed
    __version__ = "0+unknown"

# Written out, not computed, so that tools (IDEs, Sphinx, mypy) can read it; a test checks it against _HOMES.
__all__ = [
    "APIError", "Account", "AmbiguousProjectError", "AuthenticationError", "CoCalcError", "CoCalcSession",
    "CoCalcTimeoutError", "ConfigurationError", "ExecResult", "HTTPStatusError", "InterpolationError",
    "LatexResult", "NoAnswerError", "PermissionDeniedError", "Project", "ProjectNotFoundError", "ProjectState",
    "ProjectStateTimeoutError", "RequestTooLargeError", "TexError", "TransportError", "WaitInterrupted",
    "get_default_session", "set_default_session",
]

# Where each public name lives; loaded on first use (PEP 562).
_HOMES = {
    "CoCalcSession": "session", "get_default_session": "session", "set_default_session": "session",
    **{name: "models" for name in ("Account", "ExecResult", "LatexResult", "Project", "ProjectState", "TexError")},
    **{name: "errors" for name in (
        "AmbiguousProjectError", "APIError", "AuthenticationError", "CoCalcError", "CoCalcTimeoutError",
        "ConfigurationError", "HTTPStatusError", "InterpolationError", "NoAnswerError", "PermissionDeniedError",
        "ProjectNotFoundError", "ProjectStateTimeoutError", "RequestTooLargeError", "TransportError",
        "WaitInterrupted")},
}


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


def _jupyter_labextension_paths() -> list[dict]:
    """Where the prebuilt JupyterLab extension lives in this package (for ``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "cocalc-magics"}]


def load_ipython_extension(ipython) -> None:
    """``%load_ext cocalc_magics``: register the ``%cocalc_*`` magics (see :mod:`cocalc_magics.magics`)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
