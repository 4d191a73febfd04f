"""The IdP's username and password page.

Shibboleth IdP v3 to v5 stock field names come first (``selectors.toml``);
any other plain form with one visible password field is handled by a
fallback: the text or email input before it in the same form, and that
form's submit control. A second visit to the page after the password was
sent means the IdP rejected it.
"""

from __future__ import annotations

import logging
from typing import Any

from shibaws.errors import AuthenticationFailed
from shibaws.pages.base import LoginContext, PageSnapshot, mark_acted
from shibaws.pages.selectors import Section

logger = logging.getLogger(__name__)

SUBMITTED = "password-submitted"

# Tags the username, password and submit elements with data-shibaws-field,
# trying the configured selectors first and the generic form layout second.
_LOCATE_SCRIPT = """
const [usernameSelectors, passwordSelectors, submitSelectors] = arguments;
function visible(element) {
  const box = element.getBoundingClientRect();
  const style = window.getComputedStyle(element);
  return (box.width > 0 || box.height > 0) && style.visibility !== "hidden";
}
function first(selectors, root) {
  for (const selector of selectors) {
    for (const element of root.querySelectorAll(selector)) {
      if (visible(element)) return element;
    }
  }
  return null;
}
const password = first(passwordSelectors, document) || first(["input[type=password]"], document);
if (!password) return false;
const form = password.form || document;
let username = first(usernameSelectors, form);
if (!username) {
  const inputs = Array.from(
      form.querySelectorAll("input[type=text], input[type=email], input:not([type])"));
  const before = inputs.filter((input) => visible(input) &&
      (input.compareDocumentPosition(password) & Node.DOCUMENT_POSITION_FOLLOWING));
  username = before.length ? before[before.length - 1] : null;
}
const submit = first(submitSelectors, form) ||
    first(["button[type=submit]", "input[type=submit]", "button:not([type])"], form);
const found = {username: username, password: password, submit: submit};
for (const [name, element] of Object.entries(found)) {
  if (element) element.setAttribute("data-shibaws-field", name);
}
return true;
"""


class PasswordPage:
    """Fills the username and password and submits them once."""

    name = "IdP password page"

    def __init__(self, selectors: Section) -> None:
        self._selectors = selectors
        self._submissions = 0

    def selectors(self) -> dict[str, tuple[str, ...]]:
        return {
            "idp.password": (*self._selectors["password"], "input[type=password]"),
            "idp.error": self._selectors["error"],
        }

    def recognises(self, page: PageSnapshot) -> bool:
        return page.has("idp.password")

    def act(self, driver: Any, page: PageSnapshot, context: LoginContext) -> None:
        if SUBMITTED in page.acted:
            return  # the form is on its way; the next page has not loaded yet
        if page.ready_state == "loading":
            return
        if self._submissions:
            raise AuthenticationFailed(self._rejection_message(page, context))
        self._submit(driver, context)
        self._submissions += 1

    def _submit(self, driver: Any, context: LoginContext) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        driver.execute_script(
            _LOCATE_SCRIPT,
            list(self._selectors["username"]),
            list(self._selectors["password"]),
            list(self._selectors["submit"]),
        )
        fields = {
            element.get_attribute("data-shibaws-field"): element
            for element in driver.find_elements(By.CSS_SELECTOR, "[data-shibaws-field]")
        }
        username = fields.get("username")
        if username is not None:
            username.clear()
            username.send_keys(context.username)
        password = fields["password"]
        password.clear()
        password.send_keys(context.password())
        logger.info("submitting the password for %s", context.username)
        mark_acted(driver, SUBMITTED)

        submit = fields.get("submit")
        if submit is not None:
            submit.click()
        else:
            password.send_keys(Keys.ENTER)

    def _rejection_message(self, page: PageSnapshot, context: LoginContext) -> str:
        message = page.found.get("idp.error") or self._known_error_text(page)
        reason = f"the IdP said: {message}" if message else "the IdP showed its login page again"
        return (
            f"login as {context.username} was rejected ({reason}); "
            "check the username and password and try again"
        )

    def _known_error_text(self, page: PageSnapshot) -> str | None:
        needle = page.text_contains(self._selectors["error_texts"])
        if needle is None:
            return None
        # Quote the whole line the text sits on, as the user saw it.
        for line in page.body_text.splitlines():
            if needle.lower() in line.lower():
                return line.strip()[:300]
        return needle
