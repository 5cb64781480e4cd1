"""Fuzzed input (hypothesis): magic lines, %%cocalc_latex bodies, %cocalc_query JSON, and raw requests to
every emulator endpoint.

The only outcomes allowed are a result, or one of the package's documented errors shown as one clear line
(IPython's UsageError for the magics); the emulator never answers 500 to a bad request, never logs an
internal error, and is still serving at the end. Everything runs against an emulator of its own, since
fuzzed set-queries and creates change its state. How many examples ran goes to
test-output/reliability/fuzz.txt.
"""

from __future__ import annotations

import base64
import getpass
import json
import string
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from cocalc_magics import CoCalcSession, set_default_session
from figures import write_figure
from lab import start_test_emulator
from magics_helpers import ip, magics  # noqa: F401 (fixtures)

EXAMPLES = {"magic lines": 350, "latex bodies": 250, "latex bodies through TeX": 15, "query JSON": 200,
            "emulator requests": 300}
MESSAGE_LIMIT = 600  # a "line" longer than this is no longer something a person reads
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
examples_run: Counter = Counter()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """An emulator of its own, logging to a file the tests read, and a project whose id the fuzz may use."""
    data_dir = tmp_path_factory.mktemp("fuzz-emulator")
    log_path = data_dir / "emulator.log"
    with open(log_path, "w") as log:
        running = start_test_emulator(data_dir, transition_delay=0.01, stderr=log)
    session = CoCalcSession(api_key=running.api_key, host=running.url, project_id=running.project_id, timeout=10,
                            config_file=data_dir / "none.toml", backoff=0.01)  # unreachable hosts fail fast
    running.log_path = log_path
    yield running, session
    session.close()
    alive = running.process.poll() is None
    running.stop()
    lines = [f"{name}: {count} examples (asked for {EXAMPLES[name]})" for name, count in examples_run.items()]
    write_figure("fuzz", "\n".join(["Fuzzed examples run (hypothesis):", *lines,
                                    f"total: {sum(examples_run.values())} examples",
                                    f"emulator still running at the end: {alive}"]))


class Kernel(tuple):
    """(shell, emulator, session), shown as a name only: hypothesis prints a failing example's arguments with
    its own pretty-printer, which would list the emulator's every field, keys included."""

    def __repr__(self) -> str:
        return "<the fuzz kernel>"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


@pytest.fixture
def kernel(ip, fuzz_target, magics, monkeypatch):  # noqa: F811
    """The magics over the fuzz emulator's session; --prompt gets an empty answer instead of blocking."""
    running, session = fuzz_target
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "")
    set_default_session(session)
    namespace = dict(ip.user_ns)  # a fuzzed -o VAR may name anything, In and get_ipython included
    ip.user_ns.update(x=42, s="50% of a_b & {c} #1 ~ ^ \\", d={"k": [1, 2]}, items=["α", "β"])
    yield Kernel((ip, running, session))
    set_default_session(None)
    ip.user_ns.clear()
    ip.user_ns.update(namespace)


def run_magic(ip, session, running, magic: str, line: str, cell: str | None = None):
    """Run one magic; return its value, or the UsageError line. Anything else raised fails the test."""
    try:
        with capture_output():
            value = ip.run_cell_magic(magic, line, cell) if cell is not None else ip.run_line_magic(magic, line)
        if hasattr(value, "close"):
            value.close()  # a project panel: stop its polling
        return value
    except UsageError as error:
        message = str(error)
        assert message.strip(), f"an empty error for %{magic} {line!r}"
        assert "\n" not in message.strip(), f"a multi-line error for %{magic} {line!r}: {message!r}"
        assert len(message) <= MESSAGE_LIMIT, f"a {len(message)}-character error for %{magic} {line[:80]!r}"
        return error
    finally:
        # What a fuzzed line may have changed (%cocalc_login --host, %cocalc_project X) is put back.
        session.host = running.url
        session.project_id = running.project_id


# -- magic lines ---------------------------------------------------------------------------------------------

OPTIONS = ["--timeout", "--no-wait", "-o", "--output", "--limit", "--all", "--path", "--project", "--command",
           "--dpi", "--no-preview", "--prompt", "--help", "-h", "--", "-", "--timeout=1", "-o=x"]
