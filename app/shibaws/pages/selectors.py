"""Load the selectors and texts that recognise login pages (``selectors.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class PasswordPageSelectors:
    username: tuple[str, ...]
    password: tuple[str, ...]
    submit: tuple[str, ...]
    error: tuple[str, ...]
    error_texts: tuple[str, ...]


@dataclass(frozen=True)
class DuoSelectors:
    markers: tuple[str, ...]
    header: tuple[str, ...]
    error_header: tuple[str, ...]
    verification_code: tuple[str, ...]
    trust_browser: tuple[str, ...]
    dont_trust_browser: tuple[str, ...]
    push_method: tuple[str, ...]
    error: tuple[str, ...]
    denied_texts: tuple[str, ...]
    timed_out_texts: tuple[str, ...]


@dataclass(frozen=True)
class PageSelectors:
    idp_password: PasswordPageSelectors
    duo_universal: DuoSelectors


def _tuples(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


@cache
def load_selectors() -> PageSelectors:
    """Read the packaged ``selectors.toml``."""
    text = resources.files("shibaws.pages").joinpath("selectors.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return PageSelectors(
        idp_password=PasswordPageSelectors(**_tuples(data["idp_password"])),
        duo_universal=DuoSelectors(**_tuples(data["duo_universal"])),
    )
