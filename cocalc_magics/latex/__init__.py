"""LaTeX, from a cell to a result: what is sent (:mod:`.request`, with :mod:`.interpolation` for ``\\py{…}``
and the document wrapper), the endpoint call (:mod:`.endpoint`), reading the answer (:mod:`.reply`) and the
TeX log → ``file:line: message`` errors with the lines of the cell (:mod:`.log`)."""

from __future__ import annotations
