"""Duo Universal Prompt: wait for the push, show a Verified Push code, answer the trust question.

Duo's prompt is a single-page app: elements appear after load and change in
place, so each poll looks at what is shown now and acts on it at most once
per document.
"""

from __future__ import annotations

import logging
from typing import Any

from shibaws.errors import MfaDenied, MfaTimedOut
from shibaws.pages.base import LoginContext, PageSnapshot, click_first, mark_acted
from shibaws.pages.selectors import DuoSelectors

logger = logging.getLogger(__name__)


class DuoUniversalPrompt:
    name = "Duo prompt"

    def __init__(self, selectors: DuoSelectors) -> None:
        self._selectors = selectors

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {
            "duo.marker": self._selectors.markers,
            "duo.header": self._selectors.header,
            "duo.error_header": self._selectors.error_header,
            "duo.code": self._selectors.verification_code,
            "duo.trust": self._selectors.trust_browser,
            "duo.dont_trust": self._selectors.dont_trust_browser,
            "duo.push": self._selectors.push_method,
            "duo.error": self._selectors.error,
        }

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("duo.marker")

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        self._raise_on_failure(page)

        if page.has("duo.trust") or page.has("duo.dont_trust"):
            self._answer_trust_question(driver, page, context)
            return
        code = page.found.get("duo.code")
        if code:
            context.notify_once(
                f"Duo Verified Push: enter the code {code} in Duo Mobile to approve this login."
            )
            return
        if page.has("duo.push") and "push-chosen" not in page.acted:
            logger.info("choosing Duo Push")
            mark_acted(driver, "push-chosen")
            click_first(driver, self._selectors.push_method)
            return
        context.notify_once("Waiting for you to approve the Duo Push on your device...")

    def _raise_on_failure(self, page: PageSnapshot) -> None:
        texts = " | ".join(
            page.found[key]
            for key in ("duo.error_header", "duo.error", "duo.header")
            if page.found.get(key)
        )
        if not texts:
            return
        if page.text_contains(self._selectors.timed_out_texts, texts):
            raise MfaTimedOut(
                f"the Duo Push was not answered in time (Duo said: {texts}); "
                "run shibaws login again and approve the push on your device"
            )
        if page.text_contains(self._selectors.denied_texts, texts):
            raise MfaDenied(
                f"the Duo Push was denied (Duo said: {texts}); if you did not deny it, "
                "contact your IT security team"
            )

    def _answer_trust_question(
        self, driver: Any, page: PageSnapshot, context: LoginContext
    ) -> None:
        if "trust-answered" in page.acted:
            return
        mark_acted(driver, "trust-answered")
        if context.trust_browser:
            logger.info("answering Duo's trust question: this is my device")
            click_first(driver, self._selectors.trust_browser)
        else:
            logger.info("answering Duo's trust question: not my device (fresh profile)")
            click_first(driver, self._selectors.dont_trust_browser)
