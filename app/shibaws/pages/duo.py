"""Duo Universal Prompt: every method, the Verified Push code, retries and the trust question.

Duo's prompt is a single-page app whose elements appear after load and change
in place. So each poll looks at what is shown now and acts on it at most once
per screen. Actions are marked on the page and cleared on a retry.
"""

from __future__ import annotations

import logging
from typing import Any

from shibaws.errors import MfaDenied, MfaLockedOut, MfaTimedOut
from shibaws.pages.base import (
    LoginContext,
    PageSnapshot,
    click_first,
    click_matching,
    mark_acted,
    type_into,
    unmark,
)
from shibaws.pages.selectors import Section

logger = logging.getLogger(__name__)

# Method-list entries for each --duo-method, in order of preference.
# Screens on which each --duo-method can go on without switching method.
SCREENS_FOR_METHOD = {
    "push": ("push",),
    "passcode": ("passcode",),
    "call": ("call",),
    "sms": ("passcode", "send-sms"),
}
METHOD_KEYS = {
    "push": ("push_method",),
    "passcode": ("passcode_method", "token_method"),
    "call": ("call_method",),
    "sms": ("sms_method",),
}


class DuoUniversalPrompt:
    name = "Duo prompt"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors
        self._retries_used = 0

    def selectors(self) -> dict[str, tuple[str, ...]]:
        keys = (
            "markers",
            "header",
            "error_header",
            "error",
            "verification_code",
            "trust_browser",
            "dont_trust_browser",
            "success",
            "try_again",
            "other_options",
            "method_items",
            "passcode_input",
            "send_passcodes",
            "device_name",
        )
        return {f"duo.{key}": self._s[key] for key in keys}

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("duo.markers")

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if self._handle_failure(driver, page, context):
            return
        if page.has("duo.trust_browser") or page.has("duo.dont_trust_browser"):
            self._answer_trust_question(driver, page, context)
            return
        if page.has("duo.success"):
            return  # approved; the trust question or the redirect comes next
        if page.has("duo.method_items"):
            self._choose_method(driver, page, context)
            return

        # Duo opens with the method last used in this browser, which may not be the
        # one asked for: switch through "Other options" once when they differ.
        screen = self._screen_method(page)
        if not self._screen_serves(screen, page, context):
            self._switch_method(driver, page, context)
        elif screen == "passcode":
            self._enter_passcode(driver, page, context)
        elif screen == "send-sms":
            self._send_sms(driver, page)
        else:
            self._report_waiting(page, context)

    def _screen_method(self, page: PageSnapshot) -> str:
        """Return which method the screen shown serves: passcode, send-sms, call or push."""
        if page.has("duo.passcode_input"):
            return "passcode"
        if page.has("duo.send_passcodes"):
            return "send-sms"
        header = page.found.get("duo.header", "")
        if header and page.text_contains(self._s["call_texts"], header):
            return "call"
        return "push"

    def _screen_serves(self, screen: str, page: PageSnapshot, context: LoginContext) -> bool:
        if "method-chosen" in page.acted:
            return True  # the user's method was picked; never switch in a loop
        if screen not in SCREENS_FOR_METHOD[context.duo_method]:
            return False
        if context.duo_device is None or screen != "push":
            return True
        device = page.found.get("duo.device_name", "")
        return context.duo_device.lower() in device.lower()

    def _switch_method(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if "other-options" in page.acted:
            return
        logger.info("opening Duo's other options to use %s", context.duo_method)
        mark_acted(driver, "other-options")
        self._open_other_options(driver)

    def _send_sms(self, driver: Any, page: PageSnapshot) -> None:
        if "sms-sent" in page.acted:
            return
        logger.info("asking Duo to send passcodes by text message")
        mark_acted(driver, "sms-sent")
        click_first(driver, self._s["send_passcodes"])

    def _handle_failure(self, driver: Any, page: PageSnapshot, context: LoginContext) -> bool:
        """Raise for a final failure; click "Try again" and return True while retries last."""
        texts = " | ".join(
            page.found[key]
            for key in ("duo.error_header", "duo.error", "duo.header")
            if page.found.get(key)
        )
        if not texts or page.has("duo.passcode_input"):
            return False
        if page.text_contains(self._s["locked_out_texts"], texts):
            raise MfaLockedOut(
                f"Duo has locked your account (Duo said: {texts}); contact your IT help desk"
            )
        timed_out = page.text_contains(self._s["timed_out_texts"], texts)
        denied = page.text_contains(self._s["denied_texts"], texts)
        if not (timed_out or denied):
            if "retry" in page.acted:
                unmark(driver, "retry")  # the new request is showing; a new failure may retry
            return False
        if self._retries_used < context.retries and "retry" not in page.acted:
            self._retry(driver, context, "timed out" if timed_out else "was denied")
            return True
        if "retry" in page.acted:
            return True  # the new request is on its way
        if timed_out:
            raise MfaTimedOut(
                f"the Duo request was not answered in time (Duo said: {texts}); "
                "run shibaws login again, or add --retries 1, and approve it on your device"
            )
        raise MfaDenied(
            f"the Duo request was denied (Duo said: {texts}); if you did not deny it, "
            "contact your IT security team"
        )

    def _retry(self, driver: Any, context: LoginContext, what: str) -> None:
        self._retries_used += 1
        context.notify(
            f"The Duo request {what}; trying again ({self._retries_used} of {context.retries})."
        )
        context.notices.clear()  # repeat the instructions for the new request
        mark_acted(driver, "retry")
        clicked = click_first(driver, self._s["try_again"]) or click_matching(
            driver, ("button", "a"), self._s["try_again_texts"][0]
        )
        if not clicked:
            logger.info("no Try again button; opening other options instead")
            self._open_other_options(driver)
        unmark(driver, "method-")
        unmark(driver, "passcode-")

    def _answer_trust_question(
        self, driver: Any, page: PageSnapshot, context: LoginContext
    ) -> None:
        if "trust-answered" in page.acted:
            return
        mark_acted(driver, "trust-answered")
        if context.trust_browser:
            logger.info("answering Duo's trust question: this is my device")
            click_first(driver, self._s["trust_browser"])
        else:
            logger.info("answering Duo's trust question: not my device")
            click_first(driver, self._s["dont_trust_browser"])

    def _enter_passcode(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        invalid = page.text_contains(self._s["passcode_invalid_texts"])
        attempts = sum(1 for action in page.acted if action.startswith("passcode-"))
        if attempts and not invalid:
            return  # the passcode is being checked
        if invalid and attempts > context.retries:
            raise MfaDenied(
                "Duo rejected the passcode; check that it is current and run shibaws login again"
            )
        if invalid:
            context.notify("Duo rejected the passcode; enter a new one.")
        if context.duo_method == "sms":
            context.notify_once("Duo sent passcodes by text message to your phone.")
        passcode = context.passcode()
        mark_acted(driver, f"passcode-{attempts + 1}")
        type_into(driver, self._s["passcode_input"], passcode)
        logger.info("submitting the Duo passcode")
        click_first(driver, self._s["verify_button"])

    def _choose_method(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if "method-chosen" in page.acted:
            return
        for key in METHOD_KEYS[context.duo_method]:
            if click_matching(driver, self._s[key], context.duo_device):
                logger.info("chose Duo method %s", context.duo_method)
                mark_acted(driver, "method-chosen")
                return
        device = f" on a device named {context.duo_device!r}" if context.duo_device else ""
        raise MfaDenied(
            f"Duo offers no {context.duo_method} method{device}; choose another with "
            "--duo-method or --duo-device"
        )

    def _open_other_options(self, driver: Any) -> None:
        if not click_first(driver, self._s["other_options"]):
            click_matching(driver, ("a", "button"), self._s["other_options_texts"][0])

    def _report_waiting(self, page: PageSnapshot, context: LoginContext) -> None:
        code = page.found.get("duo.verification_code")
        if code:
            context.notify_once(
                f"Duo Verified Push: enter the code {code} in Duo Mobile to approve this login."
            )
        elif context.duo_method == "call":
            context.notify_once("Duo is calling your phone; answer it to approve this login.")
        else:
            context.notify_once("Waiting for you to approve the Duo Push on your device...")
