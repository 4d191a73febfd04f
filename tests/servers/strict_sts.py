"""A strict stand-in for AWS STS: AssumeRoleWithSAML and GetCallerIdentity over the Query protocol.

It imitates what boto3 and the AWS CLI see from ``sts.amazonaws.com``: form-encoded POSTs
(``Action=...&Version=2011-06-15``), XML results in the STS namespace, and ``ErrorResponse``
documents that botocore turns into ``ClientError`` with the right ``Code``. Before it issues
credentials it checks what real STS checks about a SAML assertion:

- the XML signature (on the Assertion, or on the Response around it) against the certificates
  the test trusts, as the SAML provider's metadata would (InvalidIdentityToken);
- the Issuer, when the trusted certificate was registered with one (InvalidIdentityToken);
- the Conditions time window with a small clock skew (ExpiredToken once NotOnOrAfter is past);
- the audience ``urn:amazon:webservices`` (InvalidIdentityToken);
- that the RoleArn/PrincipalArn pair is one of the Role attribute values, in either order and
  trimmed, and that the test configured the role (AccessDenied otherwise);
- the RoleSessionName attribute: present, 2 to 64 characters of ``[A-Za-z0-9_+=,.@-]``;
- DurationSeconds between 900 and the role's MaxSessionDuration (ValidationError);
- an EncryptedAssertion, which this stand-in has no key for (InvalidIdentityToken).

Thinner than real STS: there are no IAM policies, trust policy conditions, session tags,
source identity, regions or partitions beyond what the ARNs carry. Assertions are not
tracked for replay, SessionNotOnOrAfter is ignored, and the exact wording of most error
messages is modelled on messages users have reported, not on a specification.
GetCallerIdentity accepts only credentials this server issued, verified with botocore's own
SigV4 code. Plain HTTP on loopback only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

logger = logging.getLogger(__name__)

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
AWS_AUDIENCE = "urn:amazon:webservices"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
ROLE_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"

DEFAULT_MAX_SESSION_DURATION = 3600
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
MAX_ASSERTION_CHARS = 100_000
DURATION_TOO_LONG_MESSAGE = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
ACCESS_DENIED_MESSAGE = "Not authorized to perform sts:AssumeRoleWithSAML"
INVALID_TOKEN_ID_MESSAGE = "The security token included in the request is invalid."

ROLE_ARN_PATTERN = re.compile(
    r"^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):role/(?:[^/]+/)*([^/]+)$"
)
PROVIDER_ARN_PATTERN = re.compile(r"^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):saml-provider/(.+)$")
SESSION_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,64}$")
CREDENTIAL_PATTERN = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
    r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$"
)


class StsError(Exception):
    """An error that the server returns as an STS ``ErrorResponse``."""

    def __init__(self, code: str, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class StsCall:
    """One request the server received, with the outcome it returned."""

    action: str
    params: dict[str, str]
    status: int = 0
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class IssuedCredentials:
    """Temporary credentials the server issued, kept so GetCallerIdentity can check them."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime
    assumed_role_arn: str
    assumed_role_id: str
    account: str


@dataclass
class _Role:
    max_session_duration: int
    principal_arn: str | None


@dataclass
class _TrustedCert:
    cert_pem: str
    issuer: str | None


@dataclass
class _ForcedFailure:
    code: str
    message: str
    status: int


@dataclass
class _SamlClaims:
    issuer: str
    audiences: list[str]
    not_before: dt.datetime | None
    not_on_or_after: dt.datetime | None
    recipient: str
    subject: str
    subject_format: str
    role_values: list[str]
    session_names: list[str]


@dataclass
class StrictStsState:
    """Configuration and records shared by the request handler threads."""

    trusted_certs: list[_TrustedCert] = field(default_factory=list)
    roles: dict[str, _Role] = field(default_factory=dict)
    failures: dict[str, _ForcedFailure] = field(default_factory=dict)
    calls: list[StsCall] = field(default_factory=list)
    issued: dict[str, IssuedCredentials] = field(default_factory=dict)
    clock_skew: dt.timedelta = dt.timedelta(seconds=60)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    lock: threading.Lock = field(default_factory=threading.Lock)


