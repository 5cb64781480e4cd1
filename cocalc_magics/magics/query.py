"""``%cocalc_query`` / ``%%cocalc_query``: a raw CoCalc user-query."""

from __future__ import annotations

import ast
import json
import re

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from .base import AreaMagics, output_argument, output_name, reports_errors


@magics_class
class QueryMagics(AreaMagics):

    @magic_arguments()
    @output_argument
    @argument("query", nargs="*", metavar="JSON",
              help="the query as JSON (or a Python literal), or $name of a dict; in the cell form, the cell")
    @no_var_expand
    @line_cell_magic
    @reports_errors
    def cocalc_query(self, line="", cell=None):
        """Run a raw CoCalc user-query and return its result (without the {"query": ...} wrapper).

        A query with a null (None) anywhere is a get; one without is a set. For example:

            %cocalc_query {"accounts": {"first_name": null, "last_name": null}}
            %cocalc_query {"projects_all": [{"project_id": null, "title": null, "state": null}]}
            %cocalc_query $q
            %cocalc_query -o result {"accounts": {"email_address": null}}

        -o VAR comes before the query.
        """
        # Parsed by hand: argparse would split the JSON at its spaces and drop its quotes.
        match = re.match(r"\s*(?:(?:-o|--output)\s+(?P<var>\S+))?\s*(?P<rest>.*)$", line, re.DOTALL)
        output = output_name(match.group("var"))
        text = (match.group("rest") + "\n" + (cell or "")).strip()
        if not text:
            raise UsageError('%cocalc_query needs a query, e.g. %cocalc_query {"accounts": {"account_id": null}}')
        query = self._query_value(text)
        if not isinstance(query, dict):
            raise UsageError(f"a user-query is a JSON object such as {{\"accounts\": {{\"account_id\": null}}}}, "
                             f"not a {type(query).__name__}")
        return self._deliver(self.session.query(query), output)

    def _query_value(self, text: str):
        if text.startswith("$"):
            try:
                return self.shell.ev(text[1:])
            except Exception as error:  # noqa: BLE001 (whatever the expression raises is reported)
                raise UsageError(f"%cocalc_query {text[:60]}: {type(error).__name__}: {error}") from None
        try:
            return json.loads(text)
        except RecursionError:
            raise UsageError("%cocalc_query: the query is nested too deeply to read") from None
        except ValueError as json_error:
            try:
                return ast.literal_eval(text)
            except (ValueError, SyntaxError, RecursionError, MemoryError):
                raise UsageError(f"%cocalc_query: not JSON ({json_error}) and not a Python literal; "
                                 "give a JSON object or $name of a dict") from None
