"""Stand-in for Duo's Universal Prompt (the hosted prompt of 2024 to 2026), for browser tests.

What it imitates:

- The OIDC front channel of a Duo Web SDK v4 integration: the IdP redirects the
  browser to ``/oauth/v1/authorize`` with a ``request`` JWT (HS512, signed with the
  client secret). Duo redirects (303) to ``/frame/frameless/v4/auth?sid=frameless-...&tx=...``,
  whose page posts a form back to itself and lands on ``/frame/v4/auth/prompt?sid=...``.
  After approval the page posts to ``/frame/v4/oidc/exit``, which redirects (303) to the
  IdP's ``redirect_uri`` with ``state`` and ``duo_code``.
- The prompt itself is rendered by script after the page loads, as Duo's React app is,
  so nothing of it is in the initial HTML. It sends a Duo Push at once ("Check for a
  Duo Push" in ``#header-text``), shows the Verified Duo Push code in
  ``.verification-code``, polls ``/frame/v4/status`` with ``fetch``, shows
  ``#push-success-label`` ("Success!") on approval, then the trust question
  ("Is this your device?", ``#trust-browser-button`` and ``#dont-trust-browser-button``).
  A denied or timed-out push shows ``#error-view-header-text`` with a "Try again"
  button and an "Other options" link; "Other options" lists methods as
  ``[data-testid="test-id-push"]`` and ``[data-testid="test-id-mobile-otp"]``, the latter
  leading to ``.passcode-input`` and ``.verify-button``.

Sources: Duo's public guide to the Universal Prompt (guide.duo.com/universal-prompt:
automatic push, "Other options", the trust question), university help pages (Stanford
UIT: 60 s to approve. Montclair and CCRI: 6- and 3-digit Verified Push codes),
and public automation scripts that match these element ids and texts (the ids above,
"Duo Push timed out", "Try again", "Success!").

Thinner than the real thing:

- No real Duo crypto: the ``duo_code`` is exchanged in-process (``exchange_code``), not
  through ``/oauth/v1/token`` with a client-assertion JWT, and no ``id_token`` is issued.
- No health check, no browser-feature collection, no device-trust or policy checks,
  no cookies, one device per user, no phone call, SMS, WebAuthn or bypass codes.
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
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any, ClassVar, Literal, cast
from urllib.parse import parse_qs, urlencode, urlsplit

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
MAX_BODY_BYTES = 256 * 1024
MAX_RECORDED_REQUESTS = 2000

PushBehaviour = Literal["approve", "deny", "timeout", "verified"]
PUSH_BEHAVIOURS: tuple[str, ...] = ("approve", "deny", "timeout", "verified")

# Every text the prompt shows, in one place so tests can compare against it.
DUO_TEXTS: dict[str, str] = {
    "push_header": "Check for a Duo Push",
    "verified_header": "Enter code in Duo Mobile",
    "verified_hint": "Verify it's you by entering this code in the Duo Mobile app.",
    "sent_to": "Sent to",
    "success": "Success!",
    "trust_header": "Is this your device?",
    "trust_hint": "Duo will remember this device, so you will not be asked to verify for a while.",
    "trust_yes": "Yes, this is my device",
    "trust_no": "No, other people use this device",
    # NOTE: a guess based on the Auth API status message "Login request denied.", because no
    # public source showed the Universal Prompt's denied screen. The timeout header is real.
    "denied_header": "Login request denied",
    "denied_message": "The Duo Push was denied on your device.",
    "timeout_header": "Duo Push timed out",
    "timeout_message": "The Duo Push was not approved in time.",
    "try_again": "Try again",
    "other_options": "Other options",
    "other_options_header": "Other options to log in",
    "method_push": "Duo Push",
    "method_passcode": "Duo Mobile passcode",
    "passcode_header": "Enter a passcode from Duo Mobile",
    "verify": "Verify",
    "passcode_invalid": "Incorrect passcode. Enter a passcode from Duo Mobile.",
}


class BackgroundHTTPServer:
    """A ThreadingHTTPServer on a loopback address, served from a daemon thread.

    Handlers reach this object as ``self.server.owner``.
    """

    handler_class: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(self, host: str) -> None:
        if not host.startswith("127."):
            raise ValueError(f"stand-in servers listen on loopback only, not {host!r}")
        self._httpd = ThreadingHTTPServer((host, 0), self.handler_class)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{type(self).__name__}-{host}",
            daemon=True,
        )
        self._lock = threading.RLock()
        self.requests: deque[tuple[str, str]] = deque(maxlen=MAX_RECORDED_REQUESTS)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait up to TIMEOUT seconds for the serving thread."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()

    def record(self, method: str, path: str) -> None:
        self.requests.append((method, path))


class StandInHandler(BaseHTTPRequestHandler):
    """Shared helpers: bounded body reads, HTML, JSON and redirect responses."""

    # Seconds a connection may stay silent before the handler thread gives up on it.
    timeout = 10
    server_version = "StandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    @property
    def owner(self) -> Any:
        return cast(Any, self.server).owner

    def split_path(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return parts.path, query

    def read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError(f"request body of {length} bytes exceeds {MAX_BODY_BYTES}")
        body = self.rfile.read(length).decode("utf-8") if length else ""
        return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}

    def cookies(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                result[name] = value
        return result

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_html(self, status: int, html: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_body(status, html.encode("utf-8"), "text/html;charset=utf-8", headers)

    def send_json(self, status: int, document: object) -> None:
        self.send_body(status, json.dumps(document).encode("utf-8"), "application/json")

    def redirect(
        self, location: str, status: int = 302, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()


def render_template(name: str, **values: str) -> str:
    """Fill a ``string.Template`` file under templates/. VALUES are inserted without escaping."""
    return Template((TEMPLATES / name).read_text("utf-8")).substitute(values)


def json_for_script(document: object) -> str:
    """Serialise DOCUMENT for a ``<script type="application/json">`` block."""
    return (
        json.dumps(document).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


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


@dataclass
class Push:
    """One Duo Push (or passcode attempt) and the simulated phone's response to it."""

    txid: str
    sid: str
    created: float
    behaviour: str
    delay: float
    verification_code: str | None = None
    entered_code: str | None = None
    entered_at: float | None = None
    outcome: str | None = None  # "allow", "deny" or "timeout" once decided


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


