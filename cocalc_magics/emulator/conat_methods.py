"""What the hub's and the project's conat API loops share: how a method fails and how its arguments arrive.

Facts followed (``server/conat/api/index.ts``, ``project/conat/api/index.ts``, ``conat/hub/api/util.ts``):

- ``const [group, functionName] = name.split(".")``; no such function -> ``unknown function '<name>'``.
- Any failure is answered as ``{error: `${err}`}``: an ``Error`` reads ``Error: <message>``, a ``TypeError``
  ``TypeError: <message>``, a rejected string just the string.
- ``authFirst`` sets ``args[0].account_id`` (creating ``args[0] = {}`` when it is null); ``requireAccount``
  only insists on an account. Both run before the method, so they shape what it sees.
"""

from __future__ import annotations

from typing import Any

from .errors import MethodError
from .jsutil import js_string


def fail(message: str) -> MethodError:
    """``throw Error(message)`` inside a method."""
    return MethodError(f"Error: {message}")


def split_name(name: Any) -> tuple[str, str]:
    if not isinstance(name, str):
        raise MethodError(f"TypeError: Cannot read properties of {js_string(name)} (reading 'split')")
    group, _, rest = name.partition(".")
    return group, rest.split(".")[0]


def unknown_function(name: Any) -> MethodError:
    return fail(f"unknown function '{js_string(name)}'")


def first_arg_with_caller(args: Any, field: str, value: str) -> dict:
    """``authFirst``: ``args[0]`` (made ``{}`` when null) with the caller's id written into it."""
    if not isinstance(args, list):
        raise MethodError("TypeError: args is not iterable")
    first = args[0] if args else None
    if first is None:
        first = {}
    if not isinstance(first, dict):
        raise MethodError(f"TypeError: Cannot create property '{field}' on {type(first).__name__} "
                          f"'{js_string(first)}'")
    return {**first, field: value}


def options(args: Any) -> dict:
    """``args[0]`` of a method taking one options object (``{}`` when missing)."""
    first = args[0] if isinstance(args, list) and args else None
    return first if isinstance(first, dict) else {}
