"""Walk the browser from the IdP start URL to the SAML POST, one recognised page at a time."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shibaws.capture import CapturedPost, SamlCapture
from shibaws.errors import (
    InteractionRequired,
    LoginTimedOut,
    PageUnreachable,
    ShibawsError,
    UnknownPage,
    UsageError,
)
from shibaws.pages.base import LoginContext, PageHandler, PageSnapshot, take_snapshot
from shibaws.pages.duo import DuoUniversalPrompt
from shibaws.pages.duo_traditional import DuoTraditionalPrompt
from shibaws.pages.idp import PasswordPage
from shibaws.pages.interstitials import (
    ConsentPage,
    RestartLogin,
    SessionLostPage,
    TermsOfUsePage,
    WaitingPage,
)
from shibaws.pages.selectors import PageSelectors, load_selectors

logger = logging.getLogger(__name__)

# Seconds between looks at the page while nothing has been captured.
POLL_INTERVAL = 0.1
# Seconds a fully loaded page that no handler recognises may stay before the
# login stops; self-submitting pages (SAML POST, client storage) leave sooner.
UNKNOWN_PAGE_GRACE = 15.0
# Times the login starts over after the IdP lost its session.
MAX_RESTARTS = 1


@dataclass(frozen=True)
class WalkOptions:
    start_url: str
    deadline: float  # a time.monotonic() value
    debug_dir: Path | None = None


def default_handlers(selectors: PageSelectors | None = None) -> list[PageHandler]:
    """Return the handlers for the pages a login can meet, most specific first."""
    chosen = selectors or load_selectors()
    idp_pages = chosen.section("idp_pages")
    return [
        DuoUniversalPrompt(chosen.section("duo_universal")),
        DuoTraditionalPrompt(chosen.section("duo_traditional")),
        ConsentPage(idp_pages),
        TermsOfUsePage(idp_pages),
        PasswordPage(chosen.section("idp_password")),
        SessionLostPage(idp_pages),
        WaitingPage(idp_pages),
    ]


def walk_to_assertion(
    driver: Any,
    capture: SamlCapture,
    options: WalkOptions,
    context: LoginContext,
    selectors: PageSelectors | None = None,
) -> CapturedPost:
    """Open the start URL and act on each page until the SAML POST is captured.

    With a debug folder, a redacted screenshot and HTML of the page are saved
    when the walk fails.
    """
    try:
        return _walk(driver, capture, options, context, selectors or load_selectors())
    except ShibawsError:
        if options.debug_dir is not None:
            secrets = context.secrets_used()
            from shibaws.debug import save_page

            for path in save_page(driver, options.debug_dir, secrets):
                context.notify(f"Saved {path}")
        raise


def _walk(
    driver: Any,
    capture: SamlCapture,
    options: WalkOptions,
    context: LoginContext,
    selectors: PageSelectors,
) -> CapturedPost:
    handlers = default_handlers(selectors)
    groups = {key: value for handler in handlers for key, value in handler.selectors().items()}
    _check_selectors(driver, selectors)
    watcher = _UnknownPageWatcher(enabled=not context.person_present)
    restarts = 0

    _open(driver, options.start_url)
    last: PageSnapshot | None = None
    while True:
        captured = capture.wait(POLL_INTERVAL)
        if captured is not None:
            return captured
        if time.monotonic() >= options.deadline:
            raise LoginTimedOut(_timeout_message(context, last))

        page = take_snapshot(driver, groups)
        if page is None:
            continue
        last = page
        if page.browser_error is not None:
            raise PageUnreachable(
                f"Firefox could not load {page.safe_url} ({page.browser_error}) after the "
                f"{context.step}; check the URL, and that this machine can reach the IdP "
                "(VPN, proxy settings)"
            )
        handler = next((handler for handler in handlers if handler.recognises(page)), None)
        if handler is None:
            watcher.check(page, context)
            continue
        watcher.reset()
        if context.step != handler.name:
            logger.info("on the %s (%s)", handler.name, page.safe_url)
            context.step = handler.name
        try:
            handler.act(driver, page, context)
        except RestartLogin as reason:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise LoginTimedOut(
                    f"the IdP lost the login session again ({reason}); wait a minute and "
                    "run shibaws login again"
                ) from None
            context.notify(f"The IdP lost the login session ({reason}); starting over.")
            handlers = default_handlers(selectors)  # forget what was sent in the lost session
            _open(driver, options.start_url)
        except InteractionRequired as needed:
            if not context.person_present:
                raise
            context.notify_once(f"Please finish this step in the Firefox window: {needed}")


_INVALID_SELECTORS_SCRIPT = """
const invalid = [];
for (const selector of arguments[0]) {
  try { document.querySelector(selector); } catch (error) { invalid.push(selector); }
}
return invalid;
"""


def _check_selectors(driver: Any, selectors: PageSelectors) -> None:
    """Raise UsageError for CSS selectors that Firefox cannot parse (a typo in --selectors)."""
    candidates = sorted(
        {
            value
            for section in selectors.table.values()
            for key, values in section.items()
            if not key.endswith("texts")
            for value in values
        }
    )
    invalid = driver.execute_script(_INVALID_SELECTORS_SCRIPT, candidates)
    if invalid:
        raise UsageError(
            f"invalid CSS selectors: {', '.join(map(repr, invalid))}; fix them in the "
            "--selectors file"
        )


def _open(driver: Any, url: str) -> None:
    """Navigate to URL; raise PageUnreachable when Firefox rejects it (a banned port...)."""
    from selenium.common.exceptions import WebDriverException

    try:
        driver.get(url)
    except WebDriverException as error:
        reason = (error.msg or "unknown error").strip().splitlines()[0]
        raise PageUnreachable(
            f"Firefox could not open {url}: {reason}; check the URL and its port"
        ) from None


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
                f"{page.title or 'untitled'!r} at {page.safe_url}; run again with "
                "--browser-mode visible to finish it by hand, or with --debug-dir DIR to save "
                "a redacted copy of the page for a bug report"
            )


def _timeout_message(context: LoginContext, page: PageSnapshot | None) -> str:
    where = f" on {page.title or 'an untitled page'!r} at {page.safe_url}" if page else ""
    return (
        f"the login did not finish in time: last step reached was the {context.step}{where}; "
        "raise --timeout or check the IdP URL"
    )
