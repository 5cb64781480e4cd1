"""What the magics show: the status line updated in place, the LaTeX result with its page-1 preview.

Kept apart from the magics (as jupysql keeps ``display.py`` apart from ``magic.py``): the magics decide
*what* happened, this module decides how it looks. pypdfium2 and Pillow are imported only when a preview is
drawn, so loading the extension stays cheap.
"""

from __future__ import annotations

import base64
import html
import threading
import time
from typing import Any, Callable

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from .models import LatexResult

# How often the status line's clock is redrawn while a call runs.
STATUS_TICK_SECONDS = 0.25
_MUTED = "color:var(--jp-ui-font-color2,#666)"
_ERROR = "color:var(--jp-error-color1,#b00)"


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


class StatusLine:
    """One line that says what a magic is doing, redrawn in place and finally replaced by the outcome.

    Where displays cannot be updated in place (a terminal) it shows nothing while the call runs.
    """

    def __init__(self, live: bool):
        self.live = live
        self._handle = None

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

    def clear(self) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
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
            except BaseException as error:  # handed to the main thread, which re-raises it
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


def render_first_page(pdf: bytes, dpi: int) -> bytes:
    """Page 1 of ``pdf`` as PNG bytes at ``dpi`` (pypdfium2 + Pillow, imported here on first use)."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=dpi / 72)
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG")
        return buffer.getvalue()
    finally:
        document.close()


class LatexView:
    """How a ``%%cocalc_latex`` result shows in the notebook: the outcome, the TeX errors as
    ``file:line: message``, page 1 of the PDF, a download link, and the full log behind a ``<details>``."""

    def __init__(self, result: LatexResult, where: str, preview_dpi: int | None):
        self.result = result
        self.where = where
        self.preview_dpi = preview_dpi
        self._preview: bytes | None = None
        self._preview_problem: str | None = None
        if preview_dpi and result.url:
            self._draw_preview()

    def _draw_preview(self) -> None:
        try:
            pdf = self.result.pdf
            self._preview = render_first_page(pdf, self.preview_dpi) if pdf else None
        except Exception as error:  # a preview is a convenience: say why it is missing, keep the result
            self._preview_problem = f"no preview ({type(error).__name__}: {error})"

    @property
    def headline(self) -> str:
        result = self.result
        if result.ok:
            return f"compiled on {self.where} in {result.elapsed:.1f} s"
        count = len(result.errors)
        if count:
            what = f"{count} TeX error{'s' if count != 1 else ''}"
        elif result.compile_error:
            what = "the compile command failed"
        elif result.exit_code not in (None, 0):
            what = f"the compile command exited with status {result.exit_code}"
        else:
            what = "no PDF was made"
        pdf = ", PDF made anyway" if result.url else ""
        return f"failed on {self.where} after {result.elapsed:.1f} s: {what}{pdf}"

    def __repr__(self) -> str:
        lines = [self.headline, *(str(error) for error in self.result.errors)]
        if self.result.url:
            lines.append(f"PDF: {self.result.url}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        result = self.result
        mark = "&#10003;" if result.ok else f"<b style='{_ERROR}'>&#10007;</b>"
        parts = [f"<div class='cocalc-magics-latex'><div>{mark} {html.escape(self.headline)}"]
        if result.url:
            parts.append(f" &middot; <a href='{html.escape(result.url)}' target='_blank' download>download PDF</a>")
        parts.append("</div>")
        if result.errors:
            lines = "\n".join(html.escape(str(error)) for error in result.errors)
            parts.append(f"<pre class='cocalc-magics-errors' style='{_ERROR}'>{lines}</pre>")
        if self._preview:
            encoded = base64.b64encode(self._preview).decode()
            parts.append(f"<img alt='page 1' src='data:image/png;base64,{encoded}' "
                         "style='max-width:100%;border:1px solid #ccc'>")
        elif self._preview_problem:
            parts.append(f"<div style='{_MUTED}'>{html.escape(self._preview_problem)}</div>")
        if result.log:
            parts.append(f"<details><summary>full log</summary><pre>{html.escape(result.log)}</pre></details>")
        parts.append("</div>")
        return "".join(parts)
