"""Pytest fixtures for the Shibboleth IdP and Duo stand-ins.

``shib_duo`` gives each test a clean ``ShibDuo``: the servers live for the whole session
(an RSA key and three servers are made once) and are reset before and after each test.
A reset also makes the stand-ins ignore cookies set before it (SSO session, Duo's
remembered browser and last-used method), so a browser kept across tests starts fresh.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from servers.duo import PasscodeAttempt, PushBehaviour
from servers.saml_builder import make_signing_key
from servers.shibboleth import DuoMode, IdPUser, Interstitials, ReceivedPost, ShibbolethDuoStandIn


class ShibDuo:
    """What a test drives: the start URL, users, the simulated phone and what reached AWS."""

    def __init__(self, stand_in: ShibbolethDuoStandIn) -> None:
        self.stand_in = stand_in
        self.idp = stand_in.idp
        self.duo = stand_in.duo
        self.sign_in = stand_in.sign_in

    # --- addresses ---

    @property
    def start_url(self) -> str:
        """IdP-initiated start URL for AWS (``...?providerId=urn:amazon:webservices``)."""
        return self.idp.start_url

    @property
    def sign_in_url(self) -> str:
        """Loopback URL that the IdP's POST page submits to, in place of AWS's sign-in."""
        return self.sign_in.url

    @property
    def idp_base(self) -> str:
        return self.idp.base_url

    @property
    def duo_base(self) -> str:
        return self.duo.base_url

    @property
    def cert_pem(self) -> bytes:
        """The IdP's signing certificate, for an STS stand-in that checks signatures."""
        return self.stand_in.signing_key.cert_pem

    # --- IdP set-up ---

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
        """Add a user. DESTINATION overrides the Response's ``Destination`` for that user."""
        return self.idp.add_user(
            username,
            password,
            role_values,
            session_name=session_name,
            session_duration=session_duration,
            destination=destination,
            encrypted=encrypted,
        )

    def set_default_destination(self, destination: str) -> None:
        """Set the ``Destination`` of Responses for users without their own (GovCloud, China)."""
        self.idp.default_destination = destination

    def set_relay_state(self, relay_state: str | None) -> None:
        """Post RELAY_STATE as ``RelayState`` beside the ``SAMLResponse`` (None leaves it out)."""
        self.idp.relay_state = relay_state

    def set_remove_form_after_submit(self, remove: bool) -> None:
        """Make the POST page delete its form right after submitting it."""
        self.idp.remove_form_after_submit = remove

    @property
    def saml_responses_issued(self) -> list[bytes]:
        """XML of every Response the IdP put on a POST page, oldest first."""
        return list(self.idp.responses_issued)

    # --- IdP pages between the password and AWS ---

    def set_interstitials(
        self,
        *,
        consent: bool = False,
        expiring_password: bool = False,
        terms_of_use: bool = False,
        stale_request_once: bool = False,
        lost_session_once: bool = False,
        client_storage: bool = False,
        unknown_page: bool = False,
        expiring_password_seconds: int = 2,
    ) -> None:
        """Switch the IdP's extra pages on or off; every page not named is switched off.

        - CONSENT: attribute-release page after Duo ("Accept", "Reject"; a remembered
          consent skips it next time).
        - EXPIRING_PASSWORD: "Your password will be expiring soon!" after the password,
          continuing by itself after EXPIRING_PASSWORD_SECONDS (a meta refresh).
        - TERMS_OF_USE: terms of use after Duo; needs the ``#accept`` box and "Submit".
        - STALE_REQUEST_ONCE: the next password post gets "Stale Request" and ends the flow;
          a new start from the start URL works.
        - LOST_SESSION_ONCE: the next return from Duo gets "...a problem finding your
          session." and ends the flow.
        - CLIENT_STORAGE: "Loading Session Information" before the password page and
          "Saving Session Information" before the POST page, both submitting themselves.
        - UNKNOWN_PAGE: an "Update Your Security Questions" form after Duo, which no product
          is expected to know.
        """
        with self.idp._lock:
            self.idp.interstitials = Interstitials(
                consent=consent,
                expiring_password=expiring_password,
                terms_of_use=terms_of_use,
                stale_request_once=stale_request_once,
                lost_session_once=lost_session_once,
                client_storage=client_storage,
                unknown_page=unknown_page,
            )
            self.idp.expiring_password_seconds = expiring_password_seconds

    def set_duo_mode(self, mode: DuoMode) -> None:
        """Use Duo's "universal" prompt (a redirect, the default) or the "traditional" iframe."""
        if mode not in ("universal", "traditional"):
            raise ValueError(f"Duo mode must be 'universal' or 'traditional', not {mode!r}")
        self.idp.duo_mode = mode

    def set_sso(self, enabled: bool = True, *, cookie_max_age: int | None = None) -> None:
        """Switch the IdP's SSO session on or off.

        With it on (the default), a second start URL in the same browser skips the password
        and Duo. The ``shib_idp_session`` cookie is a session cookie, so it is lost when
        the browser process ends, unless COOKIE_MAX_AGE (seconds) makes it persistent.
        """
        self.idp.sso_enabled = enabled
        self.idp.sso_cookie_max_age = cookie_max_age

    @property
    def consent_given(self) -> list[bool]:
        """Choices made on the consent page, oldest first: True for "Accept", False for "Reject"."""
        return list(self.idp.consent_given)

    @property
    def consent_options(self) -> list[str]:
        """The ``_shib_idp_consentOptions`` value posted with each "Accept"."""
        return list(self.idp.consent_options)

    @property
    def tou_accepted(self) -> list[str]:
        """Users who accepted the terms of use, one entry per acceptance."""
        return list(self.idp.tou_accepted)

    @property
    def security_questions_saved(self) -> int:
        """How often the unknown "Update Your Security Questions" form was submitted."""
        return self.idp.security_questions_saved

    @property
    def stale_requests_shown(self) -> int:
        return self.idp.stale_requests_shown

    @property
    def lost_sessions_shown(self) -> int:
        return self.idp.lost_sessions_shown

    @property
    def storage_pages_submitted(self) -> list[str]:
        """Client-storage pages that submitted themselves: "storage_read", "storage_write"."""
        return list(self.idp.storage_pages_submitted)

    @property
    def password_logins(self) -> int:
        """Logins that passed the password page."""
        return self.idp.password_logins

    @property
    def sso_logins(self) -> int:
        """Flows that skipped the password page and Duo thanks to the IdP's SSO session."""
        return self.idp.sso_logins

    # --- the simulated phone ---

    def set_push_behaviour(self, behaviour: PushBehaviour, *, after_seconds: float = 0.0) -> None:
        """Decide how the phone answers the next pushes and calls: approve, deny, timeout or
        verified (a call treats verified as approve)."""
        self.duo.set_push_behaviour(behaviour, after_seconds=after_seconds)

    def set_push_timeout(self, seconds: float) -> None:
        """Seconds before an unanswered push times out (real Duo: about 60)."""
        self.duo.push_timeout = seconds

    def set_verified_code_length(self, digits: int) -> None:
        """Digits of the Verified Duo Push code: 3 (Duo's default) or 6."""
        if digits not in (3, 6):
            raise ValueError(f"Duo shows 3- or 6-digit verification codes, not {digits}")
        self.duo.verified_code_length = digits

    def phone_enter_code(self, code: str) -> None:
        """Type CODE on the phone for the pending Verified Duo Push. A wrong code denies it."""
        self.duo.phone_enter_code(code)

    def current_verified_code(self) -> str | None:
        return self.duo.current_verified_code()

    def wait_for_push(self, count: int = 1, timeout: float = 10.0) -> bool:
        return self.duo.wait_for_push(count, timeout)

    def add_passcode(self, passcode: str) -> None:
        """Accept PASSCODE once under any passcode method: Duo Mobile, hardware token or SMS."""
        self.duo.add_passcode(passcode)

    def set_devices(self, names: Sequence[str]) -> None:
        """Give the user these Duo devices, in order (default: one device named "iOS").

        Both prompts then list every method once per device, with the device's name.
        """
        self.duo.set_devices(names)

    def set_locked_out(self, locked_out: bool) -> None:
        """Lock the user out of Duo: the prompts show the locked-out message and nothing else."""
        self.duo.set_locked_out(locked_out)

    def sms_passcodes(self) -> list[str]:
        """Passcodes Duo sent by text message, oldest first; only the newest is accepted."""
        return self.duo.sms_passcodes()

    def wait_for_sms(self, count: int = 1, timeout: float = 10.0) -> bool:
        return self.duo.wait_for_sms(count, timeout)

    @property
    def calls_made(self) -> list[str]:
        """Names of the devices Duo phoned, oldest first."""
        return self.duo.calls_made

    @property
    def pushes_sent_to(self) -> list[str]:
        """Names of the devices that received a Duo Push, oldest first."""
        return self.duo.pushes_sent_to

    @property
    def passcode_attempts(self) -> list[PasscodeAttempt]:
        """Passcodes typed into either prompt, with the method and whether Duo accepted them."""
        with self.duo._lock:
            return list(self.duo.passcode_attempts)

    @property
    def remembered_skips(self) -> int:
        """Logins where Duo skipped its prompt because it remembered the browser."""
        return self.duo.remembered_skips

    def set_remember_days(self, days: int) -> None:
        """Days the traditional prompt offers in its "Remember me for N days" box."""
        self.duo.remember_days = days

    @property
    def push_count(self) -> int:
        return self.duo.push_count

    @property
    def trust_choices(self) -> list[bool]:
        """Trust answers, oldest first: True for "Yes, this is my device" (Universal Prompt)
        or a ticked "Remember me" box (traditional prompt)."""
        return list(self.duo.trust_choices)

    # --- what reached AWS ---

    @property
    def posts_received_at_sign_in(self) -> list[ReceivedPost]:
        return list(self.sign_in.posts)


@pytest.fixture(scope="session")
def shib_duo_stand_in() -> Iterator[ShibbolethDuoStandIn]:
    stand_in = ShibbolethDuoStandIn(make_signing_key("shibaws-test-idp"))
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def shib_duo(shib_duo_stand_in: ShibbolethDuoStandIn) -> Iterator[ShibDuo]:
    """A freshly reset IdP, Duo and sign-in stand-in for one test."""
    shib_duo_stand_in.reset()
    yield ShibDuo(shib_duo_stand_in)
    shib_duo_stand_in.reset()
