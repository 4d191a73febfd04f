"""IdP pages that can come between the password and AWS.

Each page has a stated policy. Consent is given only when the user allowed
it (``--accept-consent``). Terms of use always need a person. A stale or
lost session restarts the login once. Pages that continue by themselves
(expiring-password warning, client storage) are waited for.
"""

from __future__ import annotations

import logging
from typing import Any

from shibaws.errors import InteractionRequired
from shibaws.pages.base import LoginContext, PageSnapshot, click_first, mark_acted
from shibaws.pages.selectors import Section

logger = logging.getLogger(__name__)

# Characters of a page's text quoted in a message about it.
EXCERPT_LIMIT = 400


class RestartLogin(Exception):
    """The IdP lost the login flow; the walk starts again from the start URL."""


class ConsentPage:
    name = "IdP attribute-release consent page"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {
            "consent.marker": self._s["consent_markers"],
            "consent.attribute": self._s["consent_attributes"],
        }

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("consent.marker")

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if "consent-given" in page.acted:
            return
        if not context.accept_consent:
            attributes = _attribute_names(driver, self._s["consent_attributes"])
            raise InteractionRequired(
                "the IdP asks your consent to release "
                f"{attributes or 'your attributes'} to AWS; run again with --accept-consent "
                "to accept it, or with --browser-mode visible to decide in the browser"
            )
        logger.info("accepting the IdP's attribute release (--accept-consent)")
        mark_acted(driver, "consent-given")
        click_first(driver, self._s["consent_accept"])


class TermsOfUsePage:
    name = "IdP terms-of-use page"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {"tou.marker": self._s["terms_of_use_markers"]}

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("tou.marker") or (
            page.text_contains(self._s["terms_of_use_texts"], page.title) is not None
        )

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        raise InteractionRequired(
            f"the IdP asks you to accept its terms of use: {_excerpt(page)} ... "
            "Run shibaws login --browser-mode visible and accept them in the browser, "
            "or accept them once on the IdP's website"
        )


class SessionLostPage:
    name = "IdP stale-request page"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {}

    def recognises(self, page: PageSnapshot) -> bool:
        texts = (*self._s["stale_request_texts"], *self._s["lost_session_texts"])
        return page.text_contains(texts, f"{page.title}\n{page.body_text}") is not None

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        raise RestartLogin(page.title or _excerpt(page))


class WaitingPage:
    """Pages that continue by themselves: wait, and tell the user when it matters."""

    name = "IdP page that continues by itself"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {}

    def recognises(self, page: PageSnapshot) -> bool:
        texts = (*self._s["expiring_password_texts"], *self._s["self_submitting_texts"])
        return page.text_contains(texts) is not None

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if page.text_contains(self._s["expiring_password_texts"]):
            context.notify_once(f"The IdP says: {_excerpt(page)}")


def _attribute_names(driver: Any, selectors: tuple[str, ...]) -> str:
    from selenium.webdriver.common.by import By

    names: list[str] = []
    for selector in selectors:
        for element in driver.find_elements(By.CSS_SELECTOR, selector):
            text = element.text.strip()
            if text and text not in names:
                names.append(text)
        if names:
            break
    return ", ".join(names[:20])


def _excerpt(page: PageSnapshot) -> str:
    text = " ".join(page.body_text.split())
    return text[:EXCERPT_LIMIT]
