"""Page snapshots and the protocol that every page handler implements.

A snapshot is taken with one script call per poll, so recognising a page
costs one round trip to the browser however many selectors are tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from shibaws.errors import InteractionRequired

logger = logging.getLogger(__name__)

# Text of the page body kept in a snapshot, for matching known messages.
BODY_TEXT_LIMIT = 20_000

_PROBE_SCRIPT = """
const groups = arguments[0];
function visible(element) {
  const style = window.getComputedStyle(element);
  if (style.visibility === "hidden" || style.display === "none") return false;
  const box = element.getBoundingClientRect();
  return box.width > 0 || box.height > 0 || element.type === "hidden";
}
function first(selectors) {
  for (const selector of selectors) {
    let elements = [];
    try { elements = document.querySelectorAll(selector); } catch (error) { continue; }
    for (const element of elements) {
      if (visible(element)) return element;
    }
  }
  return null;
}
const found = {};
for (const [key, selectors] of Object.entries(groups)) {
  const element = first(selectors);
  if (element === null) continue;
  const text = (element.innerText || element.value || "").trim().slice(0, 500);
  found[key] = element.type === "password" ? "" : text;
}
const state = window.__shibaws || {acted: []};
return {
  url: document.location.href,
  documentUri: document.documentURI,
  title: document.title,
  readyState: document.readyState,
  acted: state.acted,
  found: found,
  body: document.body ? document.body.innerText.slice(0, arguments[1]) : "",
};
"""

_MARK_SCRIPT = """
window.__shibaws = window.__shibaws || {acted: []};
window.__shibaws.acted.push(arguments[0]);
"""


@dataclass(frozen=True)
class PageSnapshot:
    """The parts of the current page that handlers look at."""

    url: str
    title: str
    ready_state: str
    found: Mapping[str, str]  # selector key -> text of its first visible match
    body_text: str = field(repr=False)
    acted: frozenset[str]  # actions already taken on this very document
    # Firefox's own error pages keep the failed URL in location but have an
    # about:neterror or about:certerror document URI.
    document_uri: str = ""

    @property
    def browser_error(self) -> str | None:
        """Return Firefox's error code (connectionFailure, dnsNotFound...) on its error pages."""
        if not self.document_uri.startswith(("about:neterror", "about:certerror")):
            return None
        query = parse_qs(urlsplit(self.document_uri).query)
        return query.get("e", ["unknown"])[0]

    @property
    def safe_url(self) -> str:
        """The URL without query and fragment, which may carry tokens."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def has(self, key: str) -> bool:
        return key in self.found

    def text_contains(self, needles: tuple[str, ...], text: str | None = None) -> str | None:
        """Return the first of NEEDLES found in TEXT (default: the body), ignoring case."""
        haystack = (self.body_text if text is None else text).lower()
        return next((needle for needle in needles if needle.lower() in haystack), None)


@dataclass
class LoginContext:
    """Inputs and callbacks that handlers use to act for the user."""

    username: str
    read_password: Callable[[], str] = field(repr=False)
    notify: Callable[[str], None]
    trust_browser: bool = False
    person_present: bool = False  # visible mode: a person may finish steps by hand
    duo_method: str = "push"  # push, passcode, call or sms
    duo_device: str | None = None  # pick the Duo device whose name contains this text
    retries: int = 0  # fresh pushes or passcodes to try after a denied or timed-out one
    accept_consent: bool = False
    read_passcode: Callable[[], str] | None = None
    step: str = "start page"
    passcodes_used: list[str] = field(default_factory=list, repr=False)
    password_used: str | None = field(default=None, repr=False)
    notices: set[str] = field(default_factory=set)

    def password(self) -> str:
        """Return the password, asking for it now if it was not given beforehand."""
        value = self.read_password()
        self.password_used = value
        return value

    def secrets_used(self) -> list[str]:
        """Return the password and passcodes typed so far, to scrub from saved pages."""
        return [value for value in (self.password_used, *self.passcodes_used) if value]

    def passcode(self) -> str:
        """Ask for a Duo passcode; raise InteractionRequired when there is no way to ask."""
        if self.read_passcode is None:
            raise InteractionRequired(
                "Duo asks for a passcode and there is no terminal to ask you; use --passcode-stdin"
            )
        passcode = self.read_passcode()
        self.passcodes_used.append(passcode)
        return passcode

    def notify_once(self, message: str) -> None:
        if message in self.notices:
            return
        self.notices.add(message)
        self.notify(message)


class PageHandler(Protocol):
    """Recognises one kind of page and takes the next step on it."""

    name: str

    def selectors(self) -> dict[str, tuple[str, ...]]:
        """Return the selector groups to probe, keyed by names unique to this handler."""
        ...

    def recognises(self, page: PageSnapshot) -> bool: ...

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None: ...


def take_snapshot(driver: Any, groups: dict[str, tuple[str, ...]]) -> PageSnapshot | None:
    """Probe the current page; return None while it cannot be read (mid-navigation)."""
    from selenium.common.exceptions import WebDriverException

    payload = {key: list(selectors) for key, selectors in groups.items()}
    try:
        data = driver.execute_script(_PROBE_SCRIPT, payload, BODY_TEXT_LIMIT)
    except WebDriverException as error:
        logger.debug("page not readable yet: %s", _first_line(error.msg))
        return None
    if not isinstance(data, dict):
        return None
    return PageSnapshot(
        url=str(data.get("url", "")),
        title=str(data.get("title", "")),
        ready_state=str(data.get("readyState", "")),
        found=dict(data.get("found") or {}),
        body_text=str(data.get("body", "")),
        acted=frozenset(data.get("acted") or ()),
        document_uri=str(data.get("documentUri", "")),
    )


def mark_acted(driver: Any, action: str) -> None:
    """Record on the current document that ACTION was taken, so it is not repeated."""
    driver.execute_script(_MARK_SCRIPT, action)


def click_first(driver: Any, selectors: tuple[str, ...]) -> bool:
    """Click the first displayed element matching SELECTORS; return whether one was clicked."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for selector in selectors:
        for element in driver.find_elements(By.CSS_SELECTOR, selector):
            try:
                if element.is_displayed():
                    element.click()
                    return True
            except WebDriverException as error:
                logger.debug("clicking %s failed: %s", selector, _first_line(error.msg))
    return False


def click_matching(driver: Any, selectors: tuple[str, ...], text: str | None) -> bool:
    """Click the first displayed element matching SELECTORS whose text contains TEXT.

    TEXT is matched case-insensitively; None matches any element.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for selector in selectors:
        for element in driver.find_elements(By.CSS_SELECTOR, selector):
            try:
                if not element.is_displayed():
                    continue
                if text is not None and text.lower() not in element.text.lower():
                    continue
                element.click()
                return True
            except WebDriverException as error:
                logger.debug("clicking %s failed: %s", selector, _first_line(error.msg))
    return False


def type_into(driver: Any, selectors: tuple[str, ...], value: str) -> bool:
    """Type VALUE into the first displayed field matching SELECTORS; False when none is shown."""
    from selenium.webdriver.common.by import By

    for selector in selectors:
        for element in driver.find_elements(By.CSS_SELECTOR, selector):
            if element.is_displayed():
                element.clear()
                element.send_keys(value)
                return True
    return False


def unmark(driver: Any, prefix: str) -> None:
    """Forget the actions starting with PREFIX, so they can be taken again (after a retry)."""
    driver.execute_script(
        "const state = window.__shibaws;"
        "if (state) state.acted = state.acted.filter((a) => !a.startsWith(arguments[0]));",
        prefix,
    )


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]
