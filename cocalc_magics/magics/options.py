"""``CoCalcMagics``: the one options class of every ``%cocalc_*`` magic (``%config CoCalcMagics.<name>``).

``host``, ``timeout`` and ``project`` are not kept here: they read and write the shared session
(:func:`cocalc_magics.get_default_session`), which owns them, so there is no second copy to keep in step.
"""

from __future__ import annotations

from traitlets import Bool, Int, TraitError, TraitType
from traitlets.config import Configurable

from ..errors import CoCalcError
from ..session import get_default_session


class SessionSetting(TraitType):
    """A configurable option stored in the shared session: reading asks the session, setting tells it.

    Setting None leaves the session as it is (so a profile that does not set the option changes nothing),
    except for ``project``, where None means no default project.
    """

    allow_none = True

    def __init__(self, attribute: str, convert, help: str, none_clears: bool = False):
        super().__init__(default_value=None, allow_none=True, help=help)
        self.attribute = attribute
        self.convert = convert
        self.none_clears = none_clears
        self.tag(config=True)

    def get(self, obj, cls=None):
        return getattr(get_default_session(), self.attribute)

    def set(self, obj, value) -> None:
        old = self.get(obj)
        if value is None and not self.none_clears:
            return
        session = get_default_session()
        try:
            setattr(session, self.attribute, None if value is None else self.convert(value))
        except CoCalcError as error:  # the session checks the value (a malformed host, a timeout of nan)
            raise TraitError(str(error)) from None
        except (TypeError, ValueError):
            raise TraitError(f"{self.name} cannot be {value!r}") from None
        obj._notify_trait(self.name, old, getattr(session, self.attribute))

    def validate(self, obj, value):
        return value


class CoCalcMagics(Configurable):
    """The ``%cocalc_*`` magics' options; set with ``%config CoCalcMagics.<option> = value`` or in a profile."""

    host = SessionSetting("host", str, help=(
        "CoCalc server URL, e.g. https://cocalc.com. Unset: the session's own choice "
        "(COCALC_HOST, the config file, or https://cocalc.com)."))
    timeout = SessionSetting("timeout", float, help="Seconds to wait for an ordinary API answer (default 30).")
    project = SessionSetting("project_id", lambda value: str(value).strip() or None, none_clears=True, help=(
        "Default project (id or title) for the magics that take a PROJECT. Unset: the session's "
        "(COCALC_PROJECT_ID or the config file)."))
    preview_dpi = Int(100, help="Resolution (dpi) of the page-1 preview that %cocalc_latex shows.").tag(config=True)
    short_errors = Bool(True, help="Show errors as one line. False: show the full traceback.").tag(config=True)
