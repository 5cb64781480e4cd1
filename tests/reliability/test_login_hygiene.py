"""%cocalc_login and the key's text (issue 8, item 15).

A pasted key with a zero-width space or curly quotes is named for what is wrong with it, in one line, never
echoed; the key check asks the session's own host the way the session would (its TLS setting too); and a key
typed on the magic's line is refused and taken out of IPython's history, checked in a real kernel's
history database.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import textwrap

import pytest
from jupyter_client.manager import start_new_kernel

from cocalc_magics import CoCalcSession, ConfigurationError, set_default_session
from cocalc_magics.config import api_key_problem
from magics_helpers import ip, magics, run  # noqa: F401 (fixtures)
from secret_guard import register_secret
from test_tls import https_emulator  # noqa: F401 (fixture)

TYPED_KEY = "sk-" + "Typ3dOnTh3L1n3K3y" + "0009x"
register_secret(TYPED_KEY)


@pytest.fixture
def shared(emulator, magics):  # noqa: F811
    session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, project_id=emulator.project_id,
                            config_file=emulator.data_dir / "none.toml", backoff=0.01)
    set_default_session(session)
    yield session
    set_default_session(None)
    session.close()


def pasted(key: str, how: str) -> str:
    return {"zero-width space": key[:10] + "\u200b" + key[10:], "curly quotes": f"\u201c{key}\u201d",
            "byte-order mark": "\ufeff" + key, "no-break space": key[:5] + "\u00a0" + key[5:],
            "straight quotes": f"'{key}'"}[how]


@pytest.mark.parametrize("how, says", [
    ("zero-width space", "has a zero-width space (U+200B) at character 11"),
    ("curly quotes", "has a curly quote (U+201C) at character 1"),
    ("byte-order mark", "has a byte-order mark (U+FEFF) at character 1"),
    ("no-break space", "has a no-break space (U+00A0) at character 6"),
    ("straight quotes", "does not start with sk- or sk_ as CoCalc's keys do (are there quotes around it?)"),
])
def test_a_mangled_paste_is_named_in_one_line_and_nothing_changes(ip, shared, emulator, monkeypatch, how, says):  # noqa: F811
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pasted(emulator.api_key, how))
    ran = run(ip, "%cocalc_login --prompt")
    line = ran.usage_error
    assert says in line and line.endswith("nothing changed")
    assert emulator.api_key[3:12] not in ran.text() and shared.key_hint.endswith(emulator.api_key[-4:])


def test_a_mangled_key_from_the_environment_is_one_line_not_a_unicode_error(ip, magics, emulator, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COCALC_API_KEY", pasted(emulator.api_key, "zero-width space"))
    session = CoCalcSession(host=emulator.url, config_file=emulator.data_dir / "none.toml")
    set_default_session(session)
    try:
        line = run(ip, "%cocalc_whoami").usage_error
    finally:
        set_default_session(None)
    assert "zero-width space (U+200B)" in line and "COCALC_API_KEY" in line and emulator.api_key[3:12] not in line


def test_a_failed_key_check_is_one_line_even_with_tracebacks_on_and_xmode_verbose(ip, magics, monkeypatch):  # noqa: F811
    """A traceback's frames hold the key, and %xmode Verbose prints their variables."""
    session = CoCalcSession(host="http://127.0.0.1:9", config_file="/nonexistent.toml", retries=0)
    set_default_session(session)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": TYPED_KEY)
    magics.short_errors = False
    run(ip, "%xmode Verbose")
    try:
        ran = run(ip, "%cocalc_login --prompt")
    finally:
        run(ip, "%xmode Context")
        set_default_session(None)
    assert ran.usage_error.startswith("user-query: cannot reach http://127.0.0.1:9")
    assert TYPED_KEY not in ran.text() and not session.has_api_key


def test_set_api_key_refuses_a_mangled_key_and_keeps_the_old_one(emulator):
    session = CoCalcSession(api_key=emulator.api_key, host=emulator.url, config_file="/nonexistent.toml")
    with pytest.raises(ConfigurationError, match="curly quote"):
        session.set_api_key(pasted(emulator.api_key, "curly quotes"))
    assert session.whoami().email_address


def test_a_real_key_has_no_problem(emulator):
    assert api_key_problem(emulator.api_key) is None and api_key_problem("sk_" + secrets.token_hex(8)) is None  # a legacy key


def test_the_key_check_uses_the_sessions_tls_setting(ip, magics, https_emulator, monkeypatch):  # noqa: F811
    """It used to build a session of its own with the default verify, which fails against a private CA."""
    session = CoCalcSession(host=https_emulator["url"], verify=https_emulator["ca_file"],
                            config_file="/nonexistent.toml", timeout=10)
    assert session.check_key(https_emulator["api_key"]).account_id
    set_default_session(session)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": https_emulator["api_key"])
    try:
        ran = run(ip, "%cocalc_login --prompt")
    finally:
        set_default_session(None)
    assert ran.error is None and "Signed in to https://127.0.0.1:" in ran.text()
    assert session.has_api_key


KERNEL_CHECK = textwrap.dedent("""
    hm = get_ipython().history_manager
    hm.writeout_cache()
    import json
    print(json.dumps({"In": In[-2], "_ih": _ih[-2], "_i": _i, "numbered": globals()["_i%d" % (len(In) - 2)],
                      "raw": hm.input_hist_raw[-2], "file": str(hm.hist_file), "session": hm.session_number}))
""")


def run_in_kernel(client, code: str) -> tuple[str, str]:
    """The stdout and the error text of one cell in a real kernel."""
    out: list[str] = []
    error: list[str] = []

    def keep(message):
        content = message["content"]
        if message["msg_type"] == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif message["msg_type"] in ("stream", "error"):
            error.append(content.get("text") or f"{content['ename']}: {content['evalue']}")

    client.execute_interactive(code, output_hook=keep, timeout=60)
    return "".join(out), "".join(error)


def test_a_key_typed_on_the_line_is_refused_and_taken_out_of_the_kernels_history(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("COCALC_MAGICS_CONFIG", str(tmp_path / "none.toml"))
    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=[])
    try:
        run_in_kernel(client, "%load_ext cocalc_magics")
        _, refused = run_in_kernel(client, f"x = 1\n%cocalc_login {TYPED_KEY}")
        shown, _ = run_in_kernel(client, KERNEL_CHECK)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    seen = json.loads(shown.strip().splitlines()[-1])
    assert "takes no API key on its line" in refused and "removed from this kernel's history" in refused
    assert TYPED_KEY not in refused
    for place in ("In", "_ih", "_i", "numbered", "raw"):
        assert TYPED_KEY not in seen[place] and "[removed" in seen[place] and "x = 1" in seen[place], place
    with sqlite3.connect(seen["file"]) as database:
        rows = database.execute("SELECT source, source_raw FROM history WHERE session=?",
                                (seen["session"],)).fetchall()
    assert rows and not any(TYPED_KEY in text for row in rows for text in row)
    assert any("%cocalc_login [removed" in row[1] for row in rows)


