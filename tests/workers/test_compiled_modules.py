"""The worker keeps compiled modules (so the workflow sandbox does not compile the workflows' source
at every run) only in a folder that is its own and private: never in one another user could write."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from services.workers.main import keep_compiled_modules


@pytest.fixture
def bytecode_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """As under PYTHONDONTWRITEBYTECODE, with the temporary folder moved to `tmp_path`."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    return tmp_path / f"fanpin-worker-bytecode-{os.getuid()}"


def test_a_private_folder_of_its_own_is_used(bytecode_off: Path) -> None:
    keep_compiled_modules()
    assert sys.pycache_prefix == str(bytecode_off)
    assert sys.dont_write_bytecode is False
    assert bytecode_off.stat().st_mode & 0o777 == 0o700


def test_a_folder_others_may_write_is_not_used(bytecode_off: Path) -> None:
    bytecode_off.mkdir()
    bytecode_off.chmod(0o777)
    keep_compiled_modules()
    assert sys.pycache_prefix is None
    assert sys.dont_write_bytecode is True


def test_a_symlink_is_not_followed(bytecode_off: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    bytecode_off.symlink_to(elsewhere)
    keep_compiled_modules()
    assert sys.pycache_prefix is None
    assert sys.dont_write_bytecode is True


def test_nothing_changes_when_bytecode_may_be_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    keep_compiled_modules()
    assert sys.pycache_prefix is None
    assert list(tmp_path.iterdir()) == []
