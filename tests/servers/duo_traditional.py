"""Stand-in for Duo's traditional prompt: the Duo Web SDK v2 iframe that older integrations use.

What it imitates:

- The signed request and response of Duo Web SDK v2: the IdP signs
  ``TX|base64(user|ikey|expiry)|HMAC-SHA1`` with the integration's secret key and
  ``APP|...`` with its own application key, and puts both, joined by ``:``, in the
  ``data-sig-request`` of ``iframe#duo_iframe``. The frame returns
  ``AUTH|base64(user|ikey|expiry)|HMAC-SHA1`` to the parent page with ``postMessage``;
  the parent's script appends the ``APP`` part and submits ``form#duo_form`` with
  ``sig_response``, which the IdP verifies (``verify_response``).
- The frame at ``/frame/web/v1/auth?tx=...&parent=...&v=2.6``: a device drop-down
  (``select[name=device]``, only with several devices), rows ``.push-label``,
  ``.phone-label`` and ``.passcode-label`` whose ``button.auth-button`` read "Send Me a
  Push", "Call Me" and "Enter a Passcode" (the first click shows ``input[name=passcode]``,
  the second submits it), a "Remember me for N days" checkbox
  ``input[name=dampen_choice]``, and status lines in ``#messages-view .message-content``
  ("Pushed a login request to your device...", "Success! Logging you in...", "Login
  request denied.", "Login timed out.", "Incorrect passcode. Please try again.").
- The frame's script posts the chosen factor to ``/frame/prompt`` and polls
  ``/frame/status``, then fetches the signed response from ``/frame/status/<txid>``.
- "Remember me" sets a cookie on the Duo origin; a later frame for the same user answers at
  once without a prompt.

Sources: Duo's traditional prompt guide and university help pages (device selector only with
several devices, "Send Me a Push", "Call Me", "Enter a Passcode", "Remember me for N
days"), public Selenium scripts that drive this frame (``iframe#duo_iframe``,
``dampen_choice``, the button texts), and the public Duo Web SDK v2 signature format.

Thinner than the real thing: served over plain HTTP with ``data-host`` holding
``127.0.0.2:PORT``, no "Text me new codes" button, no "Add a new device" or settings pane, a
Verified Duo Push is not shown (use "approve", "deny" or "timeout" here), and the parent
script is the stand-in's own (``templates/duo_web_standin.js``), not Duo's Duo-Web-v2.js.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from servers.standin_http import TEMPLATES, StandInHandler, json_for_script, render_template

if TYPE_CHECKING:
    from servers.duo import Device, DuoUniversalPrompt

logger = logging.getLogger(__name__)

FRAME_PATH = "/frame/web/v1/auth"
REMEMBER_COOKIE = "duo_frame_remembered"
# Seconds a signed request or response stays valid, as the Duo Web SDK v2 defaults.
REQUEST_SECONDS = 300
APP_SECONDS = 3600

FRAME_TEXTS: dict[str, str] = {
    "pushed": "Pushed a login request to your device...",
    "calling": "Calling your phone...",
    "success": "Success! Logging you in...",
    "denied": "Login request denied.",
    "timeout": "Login timed out.",
    "passcode_invalid": "Incorrect passcode. Please try again.",
    "locked_out": (
        "Your account has been locked out due to excessive authentication failures. "
        "Contact your IT help desk to unlock it."
    ),
}


# --- Duo Web SDK v2 signatures -----------------------------------------------------


def _sign_values(key: str, username: str, ikey: str, prefix: str, seconds: int) -> str:
    values = f"{username}|{ikey}|{int(time.time()) + seconds}"
    cookie = f"{prefix}|{base64.b64encode(values.encode()).decode()}"
    signature = hmac.new(key.encode(), cookie.encode(), hashlib.sha1).hexdigest()
    return f"{cookie}|{signature}"


def _parse_values(key: str, signed: str, prefix: str, ikey: str) -> str | None:
    """Return the user in a signed ``PREFIX|base64|sig`` value, or None when it does not verify."""
    try:
        got_prefix, encoded, signature = signed.split("|")
        username, got_ikey, expiry = base64.b64decode(encoded).decode().split("|")
    except ValueError:
        return None
    expected = hmac.new(key.encode(), f"{got_prefix}|{encoded}".encode(), hashlib.sha1)
    if not hmac.compare_digest(expected.hexdigest(), signature):
        return None
    if got_prefix != prefix or got_ikey != ikey or int(expiry) < time.time():
        return None
    return username


def sign_request(*, ikey: str, skey: str, akey: str, username: str) -> str:
    """Build the ``data-sig-request`` value an IdP puts on ``iframe#duo_iframe``."""
    duo_part = _sign_values(skey, username, ikey, "TX", REQUEST_SECONDS)
    app_part = _sign_values(akey, username, ikey, "APP", APP_SECONDS)
    return f"{duo_part}:{app_part}"


