"""Read the SAML Response that an IdP posts to AWS.

Parsing uses defusedxml, so a document with a DTD, entity declarations or
external references is rejected before any of it is expanded. The
signature is not checked here: STS checks it, and a forged assertion gains
nothing beyond what STS grants.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree

from shibaws.errors import AssertionInvalid, AuthenticationFailed
from shibaws.partitions import SignInEndpoint, parse_signin_url

logger = logging.getLogger(__name__)

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"samlp": SAMLP, "saml": SAML}

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

# Role and provider ARNs in the aws, aws-us-gov and aws-cn partitions. Role
# names may carry a path (role/team/ops/Admin); the path is kept in the ARN.
_NAME = r"[\w+=,.@-]+"
ROLE_ARN_PATTERN = re.compile(
    rf"^arn:(?P<partition>aws|aws-us-gov|aws-cn):iam::(?P<account>\d{{12}}):"
    rf"role/(?:{_NAME}/)*(?P<name>{_NAME})$"
)
PRINCIPAL_ARN_PATTERN = re.compile(
    rf"^arn:(?P<partition>aws|aws-us-gov|aws-cn):iam::(?P<account>\d{{12}}):saml-provider/{_NAME}$"
)
# Decoded responses larger than this are not SAML Responses a real IdP sends.
MAX_RESPONSE_BYTES = 1_000_000


@dataclass(frozen=True)
class Role:
    """One IAM role that the assertion allows, with the SAML provider that vouches for it."""

    role_arn: str
    principal_arn: str

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def role_name(self) -> str:
        """The role's name without its path, as in the assumed-role ARN."""
        return self.role_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SamlAssertion:
    """The parts of a SAML Response that shibaws uses; ``encoded`` is sent to STS as is."""

    encoded: str = field(repr=False)
    roles: tuple[Role, ...]
    session_name: str | None
    session_duration: int | None
    not_on_or_after: datetime | None
    destination: str | None
    encrypted: bool

    @property
    def signin_endpoint(self) -> SignInEndpoint | None:
        return parse_signin_url(self.destination) if self.destination else None


def parse_saml_response(encoded: str) -> SamlAssertion:
    """Decode and read a base64 SAMLResponse form value."""
    root = _parse_xml(_decode(encoded))
    if root.tag != f"{{{SAMLP}}}Response":
        raise AssertionInvalid(
            f"the captured form value is a {_local_name(root.tag)} element, not a SAML Response"
        )
    _check_status(root)

    destination = root.get("Destination")
    assertion = root.find("saml:Assertion", NS)
    if assertion is None:
        encrypted = root.find("saml:EncryptedAssertion", NS) is not None
        if not encrypted:
            raise AssertionInvalid("the SAML Response contains no assertion")
        return SamlAssertion(encoded, (), None, None, None, destination, encrypted=True)

    attributes = _read_attributes(assertion)
    return SamlAssertion(
        encoded=encoded,
        roles=parse_role_values(attributes.get(ROLE_ATTRIBUTE, [])),
        session_name=_first(attributes.get(SESSION_NAME_ATTRIBUTE)),
        session_duration=_session_duration(attributes.get(SESSION_DURATION_ATTRIBUTE)),
        not_on_or_after=_not_on_or_after(assertion),
        destination=destination,
        encrypted=False,
    )


def parse_role_values(values: list[str]) -> tuple[Role, ...]:
    """Read Role attribute values: "role ARN,provider ARN" in either order, spaces trimmed."""
    roles: list[Role] = []
    for value in values:
        role = parse_role_value(value)
        if role is None:
            logger.warning("ignoring a Role attribute value that is not a role and a provider ARN")
            logger.debug("ignored Role value: %r", value)
            continue
        if role not in roles:
            roles.append(role)
    return tuple(roles)


def parse_role_value(value: str) -> Role | None:
    """Return the Role in one attribute value, or None when it is malformed."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2:
        return None
    role_arn = next((part for part in parts if ROLE_ARN_PATTERN.match(part)), None)
    principal_arn = next((part for part in parts if PRINCIPAL_ARN_PATTERN.match(part)), None)
    if role_arn is None or principal_arn is None:
        return None
    return Role(role_arn=role_arn, principal_arn=principal_arn)


def _decode(encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded.strip(), validate=False)
    except (binascii.Error, ValueError) as error:
        raise AssertionInvalid(f"the SAMLResponse value is not valid base64 ({error})") from None
    if not data:
        raise AssertionInvalid("the SAMLResponse value is empty")
    if len(data) > MAX_RESPONSE_BYTES:
        raise AssertionInvalid(f"the SAML Response is larger than {MAX_RESPONSE_BYTES} bytes")
    return data


def _parse_xml(data: bytes) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as error:
        raise AssertionInvalid(
            f"the SAML Response was rejected because it contains {type(error).__name__} "
            "(a DTD, entity declaration or external reference, which a genuine IdP never "
            "sends); ask your IdP administrators to check the IdP"
        ) from None
    except Exception as error:  # ParseError and the expat errors defusedxml lets through
        raise AssertionInvalid(f"the SAML Response is not well-formed XML ({error})") from None
    return root


def _check_status(root: Element) -> None:
    code = root.find("samlp:Status/samlp:StatusCode", NS)
    value = code.get("Value") if code is not None else None
    if value == STATUS_SUCCESS:
        return
    message = root.findtext("samlp:Status/samlp:StatusMessage", default="", namespaces=NS)
    detail = f": {message.strip()}" if message.strip() else ""
    raise AuthenticationFailed(f"the IdP returned SAML status {value}{detail}")


def _read_attributes(assertion: Element) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        name = attribute.get("Name", "")
        values = [
            (element.text or "").strip()
            for element in attribute.iterfind("saml:AttributeValue", NS)
        ]
        attributes.setdefault(name, []).extend(values)
    return attributes


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _session_duration(values: list[str] | None) -> int | None:
    value = _first(values)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        logger.warning("ignoring SessionDuration %r: not a whole number of seconds", value)
        return None


def _not_on_or_after(assertion: Element) -> datetime | None:
    conditions = assertion.find("saml:Conditions", NS)
    value = conditions.get("NotOnOrAfter") if conditions is not None else None
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("ignoring NotOnOrAfter %r: not an ISO 8601 time", value)
        return None


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
