"""Request parsing like Next.js 15 in production: which bodies become params, and the 400/413/404 cases."""

from __future__ import annotations

import requests

from emulator_helpers import basic

LIMIT = 1024 * 1024


def test_form_body_values_are_strings(emulator):
    # only_read_pdf=false is a non-empty string, hence truthy: the only_read_pdf checks run.
    response = requests.post(f"{emulator.url}/api/v2/latex", data={"path": "x.tex", "only_read_pdf": "false"},
                             headers=basic(emulator.api_key), timeout=10)
    assert response.json() == {"error": "if only_read_pdf is set then project_id must also be set"}


def test_form_body_numbers_arrive_as_strings_and_still_work(ada, emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/get", data={"limit": "1"},
                             headers=basic(emulator.api_key), timeout=10)
    assert len(response.json()) == 1


def test_form_body_cannot_carry_a_user_query(emulator):
    response = requests.post(f"{emulator.url}/api/v2/user-query", data={"query": '{"accounts":{"account_id":null}}'},
                             headers=basic(emulator.api_key), timeout=10)
    # the query arrives as a string, whose keys (to lodash) are its indices
    assert response.json() == {"error": "FATAL: must specify exactly one key in the query"}


def test_get_behaves_as_if_no_params(emulator):
    response = requests.get(f"{emulator.url}/api/v2/latex", params={"path": "x.tex"},
                            headers=basic(emulator.api_key), timeout=10)
    assert response.json() == {"error": "path must be specified and end in .tex"}


def test_other_content_type_leaves_every_param_undefined(emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=f'{{"project_id":"{emulator.project_id}"}}',
                             headers={**basic(emulator.api_key), "Content-Type": "text/plain"}, timeout=10)
    assert response.json() == {"error": "project_id must be a valid uuid"}


def test_empty_json_body_is_an_empty_object(emulator):
    response = requests.post(f"{emulator.url}/api/v2/accounts/profile", data=b"",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200 and response.json() == {"profile": {}}


def test_json_with_nan_is_invalid_like_json_parse(emulator):
    response = requests.post(f"{emulator.url}/api/v2/accounts/profile", data=b'{"x": NaN}',
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400 and response.text == "Invalid JSON"


def test_body_of_exactly_one_megabyte_is_accepted(emulator):
    body = b'{"project_id":"x"' + b" " * (LIMIT - len(b'{"project_id":"x"}')) + b"}"
    assert len(body) == LIMIT
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"error": "project_id must be a valid uuid"}


def test_body_one_byte_over_the_limit_is_413(emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/start", data=b" " * (LIMIT + 1),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413 and response.text == "Body exceeded 1mb limit"


def test_schema_errors_are_not_400_in_production(ada):
    response = ada.post("projects/start", {"project_id": 12345})
    assert response.status_code == 200 and response.json() == {"error": "project_id must be a valid uuid"}


def test_unknown_api_path_is_nexts_html_404(emulator):
    response = requests.post(f"{emulator.url}/api/v2/projects/restart", json={}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html") and "404" in response.text


def test_server_survives_a_handler_given_odd_types(ada, emulator):
    for body in ([1, 2], "string", None, {"project_id": {"$ne": 1}}, {"command": ["a"], "project_id": None}):
        assert ada.post("exec", body).status_code == 200
    assert ada.call("projects/start", {}) == {"error": "project_id must be a valid uuid"}