def sign_auth(*, ikey: str, skey: str, username: str) -> str:
    """Build the ``AUTH`` part of a ``sig_response``, as Duo does after a successful factor."""
    return _sign_values(skey, username, ikey, "AUTH", REQUEST_SECONDS)


def verify_response(*, ikey: str, skey: str, akey: str, sig_response: str) -> str | None:
    """Return the user a ``sig_response`` authenticates, or None when any part fails."""
    auth_part, _, app_part = sig_response.partition(":")
    auth_user = _parse_values(skey, auth_part, "AUTH", ikey)
    app_user = _parse_values(akey, app_part, "APP", ikey)
    if auth_user is None or auth_user != app_user:
        return None
    return auth_user


# --- the frame ---------------------------------------------------------------------


@dataclass
class FrameTransaction:
    """One traditional prompt shown in an IdP's page."""

    sid: str
    username: str
    parent: str
    remember: bool = False
    approved_txids: set[str] = field(default_factory=set)


def handle_get(
    handler: StandInHandler, duo: DuoUniversalPrompt, path: str, query: dict[str, str]
) -> bool:
    """Serve the frame's GET routes; return False for a path that is not one of them."""
    if path == "/frame/static/traditional.js":
        script = (TEMPLATES / "duo_traditional.js").read_bytes()
        handler.send_body(HTTPStatus.OK, script, "text/javascript;charset=utf-8")
        return True
    if path != FRAME_PATH:
        return False

    username = _parse_values(duo.v2_skey, query.get("tx", ""), "TX", duo.v2_ikey)
    if username is None:
        logger.info("Duo stand-in rejected a frame request with an invalid tx")
        handler.send_html(HTTPStatus.BAD_REQUEST, render_template("duo_error.html"))
        return True
    frame = FrameTransaction(
        sid=str(uuid.uuid4()), username=username, parent=query.get("parent", "")
    )
    with duo._lock:
        duo.frames[frame.sid] = frame

    # A browser remembered with "Remember me" gets its response at once, without a prompt.
    auto_response = ""
    remembered = duo.remembered_user(handler.cookies().get(REMEMBER_COOKIE))
    if remembered == username and not duo.locked_out:
        with duo._lock:
            duo.remembered_skips += 1
        auto_response = sign_auth(ikey=duo.v2_ikey, skey=duo.v2_skey, username=username)

    handler.send_html(HTTPStatus.OK, _render_frame(duo, frame, auto_response))
    return True


def _render_frame(duo: DuoUniversalPrompt, frame: FrameTransaction, auto_response: str) -> str:
    with duo._lock:
        devices = duo.devices
        locked_out = duo.locked_out
        remember_days = duo.remember_days

    device_selector = ""
    if len(devices) > 1:
        options = "\n".join(
            f'<option value="{d.key}">{html.escape(d.name)} ({html.escape(d.number)})</option>'
            for d in devices
        )
        device_selector = (
            '<fieldset class="device-selector">\n<label for="device">Device:</label>\n'
            f'<select name="device" id="device">\n{options}\n</select>\n</fieldset>'
        )
    message = ""
    if locked_out:
        text = html.escape(FRAME_TEXTS["locked_out"])
        message = f'<div class="message error"><span class="message-content">{text}</span></div>'
    config = {
        "sid": frame.sid,
        "parent": frame.parent,
        "default_device": devices[0].key,
        "auto_response": auto_response,
        "texts": FRAME_TEXTS,
    }
    return render_template(
        "duo_traditional.html",
        device_selector=device_selector,
        device=_device_label(devices[0]),
        remember_days=str(remember_days),
        message=message,
        disabled="disabled" if locked_out else "",
        config=json_for_script(config),
    )


def _device_label(device: Device) -> str:
    return html.escape(f"{device.name} ({device.number})")


