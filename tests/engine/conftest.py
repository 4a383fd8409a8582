"""Fixtures of the tests that run the stub provider (engine_stub_provider.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The stub provider's "remote API": a folder of JSON records and its calls.log."""
    path = tmp_path / "store"
    path.mkdir()
    return path
