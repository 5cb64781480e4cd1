"""The content-addressed LaTeX cache: real compiles on the emulator stored and shown again without HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap

import pypdfium2
import pytest

from cocalc_magics.client import key_wire_forms
from cocalc_magics.latex.cache import LatexCache, cache_key, default_cache_directory
from cocalc_magics.latex.compile import compile_cell

DOCUMENT = "\\documentclass{article}\\begin{document}Cached %s.\\end{document}\n"
BROKEN = "\\documentclass{article}\n\\begin{document}\n\\undefinedmacro\n\\end{document}\n"


@pytest.fixture
def requests_made(session) -> list[str]:
    made: list[str] = []
    session.client._api_http.hooks["response"].append(lambda response, *a, **k: made.append(response.url))
    session.client._blob_http.hooks["response"].append(lambda response, *a, **k: made.append(response.url))
    return made


def first_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return " ".join(document[0].get_textpage().get_text_range().split())
    finally:
        document.close()


def key_of(session, content: str, files=()) -> str:
    return cache_key(session.host, session.project_id, None, content, files)


def compiled(session, cache: LatexCache, content: str):
    result = session.latex(content)
    cache.put(key_of(session, content), result)
    return result


def test_a_hit_is_the_same_result_without_any_request(session, tmp_path, requests_made):
    cache = LatexCache(tmp_path)
    first = compiled(session, cache, DOCUMENT % "one")
    requests_made.clear()
    again = cache.get(key_of(session, DOCUMENT % "one"))
    assert again is not None and requests_made == []
    assert (again.ok, again.url, again.stdout, again.path, again.exit_code) == \
        (first.ok, first.url, first.stdout, first.path, first.exit_code)
    assert again.pdf == first.pdf and again.pdf.startswith(b"%PDF-")
    assert requests_made == []  # the PDF came from the cache too


def test_errors_come_back_as_errors(session, tmp_path):
    cache = LatexCache(tmp_path, use_disk=False)
    first = compiled(session, cache, BROKEN)
    assert first.errors
    assert cache.get(key_of(session, BROKEN)).errors == first.errors


def test_every_input_of_the_compile_changes_the_key():
    base = cache_key("https://h", "p", None, "doc", [("a.png", "1" * 64)])
    assert base == cache_key("https://h/", "p", None, "doc", [("a.png", "1" * 64)])
    others = [cache_key("https://other", "p", None, "doc", [("a.png", "1" * 64)]),
              cache_key("https://h", "q", None, "doc", [("a.png", "1" * 64)]),
              cache_key("https://h", "p", "pdflatex d.tex", "doc", [("a.png", "1" * 64)]),
              cache_key("https://h", "p", None, "doc ", [("a.png", "1" * 64)]),
              cache_key("https://h", "p", None, "doc", [("a.png", "2" * 64)]),
              cache_key("https://h", "p", None, "doc", [("b.png", "1" * 64)]),
              cache_key("https://h", "p", None, "doc", [])]
    assert len({base, *others}) == 1 + len(others)


def test_force_misses_but_stores(session, tmp_path):
    cache = LatexCache(tmp_path)
    key = key_of(session, DOCUMENT % "forced")
    assert cache.get(key, force=True) is None
    result = session.latex(DOCUMENT % "forced")
    cache.put(key, result)
    assert cache.get(key, force=True) is None
    assert cache.get(key).pdf == result.pdf


def test_the_disk_cache_survives_a_new_process(session, tmp_path):
    first = compiled(session, LatexCache(tmp_path), DOCUMENT % "disk")
    key = key_of(session, DOCUMENT % "disk")
    script = textwrap.dedent(f"""
        import hashlib, json
        from cocalc_magics.latex.cache import LatexCache
        result = LatexCache({str(tmp_path)!r}).get({key!r})
        print(json.dumps([result.ok, result.url, hashlib.sha256(result.pdf).hexdigest()]))
    """)
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(shown.stdout) == [first.ok, first.url, hashlib.sha256(first.pdf).hexdigest()]


def test_the_disk_bound_evicts_the_least_recently_used(session, tmp_path):
    results = {name: session.latex(DOCUMENT % name) for name in ("a", "b", "c")}
    entry_size = len(results["a"].pdf) + 4096
    cache = LatexCache(tmp_path, disk_bytes=int(entry_size * 2.5), use_disk=True)
    keys = {name: key_of(session, DOCUMENT % name) for name in results}
    cache.put(keys["a"], results["a"])
    cache.put(keys["b"], results["b"])
    old = os.stat(tmp_path / f"{keys['a']}.entry").st_mtime - 100
    os.utime(tmp_path / f"{keys['b']}.entry", (old, old))  # b is now older than a
    cache.put(keys["c"], results["c"])
    on_disk = {path.name.split(".")[0] for path in tmp_path.glob("*.entry")}
    assert on_disk == {keys["a"], keys["c"]}
    assert sum(path.stat().st_size for path in tmp_path.glob("*.entry")) <= cache.disk_bytes


def test_memory_is_bounded_in_entries(session, tmp_path):
    cache = LatexCache(tmp_path, memory_entries=2, use_disk=False)
    for name in ("x", "y", "z"):
        compiled(session, cache, DOCUMENT % name)
    assert cache.get(key_of(session, DOCUMENT % "x")) is None
    assert cache.get(key_of(session, DOCUMENT % "z")) is not None


def test_files_are_private_and_never_hold_the_key(session, emulator, tmp_path):
    directory = tmp_path / "cache"
    compiled(session, LatexCache(directory), DOCUMENT % "private")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    entries = list(directory.iterdir())
    assert entries and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in entries)
    stored = b"".join(path.read_bytes() for path in entries)
    for form in key_wire_forms(emulator.api_key):
        assert form.encode() not in stored


def test_a_damaged_entry_is_a_miss_and_is_removed(session, tmp_path):
    cache = LatexCache(tmp_path)
    compiled(session, cache, DOCUMENT % "damaged")
    key = key_of(session, DOCUMENT % "damaged")
    path = tmp_path / f"{key}.entry"
    path.write_bytes(path.read_bytes()[:-10])
    assert LatexCache(tmp_path).get(key) is None
    assert not path.exists()


def test_the_cache_lives_in_the_users_cache_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_directory() == tmp_path / "cocalc-magics" / "latex"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_directory() == tmp_path / "home" / ".cache" / "cocalc-magics" / "latex"


def test_an_entry_naming_anything_but_a_result_type_is_a_miss(session, tmp_path):
    cache = LatexCache(tmp_path)
    compiled(session, cache, BROKEN)
    key = key_of(session, BROKEN)
    path = tmp_path / f"{key}.entry"
    header, _, pdf = path.read_bytes().partition(b"\n")
    altered = json.loads(header)
    altered["fields"]["errors"]["type"] = "datetime"  # a class models imports, not one of its result types
    path.write_bytes(json.dumps(altered).encode() + b"\n" + pdf)
    assert LatexCache(tmp_path).get(key) is None
    assert not path.exists()


# -- a whole cell: files, cache, stable directory ------------------------------------------------------------------

CELL = "\\documentclass{article}\\begin{document}\\input{part} %s\\end{document}\n"


def test_a_cell_compiles_once_then_shows_from_the_cache_until_an_input_changes(session, tmp_path, requests_made):
    (tmp_path / "part.tex").write_text("From the input file.")
    cache = LatexCache(tmp_path / "cache")
    first = compile_cell(session, CELL % "A", base=tmp_path, cell_identity="nb.ipynb#c1", cache=cache)
    assert first.ok and first.path.startswith("/home/user/.cocalc-magics/latex/")
    assert any("/api/v2/latex" in url for url in requests_made)
    requests_made.clear()
    again = compile_cell(session, CELL % "A", base=tmp_path, cell_identity="nb.ipynb#c1", cache=cache)
    assert requests_made == [] and again.pdf == first.pdf
    (tmp_path / "part.tex").write_text("Edited input file.")
    edited = compile_cell(session, CELL % "A", base=tmp_path, cell_identity="nb.ipynb#c1", cache=cache)
    assert sum("/api/v2/latex" in url for url in requests_made) == 1
    assert "Latexmk:" not in edited.log  # the stable directory's .aux: one pdflatex pass
    assert first_text(first.pdf).startswith("From the input file. A")
    assert first_text(edited.pdf).startswith("Edited input file. A")


def test_force_compiles_an_unchanged_cell_again(session, tmp_path, requests_made):
    (tmp_path / "part.tex").write_text("Forced.")
    cache = LatexCache(tmp_path / "cache")
    compile_cell(session, CELL % "F", base=tmp_path, cell_identity="nb.ipynb#f", cache=cache)
    requests_made.clear()
    forced = compile_cell(session, CELL % "F", base=tmp_path, cell_identity="nb.ipynb#f", cache=cache, force=True)
    assert forced.ok and sum("/api/v2/latex" in url for url in requests_made) == 1
    assert sum("/api/v2/exec" in url for url in requests_made) == 1  # force asks the project what it has


def test_a_failed_compile_is_not_stored(session, tmp_path, requests_made):
    cache = LatexCache(tmp_path / "cache")
    failed = compile_cell(session, BROKEN, base=tmp_path, cell_identity="nb.ipynb#b", cache=cache)
    assert not failed.ok and failed.errors
    requests_made.clear()
    compile_cell(session, BROKEN, base=tmp_path, cell_identity="nb.ipynb#b", cache=cache)
    assert any("/api/v2/latex" in url for url in requests_made)
