"""Account names for the role picker and profile names.

Names come from the ``shibaws_account_names`` setting and, when the user
allows it, from the AWS sign-in page that lists the user's accounts. That
page is decoration that AWS changes without notice (redesigned in August
2023; some POSTs now get a script-only interstitial instead), so it is
parsed leniently and any failure falls back to the account id quietly.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

from shibaws.saml import Role

logger = logging.getLogger(__name__)

# Seconds the sign-in page may take to answer before names fall back to ids.
SIGNIN_PAGE_TIMEOUT = 10.0
# Pages larger than this are not the account list.
MAX_PAGE_BYTES = 2_000_000
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# The page before August 2023: <div class="saml-account-name">Account: NAME (123456789012)</div>.
_CLASSIC_ACCOUNT = re.compile(r"Account:\s*(?P<name>[^()<>]*?)\s*\(\s*(?P<id>\d{12})\s*\)")
# Account ids on the 2023 page are shown as 1234-5678-9012.
_DASHED_ID = re.compile(r"^\d{4}-?\d{4}-?\d{4}$")
# Account names that AWS allows as aliases, plus spaces for names shown from elsewhere.
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\[\]{}]")


def parse_account_names(text: str) -> dict[str, str]:
    """Read the ``shibaws_account_names`` setting: ``ID = NAME`` pairs, one per line or
    separated by commas. Raises ValueError for a malformed pair."""
    names: dict[str, str] = {}
    for item in re.split(r"[\n,]", text):
        if not item.strip():
            continue
        account_id, separator, name = item.partition("=")
        account_id, name = account_id.strip(), name.strip()
        if not separator or not _ACCOUNT_ID.match(account_id) or not name:
            raise ValueError(f"expected 123456789012 = NAME, not {item.strip()!r}")
        names[account_id] = check_account_name(name)
    return names


def check_account_name(name: str) -> str:
    """Return NAME, or raise ValueError when it cannot go into a profile name."""
    if _NAME_FORBIDDEN.search(name):
        raise ValueError(
            f"invalid account name {name!r}: no brackets, braces or control characters"
        )
    return name


def format_account_names(names: Mapping[str, str]) -> str:
    """Return NAMES in the one-line form that ``parse_account_names`` reads."""
    return ", ".join(f"{account_id}={name}" for account_id, name in sorted(names.items()))


def account_label(account_id: str, names: Mapping[str, str]) -> str:
    """Return "name (id)" when the account's name is known, else the id."""
    name = names.get(account_id)
    return f"{name} ({account_id})" if name else account_id


def fetch_signin_account_names(url: str, saml_response: str) -> dict[str, str]:
    """POST the SAML Response to the sign-in page at URL and return the names it lists.

    Returns {} on any failure: the page is optional, and ids are shown instead.
    """
    body = urllib.parse.urlencode({"SAMLResponse": saml_response, "RelayState": ""}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=SIGNIN_PAGE_TIMEOUT) as response:
            page = response.read(MAX_PAGE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        logger.info("could not read account names from %s (%s); showing account ids", url, error)
        return {}
    if len(page) > MAX_PAGE_BYTES:
        logger.info("the sign-in page at %s is larger than expected; showing account ids", url)
        return {}
    names = parse_signin_page(page.decode("utf-8", errors="replace"))
    logger.info("the sign-in page listed %d account names", len(names))
    return names


def parse_signin_page(page: str) -> dict[str, str]:
    """Return ``account id -> name`` from either form of the AWS sign-in page, or {}."""
    names = _parse_2023_page(page)
    for match in _CLASSIC_ACCOUNT.finditer(page):
        name = match.group("name").strip()
        if name:
            names.setdefault(match.group("id"), name)
    return {account_id: name for account_id, name in names.items() if _usable(name)}


def _usable(name: str) -> bool:
    try:
        check_account_name(name)
    except ValueError:
        return False
    return True


def _parse_2023_page(page: str) -> dict[str, str]:
    """Pair each element whose class mentions ``account_name`` with the next ``account_id``."""
    parser = _ClassTextParser()
    try:
        parser.feed(page)
        parser.close()
    except AssertionError:  # html.parser raises this on some malformed markup
        return {}
    names: dict[str, str] = {}
    pending_name: str | None = None
    for kind, text in parser.items:
        if kind == "name":
            # The classic page's "Account: NAME (ID)" is read by _CLASSIC_ACCOUNT instead.
            pending_name = None if text.startswith("Account:") else text
        elif pending_name is not None and _DASHED_ID.match(text):
            names[text.replace("-", "")] = pending_name
            pending_name = None
    return names


class _ClassTextParser(HTMLParser):
    """Collect the text of elements whose class names an account name or account id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._current: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(value or "" for name, value in attrs if name == "class")
        kind = _kind_of(classes)
        if kind is not None:
            self._finish()
            self._current = kind
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        self._finish()

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def _finish(self) -> None:
        if self._current is None:
            return
        text = " ".join("".join(self._text).split())
        if text:
            self.items.append((self._current, text))
        self._current = None


def _kind_of(classes: str) -> str | None:
    lowered = classes.lower()
    if "account_name" in lowered or "account-name" in lowered:
        return "name"
    if "account_id" in lowered or "account-id" in lowered:
        return "id"
    return None


def names_for_roles(roles: Iterable[Role], names: Mapping[str, str]) -> dict[str, str]:
    """Return the subset of NAMES for the accounts of ROLES."""
    accounts = {role.account_id for role in roles}
    return {account_id: name for account_id, name in names.items() if account_id in accounts}
