"""What the magics show besides the widgets: the status line updated in place, and a LaTeX result shown
without its pages.

Kept apart from the magics (as jupysql keeps ``display.py`` apart from ``magic.py``): the magics decide
*what* happened, this module and :mod:`cocalc_magics.widgets` decide how it looks.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from .errors import WaitInterrupted
from .models import LatexResult

# How often the status line's clock is redrawn while a call runs.
STATUS_TICK_SECONDS = 0.25
_MUTED = "color:var(--jp-ui-font-color2,#666)"


def can_update_in_place(shell) -> bool:
    """Whether displays can be replaced in place: in a kernel (or while captured) yes; a terminal prints each one."""
    return shell is not None and type(getattr(shell, "display_pub", None)) is not DisplayPublisher


class _StatusText:
    def __init__(self, text: str, done: bool = False):
        self.text = text
        self.done = done

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        style = "" if self.done else f" style='{_MUTED}'"
        return f"<span class='cocalc-magics-status'{style}>{html.escape(self.text)}</span>"


def say(text: str) -> None:
    """Show one finished sentence (a sign-in, a new default project)."""
    display(_StatusText(text, done=True))


class _Cancelled(Exception):
    """Raised from an on_poll callback to end a wait nobody is watching any more."""


@contextmanager
def status_line(live: bool, interrupted: Callable[[float], str]) -> Iterator[StatusLine]:
    """A :class:`StatusLine` for one magic: whatever ends the block early clears the line, and Ctrl-C also
    cancels the worker's wait (at its next poll) and becomes :class:`WaitInterrupted` with the message
    ``interrupted(elapsed seconds)`` says (what the project or compile may still be doing)."""
    status = StatusLine(live)
    started = time.monotonic()
    try:
        yield status
    except KeyboardInterrupt as interrupt:
        status.cancel()
        if isinstance(interrupt, WaitInterrupted):
            raise
        raise WaitInterrupted(interrupted(time.monotonic() - started)) from interrupt
    except BaseException:
        status.cancel()
        raise


class StatusLine:
    """One line that says what a magic is doing, redrawn in place and finally replaced by the outcome.

    Where displays cannot be updated in place (a terminal) it shows nothing while the call runs.
    """

    def __init__(self, live: bool):
        self.live = live
        self._handle = None
        self.cancelled = threading.Event()
        self.polled: list[Any] = []

    def cancel(self) -> None:
        """Stop the worker's wait at its next poll (CoCalc carries on with what it was asked) and clear the line."""
        self.cancelled.set()
        self.clear()

    def on_poll(self, value: Any) -> None:
        """An ``on_poll`` callback for the session's waits: records what was seen, ends a cancelled wait."""
        if self.cancelled.is_set():
            raise _Cancelled()
        self.polled.append(value)

    def show(self, text: str) -> None:
        if self.live:
            self._put(_StatusText(text))

    def finish(self, outcome: Any) -> None:
        """Replace the line with ``outcome`` (a sentence or a rich object); shown anew when nothing was drawn."""
        if isinstance(outcome, str):
            outcome = _StatusText(outcome, done=True)
        if self._handle is None:
            display(outcome)
        else:
            self._handle.update(outcome)
            self._handle = None

    def clear(self, only_output: bool = False) -> None:
        """Take the line away. ``only_output``: the line is all the cell has shown (a cell magic that shows
        nothing else), so the cell's output is cleared and no room is left at all."""
        if self._handle is not None:
            if only_output:
                from IPython.display import clear_output

                clear_output()
            else:
                # No data: JupyterLab's output area finds no renderer and puts an empty widget there
                # (outputarea/src/widget.ts, _insertOutput), where an empty text/plain is a blank line.
                self._handle.update({}, raw=True)
            self._handle = None

    def run(self, work: Callable[[], Any], describe: Callable[[float], str]) -> Any:
        """Run ``work`` in a worker thread while the line shows ``describe(elapsed seconds)``.

        The main thread only waits and redraws, so Ctrl-C reaches it at once (as KeyboardInterrupt) even
        while the worker is blocked in an HTTP read; the caller decides what to tell the user.
        """
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def target() -> None:
            try:
                outcome["value"] = work()
            except BaseException as error:  # noqa: BLE001 (handed to the main thread, which re-raises it)
                outcome["error"] = error
            finally:
                finished.set()

        started = time.monotonic()
        self.show(describe(0.0))
        threading.Thread(target=target, name="cocalc-magics-call", daemon=True).start()
        while not finished.wait(STATUS_TICK_SECONDS):
            self.show(describe(time.monotonic() - started))
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def _put(self, content: Any) -> None:
        if self._handle is None:
            self._handle = display(content, display_id=True)
        else:
            self._handle.update(content)


class LatexSummary:
    """A LaTeX result without its pages (``--no-preview``, or no PDF was made): the compile summary, the
    download link, the ``file:line: message`` errors and the log, as the PDF viewer's static view shows them."""

    def __init__(self, result: LatexResult, cell_id: str | None = None):
        self.result = result
        self.cell_id = cell_id

    def _repr_mimebundle_(self, include=None, exclude=None):
        from . import render
        from .widgets import static

        return {"text/plain": render.pdf_text(self.result, None), "text/html": render.latex_result_html(self.result),
                **static.latex_contract(self.result, self.cell_id)}
