"""Stand-in for Duo's Universal Prompt (the hosted prompt of 2024 to 2026), for browser tests.

What it imitates:

- The OIDC front channel of a Duo Web SDK v4 integration: the IdP redirects the
  browser to ``/oauth/v1/authorize`` with a ``request`` JWT (HS512, signed with the
  client secret). Duo redirects (303) to ``/frame/frameless/v4/auth?sid=frameless-...&tx=...``,
  whose page posts a form back to itself and lands on ``/frame/v4/auth/prompt?sid=...``.
  After approval the page posts to ``/frame/v4/oidc/exit``, which redirects (303) to the
  IdP's ``redirect_uri`` with ``state`` and ``duo_code``.
- The prompt itself is rendered by script after the page loads, as Duo's React app is,
  so nothing of it is in the initial HTML. It starts with the method last used in this
  browser (a cookie on the Duo origin); a browser without that cookie gets an automatic
  Duo Push ("Check for a Duo Push" in ``#header-text``). The Verified Duo Push code is in
  ``.verification-code``, the device in ``.phone-name`` ("Sent to "iOS" (...)"). The page
  polls ``/frame/v4/status`` with ``fetch``, shows ``#push-success-label`` ("Success!") on
  approval, then the trust question ("Is this your device?", ``#trust-browser-button`` and
  ``#dont-trust-browser-button``). A denied or timed-out push or call shows
  ``#error-view-header-text`` with a "Try again" button and an "Other options" link.
- "Other options" lists ``ul.all-auth-methods-list`` of ``li.auth-method-wrapper`` items with
  ``data-testid`` ``test-id-push``, ``test-id-mobile-otp``, ``test-id-phone`` and
  ``test-id-sms`` once per device, and one ``test-id-token`` (hardware token). Each item holds
  ``a.auth-method-link`` with ``.method-label`` and ``.method-description`` (the device).
  With several devices a ``select#device-filter`` narrows the list. Passcode methods show
  ``.passcode-input`` and ``.verify-button``; "Text message passcode" sends a passcode
  first. A phone call is answered by the simulated phone like a push.
- "Yes, this is my device" sets a remembered-browser cookie, after which Duo sends the
  browser straight back to the IdP without a prompt, as a remembered device does.
- A locked-out user sees only an error view saying the account is locked out.
- The traditional iframe prompt of Duo Web SDK v2 is served from the same origin; see
  ``duo_traditional.py``.

Sources: Duo's public guide to the Universal Prompt (guide.duo.com/universal-prompt:
automatic push, last-used method, "Other options", the trust question), university help
pages (Stanford UIT: 60 s to approve. Montclair and CCRI: 6- and 3-digit Verified Push
codes. Oklahoma State: "Other options" with per-device entries. Pitt: the locked-out
message), public automation scripts and browser extensions that match these element ids,
classes and texts, and the ``auth/prompt`` factor names ("Duo Push", "Phone Call",
"SMS Passcode") seen in public Duo client libraries.

Thinner than the real thing:

- No real Duo crypto: the ``duo_code`` is exchanged in-process (``exchange_code``), not
  through ``/oauth/v1/token`` with a client-assertion JWT, and no ``id_token`` is issued.
- No health check, no browser-feature collection, no WebAuthn, bypass codes or device
  management, no lockout counting (``set_locked_out`` switches it), one user's devices
  shared by every user.
- Cookie names are the stand-in's own (``duo_last_method``, ``duo_remembered_browser``);
  the real names are not public. Cookies carry a per-reset epoch, so a browser kept across
  tests forgets them when the stand-in is reset.
- Texts that no public source showed are marked NOTE in ``DUO_TEXTS``.
- NOTE: when the last method was a phone call, the prompt starts by calling at once, like
  the automatic push; whether real Duo calls without a click is not documented.
- Status polling responds at once instead of long-polling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlencode

from servers import duo_traditional
from servers.standin_http import (
    TEMPLATES,
    BackgroundHTTPServer,
    StandInHandler,
    json_for_script,
    render_template,
)

logger = logging.getLogger(__name__)

PushBehaviour = Literal["approve", "deny", "timeout", "verified"]
PUSH_BEHAVIOURS: tuple[str, ...] = ("approve", "deny", "timeout", "verified")

# Every text the prompt shows, in one place so tests can compare against it.
DUO_TEXTS: dict[str, str] = {
    "push_header": "Check for a Duo Push",
    "verified_header": "Enter code in Duo Mobile",
    "verified_hint": "Verify it's you by entering this code in the Duo Mobile app.",
    "sent_to": "Sent to",
    # NOTE: the call and SMS screens' texts are guesses; public sources only name the
    # methods ("Phone call", "Text message passcode") and state that the phone rings.
    "call_header": "Answer the phone call",
    "calling": "Calling",
    "sms_header": "Enter a passcode sent by text message",
    "sms_sent": "Text message sent to",
    "send_passcode": "Send a passcode",
    "success": "Success!",
    "trust_header": "Is this your device?",
    "trust_hint": "Duo will remember this device, so you will not be asked to verify for a while.",
    "trust_yes": "Yes, this is my device",
    "trust_no": "No, other people use this device",
    # NOTE: a guess based on the Auth API status message "Login request denied.", because no
    # public source showed the Universal Prompt's denied screen. The timeout header is real.
    "denied_header": "Login request denied",
    "denied_message": "The Duo Push was denied on your device.",
    "call_denied_message": "The phone call ended without approving the login.",
    "timeout_header": "Duo Push timed out",
    "timeout_message": "The Duo Push was not approved in time.",
    "call_timeout_header": "Phone call timed out",
    "call_timeout_message": "The phone call was not answered in time.",
    "locked_header": "Your account is locked out",
    "locked_message": (
        "Your account has been locked out due to excessive authentication failures. "
        "Contact your IT help desk to unlock it."
    ),
    "try_again": "Try again",
    "other_options": "Other options",
    "other_options_header": "Other options to log in",
    "all_devices": "All devices",
    "method_push": "Duo Push",
    "method_mobile_otp": "Duo Mobile passcode",
    "method_phone": "Phone call",
    "method_sms": "Text message passcode",
    "method_token": "Hardware token",
    "token_description": "Enter a passcode from your token",
    "passcode_header": "Enter a passcode from Duo Mobile",
    "token_header": "Enter a passcode from your hardware token",
    "verify": "Verify",
    "passcode_invalid": "Incorrect passcode. Enter a valid passcode.",
}

# Method ids as the prompt's ``data-testid="test-id-<id>"`` spells them.
MethodId = Literal["push", "mobile-otp", "token", "phone", "sms"]
METHOD_IDS: tuple[str, ...] = ("push", "mobile-otp", "token", "phone", "sms")
LAST_METHOD_COOKIE = "duo_last_method"
REMEMBERED_COOKIE = "duo_remembered_browser"


# --- The Duo Web SDK v4 request JWT ------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_request_jwt(claims: Mapping[str, object], client_secret: str) -> str:
    """Encode CLAIMS as an HS512 JWT, the way the Duo Web SDK signs its authorize request."""
    header = _b64url(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(dict(claims)).encode())
    signature = hmac.new(client_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha512)
    return f"{header}.{payload}.{_b64url(signature.digest())}"


def verify_request_jwt(token: str, client_secret: str) -> dict[str, Any]:
    """Return the claims of an HS512 JWT, or raise ValueError when it is malformed or forged."""
    try:
        header, payload, signature = token.split(".")
    except ValueError as error:
        raise ValueError("request JWT does not have three parts") from error
    expected = hmac.new(client_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha512)
    if not hmac.compare_digest(_b64url(expected.digest()), signature):
        raise ValueError("request JWT signature is invalid")
    claims: dict[str, Any] = json.loads(_b64url_decode(payload))
    if float(claims.get("exp", 0)) < time.time():
        raise ValueError("request JWT has expired")
    return claims


def build_authorize_url(
    duo_base: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    state: str,
    username: str,
) -> str:
    """Build the URL an IdP sends the browser to, as the Duo Web SDK's ``create_auth_url`` does."""
    claims = {
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "iss": client_id,
        "aud": duo_base,
        "exp": time.time() + 300,
        "state": state,
        "response_type": "code",
        "duo_uname": username,
        "use_duo_code_attribute": True,
    }
    query = {
        "response_type": "code",
        "client_id": client_id,
        "request": sign_request_jwt(claims, client_secret),
        "redirect_uri": redirect_uri,
        "scope": "openid",
    }
    return f"{duo_base}/oauth/v1/authorize?{urlencode(query)}"


