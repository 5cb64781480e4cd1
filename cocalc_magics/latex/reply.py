"""Reading the ``latex`` endpoint's answer into a :class:`~cocalc_magics.models.LatexResult`."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from ..models import LatexResult, blob_url, reply_int, reply_object, reply_text
from .log import parse_tex_errors
from .request import EXIT_STATUS_MARKER, SYNCTEX_LIMIT, SYNCTEX_MARKER, LatexRequest

_SYNCTEX = re.compile(r"\n?^" + re.escape(SYNCTEX_MARKER) + r"\n(?P<data>[A-Za-z0-9+/=]*)\n?", re.MULTILINE)
_EXIT_STATUS = re.compile(r"^" + re.escape(EXIT_STATUS_MARKER) + r"(?P<code>-?\d{1,9})\s*$", re.MULTILINE)
# CoCalc's execute-code error text (backend/execute-code.ts) when a command exits non-zero.
_EXEC_ERROR = re.compile(r"exited with nonzero code (?P<code>-?\d{1,9}) -- stderr='(?P<stderr>.*)'\s*$", re.DOTALL)


def split_exit_status(stdout: str) -> tuple[int | None, str]:
    """Take the status line that `reporting_command` printed off stdout: (status or None, remaining stdout)."""
    match = _EXIT_STATUS.search(stdout or "")
    if not match:
        return None, stdout
    return int(match.group("code")), stdout[: match.start()] + stdout[match.end():].lstrip("\n")


def split_synctex(stdout: str) -> tuple[bytes | None, str]:
    """Take the ``.synctex.gz`` that `synctex_tail` printed off stdout: (its bytes or None, remaining stdout).

    The wrapper prints it last, so the last marker is ours (a document can \\typeout the marker into the log)."""
    matches = list(_SYNCTEX.finditer(stdout or ""))
    if not matches:
        return None, stdout
    match = matches[-1]
    rest = stdout[: match.start()] + stdout[match.end():]
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return None, rest
    return (data if 0 < len(data) <= SYNCTEX_LIMIT else None), rest


def parse_exec_error(text: str) -> tuple[int | None, str]:
    """Pull the exit code and the (at most 1024 characters of) stderr out of CoCalc's exec error text."""
    match = _EXEC_ERROR.search(text or "")
    if not match:
        return None, ""
    return int(match.group("code")), match.group("stderr")


def latex_result(reply: dict, request: LatexRequest, elapsed: float, *, wrapped: bool,
                 fetch_pdf: Callable[[str], bytes] | None) -> LatexResult:
    """The result of one compile; ``wrapped`` says whether stdout ends with the wrapper's exit status."""
    compile_reply = reply_object(reply["compile"], "latex compile") if reply.get("compile") is not None else {}
    pdf_reply = reply_object(reply.get("pdf"), "latex pdf") if reply.get("pdf") is not None else {}
    stdout = reply_text(compile_reply, "stdout", "latex compile", default="")
    stderr = reply_text(compile_reply, "stderr", "latex compile", default="")
    event = compile_reply.get("event")
    compile_error = reply_text(compile_reply, "error", "latex compile") if event == "error" else None
    synctex = None
    exit_code = reply_int(compile_reply, "exit_code", "latex compile") if compile_reply else None
    if compile_error is not None:
        exit_code, stderr = parse_exec_error(compile_error)
    elif wrapped and compile_reply:
        synctex, stdout = split_synctex(stdout)
        status, stdout = split_exit_status(stdout)
        exit_code = exit_code if status is None else status
    url = blob_url(reply.get("url"), "latex")
    errors, warnings = parse_tex_errors("\n".join(filter(None, [stdout, stderr, compile_error])), request.main_file)
    compiled = exit_code == 0 if compile_reply else True
    return LatexResult(
        path=request.path, project_id=request.project_id, ok=bool(url) and compiled and compile_error is None,
        url=url, pdf_uuid=reply_text(pdf_reply, "data_uuid", "latex pdf"), exit_code=exit_code,
        stdout=stdout, stderr=stderr, compile_error=compile_error, errors=errors, warnings=warnings, elapsed=elapsed,
        fetch_pdf=fetch_pdf, synctex=synctex)
