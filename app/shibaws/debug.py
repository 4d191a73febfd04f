"""Save what the browser showed when a login stopped: a screenshot and the page's HTML.

Before anything is saved, every password field, passcode field and SAML
form value is emptied on the page itself. The saved HTML is then scrubbed
again for the password and passcodes typed during the login. So the files
can be attached to a help-desk ticket.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REMOVED = "[removed by shibaws]"

_REDACT_SCRIPT = """
const sensitive = /pass|code|otp|token|secret|SAMLResponse|SAMLRequest|RelayState|csrf/i;
for (const field of document.querySelectorAll("input, textarea")) {
  const name = (field.name || "") + " " + (field.id || "") + " " + (field.className || "");
  if (field.type === "password" || sensitive.test(name)) {
    field.value = "";
    field.setAttribute("value", "");
  }
}
return document.documentElement.outerHTML;
"""
# Values of hidden SAML fields, in case the page rebuilt them after the scrub.
_SAML_VALUE = re.compile(r'(name="(?:SAMLResponse|SAMLRequest)"[^>]*value=")[^"]*(")', re.I)


def save_page(driver: Any, directory: Path, secrets: Sequence[str]) -> list[Path]:
    """Write a redacted screenshot and HTML of the current page into DIRECTORY."""
    from selenium.common.exceptions import WebDriverException

    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem = directory / time.strftime("shibaws-%Y%m%d-%H%M%S")
        html = driver.execute_script(_REDACT_SCRIPT)
        html = _scrub(str(html), secrets)
        html_path = stem.with_suffix(".html")
        _write_private(html_path, html.encode("utf-8"))
        png_path = stem.with_suffix(".png")
        _write_private(png_path, driver.get_screenshot_as_png())
    except (OSError, WebDriverException) as error:
        logger.warning("could not save the page to %s: %s", directory, error)
        return []
    return [png_path, html_path]


def _scrub(html: str, secrets: Sequence[str]) -> str:
    html = _SAML_VALUE.sub(rf"\g<1>{REMOVED}\g<2>", html)
    for secret in secrets:
        if secret:
            html = html.replace(secret, REMOVED)
    return html


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