# --- Duo state --------------------------------------------------------------------

# Seconds a remembered browser stays trusted; real Duo lets the administrator choose.
REMEMBER_SECONDS = 30 * 24 * 3600
# Seconds the last-used method is remembered in the browser.
LAST_METHOD_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Device:
    """One of the user's Duo devices, as the prompts list it."""

    key: str  # "phone1", "phone2"...: the value Duo's forms post as ``device``
    name: str  # "iOS", "Android" or a name the user gave it
    number: str  # the masked number shown beside the name

    @property
    def label(self) -> str:
        return f'"{self.name}" ({self.number})'


def make_devices(names: Sequence[str]) -> tuple[Device, ...]:
    """Build devices named NAMES, numbered ``phone1``, ``phone2``... with masked numbers."""
    if not names:
        raise ValueError("a Duo user needs at least one device")
    if len(set(names)) != len(names):
        raise ValueError(f"device names must be unique, not {list(names)}")
    return tuple(
        Device(
            key=f"phone{index}",
            name=name,
            number=f"\u2022\u2022\u2022-\u2022\u2022\u2022-{122 + index:04d}",
        )
        for index, name in enumerate(names, start=1)
    )


@dataclass
class Push:
    """One Duo Push, phone call or passcode attempt, and the simulated phone's response to it."""

    txid: str
    sid: str
    created: float
    behaviour: str
    delay: float
    kind: str = "push"  # "push", "call" or "passcode"
    device: str = ""  # the device's name
    verification_code: str | None = None
    entered_code: str | None = None
    entered_at: float | None = None
    outcome: str | None = None  # "allow", "deny" or "timeout" once decided


