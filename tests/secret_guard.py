"""The registry behind the suite-wide secret guard (the hook is in conftest.py): any test whose captured output, logs or failure text holds a known API key fails.

Keys are registered here as the emulator mints them (see emulator_process.py). The failure message names
where the key was found, never the key itself, so the guard cannot leak what it guards.
"""

from __future__ import annotations

import pytest

KNOWN_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    if secret:
        KNOWN_SECRETS.add(secret)


def places_holding_a_secret(report: pytest.TestReport) -> list[str]:
    # Captured sections accumulate over setup, call and teardown: read them once, in the call's report.
    texts = [(name, content) for name, content in report.sections] if report.when == "call" else []
    if report.longrepr is not None:
        texts.append(("failure report", report.longreprtext))
    return [name for name, content in texts if any(secret in content for secret in KNOWN_SECRETS)]
