"""Page selectors: packaged defaults and per-IdP overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from shibaws.errors import UsageError
from shibaws.pages.selectors import load_selectors


def test_defaults_have_every_section() -> None:
    selectors = load_selectors()
    for name in ("idp_password", "duo_universal", "duo_traditional", "idp_pages"):
        assert selectors.section(name).entries


def test_override_replaces_one_key(tmp_path: Path) -> None:
    override = tmp_path / "campus.toml"
    override.write_text('[idp_password]\nusername = ["#netid"]\n')
    selectors = load_selectors(override)
    assert selectors.section("idp_password")["username"] == ("#netid",)
    assert (
        selectors.section("idp_password")["password"]
        == load_selectors().section("idp_password")["password"]
    )


def test_override_unknown_key_rejected(tmp_path: Path) -> None:
    override = tmp_path / "campus.toml"
    override.write_text('[idp_password]\nusernme = ["#netid"]\n')
    with pytest.raises(UsageError, match="unknown key 'usernme'"):
        load_selectors(override)


def test_override_unknown_section_rejected(tmp_path: Path) -> None:
    override = tmp_path / "campus.toml"
    override.write_text('[duo]\nheader = ["h1"]\n')
    with pytest.raises(UsageError, match=r"unknown section \[duo\]"):
        load_selectors(override)


def test_override_wrong_type_rejected(tmp_path: Path) -> None:
    override = tmp_path / "campus.toml"
    override.write_text('[idp_password]\nusername = "#netid"\n')
    with pytest.raises(UsageError, match="must be a list of strings"):
        load_selectors(override)


def test_override_bad_toml_rejected(tmp_path: Path) -> None:
    override = tmp_path / "campus.toml"
    override.write_text("[idp_password\n")
    with pytest.raises(UsageError, match="invalid TOML"):
        load_selectors(override)


def test_override_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_selectors(tmp_path / "absent.toml")


def test_invalid_css_rejected_in_browser(tmp_path: Path) -> None:
    """A selector Firefox cannot parse is a usage error before any page is touched."""
    from shibaws.browser import BrowserSettings, open_browser
    from shibaws.walk import _check_selectors

    override = tmp_path / "campus.toml"
    override.write_text('[idp_password]\nusername = ["#user["]\n')
    with open_browser(BrowserSettings()) as driver, pytest.raises(UsageError, match="#user"):
        _check_selectors(driver, load_selectors(override))
