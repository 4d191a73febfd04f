"""Pytest fixtures for the Shibboleth IdP and Duo Universal Prompt stand-ins.

``shib_duo`` gives each test a clean ``ShibDuo``: the servers live for the whole session
(an RSA key and three servers are made once) and are reset before and after each test.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from servers.duo import PushBehaviour
from servers.saml_builder import make_signing_key
from servers.shibboleth import IdPUser, ReceivedPost, ShibbolethDuoStandIn


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

    # --- the simulated phone ---

    def set_push_behaviour(self, behaviour: PushBehaviour, *, after_seconds: float = 0.0) -> None:
        """Decide how the phone responds to the next pushes: approve, deny, timeout or verified."""
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
        self.duo.add_passcode(passcode)

    @property
    def push_count(self) -> int:
        return self.duo.push_count

    @property
    def trust_choices(self) -> list[bool]:
        """Choices made at "Is this your device?", True for "Yes, this is my device"."""
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