ODD_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e309", "1e-300", "0x10", "''", '""', "'", '"', "$x", "{x}", "\\",
              "sk-", "sk_abc", "None", "1 2", "x y", "é", "日本", "\u202e", "\x00", "\t", "%", "%%", "|", ";", "*"]
_value = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=24), st.integers(-10**20, 10**20).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr), st.uuids().map(str))
_quoted = st.tuples(st.sampled_from(["'", '"', ""]), _value, st.sampled_from(["'", '"', ""])).map("".join)
_token = st.one_of(st.sampled_from(OPTIONS), _value, _quoted)
_line = st.one_of(
    st.lists(_token, max_size=8).map(" ".join),
    st.text(max_size=300),
    st.tuples(st.text(min_size=1, max_size=8), st.integers(1, 3000)).map(lambda t: t[0] * t[1]),  # very long
)
# Hosts %cocalc_login may be pointed at: every one fails fast (nothing listens on port 1; no DNS look-ups).
_login_line = st.lists(st.one_of(
    st.sampled_from(["--prompt", "--host", "--host=", "sk-abc", "'sk-abc'", "http://127.0.0.1:1", "https://127.0.0.1:1",
                     "ftp://127.0.0.1", "127.0.0.1", "not a url", "--host=http://127.0.0.1:1", "-x", "'"]),
    st.text(alphabet=string.punctuation + "é ", max_size=12)), max_size=4).map(" ".join)
LINE_MAGICS = ["cocalc_whoami", "cocalc_project", "cocalc_projects", "cocalc_start", "cocalc_stop", "cocalc_restart",
               "cocalc_latex", "cocalc_query"]


@settings(FUZZ, max_examples=EXAMPLES["magic lines"])
@given(case=st.one_of(st.tuples(st.sampled_from(LINE_MAGICS), _line), st.tuples(st.just("cocalc_login"), _login_line)))
def test_fuzzed_magic_lines_give_a_result_or_one_clear_line(kernel, case):
    examples_run["magic lines"] += 1
    ip, running, session = kernel
    magic, line = case
    run_magic(ip, session, running, magic, line)


# -- %%cocalc_latex bodies ------------------------------------------------------------------------------------

# Python inside \py{...}: names and operators only from this grammar (no calls, no ** or <<), so a fuzzed
# expression can fail in every way but cannot run anything or take forever.
_names = st.sampled_from(["x", "s", "d", "items", "undefined_name", "d['k']", "d['missing']", "items[5]"])
_literal = st.one_of(st.integers(-10**6, 10**6).map(str), st.text(max_size=8).map(repr), st.just("None"))
_expression = st.recursive(st.one_of(_names, _literal), lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from([" + ", " - ", " / ", " % ", " == ", " and ", " or "]), inner).map("".join),
    inner.map(lambda e: f"({e})"), inner.map(lambda e: f"[{e}]"), inner.map(lambda e: f"f'{{{e}}}'")), max_leaves=4)
_broken_expression = st.text(alphabet="{}()[]'\":,.%+-/ 0123456789\n", max_size=12)
_interpolation = st.one_of(
    st.tuples(st.sampled_from(["\\py{", "\\pyraw{"]), st.one_of(_expression, _broken_expression),
              st.sampled_from(["}", "", "}}", " }"])).map("".join),
    st.sampled_from(["\\py{", "\\pyraw{", "\\py{}", "\\py{ }", "\\\\py{x}", "% \\py{undefined_name}", "\\%\\py{x}",
                     "\\py", "\\pyraw", "}", "{", "\\py{\"}\"}", "\\py{'''}", "\\py{x}\\py{s}"]))
_plain = st.text(max_size=60).filter(lambda text: "\\py" not in text)  # no accidental interpolation
_control = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=8)
_latexish = st.sampled_from(["\\documentclass{article}\n", "\\begin{document}", "\\end{document}", "$", "$$", "&",
                             "#", "^", "_", "~", "\\\\", "\\section{A}", "\\begin{itemize}", "\\item", "{", "}",
                             "\\", "%", "\n", "\n\n", "é", "日本語", "\U0001F600"])
_body = st.one_of(
    st.lists(st.one_of(_plain, _control, _latexish, _interpolation), max_size=12).map("".join),
    st.tuples(st.text(min_size=1, max_size=6).filter(lambda t: "\\py" not in t),
              st.integers(1, 400_000)).map(lambda t: t[0] * t[1]),  # huge, past CoCalc's 1 MiB limit too
)


