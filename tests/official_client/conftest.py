"""CoCalc's official Python client (``cocalc-api``) as a second, independent reader of the emulator."""

from __future__ import annotations

import pytest

cocalc_api = pytest.importorskip("cocalc_api")


@pytest.fixture(scope="module")
def hub(emulator):
    """``cocalc_api.Hub`` for the first seeded account (ada)."""
    client = cocalc_api.Hub(api_key=emulator.api_key, host=emulator.url)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def grace_hub(emulator):
    """``cocalc_api.Hub`` for the second seeded account (grace), who shares nothing with ada."""
    client = cocalc_api.Hub(api_key=emulator.second["api_key"], host=emulator.url)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def project_id(hub):
    """A fresh project of ada's for one test module."""
    return hub.projects.create_project(title="official client")


@pytest.fixture(scope="module")
def project(emulator, project_id):
    """``cocalc_api.Project`` on ``project_id`` with ada's account key."""
    client = cocalc_api.Project(api_key=emulator.api_key, host=emulator.url, project_id=project_id)
    yield client
    client.client.close()