class DuoUniversalPrompt(BackgroundHTTPServer):
    """The Duo stand-in server plus the control API that plays the user's phone.

    Call ``set_push_behaviour`` before the prompt loads to decide how the phone
    responds to the next pushes.
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
        self.device_name = device_name
        self.device_number = device_number
        self._changed = threading.Condition(self._lock)
        self.reset()

    def reset(self) -> None:
        """Forget transactions and pushes, and restore the default behaviour and timings."""
        with self._lock:
            self.transactions: dict[str, DuoTransaction] = {}
            self.pushes: list[Push] = []
            self.issued_codes: dict[str, IssuedCode] = {}
            self.trust_choices: list[bool] = []
            self.passcodes: set[str] = set()
            self.behaviour: str = "approve"
            self.behaviour_delay = 0.0
            # Seconds a push stays answerable; real Duo allows about 60.
            self.push_timeout = 60.0
            self.verified_code_length = 3
            # Milliseconds between page load and first render, like the React app's start-up.
            self.render_delay_ms = 150
            self.poll_interval_ms = 300
            self.requests.clear()

    # --- control API used by tests ---

    def set_push_behaviour(self, behaviour: PushBehaviour, *, after_seconds: float = 0.0) -> None:
        """Decide how the phone responds to every following push.

        "approve" and "deny" answer AFTER_SECONDS after the push; "timeout" never
        responds; "verified" shows a code and waits for ``phone_enter_code``, then
        approves AFTER_SECONDS later when the code is right and denies it otherwise.
        """
        if behaviour not in PUSH_BEHAVIOURS:
            raise ValueError(
                f"unknown push behaviour {behaviour!r}; expected one of {PUSH_BEHAVIOURS}"
            )
        with self._lock:
            self.behaviour = behaviour
            self.behaviour_delay = after_seconds

    def add_passcode(self, passcode: str) -> None:
        """Accept PASSCODE once on the "Duo Mobile passcode" method."""
        with self._lock:
            self.passcodes.add(passcode)

    @property
    def push_count(self) -> int:
        with self._lock:
            return sum(1 for push in self.pushes if push.behaviour != "passcode")

    def wait_for_push(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait up to TIMEOUT seconds until COUNT pushes were sent; return whether they were."""
        with self._changed:
            return self._changed.wait_for(lambda: self.push_count >= count, timeout)

    def current_verified_code(self) -> str | None:
        """Return the Verified Duo Push code of the latest push, or None for a plain push."""
        with self._lock:
            pushes = [push for push in self.pushes if push.behaviour != "passcode"]
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

    # --- used by the handler ---

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

    def start_push(self, sid: str) -> Push:
        with self._changed:
            code = None
            if self.behaviour == "verified":
                code = "".join(
                    secrets.choice("0123456789") for _ in range(self.verified_code_length)
                )
            push = Push(
                txid=str(uuid.uuid4()),
                sid=sid,
                created=time.monotonic(),
                behaviour=self.behaviour,
                delay=self.behaviour_delay,
                verification_code=code,
            )
            self.pushes.append(push)
            self._changed.notify_all()
            return push

    def check_passcode(self, sid: str, passcode: str) -> Push:
        with self._lock:
            accepted = passcode in self.passcodes
            self.passcodes.discard(passcode)
            push = Push(
                txid=str(uuid.uuid4()),
                sid=sid,
                created=time.monotonic(),
                behaviour="passcode",
                delay=0.0,
                outcome="allow" if accepted else "deny",
            )
            self.pushes.append(push)
            return push

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
        duo_code = secrets.token_urlsafe(24)
        with self._lock:
            self.trust_choices.append(trusted)
            self.issued_codes[duo_code] = IssuedCode(
                username=transaction.username,
                client_id=transaction.client_id,
                redirect_uri=transaction.redirect_uri,
                expires=time.time() + 60,
            )
            del self.transactions[sid]
        separator = "&" if "?" in transaction.redirect_uri else "?"
        query = urlencode({"state": transaction.state, "duo_code": duo_code})
        return f"{transaction.redirect_uri}{separator}{query}"

    def prompt_config(self, transaction: DuoTransaction) -> dict[str, object]:
        with self._lock:
            return {
                "sid": transaction.sid,
                "xsrf": transaction.xsrf,
                "device_name": self.device_name,
                "device_number": self.device_number,
                "render_delay_ms": self.render_delay_ms,
                "poll_interval_ms": self.poll_interval_ms,
                "texts": DUO_TEXTS,
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
        else:
            self.send_json(
                HTTPStatus.NOT_FOUND,
                {"stat": "FAIL", "code": 40401, "message": "Resource not found"},
            )

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
            trusted = form.get("dampen_choice") == "true"
            location = duo.finish(transaction.sid, transaction.xsrf, form.get("txid", ""), trusted)
            if location is None:
                self.send_json(
                    HTTPStatus.BAD_REQUEST, {"stat": "FAIL", "message": "Transaction not approved"}
                )
                return
            self.redirect(location, HTTPStatus.SEE_OTHER)
        else:
            self.send_json(
                HTTPStatus.NOT_FOUND,
                {"stat": "FAIL", "code": 40401, "message": "Resource not found"},
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
        html = render_template(
            "duo_prompt.html", config=json_for_script(duo.prompt_config(transaction))
        )
        self.send_html(HTTPStatus.OK, html)

    def _prompt(
        self, duo: DuoUniversalPrompt, transaction: DuoTransaction, form: dict[str, str]
    ) -> None:
        factor = form.get("factor", "")
        if factor == "Duo Push":
            push = duo.start_push(transaction.sid)
        elif factor == "Passcode":
            push = duo.check_passcode(transaction.sid, form.get("passcode", ""))
        else:
            logger.info(
                "Duo stand-in rejected unknown factor %r for sid %s", factor, transaction.sid
            )
            self.send_json(
                HTTPStatus.BAD_REQUEST,
                {"stat": "FAIL", "message_enum": 75, "message": "Unknown method"},
            )
            return
        response = {"txid": push.txid, "verification_code": push.verification_code}
        self.send_json(HTTPStatus.OK, {"stat": "OK", "response": response})


DuoUniversalPrompt.handler_class = DuoHandler