@settings(FUZZ, max_examples=EXAMPLES["latex bodies"])
@given(body=_body)
def test_fuzzed_latex_cells_give_a_result_or_one_clear_line(kernel, body):
    """Interpolation, request building, the emulator writing the file: a command that makes no PDF stands in
    for TeX, so hundreds of cells run in seconds (the next test sends a few through real TeX)."""
    examples_run["latex bodies"] += 1
    ip, running, session = kernel
    run_magic(ip, session, running, "cocalc_latex", "--path /tmp/fuzz.tex --command true --no-preview -o _r", body)


@settings(FUZZ, max_examples=EXAMPLES["latex bodies through TeX"])
@given(body=st.lists(st.one_of(_plain, _latexish, _control), max_size=10).map("".join))
def test_fuzzed_latex_cells_through_real_tex_end_in_a_result(kernel, body):
    examples_run["latex bodies through TeX"] += 1
    ip, running, session = kernel
    outcome = run_magic(ip, session, running, "cocalc_latex", "--timeout 20 --no-preview -o _r", body or " ")
    if not isinstance(outcome, UsageError):
        result = ip.user_ns["_r"]
        assert result.ok or result.errors or result.compile_error or result.exit_code, result


# -- %cocalc_query -------------------------------------------------------------------------------------------

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**64, 2**64), st.floats(allow_nan=False),
                       st.text(max_size=12), st.uuids().map(str))
_json = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
_table = st.sampled_from(["accounts", "projects", "projects_all", "api_keys", "nonexistent", ""])
_fields = st.dictionaries(st.sampled_from(["account_id", "email_address", "first_name", "last_name", "title",
                                           "description", "state", "users", "project_id", "deleted", "password_hash",
                                           "last_edited", "name", "action_request"]) | st.text(max_size=8),
                          _json, max_size=4)
_query = st.one_of(
    st.tuples(_table, st.one_of(_fields, st.lists(_fields, max_size=3), _json)).map(lambda t: {t[0]: t[1]}),
    st.dictionaries(_table, _fields, max_size=3),
    _json,
)
_query_text = st.one_of(
    _query.map(json.dumps),
    _query.map(repr),  # a Python literal
    st.text(max_size=80),
    st.tuples(st.sampled_from(["[", "{\"a\":"]), st.integers(1, 3000)).map(lambda t: t[0] * t[1]),  # deep
)


@settings(FUZZ, max_examples=EXAMPLES["query JSON"])
@given(text=_query_text, as_cell=st.booleans())
def test_fuzzed_queries_give_a_result_or_one_clear_line(kernel, text, as_cell):
    examples_run["query JSON"] += 1
    ip, running, session = kernel
    if as_cell:
        run_magic(ip, session, running, "cocalc_query", "", text)
    else:
        run_magic(ip, session, running, "cocalc_query", text.replace("\n", " "))


# -- the emulator's endpoints --------------------------------------------------------------------------------

ROUTES = ["projects/start", "projects/stop", "projects/touch", "projects/create", "projects/get", "projects/delete",
          "user-query", "exec", "latex", "accounts/profile", "accounts/get-names", "api-keys", "no/such/route"]
PARAMS = ["project_id", "query", "path", "content", "command", "args", "timeout", "title", "description", "limit",
          "account_id", "account_ids", "action", "name", "expire", "id", "only_read_pdf", "err_on_exit", "bash",
          "async_call", "async_get", "env", "max_output", "async_await"]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-16", "application/json; charset=bogus",
                 "application/json; charset=idna", "application/json; charset=rot13", "application/ld+json",
                 "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
                 "text/plain", "multipart/form-data; boundary=x", "", "application/json;;charset=", "*/*"]
# exec and latex run commands: fuzzed bodies may name only these, so a fuzz run can never run anything else.
SAFE_COMMANDS = ["echo", "true", "false", "printf", "pwd"]


def _make_safe(route: str, params: dict, command: str) -> dict:
    if route in ("exec", "latex") and isinstance(params, dict):
        params = {**params, "command": command}
        if not isinstance(params.get("timeout"), (int, float)) or not 0 < params["timeout"] <= 5:
            params["timeout"] = 5
    return params