@dataclass(frozen=True)
class PasscodeAttempt:
    """A passcode typed into a prompt, the method it was typed under, and Duo's verdict."""

    method: str
    passcode: str
    accepted: bool


@dataclass(frozen=True)
class SmsMessage:
    """A text message with a passcode that Duo sent to a device."""

    device: str
    passcode: str


@dataclass
class DuoTransaction:
    """One authentication that an IdP started at ``/oauth/v1/authorize``."""

    sid: str
    client_id: str
    redirect_uri: str
    state: str
    username: str
    xsrf: str
    approved_txids: set[str] = field(default_factory=set)


@dataclass
class IssuedCode:
    username: str
    client_id: str
    redirect_uri: str
    expires: float


@dataclass(frozen=True)
class RememberedBrowser:
    username: str
    expires: float


class DuoUniversalPrompt(BackgroundHTTPServer):
    """The Duo stand-in server (both prompts) plus the control API that plays the user's phone.

    Call ``set_push_behaviour`` before the prompt loads to decide how the phone
    responds to the next pushes and phone calls.
    """

    def __init__(
        self,
        host: str = "127.0.0.2",
        *,
        client_id: str = "DIAAAAAAAAAAAAAAAAAA",
        client_secret: str = "stand-in-client-secret-0123456789abcdef",
        device_name: str = "iOS",
        device_number: str = "\u2022\u2022\u2022-\u2022\u2022\u2022-0123",
    ) -> None:
        super().__init__(host)
        self.client_id = client_id
        self.client_secret = client_secret
        self.default_devices = (Device(key="phone1", name=device_name, number=device_number),)
        # Integration and secret keys of the traditional prompt's Duo Web SDK v2 integration.
        self.v2_ikey = "DIWEBSDKV2AAAAAAAAAA"
        self.v2_skey = "stand-in-web-sdk-v2-secret-0123456789abc"
        self._changed = threading.Condition(self._lock)
        self.reset()

    def reset(self) -> None:
        """Forget transactions, pushes and cookies; restore the default behaviour and timings."""
        with self._lock:
            self.transactions: dict[str, DuoTransaction] = {}
            self.frames: dict[str, duo_traditional.FrameTransaction] = {}
            self.pushes: list[Push] = []
            self.issued_codes: dict[str, IssuedCode] = {}
            self.trust_choices: list[bool] = []
            self.passcodes: set[str] = set()
            self.sms_codes: set[str] = set()
            self.sms_messages: list[SmsMessage] = []
            self.passcode_attempts: list[PasscodeAttempt] = []
            self.remembered: dict[str, RememberedBrowser] = {}
            self.remembered_skips = 0
            self.devices = self.default_devices
            self.locked_out = False
            self.behaviour: str = "approve"
            self.behaviour_delay = 0.0
            # Seconds a push or call stays answerable; real Duo allows about 60.
            self.push_timeout = 60.0
            self.verified_code_length = 3
            # Days offered by the traditional prompt's "Remember me for N days" box.
            self.remember_days = 30
            # Milliseconds between page load and first render, like the React app's start-up.
            self.render_delay_ms = 150
            self.poll_interval_ms = 300
            # Cookies carry this epoch, so those set before a reset are ignored after it.
            self.epoch = secrets.token_hex(4)
            self.requests.clear()

    # --- control API used by tests ---

    def set_push_behaviour(self, behaviour: PushBehaviour, *, after_seconds: float = 0.0) -> None:
        """Decide how the phone responds to every following push and phone call.

        "approve" and "deny" answer AFTER_SECONDS after the push; "timeout" never
        responds; "verified" shows a code and waits for ``phone_enter_code``, then
        approves AFTER_SECONDS later when the code is right and denies it otherwise.
        A phone call has no code, so "verified" approves a call like "approve".
        """
        if behaviour not in PUSH_BEHAVIOURS:
            raise ValueError(
                f"unknown push behaviour {behaviour!r}; expected one of {PUSH_BEHAVIOURS}"
            )
        with self._lock:
            self.behaviour = behaviour
            self.behaviour_delay = after_seconds

    def set_devices(self, names: Sequence[str]) -> None:
        """Give the user the devices NAMES (for example ``["iOS", "Android"]``), in that order."""
        devices = make_devices(names)
        with self._lock:
            self.devices = devices

    def set_locked_out(self, locked_out: bool) -> None:
        """Lock the user out: both prompts then show only the locked-out message."""
        with self._lock:
            self.locked_out = locked_out

    def add_passcode(self, passcode: str) -> None:
        """Accept PASSCODE once, typed under any passcode method (Duo Mobile, token or SMS)."""
        with self._lock:
            self.passcodes.add(passcode)

    def sms_passcodes(self) -> list[str]:
        """Return the passcodes Duo sent by text message, oldest first. Only the last is valid."""
        with self._lock:
            return [message.passcode for message in self.sms_messages]

    @property
    def push_count(self) -> int:
        with self._lock:
            return sum(1 for push in self.pushes if push.kind == "push")

    @property
    def pushes_sent_to(self) -> list[str]:
        """Device names that received a Duo Push, oldest first."""
        with self._lock:
            return [push.device for push in self.pushes if push.kind == "push"]

    @property
    def calls_made(self) -> list[str]:
        """Device names that Duo phoned, oldest first."""
        with self._lock:
            return [push.device for push in self.pushes if push.kind == "call"]

    def wait_for_push(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait up to TIMEOUT seconds until COUNT pushes were sent; return whether they were."""
        with self._changed:
            return self._changed.wait_for(lambda: self.push_count >= count, timeout)

    def wait_for_sms(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait up to TIMEOUT seconds for COUNT text messages; return whether they were sent."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.sms_messages) >= count, timeout)

    def current_verified_code(self) -> str | None:
        """Return the Verified Duo Push code of the latest push, or None for a plain push."""
        with self._lock:
            pushes = [push for push in self.pushes if push.kind == "push"]
            return pushes[-1].verification_code if pushes else None

    def phone_enter_code(self, code: str) -> None:
        """Type CODE into the phone for the latest pending Verified Duo Push."""
        with self._lock:
            pending = [p for p in self.pushes if p.verification_code and p.entered_code is None]
            if not pending:
                raise LookupError("no Verified Duo Push is waiting for a code")
            push = pending[-1]
            push.entered_code = code
            push.entered_at = time.monotonic()

    def exchange_code(self, duo_code: str, *, client_id: str, redirect_uri: str) -> str | None:
        """Return the user a ``duo_code`` was issued for, or None for an unknown or stale code.

        Each code is accepted once.

        Real Duo does this at ``/oauth/v1/token`` and returns a signed ``id_token``.
        """
        with self._lock:
            issued = self.issued_codes.pop(duo_code, None)
        if issued is None or issued.expires < time.time():
            return None
        if issued.client_id != client_id or issued.redirect_uri != redirect_uri:
            return None
        return issued.username

    # --- used by the handlers ---

    def device(self, key: str) -> Device:
        """Return the device posted as KEY, or the first device for an unknown key."""
        with self._lock:
            return next((d for d in self.devices if d.key == key), self.devices[0])

    def begin_transaction(self, request_jwt: str, client_id: str) -> DuoTransaction:
        if client_id != self.client_id:
            raise ValueError(f"unknown client_id {client_id!r}")
        claims = verify_request_jwt(request_jwt, self.client_secret)
        for claim in ("redirect_uri", "state", "duo_uname"):
            if not claims.get(claim):
                raise ValueError(f"request JWT lacks {claim}")
        transaction = DuoTransaction(
            sid=f"frameless-{uuid.uuid4()}",
            client_id=client_id,
            redirect_uri=str(claims["redirect_uri"]),
            state=str(claims["state"]),
            username=str(claims["duo_uname"]),
            xsrf=secrets.token_urlsafe(24),
        )
        with self._lock:
            self.transactions[transaction.sid] = transaction
        return transaction

    def transaction(self, sid: str, xsrf: str | None = None) -> DuoTransaction | None:
        with self._lock:
            transaction = self.transactions.get(sid)
        if transaction is None or (
            xsrf is not None and not hmac.compare_digest(xsrf, transaction.xsrf)
        ):
            return None
        return transaction

    def start_push(self, sid: str, device: Device, kind: str = "push") -> Push:
        """Send a Duo Push (KIND "push") or place a phone call (KIND "call") to DEVICE."""
        with self._changed:
            behaviour = self.behaviour
            code = None
            if kind == "call" and behaviour == "verified":
                behaviour = "approve"
            if kind == "push" and behaviour == "verified":
                code = self._new_verification_code(sid)
            push = Push(
                txid=str(uuid.uuid4()),
                sid=sid,
                created=time.monotonic(),
                behaviour=behaviour,
                delay=self.behaviour_delay,
                kind=kind,
                device=device.name,
                verification_code=code,
            )
            self.pushes.append(push)
            self._changed.notify_all()
            return push

    def _new_verification_code(self, sid: str) -> str:
        # A retry must show a code the user has not seen in this transaction.
        seen = {p.verification_code for p in self.pushes if p.sid == sid}
        for _ in range(100):
            code = "".join(secrets.choice("0123456789") for _ in range(self.verified_code_length))
            if code not in seen:
                return code
        raise RuntimeError("no unused verification code left for this transaction")

    def check_passcode(self, sid: str, passcode: str, method: str) -> Push:
        with self._lock:
            accepted = passcode in self.passcodes or passcode in self.sms_codes
            self.passcodes.discard(passcode)
            self.sms_codes.discard(passcode)
            self.passcode_attempts.append(PasscodeAttempt(method, passcode, accepted))
            push = Push(
                txid=str(uuid.uuid4()),
                sid=sid,
                created=time.monotonic(),
                behaviour="passcode",
                delay=0.0,
                kind="passcode",
                outcome="allow" if accepted else "deny",
            )
            self.pushes.append(push)
            return push

    def send_sms(self, device: Device) -> SmsMessage:
        """Text a new passcode to DEVICE. A new message invalidates the passcodes sent before."""
        # Duo's SMS passcodes have 7 digits.
        message = SmsMessage(device.name, "".join(secrets.choice("0123456789") for _ in range(7)))
        with self._changed:
            self.sms_codes = {message.passcode}
            self.sms_messages.append(message)
            self._changed.notify_all()
        return message

    def push_status(self, sid: str, txid: str) -> str:
        """Return "pushed", "allow", "deny" or "timeout" for the push TXID, deciding it if due."""
        with self._lock:
            push = next((p for p in self.pushes if p.txid == txid and p.sid == sid), None)
            if push is None:
                return "deny"
            if push.outcome is None:
                push.outcome = self._decide(push, time.monotonic())
            transaction = self.transactions.get(sid)
            if push.outcome == "allow" and transaction is not None:
                transaction.approved_txids.add(txid)
            return push.outcome or "pushed"

    def _decide(self, push: Push, now: float) -> str | None:
        elapsed = now - push.created
        if push.behaviour in ("approve", "deny") and elapsed >= push.delay:
            return "allow" if push.behaviour == "approve" else "deny"
        if push.behaviour == "verified" and push.entered_at is not None:
            if push.entered_code != push.verification_code:
                return "deny"
            if now - push.entered_at >= push.delay:
                return "allow"
        if elapsed >= self.push_timeout:
            return "timeout"
        return None

    def finish(self, sid: str, xsrf: str, txid: str, trusted: bool) -> str | None:
        """Return the redirect back to the IdP for an approved TXID, or None when not approved."""
        transaction = self.transaction(sid, xsrf)
        if transaction is None or txid not in transaction.approved_txids:
            return None
        with self._lock:
            self.trust_choices.append(trusted)
        return self._issue_code(transaction)

    def finish_remembered(self, transaction: DuoTransaction) -> str:
        """Return the redirect back to the IdP for a browser Duo remembers, with no prompt."""
        with self._lock:
            self.remembered_skips += 1
        return self._issue_code(transaction)

    def _issue_code(self, transaction: DuoTransaction) -> str:
        duo_code = secrets.token_urlsafe(24)
        with self._lock:
            self.issued_codes[duo_code] = IssuedCode(
                username=transaction.username,
                client_id=transaction.client_id,
                redirect_uri=transaction.redirect_uri,
                expires=time.time() + 60,
            )
            self.transactions.pop(transaction.sid, None)
        separator = "&" if "?" in transaction.redirect_uri else "?"
        query = urlencode({"state": transaction.state, "duo_code": duo_code})
        return f"{transaction.redirect_uri}{separator}{query}"

    def remember_browser(self, username: str) -> str:
        """Remember a browser for USERNAME; return the cookie value that identifies it."""
        token = f"{self.epoch}.{secrets.token_urlsafe(24)}"
        with self._lock:
            self.remembered[token] = RememberedBrowser(username, time.time() + REMEMBER_SECONDS)
        return token

    def remembered_user(self, token: str | None) -> str | None:
        """Return the user whose browser the cookie value TOKEN marks, or None."""
        with self._lock:
            entry = self.remembered.get(token or "")
        if entry is None or entry.expires < time.time():
            return None
        return entry.username

    def last_method_cookie(self, method: str, device: Device) -> str:
        value = f"{self.epoch}.{method}.{device.key}"
        return f"{LAST_METHOD_COOKIE}={value}; Path=/; Max-Age={LAST_METHOD_SECONDS}; SameSite=Lax"

    def start_method(self, cookie: str | None) -> tuple[str, Device]:
        """Return the method and device the prompt starts with, from the last-method cookie."""
        epoch, _, rest = (cookie or "").partition(".")
        method, _, device_key = rest.partition(".")
        if epoch != self.epoch or method not in METHOD_IDS:
            return "push", self.device("")
        return method, self.device(device_key)

    def prompt_config(
        self, transaction: DuoTransaction, start_method: str, start_device: Device
    ) -> dict[str, object]:
        with self._lock:
            return {
                "sid": transaction.sid,
                "xsrf": transaction.xsrf,
                "devices": [
                    {"key": d.key, "name": d.name, "number": d.number, "label": d.label}
                    for d in self.devices
                ],
                "start_method": start_method,
                "start_device": start_device.key,
                "locked_out": self.locked_out,
                "render_delay_ms": self.render_delay_ms,
                "poll_interval_ms": self.poll_interval_ms,
                "texts": DUO_TEXTS,
            }


# Factor names the prompt posts to ``/frame/v4/prompt``, mapped to the method they start.
FACTOR_METHODS = {
    "Duo Push": "push",
    "Phone Call": "phone",
    "Passcode": "mobile-otp",
    "SMS Passcode": "sms",
}


class DuoHandler(StandInHandler):
    def do_GET(self) -> None:
        duo: DuoUniversalPrompt = self.owner
        path, query = self.split_path()
        duo.record("GET", self.path)

        if path == "/oauth/v1/authorize":
            self._authorize(duo, query)
        elif path == "/frame/frameless/v4/auth":
            self._frameless_page(duo, query)
        elif path == "/frame/v4/auth/prompt":
            self._prompt_page(duo, query)
        elif path == "/frame/static/prompt.js":
            script = (TEMPLATES / "duo_prompt.js").read_bytes()
            self.send_body(HTTPStatus.OK, script, "text/javascript;charset=utf-8")
        elif not duo_traditional.handle_get(self, duo, path, query):
            self._not_found()

    def do_POST(self) -> None:
        duo: DuoUniversalPrompt = self.owner
        path, query = self.split_path()
        duo.record("POST", self.path)
        try:
            form = self.read_form()
        except ValueError as error:
            self.send_json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"stat": "FAIL", "message": str(error)}
            )
            return
        if duo_traditional.handle_post(self, duo, path, form):
            return

        transaction = duo.transaction(form.get("sid", query.get("sid", "")), form.get("_xsrf", ""))
        if transaction is None:
            logger.info("Duo stand-in rejected POST %s: unknown sid or invalid _xsrf", path)
            self.send_json(
                HTTPStatus.BAD_REQUEST,
                {"stat": "FAIL", "code": 40002, "message": "Invalid session"},
            )
            return

        if path == "/frame/frameless/v4/auth":
            self.redirect(
                f"/frame/v4/auth/prompt?{urlencode({'sid': transaction.sid})}", HTTPStatus.SEE_OTHER
            )
        elif path == "/frame/v4/prompt":
            self._prompt(duo, transaction, form)
        elif path == "/frame/v4/status":
            status = duo.push_status(transaction.sid, form.get("txid", ""))
            result = {"allow": "SUCCESS", "deny": "FAILURE", "timeout": "FAILURE"}.get(status, "")
            self.send_json(
                HTTPStatus.OK, {"stat": "OK", "response": {"status_code": status, "result": result}}
            )
        elif path == "/frame/v4/oidc/exit":
            self._exit(duo, transaction, form)
        else:
            self._not_found()

    def _not_found(self) -> None:
        self.send_json(
            HTTPStatus.NOT_FOUND, {"stat": "FAIL", "code": 40401, "message": "Resource not found"}
        )

    def _authorize(self, duo: DuoUniversalPrompt, query: dict[str, str]) -> None:
        try:
            transaction = duo.begin_transaction(
                query.get("request", ""), query.get("client_id", "")
            )
        except ValueError as error:
            logger.info("Duo stand-in rejected an authorize request: %s", error)
            self.send_json(
                HTTPStatus.BAD_REQUEST, {"stat": "FAIL", "code": 40002, "message": str(error)}
            )
            return

        # A remembered browser goes straight back to the application, as after "Yes, this is
        # my device" on real Duo, unless the user is locked out.
        remembered = duo.remembered_user(self.cookies().get(REMEMBERED_COOKIE))
        if remembered == transaction.username and not duo.locked_out:
            self.redirect(duo.finish_remembered(transaction), HTTPStatus.SEE_OTHER)
            return

        tx = secrets.token_urlsafe(48)
        self.redirect(
            f"/frame/frameless/v4/auth?{urlencode({'sid': transaction.sid, 'tx': tx})}",
            HTTPStatus.SEE_OTHER,
        )

    def _frameless_page(self, duo: DuoUniversalPrompt, query: dict[str, str]) -> None:
        transaction = duo.transaction(query.get("sid", ""))
        if transaction is None:
            self.send_html(HTTPStatus.BAD_REQUEST, render_template("duo_error.html"))
            return
        html = render_template(
            "duo_frameless.html",
            sid=transaction.sid,
            tx=query.get("tx", ""),
            xsrf=transaction.xsrf,
        )
        self.send_html(HTTPStatus.OK, html)

    def _prompt_page(self, duo: DuoUniversalPrompt, query: dict[str, str]) -> None:
        transaction = duo.transaction(query.get("sid", ""))
        if transaction is None:
            self.send_html(HTTPStatus.BAD_REQUEST, render_template("duo_error.html"))
            return
        method, device = duo.start_method(self.cookies().get(LAST_METHOD_COOKIE))
        config = duo.prompt_config(transaction, method, device)
        self.send_html(
            HTTPStatus.OK, render_template("duo_prompt.html", config=json_for_script(config))
        )

    def _prompt(
        self, duo: DuoUniversalPrompt, transaction: DuoTransaction, form: dict[str, str]
    ) -> None:
        factor = form.get("factor", "")
        method = FACTOR_METHODS.get(factor)
        if method is None or duo.locked_out:
            reason = "user is locked out" if duo.locked_out else f"unknown factor {factor!r}"
            logger.info("Duo stand-in rejected a prompt for sid %s: %s", transaction.sid, reason)
            self.send_json(
                HTTPStatus.BAD_REQUEST,
                {"stat": "FAIL", "message_enum": 75, "message": reason},
            )
            return

        device = duo.device(form.get("device", ""))
        response: dict[str, object]
        if factor == "SMS Passcode":
            duo.send_sms(device)
            response = {"txid": None, "sms_sent": True}
        elif factor == "Passcode":
            if form.get("method") in ("mobile-otp", "token", "sms"):
                method = form["method"]
            push = duo.check_passcode(transaction.sid, form.get("passcode", ""), method)
            response = {"txid": push.txid}
        else:
            kind = "call" if factor == "Phone Call" else "push"
            push = duo.start_push(transaction.sid, device, kind)
            response = {"txid": push.txid, "verification_code": push.verification_code}

        cookie = duo.last_method_cookie(method, device)
        self.send_json(
            HTTPStatus.OK, {"stat": "OK", "response": response}, headers={"Set-Cookie": cookie}
        )

    def _exit(
        self, duo: DuoUniversalPrompt, transaction: DuoTransaction, form: dict[str, str]
    ) -> None:
        trusted = form.get("dampen_choice") == "true"
        location = duo.finish(transaction.sid, transaction.xsrf, form.get("txid", ""), trusted)
        if location is None:
            self.send_json(
                HTTPStatus.BAD_REQUEST, {"stat": "FAIL", "message": "Transaction not approved"}
            )
            return
        headers = {}
        if trusted:
            token = duo.remember_browser(transaction.username)
            headers["Set-Cookie"] = (
                f"{REMEMBERED_COOKIE}={token}; Path=/; Max-Age={REMEMBER_SECONDS}; "
                "HttpOnly; SameSite=Lax"
            )
        self.redirect(location, HTTPStatus.SEE_OTHER, headers)


DuoUniversalPrompt.handler_class = DuoHandler
