"""The traditional Duo prompt: an iframe (``#duo_iframe``) on the IdP's own page.

Duo's script inside the frame submits ``#duo_form`` on the IdP page once
the user is verified. So this handler only acts inside the frame. It picks
the device, ticks "Remember me" when the user trusts this browser, and
starts the chosen method.
"""

from __future__ import annotations

import logging
from typing import Any

from shibaws.errors import MfaDenied, MfaLockedOut, MfaTimedOut
from shibaws.pages.base import (
    LoginContext,
    PageSnapshot,
    click_first,
    take_snapshot,
    type_into,
)
from shibaws.pages.selectors import Section

logger = logging.getLogger(__name__)

METHOD_BUTTONS = {"push": "push_button", "call": "call_button", "passcode": "passcode_button"}


class DuoTraditionalPrompt:
    name = "Duo prompt (traditional)"

    def __init__(self, selectors: Section) -> None:
        self._s = selectors
        self._started = 0  # requests started, so a retry sends a fresh one
        self._failures_seen = 0
        # The failure message of the last request stays on screen until Duo
        # shows another; count a failure only after some other message.
        self._other_message_since_failure = True

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {"duo2.frame": self._s["frame"]}

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("duo2.frame")

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By

        frames = driver.find_elements(By.CSS_SELECTOR, ", ".join(self._s["frame"]))
        if not frames:
            return
        try:
            driver.switch_to.frame(frames[0])
        except WebDriverException:
            return  # the frame is still loading
        try:
            self._act_in_frame(driver, context)
        finally:
            driver.switch_to.default_content()

    def _act_in_frame(self, driver: Any, context: LoginContext) -> None:
        keys = ("device_select", "push_button", "passcode_input", "remember_me", "message")
        frame = take_snapshot(driver, {key: self._s[key] for key in keys})
        if frame is None or frame.ready_state != "complete":
            return
        message = frame.found.get("message", "")
        if message and self._handle_message(message, context):
            return
        if self._started > self._failures_seen:
            context.notify_once(_waiting_text(context.duo_method))
            return
        if not frame.has("push_button"):
            return  # the frame's buttons have not rendered yet
        self._prepare(driver, frame, context)
        self._start_method(driver, frame, context)

    def _handle_message(self, message: str, context: LoginContext) -> bool:
        """Raise for a final failure; return True when a retry may start a fresh request."""
        lower = message.lower()
        if any(text in lower for text in self._s["locked_out_texts"]):
            raise MfaLockedOut(
                f"Duo has locked your account (Duo said: {message}); contact your IT help desk"
            )
        failures = (*self._s["denied_texts"], *self._s["timed_out_texts"])
        if not any(text in lower for text in failures):
            self._other_message_since_failure = True
            return False
        if self._started == self._failures_seen or not self._other_message_since_failure:
            return False
        self._failures_seen += 1
        self._other_message_since_failure = False
        if self._failures_seen <= context.retries:
            context.notify(f"Duo said: {message}; trying again.")
            return False
        if any(text in lower for text in self._s["timed_out_texts"]):
            raise MfaTimedOut(
                f"the Duo request was not answered in time (Duo said: {message}); run "
                "shibaws login again, or add --retries 1, and approve it on your device"
            )
        raise MfaDenied(
            f"the Duo request was denied (Duo said: {message}); if you did not deny it, "
            "contact your IT security team"
        )

    def _prepare(self, driver: Any, frame: PageSnapshot, context: LoginContext) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.select import Select

        if context.duo_device and frame.has("device_select"):
            element = driver.find_element(By.CSS_SELECTOR, ", ".join(self._s["device_select"]))
            select = Select(element)
            matches = [
                option.text
                for option in select.options
                if context.duo_device.lower() in option.text.lower()
            ]
            if not matches:
                names = ", ".join(option.text for option in select.options)
                raise MfaDenied(
                    f"no Duo device named {context.duo_device!r}; devices: {names}; "
                    "choose one of them with --duo-device"
                )
            select.select_by_visible_text(matches[0])
        if context.trust_browser and frame.has("remember_me"):
            box = driver.find_element(By.CSS_SELECTOR, ", ".join(self._s["remember_me"]))
            if not box.is_selected():
                box.click()

    def _start_method(self, driver: Any, frame: PageSnapshot, context: LoginContext) -> None:
        method = "passcode" if context.duo_method == "sms" else context.duo_method
        button = self._s[METHOD_BUTTONS[method]]
        self._started += 1
        if method != "passcode":
            logger.info("starting Duo %s in the traditional prompt", method)
            click_first(driver, button)
            return
        # The first click shows the passcode field; the second submits it.
        click_first(driver, button)
        type_into(driver, self._s["passcode_input"], context.passcode())
        logger.info("submitting the Duo passcode in the traditional prompt")
        click_first(driver, button)


def _waiting_text(method: str) -> str:
    if method == "call":
        return "Duo is calling your phone; answer it to approve this login."
    if method in ("passcode", "sms"):
        return "Checking the Duo passcode..."
    return "Waiting for you to approve the Duo Push on your device..."
