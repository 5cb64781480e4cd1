"""Isolation in the emulator: nobody reaches a project that is not theirs, through any endpoint.

Intruders: another account (grace on ada's projects), a project key of another project (grace's, and one
of ada's own other projects), and no key at all. Every endpoint that names a project is tried, and then
the target is checked for any effect (state, title, deletion, files, keys). Also: paths cannot leave the
project (``..``, absolute paths, symlinks), and a blob is reachable only by its uuid. The table of
endpoint x intruder lands in test-output/reliability/isolation.txt.
"""

from __future__ import annotations

import pytest
import requests

from emulator_helpers import TEX_HELLO, Api, basic
from figures import write_figure
from secret_guard import register_secret

# endpoint -> the body of an attempt on project P (each attempt would change or reveal something)
ATTEMPTS = {
    "projects/start": lambda p: ("projects/start", {"project_id": p}),
    "projects/stop": lambda p: ("projects/stop", {"project_id": p}),
    "projects/touch": lambda p: ("projects/touch", {"project_id": p}),
    "projects/delete": lambda p: ("projects/delete", {"project_id": p}),
    "exec": lambda p: ("exec", {"project_id": p, "command": "touch", "args": ["intruder-was-here"]}),
    "latex": lambda p: ("latex", {"project_id": p, "path": "intruder.tex", "content": TEX_HELLO}),
    "latex only_read_pdf": lambda p: ("latex", {"project_id": p, "path": "paper.tex", "only_read_pdf": True}),
    "user-query get projects_all": lambda p: ("user-query", {"query": {"projects_all": {"project_id": p,
                                                                                        "title": None}}}),
    "user-query get projects": lambda p: ("user-query", {"query": {"projects": {"project_id": p, "users": None}}}),
    "user-query set title": lambda p: ("user-query", {"query": {"projects": {"project_id": p, "title": "pwned"}}}),
    "user-query set action_request": lambda p: ("user-query", {"query": {"projects": {
        "project_id": p, "action_request": {"action": "start", "time": "2026-01-01T00:00:00Z"}}}}),
    "user-query set users": lambda p: ("user-query", {"query": {"projects": {
        "project_id": p, "users": {"00000000-0000-4000-8000-000000000000": {"group": "owner"}}}}}),
    "api-keys create": lambda p: ("api-keys", {"action": "create", "project_id": p}),
    "api-keys get": lambda p: ("api-keys", {"action": "get", "project_id": p}),
}


def refusal(reply) -> str | None:
    """The error of a refused attempt, or None when the attempt was not refused."""
    return reply.get("error") if isinstance(reply, dict) else None


@pytest.fixture(scope="module")
def target(ada, emulator):
    """A project of ada's holding a file, in a known state, and a paper.pdf that only_read_pdf could fetch."""
    project_id = ada.new_project("isolation target")
    ada.call("exec", {"project_id": project_id, "command": "echo ada-only > secret.txt && cp /dev/null paper.pdf"})
    ada.call("projects/stop", {"project_id": project_id})
    return project_id


def project_key(api: Api, project_id: str) -> str:
    key = api.call("api-keys", {"action": "create", "project_id": project_id})["response"][0]["secret"]
    register_secret(key)
    return key


@pytest.fixture(scope="module")
def intruders(ada, grace, anonymous):
    return {
        "other account": grace,
        "project key of another account's project": grace.as_key(project_key(grace, grace.new_project())),
        "project key of another project of the owner": ada.as_key(project_key(ada, ada.new_project())),
        "no key": anonymous,
    }


INTRUDERS = ["other account", "project key of another account's project",
             "project key of another project of the owner", "no key"]


@pytest.fixture(scope="module")
def outcomes():
    """What each intruder got, written as a table once the module's attempts have run."""
    table: dict[tuple[str, str], str] = {}
    yield table
    if not table:
        return
    width = max(len(attempt) for attempt, _ in table) + 2
    lines = ["Isolation: every endpoint that names a project, tried on another account's project.",
             "Intruders: " + "; ".join(f"[{i + 1}] {name}" for i, name in enumerate(INTRUDERS)), ""]
    lines += [f"{attempt.ljust(width)} [{INTRUDERS.index(intruder) + 1}] {outcome}"
              for (attempt, intruder), outcome in table.items()]
    lines.append(f"\n{len(table)} attempts: {len(table)} refused (or found nothing), none left a trace")
    write_figure("isolation", "\n".join(lines))


@pytest.mark.parametrize("intruder", INTRUDERS)
@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_an_intruder_is_refused_and_leaves_no_trace(ada, emulator, target, intruders, outcomes, attempt, intruder):
    endpoint, body = ATTEMPTS[attempt](target)
    reply = intruders[intruder].call(endpoint, body)
    error = refusal(reply)
    # A get that is not refused must have found nothing; anything else must have been refused.
    revealed = isinstance(reply, dict) and bool(reply.get("query")) or isinstance(reply, dict) and reply.get(
        "response")
    assert error or (attempt.startswith("user-query get") and not revealed), f"{attempt}: {reply}"
    outcomes[(attempt, intruder)] = f"refused: {error}" if error else "nothing found"
    # No trace on the target: same state, title, owner, not deleted, no new file, no key minted for it.
    row = ada.call("user-query", {"query": {"projects_all": {"project_id": target, "title": None, "state": None,
                                                             "deleted": None, "users": None}}})
    row = row["query"]["projects_all"]
    assert row["state"]["state"] == "opened" and row["title"] == "isolation target" and not row["deleted"]
    assert list(row["users"]) == [emulator.account_id]
    home = emulator.data_dir / "projects" / target / "home" / "user"
    assert sorted(p.name for p in home.iterdir()) == ["paper.pdf", "secret.txt"]
    assert ada.call("api-keys", {"action": "get", "project_id": target})["response"] == []


