"""One call of CoCalc's ``latex`` endpoint: send the request, fall back once when the wrapper is refused."""

from __future__ import annotations

import time

from ..client import CoCalcClient, PdfFetcher
from ..errors import APIError, AuthenticationError, NoAnswerError, PermissionDeniedError
from ..models import LatexResult
from .reply import latex_result
from .request import CUSTOM_COMMAND_NOTE, LIMITED_DETAILS_NOTE, LatexRequest


def compile_latex(client: CoCalcClient, request: LatexRequest, *, answer_timeout: float,
                  wrapper_refused: bool) -> tuple[LatexResult, bool]:
    """The result, and whether this server refuses the error-reporting wrapper (so it is not sent again).

    ``answer_timeout`` is the slack the HTTP read gets on top of the compile's own time limit.
    """
    wrapped = request.wants_wrapper
    note = ""
    if wrapped and request.command is None and wrapper_refused:
        wrapped, note = False, LIMITED_DETAILS_NOTE  # this server refused the wrapper before: do not ask again
    read_timeout = request.compile_timeout + answer_timeout
    started = time.monotonic()
    try:
        reply = client.post("latex", request.params(wrapped), timeout=read_timeout)
    except (AuthenticationError, PermissionDeniedError, NoAnswerError):
        raise
    except APIError:
        # A top-level {"error"} to a request that carried our own wrapper command: a server that runs no
        # custom commands (an emulator bound off loopback, a locked-down CoCalc) refuses the wrapper, not
        # the document. CoCalc's own command (no `command`) is tried once; its failures come back as the
        # exec error text, which holds the exit code and at most 1024 characters of stderr.
        if not wrapped:
            raise
        wrapped = False
        note = LIMITED_DETAILS_NOTE if request.command is None else CUSTOM_COMMAND_NOTE
        reply = client.post("latex", request.params(wrapped), timeout=read_timeout)
        wrapper_refused = wrapper_refused or request.command is None
    elapsed = time.monotonic() - started
    if not isinstance(reply, dict) or not reply:
        # CoCalc's hub gives up on the project after 60 s and then answers {}.
        raise NoAnswerError(
            "latex: no answer from the project (CoCalc's hub timed out); the compile may still finish: "
            "compile into a path outside /tmp and fetch it later with only_read_pdf=True", "latex")
    result = latex_result(reply, request, elapsed, wrapped=wrapped, fetch_pdf=PdfFetcher(client))
    if note:
        result.note = note
    return result, wrapper_refused
