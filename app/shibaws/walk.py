"""Walk the browser from the IdP start URL to the SAML POST, one recognised page at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from shibaws.capture import CapturedPost, SamlCapture
from shibaws.errors import LoginTimedOut, UnknownPage
from shibaws.pages.base import LoginContext, PageHandler, PageSnapshot, take_snapshot
from shibaws.pages.duo import DuoUniversalPrompt
from shibaws.pages.idp import PasswordPage
from shibaws.pages.selectors import load_selectors

logger = logging.getLogger(__name__)

# Seconds between looks at the page while nothing has been captured.
POLL_INTERVAL = 0.1
# Seconds a fully loaded page that no handler recognises may stay before the
# login stops; self-submitting pages (SAML POST, client storage) leave sooner.
UNKNOWN_PAGE_GRACE = 15.0


def default_handlers() -> list[PageHandler]:
    """Return the handlers for the pages a login can meet, most specific first."""
    selectors = load_selectors()
    return [DuoUniversalPrompt(selectors.duo_universal), PasswordPage(selectors.idp_password)]


def walk_to_assertion(
    driver: Any,
    capture: SamlCapture,
    start_url: str,
    context: LoginContext,
    *,
    deadline: float,
    handlers: Sequence[PageHandler] | None = None,
) -> CapturedPost:
    """Open START_URL and act on each page until the SAML POST is captured or DEADLINE passes.

    DEADLINE is a ``time.monotonic()`` value.
    """
    chosen = list(handlers) if handlers is not None else default_handlers()
    groups = {key: value for handler in chosen for key, value in handler.selectors().items()}
    watcher = _UnknownPageWatcher(enabled=not context.person_present)

    driver.get(start_url)
    last: PageSnapshot | None = None
    while True:
        captured = capture.wait(POLL_INTERVAL)
        if captured is not None:
            return captured
        if time.monotonic() >= deadline:
            raise LoginTimedOut(_timeout_message(context, last))

        page = take_snapshot(driver, groups)
        if page is None:
            continue
        last = page
        handler = next((handler for handler in chosen if handler.recognises(page)), None)
        if handler is None:
            watcher.check(page, context)
            continue
        watcher.reset()
        if context.step != handler.name:
            logger.info("on the %s (%s)", handler.name, page.safe_url)
            context.step = handler.name
        handler.act(driver, page, context)


class _UnknownPageWatcher:
    """Stop the walk when one unrecognised, fully loaded page stays too long."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._url: str | None = None
        self._since = 0.0

    def reset(self) -> None:
        self._url = None

    def check(self, page: PageSnapshot, context: LoginContext) -> None:
        if not self._enabled or page.ready_state != "complete":
            return
        now = time.monotonic()
        if page.url != self._url:
            self._url, self._since = page.url, now
            logger.debug("unrecognised page %s (%r)", page.safe_url, page.title)
            return
        if now - self._since >= UNKNOWN_PAGE_GRACE:
            raise UnknownPage(
                f"stopped on a page shibaws does not recognise after the {context.step}: "
                f"{page.title or 'untitled'!r} at {page.safe_url}; run with "
                "--browser-mode visible to finish it by hand"
            )


def _timeout_message(context: LoginContext, page: PageSnapshot | None) -> str:
    where = f" on {page.title or 'an untitled page'!r} at {page.safe_url}" if page else ""
    return (
        f"the login did not finish in time: last step reached was the {context.step}{where}; "
        "raise --timeout or check the IdP URL"
    )
