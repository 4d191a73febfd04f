"""Stand-in for a Shibboleth IdP v5 with Duo, and for the AWS sign-in endpoint it posts to.

What ``ShibbolethIdP`` imitates, after the stock v4/v5 Velocity views and Spring Web Flow:

- ``/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices`` starts a flow:
  302 to ``?execution=e1s1`` with a ``JSESSIONID`` cookie (HttpOnly, path ``/idp``).
- The password page has the markup of the stock ``login.vm``: a form posting to the flow
  URL with hidden ``csrf_token``, ``j_username`` (id ``username``), ``j_password``
  (id ``password``), the ``donotcache`` and ``_shib_idp_revokeConsent`` checkboxes and
  ``button[name=_eventId_proceed]``. Each POST redirects (302) to the next step
  (``e1s2``, ``e1s3``...), as Spring Web Flow redirects after every post. A rejected
  login shows ``<p class="form-element form-error">`` with the stock messages "The
  password you entered was incorrect." or "The username you entered cannot be identified."
- After a good password the IdP sends the browser to Duo (``duo.py``) with a signed
  request JWT; Duo returns to ``/idp/profile/Authn/Duo/2FA/duo-callback?state=...&duo_code=...``,
  where the IdP checks the state and exchanges the code.
- The flow ends on the SAML 2.0 HTTP-POST binding page: ``<body onload=
  "document.forms[0].submit()">``, a form posting hidden ``SAMLResponse`` (and
  ``RelayState`` when one is set) to the sign-in URL, and a ``<noscript>`` Continue button.
  The Response is signed by ``saml_builder``; its ``Destination`` defaults to
  ``https://signin.aws.amazon.com/saml`` while the form posts to the loopback sign-in URL,
  so nothing ever leaves the machine.

Sources: the stock ``login.vm`` and ``login-error.vm`` as kept in public IdP configuration
repositories, Shibboleth's documented message texts, and the OpenSAML HTTP-POST binding.

Thinner than the real thing: no SSO session reuse (every start URL begins a new flow and
login), no consent, expiring-password or terms-of-use pages, no LDAP, a Duo code exchange
done in-process instead of over Duo's token endpoint, and error pages that only carry a
title and one sentence.

``SignInEndpoint`` stands in for ``https://signin.aws.amazon.com/saml``: it records every
POST it receives and answers a small 200 page, so a test can assert that a product which
captures the assertion in the browser never let the POST through.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlencode

from servers.duo import (
    BackgroundHTTPServer,
    DuoUniversalPrompt,
    StandInHandler,
    build_authorize_url,
    render_template,
)
from servers.saml_builder import SigningKey, build_response, encode_response

logger = logging.getLogger(__name__)

AWS_PROVIDER_ID = "urn:amazon:webservices"
AWS_SIGN_IN_DESTINATION = "https://signin.aws.amazon.com/saml"
SSO_PATH = "/idp/profile/SAML2/Unsolicited/SSO"
DUO_CALLBACK_PATH = "/idp/profile/Authn/Duo/2FA/duo-callback"
SESSION_COOKIE = "JSESSIONID"

WRONG_PASSWORD = "The password you entered was incorrect."
UNKNOWN_USERNAME = "The username you entered cannot be identified."


@dataclass(frozen=True)
class IdPUser:
    """A user the IdP accepts, and what it releases to AWS for them."""

    username: str
    password: str
    role_values: tuple[str, ...]
    session_name: str | None = "alice@example.edu"
    session_duration: int | None = 43200
    destination: str | None = None
    encrypted: bool = False


@dataclass
class FlowSession:
    """One web flow, keyed by its ``JSESSIONID``."""

    session_id: str
    step: int = 1
    csrf_token: str = field(default_factory=lambda: secrets.token_hex(16))
    error: str | None = None
    last_username: str = ""
    username: str | None = None
    duo_state: str | None = None
    authenticated: bool = False
    relay_state: str | None = None

    @property
    def execution(self) -> str:
        return f"e1s{self.step}"


@dataclass(frozen=True)
class ReceivedPost:
    """One POST that reached the sign-in endpoint."""

    path: str
    fields: dict[str, str]


class SignInEndpoint(BackgroundHTTPServer):
    """Loopback stand-in for the AWS sign-in endpoint. It records every POST it receives."""

    def __init__(self, host: str = "127.0.0.3", path: str = "/saml") -> None:
        super().__init__(host)
        self.path = path
        self.posts: list[ReceivedPost] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    def reset(self) -> None:
        with self._lock:
            self.posts.clear()
            self.requests.clear()

    def add_post(self, post: ReceivedPost) -> None:
        with self._lock:
            self.posts.append(post)


class SignInHandler(StandInHandler):
    def do_GET(self) -> None:
        self.owner.record("GET", self.path)
        self.send_html(HTTPStatus.OK, render_template("signin.html"))

    def do_POST(self) -> None:
        endpoint: SignInEndpoint = self.owner
        endpoint.record("POST", self.path)
        path, _ = self.split_path()
        try:
            fields = self.read_form()
        except ValueError as error:
            self.send_html(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, html.escape(str(error)))
            return
        endpoint.add_post(ReceivedPost(path=path, fields=fields))
        self.send_html(HTTPStatus.OK, render_template("signin.html"))


SignInEndpoint.handler_class = SignInHandler


class ShibbolethIdP(BackgroundHTTPServer):
    """The IdP stand-in server. Users and options are set by tests and cleared by ``reset``."""

    def __init__(
        self,
        *,
        duo: DuoUniversalPrompt,
        sign_in_url: str,
        signing_key: SigningKey,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.duo = duo
        self.sign_in_url = sign_in_url
        self.signing_key = signing_key
        self.entity_id = f"{self.base_url}/idp/shibboleth"
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.users: dict[str, IdPUser] = {}
            self.sessions: dict[str, FlowSession] = {}
            self.default_destination = AWS_SIGN_IN_DESTINATION
            self.relay_state: str | None = None
            # Make the POST page remove its form right after submitting it, a race for
            # any product that reads the field from the DOM.
            self.remove_form_after_submit = False
            self.csrf_failures = 0
            self.duo_failures = 0
            self.responses_issued: list[bytes] = []
            self.requests.clear()

    @property
    def start_url(self) -> str:
        return f"{self.base_url}{SSO_PATH}?{urlencode({'providerId': AWS_PROVIDER_ID})}"

    def add_user(
        self,
        username: str,
        password: str,
        role_values: Sequence[str],
        *,
        session_name: str | None = "alice@example.edu",
        session_duration: int | None = 43200,
        destination: str | None = None,
        encrypted: bool = False,
    ) -> IdPUser:
        user = IdPUser(
            username=username,
            password=password,
            role_values=tuple(role_values),
            session_name=session_name,
            session_duration=session_duration,
            destination=destination,
            encrypted=encrypted,
        )
        with self._lock:
            self.users[username] = user
        return user

    def new_session(self, relay_state: str | None) -> FlowSession:
        session = FlowSession(session_id=secrets.token_hex(16).upper(), relay_state=relay_state)
        with self._lock:
            self.sessions[session.session_id] = session
        return session

    def find_session(self, session_id: str | None) -> FlowSession | None:
        with self._lock:
            return self.sessions.get(session_id or "")

    def end_session(self, session: FlowSession) -> None:
        with self._lock:
            self.sessions.pop(session.session_id, None)

    def user(self, username: str) -> IdPUser | None:
        with self._lock:
            return self.users.get(username)

    def build_saml_response(self, user: IdPUser) -> str:
        xml = build_response(
            destination=user.destination or self.default_destination,
            role_values=user.role_values,
            session_name=user.session_name,
            session_duration=user.session_duration,
            issuer=self.entity_id,
            key=self.signing_key,
            encrypted=user.encrypted,
        )
        with self._lock:
            self.responses_issued.append(xml)
        return encode_response(xml)


class IdPHandler(StandInHandler):
    def do_GET(self) -> None:
        idp: ShibbolethIdP = self.owner
        path, query = self.split_path()
        idp.record("GET", self.path)

        if path == SSO_PATH and "providerId" in query:
            self._start(idp, query)
        elif path == SSO_PATH and "execution" in query:
            self._show_step(idp, query["execution"])
        elif path == DUO_CALLBACK_PATH:
            self._duo_callback(idp, query)
        else:
            self._error(
                HTTPStatus.NOT_FOUND, "Not Found", "The requested page does not exist on this IdP."
            )

    def do_POST(self) -> None:
        idp: ShibbolethIdP = self.owner
        path, query = self.split_path()
        idp.record("POST", self.path)
        session = idp.find_session(self.cookies().get(SESSION_COOKIE))
        if path != SSO_PATH or session is None or query.get("execution") != session.execution:
            self._stale_request()
            return
        try:
            form = self.read_form()
        except ValueError as error:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Too Large", str(error))
            return

        if not secrets.compare_digest(form.get("csrf_token", ""), session.csrf_token):
            with idp._lock:
                idp.csrf_failures += 1
            self._error(
                HTTPStatus.OK,
                "Invalid Request",
                "The request failed a cross-site request forgery check.",
            )
            return
        if "_eventId_proceed" not in form:
            self._error(
                HTTPStatus.OK, "Invalid Request", "The form was submitted without a proceed event."
            )
            return

        self._check_password(
            idp, session, form.get("j_username", "").strip(), form.get("j_password", "")
        )

    def _start(self, idp: ShibbolethIdP, query: dict[str, str]) -> None:
        if query["providerId"] != AWS_PROVIDER_ID:
            self._error(
                HTTPStatus.OK,
                "Unsupported Request",
                "The service provider is not known to this IdP.",
            )
            return
        session = idp.new_session(relay_state=query.get("target") or idp.relay_state)
        cookie = f"{SESSION_COOKIE}={session.session_id}; Path=/idp; HttpOnly"
        self.redirect(f"{SSO_PATH}?execution={session.execution}", headers={"Set-Cookie": cookie})

    def _show_step(self, idp: ShibbolethIdP, execution: str) -> None:
        session = idp.find_session(self.cookies().get(SESSION_COOKIE))
        if session is None or execution != session.execution:
            self._stale_request()
            return
        if session.authenticated:
            self._post_binding_page(idp, session)
            return
        self._login_page(session)

    def _login_page(self, session: FlowSession) -> None:
        session.csrf_token = secrets.token_hex(16)
        error = ""
        if session.error:
            message = html.escape(session.error)
            error = f'<section>\n<p class="form-element form-error">{message}</p>\n</section>'
        page = render_template(
            "shib_login.html",
            action=html.escape(f"{SSO_PATH}?execution={session.execution}"),
            csrf_token=session.csrf_token,
            error=error,
            username=html.escape(session.last_username),
        )
        self.send_html(HTTPStatus.OK, page)

    def _check_password(
        self, idp: ShibbolethIdP, session: FlowSession, username: str, password: str
    ) -> None:
        user = idp.user(username)
        session.step += 1
        session.last_username = username
        if user is None:
            session.error = UNKNOWN_USERNAME
        elif not secrets.compare_digest(user.password.encode(), password.encode()):
            session.error = WRONG_PASSWORD
        else:
            session.error = None
            session.username = username
            session.duo_state = secrets.token_hex(18)
            self.redirect(self._duo_url(idp, session))
            return
        self.redirect(f"{SSO_PATH}?execution={session.execution}")

    def _duo_url(self, idp: ShibbolethIdP, session: FlowSession) -> str:
        return build_authorize_url(
            idp.duo.base_url,
            client_id=idp.duo.client_id,
            client_secret=idp.duo.client_secret,
            redirect_uri=f"{idp.base_url}{DUO_CALLBACK_PATH}",
            state=session.duo_state or "",
            username=session.username or "",
        )

    def _duo_callback(self, idp: ShibbolethIdP, query: dict[str, str]) -> None:
        session = idp.find_session(self.cookies().get(SESSION_COOKIE))
        if session is None or session.duo_state is None:
            self._stale_request()
            return

        state_ok = secrets.compare_digest(query.get("state", ""), session.duo_state)
        username = None
        if state_ok:
            username = idp.duo.exchange_code(
                query.get("duo_code", ""),
                client_id=idp.duo.client_id,
                redirect_uri=f"{idp.base_url}{DUO_CALLBACK_PATH}",
            )
        if username is None or username != session.username:
            with idp._lock:
                idp.duo_failures += 1
            idp.end_session(session)
            self._error(
                HTTPStatus.OK, "Authentication Error", "The second factor could not be verified."
            )
            return

        session.duo_state = None
        session.authenticated = True
        session.step += 1
        self.redirect(f"{SSO_PATH}?execution={session.execution}")

    def _post_binding_page(self, idp: ShibbolethIdP, session: FlowSession) -> None:
        user = idp.user(session.username or "")
        idp.end_session(session)
        if user is None:
            self._error(
                HTTPStatus.OK, "Authentication Error", "The user is no longer known to this IdP."
            )
            return

        relay = ""
        if session.relay_state is not None:
            value = html.escape(session.relay_state)
            relay = f'<input type="hidden" name="RelayState" value="{value}"/>'
        onload = "document.forms[0].submit()"
        if idp.remove_form_after_submit:
            onload += "; document.forms[0].remove()"
        page = render_template(
            "shib_post.html",
            onload=onload,
            action=html.escape(idp.sign_in_url),
            relay_state=relay,
            saml_response=idp.build_saml_response(user),
        )
        self.send_html(HTTPStatus.OK, page)

    def _stale_request(self) -> None:
        self._error(
            HTTPStatus.OK,
            "Stale Request",
            "This login request is no longer valid. Start again from the application.",
        )

    def _error(self, status: int, title: str, message: str) -> None:
        logger.info("IdP stand-in error page for %s %s: %s", self.command, self.path, title)
        page = render_template(
            "shib_error.html", title=html.escape(title), message=html.escape(message)
        )
        self.send_html(status, page)


ShibbolethIdP.handler_class = IdPHandler


class ShibbolethDuoStandIn:
    """The IdP, Duo and sign-in stand-ins wired together on three loopback addresses."""

    def __init__(self, signing_key: SigningKey) -> None:
        self.signing_key = signing_key
        self.sign_in = SignInEndpoint()
        self.duo = DuoUniversalPrompt()
        self.idp = ShibbolethIdP(
            duo=self.duo, sign_in_url=self.sign_in.url, signing_key=signing_key
        )
        self._stopped = threading.Event()

    def start(self) -> None:
        for server in (self.sign_in, self.duo, self.idp):
            server.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for server in (self.idp, self.duo, self.sign_in):
            server.stop(timeout)

    def reset(self) -> None:
        for server in (self.idp, self.duo, self.sign_in):
            server.reset()
