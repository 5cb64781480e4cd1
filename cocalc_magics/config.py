"""Where the session's settings come from: the environment names, the config file, and the defaults.

Resolution order, the same for every setting (the session applies it, see :class:`CoCalcSession`):

- key:     ``api_key=`` argument > ``COCALC_API_KEY`` > config file ``api_key``
- host:    ``host=`` argument > ``COCALC_HOST`` > config file ``host`` > ``https://cocalc.com``
- project: ``project_id=`` argument > ``COCALC_PROJECT_ID`` > config file ``project_id`` > none

(``COCALC_API_KEY`` and ``COCALC_HOST`` are the names CoCalc's own Python client uses.) The config file is
TOML at ``$COCALC_MAGICS_CONFIG``, else ``$XDG_CONFIG_HOME/cocalc-magics/config.toml``, else
``~/.config/cocalc-magics/config.toml``; it may also set ``verify`` (false, or a CA bundle path).
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

ENV_API_KEY = "COCALC_API_KEY"
ENV_HOST = "COCALC_HOST"
ENV_PROJECT_ID = "COCALC_PROJECT_ID"
ENV_CONFIG = "COCALC_MAGICS_CONFIG"

DEFAULT_HOST = "https://cocalc.com"
# Seconds for an ordinary API answer; retries (of calls that change nothing) and the pause before each.
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.5
# CoCalc's start wait on kucalc is 120 s (server/projects/control); a stop is quicker.
DEFAULT_STATE_TIMEOUT = 180.0
# The longest wait a timeout may ask for: a day is already far past any CoCalc limit.
MAX_TIMEOUT_SECONDS = 86400.0

_KEY_SHAPED = re.compile(r"^sk[-_]")

# Characters a pasted key picks up on the way from a web page or a word processor, named for the message.
_PASTED_CHARACTERS = {
    "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner", "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner", "\ufeff": "a byte-order mark", "\u00a0": "a no-break space",
    "\u2018": "a curly quote", "\u2019": "a curly quote", "\u201c": "a curly quote", "\u201d": "a curly quote",
    "\u2010": "a Unicode hyphen", "\u2011": "a Unicode hyphen", "\u2013": "a dash", "\u2014": "a dash",
    " ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a line break",
}


def config_file_path() -> Path:
    """Where the optional TOML config file lives (it need not exist)."""
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "cocalc-magics" / "config.toml"


def toml_reader() -> Any:
    """The TOML module: the standard library's ``tomllib`` from Python 3.11, its original ``tomli`` on 3.10.

    Imported when a session is made, not at ``%load_ext``."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - only on Python 3.10
        import tomli as tomllib
    return tomllib


def read_config_file(path: Path | None = None) -> dict:
    tomllib = toml_reader()
    path = path or config_file_path()
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        # The parser's message may quote the offending line, which could be the key: name only the file.
        raise ConfigurationError(f"cannot read the config file {path}: {type(error).__name__}") from None


def normalize_host(host: str) -> str:
    """``https://cocalc.com/`` → ``https://cocalc.com``; anything that is not an http(s) URL is refused."""
    host = host.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", host):
        shown = "a value shaped like an API key" if _KEY_SHAPED.match(host) else repr(host[:80])
        raise ConfigurationError(f"host must be an http(s) URL such as {DEFAULT_HOST}, not {shown}")
    return host


def checked_timeout(value: float, name: str = "timeout") -> float:
    """A number of seconds to wait: more than 0, at most a day (nan, inf and 1e300 would break the wait)."""
    value = float(value)
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_SECONDS):
        raise ConfigurationError(f"{name} must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds, "
                                 f"not {value}")
    return value


def checked_retries(value: int) -> int:
    """How often a call that changes nothing is tried again: a whole number from 0 to 10."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ConfigurationError(f"retries must be a whole number from 0 to 10, not {value!r}")
    return value


def checked_backoff(value: float) -> float:
    """Seconds before the first retry (doubling after each): from 0 to 60."""
    value = float(value)
    if not 0 <= value <= 60:
        raise ConfigurationError(f"backoff must be from 0 to 60 seconds, not {value}")
    return value


def api_key_problem(api_key: str) -> str | None:
    """What is wrong with the text of a key, without repeating any of it; None when it has CoCalc's form.

    CoCalc's keys are ``sk-`` plus ASCII letters and digits (legacy ones ``sk_``), sent as the Basic user name
    (latin-1 in requests, which is where a pasted zero-width space used to escape as UnicodeEncodeError).
    """
    if not api_key:
        return "the API key is empty"
    for position, character in enumerate(api_key, start=1):
        if not "\x21" <= character <= "\x7e":
            name = _PASTED_CHARACTERS.get(character, "a character that is not printable ASCII")
            return (f"the API key has {name} (U+{ord(character):04X}) at character {position} of "
                    f"{len(api_key)}; a CoCalc key is plain ASCII: copy it again from CoCalc's account settings "
                    "(API keys), not from a formatted document")
    if not api_key.startswith(("sk-", "sk_")):
        quoted = " (are there quotes around it?)" if api_key[0] in "'\"`" else ""
        return f"the API key does not start with sk- or sk_ as CoCalc's keys do{quoted}"
    return None
