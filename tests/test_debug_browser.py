"""Redacted page dumps and kept browser profiles."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shibaws.browser import prepare_kept_profile
from shibaws.debug import REMOVED, _scrub
from shibaws.errors import BrowserFailed


def test_scrub_removes_saml_value() -> None:
    html = '<input type="hidden" name="SAMLResponse" value="PHNhbWxw+/="/>'
    assert _scrub(html, []) == f'<input type="hidden" name="SAMLResponse" value="{REMOVED}"/>'


def test_scrub_removes_typed_secrets() -> None:
    html = "<p>hunter2</p><input value='123456'>"
    scrubbed = _scrub(html, ["hunter2", "123456", ""])
    assert "hunter2" not in scrubbed
    assert "123456" not in scrubbed


def test_kept_profile_created_private(tmp_path: Path) -> None:
    profile = prepare_kept_profile(tmp_path / "profile")
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700


def test_kept_profile_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "profile"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    prepare_kept_profile(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_kept_profile_in_use_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "lock").symlink_to(f"127.0.0.1:+{os.getpid()}")
    with pytest.raises(BrowserFailed, match="in use by another Firefox"):
        prepare_kept_profile(folder)


def test_kept_profile_stale_lock_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "lock").symlink_to("127.0.0.1:+999999999")
    assert prepare_kept_profile(folder) == folder