class StrictSts:
    """A running strict STS stand-in on 127.0.0.1 with a random port.

    Use it as a context manager, or call ``start()`` and ``stop()``. Point boto3 or the AWS
    CLI at ``endpoint_url`` with ``AWS_ENDPOINT_URL_STS``. Every role a test assumes must be
    configured with ``set_role`` and every IdP certificate with ``trust_cert``.
    """

    def __init__(self) -> None:
        self.state = StrictStsState()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> StrictSts:
        state = self.state

        class Handler(_StsRequestHandler):
            sts_state = state

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="strict-sts", daemon=True
        )
        self._thread.start()
        logger.debug("strict STS listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> StrictSts:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("strict STS is not running. Call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # Configuration

    def trust_cert(self, cert_pem: bytes | str, issuer: str | None = None) -> None:
        """Trust signatures made with CERT_PEM, optionally only from the IdP entity ISSUER."""
        text = cert_pem.decode("ascii") if isinstance(cert_pem, bytes) else cert_pem
        with self.state.lock:
            self.state.trusted_certs.append(_TrustedCert(cert_pem=text, issuer=issuer))

    def set_role(
        self,
        role_arn: str,
        max_session_duration: int = DEFAULT_MAX_SESSION_DURATION,
        principal_arn: str | None = None,
    ) -> None:
        """Let SAML users assume ROLE_ARN, like a role whose trust policy names the provider.

        MAX_SESSION_DURATION is the role's MaxSessionDuration in seconds. With PRINCIPAL_ARN
        only that SAML provider is trusted. Without it, any provider in the role's account is.
        """
        if not MIN_DURATION_SECONDS <= max_session_duration <= MAX_DURATION_SECONDS:
            raise ValueError(
                f"max_session_duration {max_session_duration} is outside 900..43200 seconds"
            )
        if not ROLE_ARN_PATTERN.match(role_arn):
            raise ValueError(f"invalid role ARN {role_arn!r}")
        with self.state.lock:
            self.state.roles[role_arn] = _Role(max_session_duration, principal_arn)

    def fail_role(
        self, role_arn: str, code: str, message: str, status: int = HTTPStatus.BAD_REQUEST
    ) -> None:
        """Make every AssumeRoleWithSAML for ROLE_ARN fail with CODE and MESSAGE."""
        with self.state.lock:
            self.state.failures[role_arn] = _ForcedFailure(code, message, status)

    def reset(self) -> None:
        """Forget trusted certificates, roles, forced failures, calls and issued credentials."""
        with self.state.lock:
            self.state.trusted_certs.clear()
            self.state.roles.clear()
            self.state.failures.clear()
            self.state.calls.clear()
            self.state.issued.clear()
            self.state.clock_skew = dt.timedelta(seconds=60)
            self.state.now = lambda: dt.datetime.now(dt.UTC)

    # Records

    @property
    def calls(self) -> list[StsCall]:
        with self.state.lock:
            return list(self.state.calls)

    def issued_credentials(self) -> Iterator[IssuedCredentials]:
        with self.state.lock:
            yield from list(self.state.issued.values())


class _StsRequestHandler(BaseHTTPRequestHandler):
    sts_state: StrictStsState
    server_version = "StrictSTS/1.0"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("strict STS: " + format, *args)

    def do_GET(self) -> None:
        logger.debug("strict STS rejected GET %s", self.path)
        self._send_error(
            StsError("InvalidAction", "Only POST requests are supported by this stand-in.")
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        params = {
            k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
        }
        action = params.get("Action", "")
        call = StsCall(action=action, params=params)
        with self.sts_state.lock:
            self.sts_state.calls.append(call)

        try:
            if action == "AssumeRoleWithSAML":
                document = assume_role_with_saml(self.sts_state, params)
            elif action == "GetCallerIdentity":
                document = get_caller_identity(self.sts_state, self._signed_request(body))
            else:
                raise StsError("InvalidAction", f"Could not find operation {action} for version")
        except StsError as error:
            call.status, call.error_code, call.error_message = (
                error.status,
                error.code,
                error.message,
            )
            logger.debug("strict STS %s failed: %s", action, error)
            self._send_error(error)
            return

        call.status = HTTPStatus.OK
        self._send_xml(HTTPStatus.OK, document)

    def _signed_request(self, body: bytes) -> _SignedRequest:
        host = self.headers.get("Host", "")
        return _SignedRequest(
            method=self.command,
            url=f"http://{host}{self.path}",
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )

    def _send_error(self, error: StsError) -> None:
        error_type = "Receiver" if error.status >= 500 else "Sender"
        document = (
            f'<ErrorResponse xmlns="{STS_NAMESPACE}">'
            f"<Error><Type>{error_type}</Type><Code>{escape(error.code)}</Code>"
            f"<Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        self._send_xml(error.status, document)

    def _send_xml(self, status: int, document: str) -> None:
        payload = document.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)


# AssumeRoleWithSAML


def assume_role_with_saml(state: StrictStsState, params: dict[str, str]) -> str:
    """Check one AssumeRoleWithSAML request like STS does and return the result document."""
    role_arn = _required(params, "RoleArn").strip()
    principal_arn = _required(params, "PrincipalArn").strip()
    assertion_b64 = _required(params, "SAMLAssertion")
    duration = _duration_seconds(params.get("DurationSeconds"))

    with state.lock:
        forced = state.failures.get(role_arn)
        role = state.roles.get(role_arn)
        trusted = list(state.trusted_certs)
    if forced is not None:
        raise StsError(forced.code, forced.message, forced.status)

    role_match = ROLE_ARN_PATTERN.match(role_arn)
    provider_match = PROVIDER_ARN_PATTERN.match(principal_arn)
    if role_match is None:
        raise StsError("ValidationError", f"{role_arn} is not a valid role ARN")
    if provider_match is None:
        raise StsError("ValidationError", f"{principal_arn} is not a valid SAML provider ARN")

    claims = _verified_claims(assertion_b64, trusted)
    _check_time_window(state, claims)
    if AWS_AUDIENCE not in claims.audiences:
        raise StsError("InvalidIdentityToken", "Incorrect audience in SAML assertion")
    if (role_arn, principal_arn) not in _role_pairs(claims.role_values):
        raise StsError("AccessDenied", ACCESS_DENIED_MESSAGE, HTTPStatus.FORBIDDEN)
    session_name = _session_name(claims)

    if role is None or role.principal_arn not in (None, principal_arn):
        raise StsError("AccessDenied", ACCESS_DENIED_MESSAGE, HTTPStatus.FORBIDDEN)
    if provider_match.group(2) != role_match.group(2) and role.principal_arn is None:
        raise StsError("AccessDenied", ACCESS_DENIED_MESSAGE, HTTPStatus.FORBIDDEN)
    if duration > role.max_session_duration:
        raise StsError("ValidationError", DURATION_TOO_LONG_MESSAGE)

    credentials = _issue(state, role_match, session_name, duration)
    return _assume_role_document(credentials, claims, principal_arn)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise StsError(
            "ValidationError",
            f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' "
            "failed to satisfy constraint: Member must not be null",
        )
    return value


def _duration_seconds(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_MAX_SESSION_DURATION
    try:
        duration = int(raw)
    except ValueError as exc:
        raise StsError("ValidationError", f"Invalid value for DurationSeconds: {raw}") from exc
    if duration < MIN_DURATION_SECONDS:
        raise StsError(
            "ValidationError",
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value greater than or equal to "
            f"{MIN_DURATION_SECONDS}",
        )
    if duration > MAX_DURATION_SECONDS:
        raise StsError(
            "ValidationError",
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value less than or equal to "
            f"{MAX_DURATION_SECONDS}",
        )
    return duration


def _parse_response(assertion_b64: str) -> etree._Element:
    if len(assertion_b64) > MAX_ASSERTION_CHARS:
        raise StsError("ValidationError", "SAMLAssertion is longer than 100000 characters")
    try:
        xml = base64.b64decode(assertion_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StsError("InvalidIdentityToken", "Invalid base64 SAML response") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root: etree._Element = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise StsError("InvalidIdentityToken", "Invalid SAML response: not XML") from exc
    if root.tag != f"{{{SAMLP_NS}}}Response":
        raise StsError("InvalidIdentityToken", "Invalid SAML response: root is not a Response")
    return root


def _verified_claims(assertion_b64: str, trusted: list[_TrustedCert]) -> _SamlClaims:
    response = _parse_response(assertion_b64)
    if response.find(f"{{{SAML_NS}}}EncryptedAssertion") is not None:
        # NOTE: real STS decrypts with the provider's private key, but this stand-in has none.
        raise StsError("InvalidIdentityToken", "Unable to decrypt the encrypted SAML assertion")
    assertions = response.findall(f"{{{SAML_NS}}}Assertion")
    if len(assertions) != 1:
        raise StsError("InvalidIdentityToken", "SAML response must contain exactly one assertion")

    for cert in trusted:
        signed_assertion = _verify_signature(response, assertions[0], cert.cert_pem)
        if signed_assertion is None:
            continue
        claims = _read_claims(signed_assertion)
        if cert.issuer is not None and claims.issuer != cert.issuer:
            raise StsError("InvalidIdentityToken", "Issuer not present in specified provider")
        return claims
    raise StsError("InvalidIdentityToken", "Response signature invalid")


def _verify_signature(
    response: etree._Element, assertion: etree._Element, cert_pem: str
) -> etree._Element | None:
    """Return the assertion as signed with CERT_PEM, or None if no valid signature covers it.

    Only the element returned by signxml is trusted, so content outside the signed part of
    the document (signature wrapping) is never read.
    """
    # Check the assertion's own signature when it has one, else the Response's signature.
    if assertion.find(f"{{{DS_NS}}}Signature") is not None:
        data = etree.tostring(assertion)
    elif response.find(f"{{{DS_NS}}}Signature") is not None:
        data = etree.tostring(response)
    else:
        return None
    try:
        result = XMLVerifier().verify(
            data, x509_cert=cert_pem, expect_config=SignatureConfiguration(location="./")
        )
    except (InvalidSignature, InvalidInput) as exc:
        logger.debug("strict STS: signature check failed: %s", exc)
        return None

    signed = result.signed_xml  # type: ignore[union-attr]
    if not isinstance(signed, etree._Element):
        return None
    if signed.tag == f"{{{SAML_NS}}}Assertion":
        return signed
    found = signed.findall(f"{{{SAML_NS}}}Assertion")
    return found[0] if len(found) == 1 else None


def _parse_instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise StsError("InvalidIdentityToken", f"Invalid SAML time value {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _read_claims(assertion: etree._Element) -> _SamlClaims:
    ns = {"saml": SAML_NS}
    conditions = assertion.find("saml:Conditions", ns)
    name_id = assertion.find("saml:Subject/saml:NameID", ns)
    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", ns
    )

    def attribute_values(name: str) -> list[str]:
        path = f"saml:AttributeStatement/saml:Attribute[@Name='{name}']/saml:AttributeValue"
        return [(value.text or "") for value in assertion.findall(path, ns)]

    return _SamlClaims(
        issuer=(assertion.findtext("saml:Issuer", "", ns) or "").strip(),
        audiences=[
            (audience.text or "").strip()
            for audience in assertion.findall(
                "saml:Conditions/saml:AudienceRestriction/saml:Audience", ns
            )
        ],
        not_before=_parse_instant(conditions.get("NotBefore") if conditions is not None else None),
        not_on_or_after=_parse_instant(
            conditions.get("NotOnOrAfter") if conditions is not None else None
        ),
        recipient=confirmation.get("Recipient", "") if confirmation is not None else "",
        subject=(name_id.text or "").strip() if name_id is not None else "",
        subject_format=name_id.get("Format", "") if name_id is not None else "",
        role_values=attribute_values(ROLE_ATTRIBUTE),
        session_names=attribute_values(ROLE_SESSION_NAME_ATTRIBUTE),
    )


def _check_time_window(state: StrictStsState, claims: _SamlClaims) -> None:
    now = state.now()
    if claims.not_on_or_after is not None and now >= claims.not_on_or_after + state.clock_skew:
        raise StsError(
            "ExpiredToken",
            f"Token expired: current date/time {_format_time(now)} must be before the "
            f"expiration date/time {_format_time(claims.not_on_or_after)}",
        )
    if claims.not_before is not None and now < claims.not_before - state.clock_skew:
        raise StsError(
            "InvalidIdentityToken",
            f"SAML assertion is not yet valid: NotBefore is {_format_time(claims.not_before)}",
        )


def _role_pairs(role_values: list[str]) -> set[tuple[str, str]]:
    """Return (role ARN, provider ARN) pairs from Role attribute values in either order."""
    pairs = set()
    for value in role_values:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            continue
        first, second = parts
        if ROLE_ARN_PATTERN.match(first) and PROVIDER_ARN_PATTERN.match(second):
            pairs.add((first, second))
        elif ROLE_ARN_PATTERN.match(second) and PROVIDER_ARN_PATTERN.match(first):
            pairs.add((second, first))
    return pairs


def _session_name(claims: _SamlClaims) -> str:
    if len(claims.session_names) != 1:
        raise StsError(
            "InvalidIdentityToken",
            "SAML assertion must contain exactly one RoleSessionName attribute value",
        )
    name = claims.session_names[0].strip()
    if not SESSION_NAME_PATTERN.match(name):
        raise StsError(
            "InvalidIdentityToken",
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
        )
    return name


def _random_key(prefix: str, length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length - len(prefix)))


def _issue(
    state: StrictStsState, role_match: re.Match[str], session_name: str, duration: int
) -> IssuedCredentials:
    partition, account, role_name = role_match.groups()
    role_id = _random_key("AROA", 21)
    credentials = IssuedCredentials(
        access_key_id=_random_key("ASIA", 20),
        secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode("ascii"),
        session_token="IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(300)).decode(),
        expiration=(state.now() + dt.timedelta(seconds=duration)).replace(microsecond=0),
        # The assumed-role ARN keeps only the role's name, never its path.
        assumed_role_arn=f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}",
        assumed_role_id=f"{role_id}:{session_name}",
        account=account,
    )
    with state.lock:
        state.issued[credentials.access_key_id] = credentials
    return credentials


def _name_qualifier(issuer: str, principal_arn: str) -> str:
    # The STS API reference defines NameQualifier as
    # BASE64(SHA1(Issuer + account ID + "/" + provider name)).
    match = PROVIDER_ARN_PATTERN.match(principal_arn)
    account, provider = (match.group(2), match.group(3)) if match else ("", "")
    digest = hashlib.sha1(f"{issuer}{account}/{provider}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


def _subject_type(name_id_format: str) -> str:
    # STS drops only the standard NameID format prefix and returns other formats unchanged.
    return name_id_format.removeprefix("urn:oasis:names:tc:SAML:2.0:nameid-format:")


def _format_time(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _assume_role_document(
    credentials: IssuedCredentials, claims: _SamlClaims, principal_arn: str
) -> str:
    return (
        f'<AssumeRoleWithSAMLResponse xmlns="{STS_NAMESPACE}">'
        "<AssumeRoleWithSAMLResult>"
        f"<Issuer>{escape(claims.issuer)}</Issuer>"
        "<AssumedRoleUser>"
        f"<AssumedRoleId>{escape(credentials.assumed_role_id)}</AssumedRoleId>"
        f"<Arn>{escape(credentials.assumed_role_arn)}</Arn>"
        "</AssumedRoleUser>"
        "<Credentials>"
        f"<AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{credentials.secret_access_key}</SecretAccessKey>"
        f"<SessionToken>{credentials.session_token}</SessionToken>"
        f"<Expiration>{_format_time(credentials.expiration)}</Expiration>"
        "</Credentials>"
        f"<Audience>{escape(claims.recipient)}</Audience>"
        f"<SubjectType>{escape(_subject_type(claims.subject_format))}</SubjectType>"
        f"<NameQualifier>{_name_qualifier(claims.issuer, principal_arn)}</NameQualifier>"
        f"<Subject>{escape(claims.subject)}</Subject>"
        "</AssumeRoleWithSAMLResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleWithSAMLResponse>"
    )


# GetCallerIdentity


@dataclass
class _SignedRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def get_caller_identity(state: StrictStsState, request: _SignedRequest) -> str:
    """Check the SigV4 signature of a GetCallerIdentity call and return the result document."""
    credentials = _authenticate(state, request)
    return (
        f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}">'
        "<GetCallerIdentityResult>"
        f"<Arn>{escape(credentials.assumed_role_arn)}</Arn>"
        f"<UserId>{escape(credentials.assumed_role_id)}</UserId>"
        f"<Account>{credentials.account}</Account>"
        "</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def _authenticate(state: StrictStsState, request: _SignedRequest) -> IssuedCredentials:
    authorization = request.headers.get("authorization", "")
    match = CREDENTIAL_PATTERN.match(authorization)
    if match is None:
        raise StsError(
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            HTTPStatus.FORBIDDEN,
        )
    access_key_id, _date, region, service, signed_headers, signature = match.groups()

    with state.lock:
        credentials = state.issued.get(access_key_id)
    if credentials is None:
        raise StsError("InvalidClientTokenId", INVALID_TOKEN_ID_MESSAGE, HTTPStatus.FORBIDDEN)
    token = request.headers.get("x-amz-security-token", "")
    if not hmac.compare_digest(token, credentials.session_token):
        raise StsError("InvalidClientTokenId", INVALID_TOKEN_ID_MESSAGE, HTTPStatus.FORBIDDEN)
    if state.now() >= credentials.expiration:
        raise StsError(
            "ExpiredToken",
            "The security token included in the request is expired",
            HTTPStatus.FORBIDDEN,
        )

    expected = _sigv4_signature(request, credentials, region, service, signed_headers.split(";"))
    if not hmac.compare_digest(expected, signature):
        raise StsError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
            HTTPStatus.FORBIDDEN,
        )
    return credentials


def _sigv4_signature(
    request: _SignedRequest,
    credentials: IssuedCredentials,
    region: str,
    service: str,
    signed_headers: list[str],
) -> str:
    """Recompute the SigV4 signature with botocore's signer over the headers the client signed."""
    headers = {name: request.headers.get(name, "") for name in signed_headers}
    aws_request = AWSRequest(
        method=request.method, url=request.url, headers=headers, data=request.body
    )
    aws_request.context["timestamp"] = request.headers.get("x-amz-date", "")
    signer = SigV4Auth(
        Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        service,
        region,
    )
    canonical_request = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical_request)
    return str(signer.signature(string_to_sign, aws_request))