@st.composite
def emulator_requests(draw, ids: tuple[str, ...]):
    route = draw(st.sampled_from(ROUTES))
    kind = draw(st.sampled_from(["/api/v2/", "/api/conat/hub", "/blobs/"]))
    values = st.one_of(_json, st.sampled_from(ids))
    params = draw(st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=6), values, max_size=5))
    params = _make_safe(route if kind == "/api/v2/" else "", params, draw(st.sampled_from(SAFE_COMMANDS)))
    content_type = draw(st.sampled_from(CONTENT_TYPES) | st.text(max_size=20))
    encoding = draw(st.sampled_from(["json", "form", "bytes", "text", "none"]))
    if encoding == "json":
        body = json.dumps(params if draw(st.booleans()) else draw(_json)).encode()
    elif encoding == "form":
        body = "&".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in params.items()
                        if k != "command").encode("utf-8", "surrogatepass")
    elif encoding == "bytes":
        body = draw(st.binary(max_size=200))
    elif encoding == "text":
        body = draw(st.text(max_size=100)).encode("utf-8", "surrogatepass")
    else:
        body = b""
    if kind == "/api/v2/":
        path = f"/api/v2/{route}"
    elif kind == "/blobs/":
        uuid_value = draw(st.one_of(st.sampled_from(ids), st.text(alphabet=string.hexdigits + "-%&=", max_size=40)))
        path = f"/blobs/{draw(st.text(alphabet=string.ascii_letters + '/._-', max_size=20))}?uuid={uuid_value}"
    else:
        path = kind
    # Keys by their index in KEYS (the example is printed when it fails, so it must not hold a real key).
    auth = draw(st.one_of(st.none(), st.tuples(st.sampled_from(["Basic", "Bearer"]), st.integers(0, 3)),
                          st.text(max_size=30), st.binary(max_size=30).map(lambda b: ("Basic-bytes", b))))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]))
    return method, path, content_type, auth, body


def _headers(content_type: str, auth, keys: tuple[str, ...]) -> dict:
    headers = {"Content-Type": content_type}
    if isinstance(auth, tuple) and auth[0] == "Basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{keys[auth[1]]}:".encode()).decode()
    elif isinstance(auth, tuple) and auth[0] == "Bearer":
        headers["Authorization"] = f"Bearer {keys[auth[1]]}"
    elif isinstance(auth, tuple):
        headers["Authorization"] = "Basic " + base64.b64encode(auth[1]).decode()
    elif auth is not None:
        headers["Authorization"] = auth
    return {name: _sendable(value) for name, value in headers.items()}


def _sendable(value: str) -> str:
    """What an HTTP client can put in a header: printable Latin-1, no leading space (requests refuses the rest)."""
    return "".join(c for c in value if 32 <= ord(c) < 127 or 160 <= ord(c) < 256).lstrip()


@pytest.fixture(scope="module")
def wire(fuzz_target):
    running, session = fuzz_target
    http = requests.Session()
    http.trust_env = False
    ids = (running.project_id, running.account_id, running.second["project_id"], running.second["account_id"])
    keys = (running.api_key, running.second["api_key"], "sk-bogus", "sk-" + "A" * 22)
    yield running, http, ids, keys
    http.close()


def test_fuzzed_requests_never_get_a_500_and_never_break_the_emulator(wire):
    running, http, ids, keys = wire

    @settings(FUZZ, max_examples=EXAMPLES["emulator requests"])
    @given(request=emulator_requests(ids))
    def fuzz(request):
        examples_run["emulator requests"] += 1
        method, path, content_type, auth, body = request
        headers = _headers(content_type, auth, keys)
        response = http.request(method, running.url + path, headers=headers, data=body or None, timeout=30)
        if path == "/api/conat/hub" and response.status_code == 500:
            # CoCalc's conat bridge really answers a missing or unknown Authorization with 500 and this JSON.
            if method != "HEAD":
                assert response.json()["error"].startswith(("You must provide authentication",
                                                            "Unknown authorization"))
            return
        assert response.status_code in (200, 304, 400, 401, 404, 413), (response.status_code, response.text[:200])
        if response.status_code == 200 and path.startswith("/api/") and method != "HEAD":
            response.json()  # every 200 of the API is JSON

    fuzz()
    assert running.process.poll() is None, "the emulator died"
    assert http.post(f"{running.url}/api/v2/accounts/profile", json={}, timeout=10).json() == {"profile": {}}
    logged = running.log_path.read_text()
    assert "internal error" not in logged and "Traceback" not in logged, logged[-2000:]
