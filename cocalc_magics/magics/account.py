"""``%cocalc_login`` and ``%cocalc_whoami``: the API key and whose account it is."""

from __future__ import annotations

import re

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..display import say
from ..errors import AuthenticationError, CoCalcError
from ..history import forget_in_history
from ..text import one_line
from .base import (
    ERROR_LINE_LIMIT,
    AreaMagics,
    output_argument,
    parse_line,
    reports_errors,
    unquote,
)

_KEY_SHAPED = re.compile(r"^['\"]?sk[-_]")


@magics_class
class AccountMagics(AreaMagics):

    @magic_arguments()
    @argument("--host", metavar="URL", help="the CoCalc server (default: COCALC_HOST, the config file, "
                                            "or https://cocalc.com)")
    @argument("--prompt", action="store_true",
              help="ask for a key even when COCALC_API_KEY or the config file has one")
    @line_magic
    @reports_errors
    def cocalc_login(self, line=""):
        """Sign in to CoCalc: check an API key and show whose account it is.

        The key comes from COCALC_API_KEY or the config file when one is set; otherwise (or with --prompt)
        it is asked for with a hidden prompt and kept in memory for this kernel only. Never type the key on
        this line: the line is saved in the notebook, so such a line is refused. Make a key in CoCalc's
        account settings, under API keys.
        """
        _refuse_key_on_line(line, self.shell)
        args = parse_line(self.cocalc_login, line)
        session = self.session
        if args.host:
            session.host = unquote(args.host)  # a malformed URL is a ConfigurationError, shown as one line
        if args.prompt or not session.has_api_key:
            import getpass  # termios and friends: loaded only when a key is asked for

            key = getpass.getpass(f"CoCalc API key for {session.host} (input hidden): ").strip()
            if not key:
                raise UsageError("no key entered; nothing changed")
            try:
                account = session.check_key(key)  # checks the key's text, then asks as the session would
            except AuthenticationError:
                raise UsageError(f"{session.host} did not accept that key; nothing changed "
                                 "(make a key in CoCalc's account settings, under API keys)") from None
            except CoCalcError as error:
                # One line even with short_errors off: a traceback's frames hold the key, and %xmode Verbose
                # prints their variables.
                raise UsageError(f"{one_line(str(error), ERROR_LINE_LIMIT)}; nothing changed") from None
            session.set_api_key(key)
        else:
            account = session.whoami()
        say(f"Signed in to {session.host} as {account}")

    @magic_arguments()
    @output_argument
    @line_magic
    @reports_errors
    def cocalc_whoami(self, line=""):
        """Show the account the API key belongs to: account id, email and name."""
        args = parse_line(self.cocalc_whoami, line)
        return self._deliver(self.session.whoami(), args.output)


def _refuse_key_on_line(line: str, shell) -> None:
    """Allow only ``--host URL`` and ``--prompt``; anything else might be a key, so it is not echoed, and it is
    taken out of IPython's history."""
    tokens = line.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--host" and index + 1 < len(tokens) and not _KEY_SHAPED.match(tokens[index + 1]):
            index += 2
            continue
        if token == "--prompt" or (token.startswith("--host=") and not _KEY_SHAPED.match(token[7:])):
            index += 1
            continue
        suspects = [word for word in tokens[index:] if word not in ("--prompt", "--host")]
        cleaned = forget_in_history(shell, suspects)
        raise UsageError(
            "%cocalc_login takes no API key on its line, because the line is saved in the notebook; the line "
            f"was refused and is not repeated here. {cleaned} Run %cocalc_login alone and paste the key into the "
            "hidden prompt (or set COCALC_API_KEY), delete that line from the cell, and revoke the key if the "
            "notebook was saved or shared.")
