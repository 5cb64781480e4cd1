"""Fixtures for the emulator tests: the seeded accounts as API helpers."""

from __future__ import annotations

import pytest

from emulator_helpers import Api


@pytest.fixture(scope="session")
def ada(emulator) -> Api:
    """The first seeded account (owner of ``emulator.project_id``)."""
    return Api(emulator.url, emulator.api_key)


@pytest.fixture(scope="session")
def grace(emulator) -> Api:
    """The second seeded account (owner of ``emulator.second["project_id"]``)."""
    return Api(emulator.url, emulator.second["api_key"])


@pytest.fixture(scope="session")
def anonymous(emulator) -> Api:
    return Api(emulator.url, None)
