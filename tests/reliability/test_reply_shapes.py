"""Well-formed JSON of shapes CoCalc never sends (issue 8, item 12): only the package's errors come out.

A local server on 127.0.0.1 answers each call with a JSON value hypothesis draws, biased towards the
endpoint's real shape with parts swapped for lists, strings, nulls, huge or non-finite numbers. Every session
call, and the magics on top, must return a result or raise a CoCalcError (a one-line UsageError in a magic);
TypeError, KeyError, AttributeError, ValueError or OverflowError escaping is the bug this pins.
"""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocalc_magics import CoCalcError, CoCalcSession, set_default_session
from cocalc_magics.errors import HTTPStatusError, UnexpectedReplyError
from hostile_server import HostileServer, send_raw
from magics_helpers import _views_to_close, ip, magics, run  # noqa: F401 (fixtures)
from secret_guard import register_secret

KEY = "sk-" + "Sh4p3sS3rv3rK3yZ" + "00078r"
register_secret(KEY)
PROJECT_ID = "7f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
EXAMPLES_PER_ENDPOINT = 60

odd_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
any_json = st.recursive(odd_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                              st.dictionaries(st.text(max_size=12), inner,
                                                                              max_size=4)), max_leaves=12)


def shaped(fields: dict) -> st.SearchStrategy:
    """The endpoint's own shape, each field either well-typed or anything at all, or missing."""
    return st.fixed_dictionaries({}, optional={name: st.one_of(strategy, any_json)
                                               for name, strategy in fields.items()})


uuid_text = st.just(PROJECT_ID)
state = shaped({"state": st.sampled_from(["running", "opened", "starting"]), "time": st.text(max_size=30),
                "error": st.text(max_size=20)})
project_row = shaped({"project_id": uuid_text, "title": st.text(max_size=20), "description": st.text(max_size=20),
                      "state": state, "last_edited": st.sampled_from(["2026-11-27T16:00:00.000Z", "0001-01-01",
                                                                      "9999-12-31T23:59:59"]),
                      "deleted": st.booleans(), "name": st.text(max_size=10)})
REPLIES = {
    "whoami": shaped({"query": shaped({"accounts": shaped({"account_id": uuid_text, "email_address": st.text(),
                                                           "first_name": st.text(), "last_name": st.text()})})}),
    "projects": shaped({"query": shaped({"projects_all": st.lists(project_row, max_size=3)})}),
    "state": shaped({"query": shaped({"projects_all": project_row})}),
    "exec": shaped({"stdout": st.text(), "stderr": st.text(),
                    "exit_code": st.one_of(st.integers(), st.floats(), st.text(max_size=5))}),
    "latex": shaped({"compile": shaped({"event": st.sampled_from(["project_exec_output", "error"]),
                                        "stdout": st.text(), "stderr": st.text(), "exit_code": st.integers(),
                                        "error": st.just("command 'x' exited with nonzero code "
                                                         + "9" * 5000 + " -- stderr=''")}),
                     "url": st.sampled_from(["http://127.0.0.1:9/blobs/d.pdf?uuid=0", "javascript:x", ""]),
                     "pdf": shaped({"data_uuid": st.text(max_size=36)})}),
    "create_project": shaped({"project_id": uuid_text}),
}
CALLS = {
    "whoami": lambda s: s.whoami(),
    "projects": lambda s: s.projects(),
    "state": lambda s: s.state(PROJECT_ID),
    "exec": lambda s: s.exec("true"),
    "latex": lambda s: s.latex("x"),
    "create_project": lambda s: s.create_project("t"),
}


class ScriptedReply:
    """The next answer of the shared server: bytes, set by each hypothesis example."""

    def __init__(self):
        self.body = b"{}"
        self.lock = threading.Lock()

    def __call__(self, handler, request):
        with self.lock:
            body = self.body
        send_raw(handler, 200, body)


@pytest.fixture(scope="module")
def server():
    reply = ScriptedReply()
    with HostileServer(reply) as running:
        running.reply = reply
        yield running


def session_for(url: str) -> CoCalcSession:
    return CoCalcSession(api_key=KEY, host=url, project_id=PROJECT_ID, config_file="/nonexistent.toml",
                         timeout=5.0, retries=0)


def only_package_errors(call):
    try:
        call()
    except CoCalcError:
        pass


@pytest.mark.parametrize("endpoint", REPLIES)
def test_any_shape_of_reply_gives_a_result_or_a_package_error(server, endpoint):
    session = session_for(server.url)

    @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(reply=st.one_of(REPLIES[endpoint], any_json))
    def check(reply):
        server.reply.body = json.dumps(reply).encode()
        only_package_errors(lambda: CALLS[endpoint](session))

    try:
        check()
    finally:
        session.close()


@pytest.mark.parametrize("body, endpoint", [
    (b'{"query": {"accounts": {"account_id": NaN}}}', "whoami"),
    (b'{"stdout": "", "stderr": "", "exit_code": 1e400}', "exec"),
    (b'{"stdout": "", "stderr": "", "exit_code": Infinity}', "exec"),
])
def test_non_finite_numbers_are_not_json_cocalc_sends(server, body, endpoint):
    server.reply.body = body
    with pytest.raises(HTTPStatusError, match="not JSON"):
        CALLS[endpoint](session_for(server.url))


@pytest.mark.parametrize("reply, endpoint, says", [
    ({"query": []}, "whoami", "user-query: the server sent a list where CoCalc sends an object"),
    ({"query": {"accounts": ["a"]}}, "whoami", "user-query accounts: the server sent a list where"),
    ({"query": {"accounts": {"email_address": "x"}}}, "whoami", "account_id is null where CoCalc sends a string"),
    ({"query": {"projects_all": {"title": "x"}}}, "projects", "the server sent an object where CoCalc sends a list"),
    ({"stdout": 5, "exit_code": 0}, "exec", "exec: stdout is a number where CoCalc sends a string"),
    ({"stdout": "", "exit_code": "0"}, "exec", "exec: exit_code is a string where CoCalc sends a whole number"),
    ({"compile": [], "url": None}, "latex", "latex compile: the server sent a list where"),
])
def test_a_wrong_shape_is_one_unexpected_reply_error_naming_the_part(server, reply, endpoint, says):
    server.reply.body = json.dumps(reply).encode()
    with pytest.raises(UnexpectedReplyError) as raised:
        CALLS[endpoint](session_for(server.url))
    assert says in str(raised.value)


@pytest.fixture
def shared(server):
    session = session_for(server.url)
    set_default_session(session)
    yield session
    while _views_to_close:
        _views_to_close.pop().close()
    set_default_session(None)
    session.close()


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(reply=st.one_of(REPLIES["projects"], REPLIES["whoami"], any_json),
       line=st.sampled_from(["%cocalc_whoami", "%cocalc_projects --all -o found", "%cocalc_stop --no-wait",
                             "%cocalc_query {\"accounts\": {\"x\": null}}"]))
def test_a_magic_meets_any_reply_shape_with_a_result_or_one_line(ip, shared, server, reply, line):  # noqa: F811
    server.reply.body = json.dumps(reply).encode()
    ran = run(ip, line)
    if ran.error is not None:
        assert type(ran.error).__name__ == "UsageError", f"{line}: {type(ran.error).__name__}: {ran.error}"
        assert len(ran.stderr.strip().splitlines()) == 1
