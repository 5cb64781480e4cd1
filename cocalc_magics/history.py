"""Taking words (a key typed on a magic's line) back out of IPython's record of the running cell.

IPython keeps every cell's text in three places (``IPython.core.history.HistoryManager.store_inputs``):
the lists ``In``/``_ih`` (parsed) and ``input_hist_raw``; the variables ``_i<N>`` (and ``_i00``, which the next
cell shifts into ``_i``, ``_ii``, ``_iii``); and the SQLite history database, written by a saver thread from
``db_input_cache``. The front end's copy of the cell (the notebook file) is out of the kernel's reach.
"""

from __future__ import annotations

import sqlite3

REMOVED = "[removed: it may have been an API key]"


def forget_in_history(shell, words: list[str]) -> str:
    """Replace ``words`` in the running cell's history entries; a sentence saying what was (not) done."""
    history = getattr(shell, "history_manager", None)
    words = [word for word in words if len(word) >= 4]
    if history is None or not words:
        return "It was not found in IPython's history."
    # The running cell is the last one stored (store_inputs runs before the cell does); its index in the
    # lists is also the line number it was stored under (ipykernel may have counted execution_count on).
    line_number = len(history.input_hist_parsed) - 1

    def scrub(text):
        if not isinstance(text, str):
            return text
        for word in words:
            text = text.replace(word, REMOVED)
        return text

    for entries in (history.input_hist_parsed, history.input_hist_raw):
        if 0 <= line_number < len(entries):
            entries[line_number] = scrub(entries[line_number])
    history._i00 = scrub(history._i00)
    for name in (f"_i{line_number}", "_i"):
        if name in shell.user_ns:
            shell.user_ns[name] = scrub(shell.user_ns[name])
    if not history.enabled:
        return "It was removed from this kernel's history (In, _ih, _i)."
    # Under the cache lock the saver thread cannot be half-way through writing this cell: it is either still
    # in the cache or already in the database.
    with history.db_input_cache_lock:
        history.db_input_cache[:] = [(number, scrub(source), scrub(raw)) if number == line_number
                                     else (number, source, raw) for number, source, raw in history.db_input_cache]
        try:
            with history.db:
                row = history.db.execute("SELECT source, source_raw FROM history WHERE session=? AND line=?",
                                         (history.session_number, line_number)).fetchone()
                if row is not None:
                    history.db.execute("UPDATE history SET source=?, source_raw=? WHERE session=? AND line=?",
                                       (scrub(row[0]), scrub(row[1]), history.session_number, line_number))
        except (sqlite3.Error, AttributeError):
            return (f"It was removed from In, _ih and _i, but not from the history database {history.hist_file}: "
                    f"remove entry {history.session_number}/{line_number} there (`%history -g cocalc_login` "
                    "shows it) or delete that file.")
    return "It was removed from this kernel's history (In, _ih, _i and the history database)."
