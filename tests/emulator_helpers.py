"""Helpers for tests that speak raw HTTP to a running emulator (the emulator and reliability suites)."""

from __future__ import annotations

import base64
import secrets

import requests

TEX_HELLO = r"\documentclass{article}\begin{document}Hi\end{document}"


def unknown_key() -> str:
    """A key in CoCalc's shape that no account has: made at run time, so no key-shaped text is in the repo."""
    return "sk" + "-" + secrets.token_hex(11)


def basic(key: str) -> dict:
    """``Authorization: Basic base64("KEY:")``, what ``curl -u KEY:`` sends."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


class Api:
    """Posts JSON to ``/api/v2/<endpoint>`` as one of the seeded accounts (or anonymously)."""

    def __init__(self, url: str, key: str | None):
        self.url, self.key = url, key

    def post(self, endpoint: str, body: object = None, *, key: str | None = "default", **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        key = self.key if key == "default" else key
        if key is not None:
            headers = {**basic(key), **headers}
        if body is not None:
            kwargs["json"] = body
        return requests.post(f"{self.url}/api/v2/{endpoint}", headers=headers, timeout=90, **kwargs)

    def call(self, endpoint: str, body: object = None, **kwargs) -> object:
        response = self.post(endpoint, body, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def anonymous(self) -> Api:
        return Api(self.url, None)

    def as_key(self, key: str) -> Api:
        return Api(self.url, key)

    def new_project(self, title: str = "Test project") -> str:
        return self.call("projects/create", {"title": title})["project_id"]

    def state(self, project_id: str) -> str:
        reply = self.call("user-query", {"query": {"projects_all": {"project_id": project_id, "state": None}}})
        return reply["query"]["projects_all"]["state"]["state"]
