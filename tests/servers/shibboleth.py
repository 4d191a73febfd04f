"""Stand-in for a Shibboleth IdP v5 with Duo, and for the AWS sign-in endpoint it posts to.

What ``ShibbolethIdP`` imitates, after the stock v4/v5 Velocity views and Spring Web Flow:

- ``/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices`` starts a flow:
  302 to ``?execution=e1s1`` with a ``JSESSIONID`` cookie (HttpOnly, path ``/idp``). Every
  page of the flow posts to the flow URL with a hidden ``csrf_token`` and redirects (302)
  to the next step (``e1s2``, ``e1s3``...), as Spring Web Flow redirects after every post.
- The password page has the markup of the stock ``login.vm``: ``j_username`` (id
  ``username``), ``j_password`` (id ``password``), the ``donotcache`` and
  ``_shib_idp_revokeConsent`` checkboxes and ``button[name=_eventId_proceed]``. A rejected
  login shows ``<p class="form-element form-error">`` with the stock messages.
- Duo: by default the Duo Web SDK v4 redirect to the Universal Prompt (``duo.py``), back
  to ``/idp/profile/Authn/Duo/2FA/duo-callback?state=...&duo_code=...``. With
  ``duo_mode = "traditional"`` the IdP's own page carries ``iframe#duo_iframe`` (with
  ``data-host`` and ``data-sig-request``) and ``form#duo_form``, which the page's script
  submits with ``sig_response`` once the frame approves (``duo_traditional.py``).
- Single sign-on: a successful login sets the ``shib_idp_session`` cookie (path ``/idp``,
  HttpOnly, a session cookie unless ``sso_cookie_max_age`` is set); a later flow in the same
  browser skips the password page and Duo, as the IdP's SSO session does.
- Pages that can be switched on per test (``Interstitials``), in the order a real IdP shows
  them: the client-storage read page ("Loading Session Information", submits itself); the
  expiring-password warning ("Your password will be expiring soon!") that continues after
  a ``<meta http-equiv="refresh">``; terms of use (a required ``input#accept`` checkbox
  named ``_shib_idp_consentIds`` and a "Submit" ``_eventId_proceed``); an unknown page
  ("Update Your Security Questions"); attribute-release consent (``table#attributeRelease``
  listing the attributes, radio ``_shib_idp_consentOptions``, "Accept" ``_eventId_proceed``
  and "Reject" ``_eventId_AttributeReleaseRejected``; a remembered consent skips the page
  next time); the client-storage write page ("Saving Session Information"). Two errors can
  be armed to happen once: "Stale Request" on the first password post, and "problem
  finding your session" on the first return from Duo.
- The flow ends on the SAML 2.0 HTTP-POST binding page: ``<body onload=
  "document.forms[0].submit()">``, a form posting hidden ``SAMLResponse`` (and
  ``RelayState`` when one is set) to the sign-in URL, and a ``<noscript>`` Continue button.
  The Response is signed by ``saml_builder``; its ``Destination`` defaults to
  ``https://signin.aws.amazon.com/saml`` while the form posts to the loopback sign-in URL,
  so nothing ever leaves the machine.

Sources: the stock ``login.vm``, ``login-error.vm`` and intercept views as kept in public IdP
configuration repositories (``views/intercept/attribute-release.vm``,
``expiring-password.vm``, ``terms-of-use.vm``, ``views/client-storage/*``), public scripts
that post these forms (field names ``_shib_idp_consentIds``, ``_shib_idp_consentOptions``
with ``_shib_idp_doNotRememberConsent``, ``_shib_idp_rememberConsent`` and
``_shib_idp_globalConsent``, the ``shib_idp_ls_*`` fields, ``#accept``), Shibboleth's
documented message texts, and the OpenSAML HTTP-POST binding.

Thinner than the real thing: one fixed service (AWS), no LDAP, a Duo v4 code exchange done
in-process instead of over Duo's token endpoint, remembered consent and SSO sessions kept
in memory and forgotten on ``reset``, terms of use accepted again on every flow, the
"problem finding your session" page is a plain error page, long explanatory texts are the
stand-in's own words, and error pages only carry a title and one paragraph.

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
from typing import Literal
from urllib.parse import urlencode

from servers import duo_traditional, shib_pages
from servers.duo import DuoUniversalPrompt, build_authorize_url
from servers.saml_builder import SigningKey, build_response, encode_response
from servers.standin_http import TEMPLATES, BackgroundHTTPServer, StandInHandler, render_template

logger = logging.getLogger(__name__)

AWS_PROVIDER_ID = "urn:amazon:webservices"
AWS_SIGN_IN_DESTINATION = "https://signin.aws.amazon.com/saml"
SSO_PATH = "/idp/profile/SAML2/Unsolicited/SSO"
DUO_CALLBACK_PATH = "/idp/profile/Authn/Duo/2FA/duo-callback"
DUO_WEB_SCRIPT_PATH = "/idp/js/duo-web-standin.js"
SESSION_COOKIE = "JSESSIONID"
SSO_COOKIE = "shib_idp_session"
TERMS_OF_USE_ID = "terms-of-use-2026"

WRONG_PASSWORD = "The password you entered was incorrect."
UNKNOWN_USERNAME = "The username you entered cannot be identified."
LOST_SESSION = "Sorry, it looks like there is a problem finding your session."

DuoMode = Literal["universal", "traditional"]
CONSENT_OPTIONS = (
    "_shib_idp_doNotRememberConsent",
    "_shib_idp_rememberConsent",
    "_shib_idp_globalConsent",
)


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
class Interstitials:
    """IdP pages between the start URL and the POST to AWS, each off unless a test turns it on."""

    consent: bool = False
    expiring_password: bool = False
    terms_of_use: bool = False
    stale_request_once: bool = False
    lost_session_once: bool = False
    client_storage: bool = False
    unknown_page: bool = False


@dataclass
class FlowSession:
    """One web flow, keyed by its ``JSESSIONID``: the pages still to show, current one first."""

    session_id: str
    stages: list[str]
    step: int = 1
    csrf_token: str = field(default_factory=lambda: secrets.token_hex(16))
    error: str | None = None
    last_username: str = ""
    username: str | None = None
    duo_state: str | None = None
    relay_state: str | None = None

    @property
    def execution(self) -> str:
        return f"e1s{self.step}"

    @property
    def stage(self) -> str:
        return self.stages[0] if self.stages else "post"


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
        # The IdP's own application key for Duo Web SDK v2 signatures.
        self.duo_v2_akey = duo_traditional.new_application_key()
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
            self.interstitials = Interstitials()
            self.expiring_password_seconds = 2
            self.duo_mode: DuoMode = "universal"
            self.sso_enabled = True
            self.sso_cookie_max_age: int | None = None
            self.sso_sessions: dict[str, str] = {}
            self.remembered_consent: set[str] = set()
            # What happened, for tests to assert on.
            self.csrf_failures = 0
            self.duo_failures = 0
            self.password_logins = 0
            self.sso_logins = 0
            self.consent_given: list[bool] = []
            self.consent_options: list[str] = []
            self.tou_accepted: list[str] = []
            self.security_questions_saved = 0
            self.stale_requests_shown = 0
            self.lost_sessions_shown = 0
            self.storage_pages_submitted: list[str] = []
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

    def new_session(self, relay_state: str | None, sso_user: str | None) -> FlowSession:
        """Start a flow; SSO_USER, when set, is the user of a valid SSO session."""
        switches = self.interstitials
        stages = ["storage_read"] if switches.client_storage else []
        if sso_user is None:
            stages += ["login", "expiring_password", "duo"]
        stages += ["terms_of_use", "unknown_page", "consent", "storage_write", "post"]
        session = FlowSession(
            session_id=secrets.token_hex(16).upper(),
            stages=stages,
            relay_state=relay_state,
            username=sso_user,
        )
        self._skip_inapplicable(session)
        with self._lock:
            self.sessions[session.session_id] = session
        return session

    def advance(self, session: FlowSession) -> None:
        """Leave the current page of SESSION for the next one that applies."""
        session.stages.pop(0)
        session.step += 1
        self._skip_inapplicable(session)

    def _skip_inapplicable(self, session: FlowSession) -> None:
        switches = self.interstitials
        while session.stages:
            stage = session.stages[0]
            skip = (
                (stage == "expiring_password" and not switches.expiring_password)
                or (stage == "terms_of_use" and not switches.terms_of_use)
                or (stage == "unknown_page" and not switches.unknown_page)
                or (stage == "storage_write" and not switches.client_storage)
                or (
                    stage == "consent"
                    and (not switches.consent or session.username in self.remembered_consent)
                )
            )
            if not skip:
                return
            session.stages.pop(0)

    def find_session(self, session_id: str | None) -> FlowSession | None:
        with self._lock:
            return self.sessions.get(session_id or "")

    def end_session(self, session: FlowSession) -> None:
        with self._lock:
            self.sessions.pop(session.session_id, None)

    def user(self, username: str) -> IdPUser | None:
        with self._lock:
            return self.users.get(username)

    def sso_user(self, token: str | None) -> str | None:
        """Return the user of the SSO session cookie value TOKEN, or None."""
        with self._lock:
            username = self.sso_sessions.get(token or "") if self.sso_enabled else None
        return username if username is not None and self.user(username) else None

    def sso_cookie(self, username: str) -> str | None:
        """Start an SSO session for USERNAME; return its Set-Cookie value, or None when off."""
        if not self.sso_enabled:
            return None
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.sso_sessions[token] = username
        cookie = f"{SSO_COOKIE}={token}; Path=/idp; HttpOnly"
        if self.sso_cookie_max_age is not None:
            cookie += f"; Max-Age={self.sso_cookie_max_age}"
        return cookie

    def disarm(self, name: str) -> bool:
        """Turn off the one-shot switch NAME; return whether it was on."""
        with self._lock:
            armed = bool(getattr(self.interstitials, name))
            setattr(self.interstitials, name, False)
            return armed

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
            self._get_step(idp, query)
        elif path == DUO_CALLBACK_PATH:
            self._duo_callback(idp, query)
        elif path == DUO_WEB_SCRIPT_PATH:
            script = (TEMPLATES / "duo_web_standin.js").read_bytes()
            self.send_body(HTTPStatus.OK, script, "text/javascript;charset=utf-8")
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

        if session.stage == "login":
            self._post_password(idp, session, form)
        elif session.stage in ("storage_read", "storage_write"):
            self._post_storage(idp, session, form)
        elif session.stage == "terms_of_use":
            self._post_terms_of_use(idp, session, form)
        elif session.stage == "unknown_page":
            self._post_unknown_page(idp, session, form)
        elif session.stage == "consent":
            self._post_consent(idp, session, form)
        elif session.stage == "duo" and idp.duo_mode == "traditional":
            self._post_duo_traditional(idp, session, form)
        else:
            self._stale_request()

    # --- moving through the flow ---

    def _start(self, idp: ShibbolethIdP, query: dict[str, str]) -> None:
        if query["providerId"] != AWS_PROVIDER_ID:
            self._error(
                HTTPStatus.OK,
                "Unsupported Request",
                "The service provider is not known to this IdP.",
            )
            return
        sso_user = idp.sso_user(self.cookies().get(SSO_COOKIE))
        if sso_user is not None:
            with idp._lock:
                idp.sso_logins += 1
        session = idp.new_session(query.get("target") or idp.relay_state, sso_user)
        cookie = f"{SESSION_COOKIE}={session.session_id}; Path=/idp; HttpOnly"
        self._continue(idp, session, {"Set-Cookie": cookie})

    def _continue(
        self, idp: ShibbolethIdP, session: FlowSession, headers: dict[str, str] | None = None
    ) -> None:
        """Redirect the browser to the current page of SESSION: Duo's prompt or a flow step."""
        if session.stage == "duo" and idp.duo_mode == "universal":
            session.duo_state = secrets.token_hex(18)
            self.redirect(self._duo_url(idp, session), headers=headers)
            return
        self.redirect(f"{SSO_PATH}?execution={session.execution}", headers=headers)

    def _get_step(self, idp: ShibbolethIdP, query: dict[str, str]) -> None:
        session = idp.find_session(self.cookies().get(SESSION_COOKIE))
        if session is None or query["execution"] != session.execution:
            self._stale_request()
            return
        # The expiring-password page continues with a GET from its meta refresh or link.
        if "_eventId_proceed" in query:
            if session.stage != "expiring_password":
                self._stale_request()
                return
            idp.advance(session)
            self._continue(idp, session)
            return
        self._show_step(idp, session)

    def _show_step(self, idp: ShibbolethIdP, session: FlowSession) -> None:
        session.csrf_token = secrets.token_hex(16)
        action = f"{SSO_PATH}?execution={session.execution}"
        stage = session.stage
        user = idp.user(session.username or "")

        if stage == "login":
            page = shib_pages.login_page(
                action, session.csrf_token, session.error, session.last_username
            )
        elif stage in ("storage_read", "storage_write"):
            page = shib_pages.client_storage_page(stage, action, session.csrf_token)
        elif stage == "expiring_password":
            page = shib_pages.expiring_password_page(
                f"{action}&_eventId_proceed=1", idp.expiring_password_seconds
            )
        elif stage == "duo" and idp.duo_mode == "universal":
            self._continue(idp, session)
            return
        elif stage == "duo":
            page = shib_pages.duo_traditional_page(
                action,
                session.csrf_token,
                duo_host=idp.duo.base_url.removeprefix("http://"),
                sig_request=duo_traditional.sign_request(
                    ikey=idp.duo.v2_ikey,
                    skey=idp.duo.v2_skey,
                    akey=idp.duo_v2_akey,
                    username=session.username or "",
                ),
                script_url=DUO_WEB_SCRIPT_PATH,
            )
        elif stage == "terms_of_use":
            page = shib_pages.terms_of_use_page(action, session.csrf_token, TERMS_OF_USE_ID)
        elif stage == "unknown_page":
            page = shib_pages.security_questions_page(action, session.csrf_token)
        elif stage == "consent" and user is not None:
            page = shib_pages.consent_page(action, session.csrf_token, user)
        else:
            self._post_binding_page(idp, session)
            return
        self.send_html(HTTPStatus.OK, page)

    # --- form posts ---

    def _post_password(
        self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]
    ) -> None:
        if "_eventId_proceed" not in form:
            self._error(
                HTTPStatus.OK, "Invalid Request", "The form was submitted without a proceed event."
            )
            return
        # An armed stale request plays a login page left open until its flow expired.
        if idp.disarm("stale_request_once"):
            with idp._lock:
                idp.stale_requests_shown += 1
            idp.end_session(session)
            self._stale_request()
            return
        self._check_password(
            idp, session, form.get("j_username", "").strip(), form.get("j_password", "")
        )

    def _check_password(
        self, idp: ShibbolethIdP, session: FlowSession, username: str, password: str
    ) -> None:
        user = idp.user(username)
        session.last_username = username
        if user is None:
            session.error = UNKNOWN_USERNAME
        elif not secrets.compare_digest(user.password.encode(), password.encode()):
            session.error = WRONG_PASSWORD
        else:
            session.error = None
            session.username = username
            with idp._lock:
                idp.password_logins += 1
            idp.advance(session)
            self._continue(idp, session)
            return
        session.step += 1
        self.redirect(f"{SSO_PATH}?execution={session.execution}")

    def _post_storage(self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]) -> None:
        if "_eventId_proceed" not in form:
            self._stale_request()
            return
        with idp._lock:
            idp.storage_pages_submitted.append(session.stage)
        idp.advance(session)
        self._continue(idp, session)

    def _post_terms_of_use(
        self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]
    ) -> None:
        if form.get("_shib_idp_consentIds") != TERMS_OF_USE_ID or "_eventId_proceed" not in form:
            self._show_step(idp, session)
            return
        with idp._lock:
            idp.tou_accepted.append(session.username or "")
        idp.advance(session)
        self._continue(idp, session)

    def _post_unknown_page(
        self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]
    ) -> None:
        if "_eventId_proceed" not in form:
            self._show_step(idp, session)
            return
        with idp._lock:
            idp.security_questions_saved += 1
        idp.advance(session)
        self._continue(idp, session)

    def _post_consent(self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]) -> None:
        if "_eventId_AttributeReleaseRejected" in form:
            with idp._lock:
                idp.consent_given.append(False)
            idp.end_session(session)
            self._error(
                HTTPStatus.OK,
                "Attribute Release Rejected",
                "You chose not to release your information to this service, so the login stopped.",
            )
            return
        if "_eventId_proceed" not in form:
            self._show_step(idp, session)
            return

        option = form.get("_shib_idp_consentOptions", CONSENT_OPTIONS[0])
        with idp._lock:
            idp.consent_given.append(True)
            idp.consent_options.append(option)
            if option in CONSENT_OPTIONS[1:]:
                idp.remembered_consent.add(session.username or "")
        idp.advance(session)
        self._continue(idp, session)

    # --- Duo ---

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
        if self._lose_session_once(idp, session):
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
            self._second_factor_failed(idp, session)
            return
        session.duo_state = None
        self._authenticated(idp, session)

    def _post_duo_traditional(
        self, idp: ShibbolethIdP, session: FlowSession, form: dict[str, str]
    ) -> None:
        if self._lose_session_once(idp, session):
            return
        username = duo_traditional.verify_response(
            ikey=idp.duo.v2_ikey,
            skey=idp.duo.v2_skey,
            akey=idp.duo_v2_akey,
            sig_response=form.get("sig_response", ""),
        )
        if username is None or username != session.username:
            self._second_factor_failed(idp, session)
            return
        self._authenticated(idp, session)

    def _lose_session_once(self, idp: ShibbolethIdP, session: FlowSession) -> bool:
        # An armed lost session plays a return from Duo to a server that lost the flow.
        if not idp.disarm("lost_session_once"):
            return False
        with idp._lock:
            idp.lost_sessions_shown += 1
        idp.end_session(session)
        self._error(
            HTTPStatus.OK,
            "Error",
            f"{LOST_SESSION} The login request could not be found on this server, for example "
            "because it waited too long. Go back to the application and log in again.",
        )
        return True

    def _second_factor_failed(self, idp: ShibbolethIdP, session: FlowSession) -> None:
        with idp._lock:
            idp.duo_failures += 1
        idp.end_session(session)
        self._error(
            HTTPStatus.OK, "Authentication Error", "The second factor could not be verified."
        )

    def _authenticated(self, idp: ShibbolethIdP, session: FlowSession) -> None:
        idp.advance(session)
        cookie = idp.sso_cookie(session.username or "")
        self._continue(idp, session, {"Set-Cookie": cookie} if cookie else None)

    # --- the end of the flow and errors ---

    def _post_binding_page(self, idp: ShibbolethIdP, session: FlowSession) -> None:
        user = idp.user(session.username or "")
        idp.end_session(session)
        if user is None:
            self._error(
                HTTPStatus.OK, "Authentication Error", "The user is no longer known to this IdP."
            )
            return
        page = shib_pages.post_binding_page(
            action=idp.sign_in_url,
            saml_response=idp.build_saml_response(user),
            relay_state=session.relay_state,
            remove_form=idp.remove_form_after_submit,
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
        self.send_html(status, shib_pages.error_page(title, message))


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
