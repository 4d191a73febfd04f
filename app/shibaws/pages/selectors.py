"""Load the selectors and texts that recognise login pages.

The packaged ``selectors.toml`` holds the defaults. A campus that renames
fields can override any entry with its own TOML file of the same shape
(``--selectors FILE``); unknown sections or keys there are rejected, so a
typo does not silently fall back to the default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from shibaws.errors import UsageError

Table = dict[str, dict[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Section:
    """The selectors or texts of one page kind, by key."""

    name: str
    entries: dict[str, tuple[str, ...]]

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self.entries[key]


@dataclass(frozen=True)
class PageSelectors:
    table: Table

    def section(self, name: str) -> Section:
        return Section(name, self.table[name])


@cache
def _defaults() -> Table:
    text = resources.files("shibaws.pages").joinpath("selectors.toml").read_text("utf-8")
    return _as_table(tomllib.loads(text), "selectors.toml")


def load_selectors(override: Path | None = None) -> PageSelectors:
    """Return the packaged selectors, with the entries of OVERRIDE in place of the defaults."""
    table = {name: dict(entries) for name, entries in _defaults().items()}
    if override is None:
        return PageSelectors(table)
    for name, entries in _read_override(override).items():
        if name not in table:
            raise UsageError(
                f"unknown section [{name}] in {override}; known: {', '.join(sorted(table))}"
            )
        for key, values in entries.items():
            if key not in table[name]:
                raise UsageError(
                    f"unknown key {key!r} in [{name}] of {override}; "
                    f"known: {', '.join(sorted(table[name]))}"
                )
            table[name][key] = values
    return PageSelectors(table)


def _read_override(path: Path) -> Table:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"selectors file {path} not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read selectors file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"invalid TOML in selectors file {path}: {error}") from None
    return _as_table(data, str(path))


def _as_table(data: dict[str, object], origin: str) -> Table:
    table: Table = {}
    for name, entries in data.items():
        if not isinstance(entries, dict):
            raise UsageError(f"[{name}] in {origin} must be a table of lists of strings")
        table[name] = {}
        for key, values in entries.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise UsageError(f"{key} in [{name}] of {origin} must be a list of strings")
            table[name][key] = tuple(values)
    return table