def test_a_project_key_works_on_its_own_project_everywhere(ada):
    project_id = ada.new_project()
    own = ada.as_key(project_key(ada, project_id))
    assert own.call("projects/start", {"project_id": project_id}) == {"status": "ok"}
    assert own.call("exec", {"project_id": project_id, "command": "echo", "args": ["mine"]})["stdout"] == "mine\n"
    assert own.call("latex", {"project_id": project_id, "path": "own.tex", "content": TEX_HELLO})["url"]
    assert own.call("projects/stop", {"project_id": project_id}) == {"status": "ok"}


def test_listings_never_show_another_accounts_projects(ada, grace, emulator, target):
    listed = grace.call("user-query", {"query": {"projects_all": [{"project_id": None}]}})["query"]["projects_all"]
    assert target not in {row["project_id"] for row in listed}
    assert target not in {row["project_id"] for row in grace.call("projects/get", {"limit": 1000})}


# -- paths cannot leave the project ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def escape_hatch(ada, emulator):
    """A project whose home holds a symlink to a directory outside it (made by a command the owner ran)."""
    project_id = ada.new_project("escape attempts")
    outside = emulator.data_dir / "outside-the-projects"
    outside.mkdir(exist_ok=True)
    (outside / "loot.pdf").write_bytes(b"%PDF-1.4 not yours")
    ada.call("exec", {"project_id": project_id, "command": f"ln -s {outside} link && ln -s /etc etc-link"})
    return project_id, outside


ESCAPING_PATHS = ["../../x.tex", "../../../../../../x.tex", "/etc/x.tex", "/tmp/../etc/x.tex",
                  "/home/user/../../x.tex", "link/x.tex", "etc-link/x.tex", "/home/user/link/x.tex",
                  "./link/../link/x.tex"]


@pytest.mark.parametrize("path", ESCAPING_PATHS)
def test_latex_cannot_write_or_read_outside_the_project(ada, escape_hatch, path):
    project_id, outside = escape_hatch
    before = sorted(p.name for p in outside.iterdir())
    wrote = ada.call("latex", {"project_id": project_id, "path": path, "content": TEX_HELLO})
    assert "outside the project" in wrote.get("error", ""), wrote
    if not path.startswith("/tmp"):
        read = ada.call("latex", {"project_id": project_id, "path": path.replace("x.tex", "loot.tex"),
                                  "only_read_pdf": True})
        assert "outside the project" in read.get("error", ""), read
    assert sorted(p.name for p in outside.iterdir()) == before


@pytest.mark.parametrize("path", ["..", "../..", "/", "/etc", "/home/user/..", "link", "etc-link",
                                  "/home/user/link"])
def test_exec_cannot_run_in_a_directory_outside_the_project(ada, escape_hatch, path):
    project_id, _ = escape_hatch
    reply = ada.call("exec", {"project_id": project_id, "command": "pwd", "path": path})
    assert "outside the project" in reply.get("error", ""), reply


# -- blobs are reachable only by their uuid ------------------------------------------------------------------

@pytest.fixture(scope="module")
def blob(ada):
    reply = ada.call("latex", {"path": "/tmp/blob.tex", "content": TEX_HELLO, "project_id": ada.new_project()})
    return reply["pdf"]["data_uuid"], reply["url"]


def test_a_blob_is_served_by_its_uuid_whatever_the_path_and_to_anyone(emulator, blob):
    uuid, url = blob
    assert requests.get(url, timeout=10).content.startswith(b"%PDF")
    assert requests.get(f"{emulator.url}/blobs/any/name.pdf?uuid={uuid}", timeout=10).content.startswith(b"%PDF")


@pytest.mark.parametrize("path", [
    "/blobs/", "/blobs//tmp/blob.pdf", "/blobs/blob.pdf?uuid=", "/blobs/x.pdf?uuid={prefix}",
    "/blobs/x.pdf?uuid={upper}", "/blobs/x.pdf?uuid={uuid}&uuid={uuid}", "/blobs/../emulator.sqlite3",
    "/blobs/..%2f..%2femulator.sqlite3", "/blobs/x.pdf?uuid=../../emulator.sqlite3",
    "/blobs/x.pdf?uuid={other}", "/blobs/x.pdf?id={uuid}",
])
def test_a_blob_is_not_reachable_without_its_exact_uuid(emulator, blob, path):
    uuid, _ = blob
    other = uuid[:-1] + ("0" if uuid[-1] != "0" else "1")
    url = emulator.url + path.format(uuid=uuid, prefix=uuid[:18], upper=uuid.upper(), other=other)
    response = requests.get(url, timeout=10, headers=basic(emulator.api_key))
    assert response.status_code == 404 and not response.content.startswith(b"%PDF")
    assert b"SQLite format" not in response.content
