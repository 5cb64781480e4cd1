"""LaTeX, from a cell to a result: what is sent (:mod:`.request`, with :mod:`.interpolation` for ``\\py{…}``,
``\\pyfig{…}`` and the document wrapper), the local files it names (:mod:`.finding`), sending them and the
cell's stable directory (:mod:`.files`), the result cache (:mod:`.cache`), one cell start to end (:mod:`.compile`), the endpoint call
(:mod:`.endpoint`), reading the answer (:mod:`.reply`) and TeX's log → errors and warnings with their cause at
the lines the user edits (:mod:`.log`)."""

from __future__ import annotations