def handle_post(
    handler: StandInHandler, duo: DuoUniversalPrompt, path: str, form: dict[str, str]
) -> bool:
    """Serve the frame's POST routes; return False for a path that is not one of them."""
    if path not in ("/frame/prompt", "/frame/status") and not path.startswith("/frame/status/"):
        return False
    with duo._lock:
        frame = duo.frames.get(form.get("sid", ""))
    if frame is None:
        logger.info("Duo stand-in rejected frame POST %s: unknown sid", path)
        handler.send_json(HTTPStatus.BAD_REQUEST, {"stat": "FAIL", "message": "Invalid session"})
        return True

    if path == "/frame/prompt":
        _prompt(handler, duo, frame, form)
    elif path == "/frame/status":
        _status(handler, duo, frame, form.get("txid", ""))
    else:
        _result(handler, duo, frame, path.rsplit("/", 1)[-1])
    return True


def _prompt(
    handler: StandInHandler, duo: DuoUniversalPrompt, frame: FrameTransaction, form: dict[str, str]
) -> None:
    factor = form.get("factor", "")
    if duo.locked_out or factor not in ("Duo Push", "Phone Call", "Passcode"):
        reason = FRAME_TEXTS["locked_out"] if duo.locked_out else f"Unknown factor {factor!r}"
        logger.info("Duo stand-in rejected a frame prompt for sid %s: %s", frame.sid, reason)
        handler.send_json(HTTPStatus.OK, {"stat": "FAIL", "message": reason})
        return

    frame.remember = form.get("dampen_choice") in ("1", "true", "yes")
    device = duo.device(form.get("device", ""))
    if factor == "Passcode":
        push = duo.check_passcode(frame.sid, form.get("passcode", ""), "passcode")
    else:
        push = duo.start_push(frame.sid, device, "call" if factor == "Phone Call" else "push")
    handler.send_json(HTTPStatus.OK, {"stat": "OK", "response": {"txid": push.txid}})


def _status(
    handler: StandInHandler, duo: DuoUniversalPrompt, frame: FrameTransaction, txid: str
) -> None:
    status = duo.push_status(frame.sid, txid)
    with duo._lock:
        push = next((p for p in duo.pushes if p.txid == txid), None)
    kind = push.kind if push is not None else "push"

    response: dict[str, object] = {"status_code": status}
    if status == "allow":
        frame.approved_txids.add(txid)
        response.update(status=FRAME_TEXTS["success"], result="SUCCESS")
        response["result_url"] = f"/frame/status/{txid}"
    elif status == "deny":
        text = FRAME_TEXTS["passcode_invalid"] if kind == "passcode" else FRAME_TEXTS["denied"]
        response.update(status=text, result="FAILURE")
    elif status == "timeout":
        response.update(status=FRAME_TEXTS["timeout"], result="FAILURE")
    else:
        response["status"] = FRAME_TEXTS["calling"] if kind == "call" else FRAME_TEXTS["pushed"]
    handler.send_json(HTTPStatus.OK, {"stat": "OK", "response": response})


def _result(
    handler: StandInHandler, duo: DuoUniversalPrompt, frame: FrameTransaction, txid: str
) -> None:
    if txid not in frame.approved_txids:
        logger.info("Duo stand-in rejected a result for txid %s: not approved", txid)
        handler.send_json(HTTPStatus.OK, {"stat": "FAIL", "message": "Transaction not approved"})
        return
    with duo._lock:
        duo.frames.pop(frame.sid, None)
        duo.trust_choices.append(frame.remember)

    headers = {}
    if frame.remember:
        token = duo.remember_browser(frame.username)
        seconds = duo.remember_days * 24 * 3600
        # No SameSite attribute: the frame is third-party content on the IdP's page.
        headers["Set-Cookie"] = f"{REMEMBER_COOKIE}={token}; Path=/; Max-Age={seconds}; HttpOnly"
    cookie = sign_auth(ikey=duo.v2_ikey, skey=duo.v2_skey, username=frame.username)
    handler.send_json(
        HTTPStatus.OK,
        {"stat": "OK", "response": {"cookie": cookie, "parent": frame.parent}},
        headers=headers,
    )


def new_application_key() -> str:
    """Return a fresh 40-character application key, as an IdP keeps for Duo Web SDK v2."""
    return secrets.token_hex(20)
