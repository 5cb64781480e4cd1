"""IPython magics that drive CoCalc over the kernel's shared session, one class per area.

``account.py`` (login, whoami), ``projects.py`` (project, projects, start/stop/restart), ``query.py`` and
``latex.py``; ``options.py`` holds ``CoCalcMagics``, the options they share, and ``base.py`` the rest
they share. A magic parses its line, calls the session, and shows or stores the result.

Load them in a notebook with::

    %load_ext cocalc_magics

To load them in every IPython session and kernel, list the extension in your IPython profile
(``ipython profile create`` makes ``~/.ipython/profile_default/ipython_config.py``) and set options there::

    c.InteractiveShellApp.extensions = ["cocalc_magics"]
    c.CoCalcMagics.preview_dpi = 120

The magics (``%cocalc_latex?`` and so on print each one's full help):

- ``%cocalc_login [--host URL] [--prompt]``: check the API key (``COCALC_API_KEY``, the config file, or a
  hidden prompt) and show whose it is. A key typed on the line is refused: the line is saved in the notebook.
- ``%cocalc_whoami [-o VAR]``: the account (id, email, name).
- ``%cocalc_start|stop|restart [PROJECT] [--no-wait] [--timeout S] [-o VAR]``: change a project's state and
  wait for it, showing one status line; Ctrl-C stops the wait (not the project) and says where it stands.
- ``%cocalc_project [PROJECT]``: show, or set, the default project.
- ``%cocalc_projects [--all] [--limit N] [-o VAR]``: the projects with their state.
- ``%cocalc_query [-o VAR] JSON`` (or ``$var``, or a ``%%cocalc_query`` cell): a raw ``user-query``.
- ``%%cocalc_latex [--path P] [--project P] [--command C] [--timeout S] [--no-preview] [--dpi N] [-o VAR]``:
  compile the cell (``%cocalc_latex FILE.tex`` compiles a local file). ``\\py{expr}`` inserts a Python value
  escaped for LaTeX, ``\\pyraw{expr}`` inserts it as LaTeX (see :mod:`cocalc_magics.latex.interpolation`).

PROJECT is a project id or title; without it the default project is used. ``-o VAR`` stores the typed
result (Account, ProjectState, ProjectList, dict, LatexResult) in VAR and shows nothing; without it the
result is shown (``x = %cocalc_whoami`` works too, for the magics that return one).

Options, set with ``%config CoCalcMagics.<name> = value`` or in the profile as ``c.CoCalcMagics.<name>``:
``host``, ``timeout``, ``project`` (the default project), ``preview_dpi`` and ``short_errors``. The first
three are the shared session's own (:func:`cocalc_magics.get_default_session`), read and written through.

Errors are one line with no traceback, saying what went wrong and what to do;
``%config CoCalcMagics.short_errors = False`` shows the full traceback instead.
"""

from __future__ import annotations

from .account import AccountMagics
from .latex import LatexMagics
from .options import CoCalcMagics
from .projects import ProjectMagics
from .query import QueryMagics

__all__ = ["AccountMagics", "CoCalcMagics", "LatexMagics", "ProjectMagics", "QueryMagics",
           "load_ipython_extension", "unload_ipython_extension"]

_AREAS = (AccountMagics, ProjectMagics, QueryMagics, LatexMagics)
_loaded: dict[int, tuple[CoCalcMagics, list]] = {}


def load_ipython_extension(ipython) -> None:
    unload_ipython_extension(ipython)  # %reload_ext: one set of magics and one CoCalcMagics, not two
    # parent=ipython: the profile's c.CoCalcMagics.* settings apply at once.
    options = CoCalcMagics(parent=ipython)
    ipython.configurables.append(options)  # what %config CoCalcMagics lists and sets
    areas = [area(ipython, options) for area in _AREAS]
    for magics in areas:
        ipython.register_magics(magics)
    _loaded[id(ipython)] = (options, areas)


def unload_ipython_extension(ipython) -> None:
    options, areas = _loaded.pop(id(ipython), (None, []))
    manager = ipython.magics_manager
    for magics in areas:
        for kind, names in magics.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop(type(magics).__name__, None)
        if magics in ipython.configurables:
            ipython.configurables.remove(magics)
    if options is not None and options in ipython.configurables:
        ipython.configurables.remove(options)


def magics_options(ipython) -> CoCalcMagics | None:
    """The CoCalcMagics the extension loaded into ``ipython`` (None when it is not loaded)."""
    return _loaded.get(id(ipython), (None, []))[0]
