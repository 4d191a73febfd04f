"""Build signed SAML 2.0 Responses shaped like the ones a Shibboleth IdP posts to AWS.

The Response has ``Destination``, a Success status and one ``saml:Assertion``, signed with
RSA-SHA256 (enveloped, exclusive c14n) as Shibboleth IdPs sign for the AWS relying party.
The assertion carries a transient NameID, a Bearer subject confirmation, Conditions with
the ``urn:amazon:webservices`` audience, an AuthnStatement and the three AWS attributes.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
ROLE_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
URI_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
TRANSIENT_NAME_ID = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
BEARER_METHOD = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS_STATUS = "urn:oasis:names:tc:SAML:2.0:status:Success"
PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

_NSMAP = {"saml2p": SAMLP_NS, "saml2": SAML_NS, "xs": XS_NS, "xsi": XSI_NS}


@dataclass(frozen=True)
class SigningKey:
    """A PEM private key and its self-signed certificate, as an IdP's signing credential."""

    key_pem: bytes
    cert_pem: bytes


def make_signing_key(common_name: str = "test-idp") -> SigningKey:
    """Create a self-signed RSA 2048 key pair valid from a day ago for ten years."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(key_pem=key_pem, cert_pem=cert.public_bytes(serialization.Encoding.PEM))


def format_instant(instant: dt.datetime) -> str:
    """Format a datetime as a SAML ``xs:dateTime`` in UTC with millisecond precision."""
    utc = instant.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _new_id() -> str:
    # Shibboleth IDs start with an underscore because xs:ID must not start with a digit.
    return "_" + uuid.uuid4().hex


def _sub(parent: etree._Element, ns: str, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", attributes)


def _add_attribute(statement: etree._Element, name: str, values: Sequence[str]) -> None:
    attribute = _sub(statement, SAML_NS, "Attribute", Name=name, NameFormat=URI_NAME_FORMAT)
    for value in values:
        element = _sub(attribute, SAML_NS, "AttributeValue")
        element.set(f"{{{XSI_NS}}}type", "xs:string")
        element.text = value


def _build_assertion(
    *,
    destination: str,
    role_values: Sequence[str],
    session_name: str | None,
    session_duration: int | None,
    issuer: str,
    audience: str,
    now: dt.datetime,
    not_before: dt.datetime,
    not_on_or_after: dt.datetime,
    extra_attributes: Mapping[str, Sequence[str]],
) -> etree._Element:
    assertion = etree.Element(
        f"{{{SAML_NS}}}Assertion",
        {"ID": _new_id(), "IssueInstant": format_instant(now), "Version": "2.0"},
        nsmap=_NSMAP,
    )
    _sub(assertion, SAML_NS, "Issuer").text = issuer
    # signxml replaces this placeholder, which keeps the Signature right after Issuer
    # as the SAML schema requires.
    etree.SubElement(assertion, f"{{{DS_NS}}}Signature", {"Id": "placeholder"}, nsmap={"ds": DS_NS})

    subject = _sub(assertion, SAML_NS, "Subject")
    name_id = _sub(
        subject,
        SAML_NS,
        "NameID",
        Format=TRANSIENT_NAME_ID,
        NameQualifier=issuer,
        SPNameQualifier=audience,
    )
    name_id.text = "AAdzZWNyZXQx" + uuid.uuid4().hex
    confirmation = _sub(subject, SAML_NS, "SubjectConfirmation", Method=BEARER_METHOD)
    _sub(
        confirmation,
        SAML_NS,
        "SubjectConfirmationData",
        Address="127.0.0.1",
        NotOnOrAfter=format_instant(not_on_or_after),
        Recipient=destination,
    )

    conditions = _sub(
        assertion,
        SAML_NS,
        "Conditions",
        NotBefore=format_instant(not_before),
        NotOnOrAfter=format_instant(not_on_or_after),
    )
    restriction = _sub(conditions, SAML_NS, "AudienceRestriction")
    _sub(restriction, SAML_NS, "Audience").text = audience

    authn = _sub(
        assertion,
        SAML_NS,
        "AuthnStatement",
        AuthnInstant=format_instant(now),
        SessionIndex=_new_id(),
    )
    context = _sub(authn, SAML_NS, "AuthnContext")
    _sub(context, SAML_NS, "AuthnContextClassRef").text = PASSWORD_PROTECTED_TRANSPORT

    statement = _sub(assertion, SAML_NS, "AttributeStatement")
    _add_attribute(statement, ROLE_ATTRIBUTE, role_values)
    if session_name is not None:
        _add_attribute(statement, ROLE_SESSION_NAME_ATTRIBUTE, [session_name])
    if session_duration is not None:
        _add_attribute(statement, SESSION_DURATION_ATTRIBUTE, [str(session_duration)])
    for name, values in extra_attributes.items():
        _add_attribute(statement, name, values)
    return assertion


def sign_assertion(response: etree._Element, assertion_id: str, key: SigningKey) -> etree._Element:
    """Return a signed copy of RESPONSE: enveloped RSA-SHA256 over the assertion ASSERTION_ID.

    The assertion must contain a ``ds:Signature Id="placeholder"`` element and already sit in
    RESPONSE. Signing it there means the signed element is never moved to a new parent
    afterwards, which would let lxml rename namespace prefixes and break the signature.
    """
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed: etree._Element = signer.sign(
        response,
        key=key.key_pem,
        cert=key.cert_pem.decode("ascii"),
        reference_uri="#" + assertion_id,
        id_attribute="ID",
    )
    return signed


def _build_encrypted_assertion(assertion: etree._Element) -> etree._Element:
    # The cipher text is random bytes: no test can decrypt it, just as a client can't
    # decrypt an assertion encrypted for AWS's own key.
    encrypted = etree.Element(
        f"{{{SAML_NS}}}EncryptedAssertion", nsmap={**_NSMAP, "xenc": XENC_NS, "ds": DS_NS}
    )
    data = _sub(encrypted, XENC_NS, "EncryptedData", Type=XENC_NS + "Element")
    _sub(data, XENC_NS, "EncryptionMethod", Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm")
    key_info = _sub(data, DS_NS, "KeyInfo")
    encrypted_key = _sub(key_info, XENC_NS, "EncryptedKey")
    _sub(encrypted_key, XENC_NS, "EncryptionMethod", Algorithm=XENC_NS + "rsa-oaep-mgf1p")
    key_cipher = _sub(_sub(encrypted_key, XENC_NS, "CipherData"), XENC_NS, "CipherValue")
    key_cipher.text = base64.b64encode(os.urandom(256)).decode("ascii")
    cipher = _sub(_sub(data, XENC_NS, "CipherData"), XENC_NS, "CipherValue")
    cipher.text = base64.b64encode(os.urandom(len(etree.tostring(assertion)))).decode("ascii")
    return encrypted


def build_response(
    *,
    destination: str,
    role_values: Sequence[str],
    session_name: str | None = "alice@example.edu",
    session_duration: int | None = 43200,
    issuer: str = "https://idp.example.edu/idp/shibboleth",
    audience: str = "urn:amazon:webservices",
    not_before: dt.datetime | None = None,
    not_on_or_after: dt.datetime | None = None,
    key: SigningKey,
    encrypted: bool = False,
    extra_attributes: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Build the XML of a whole ``samlp:Response`` whose assertion is signed with KEY.

    ROLE_VALUES are the raw Role attribute values, one per role, each a comma-separated
    pair of role ARN and provider ARN in whichever order the test wants. A None
    SESSION_NAME or SESSION_DURATION leaves that attribute out. NOT_BEFORE and
    NOT_ON_OR_AFTER default to one minute ago and five minutes from now.
    With ENCRYPTED the signed assertion is replaced by a ``saml:EncryptedAssertion``
    whose cipher text is opaque random data.
    """
    now = dt.datetime.now(dt.UTC)
    not_before = not_before or now - dt.timedelta(minutes=1)
    not_on_or_after = not_on_or_after or now + dt.timedelta(minutes=5)

    assertion = _build_assertion(
        destination=destination,
        role_values=role_values,
        session_name=session_name,
        session_duration=session_duration,
        issuer=issuer,
        audience=audience,
        now=now,
        not_before=not_before,
        not_on_or_after=not_on_or_after,
        extra_attributes=extra_attributes or {},
    )

    response = etree.Element(
        f"{{{SAMLP_NS}}}Response",
        {
            "Destination": destination,
            "ID": _new_id(),
            "IssueInstant": format_instant(now),
            "Version": "2.0",
        },
        nsmap=_NSMAP,
    )
    _sub(response, SAML_NS, "Issuer").text = issuer
    status = _sub(response, SAMLP_NS, "Status")
    _sub(status, SAMLP_NS, "StatusCode", Value=SUCCESS_STATUS)

    if encrypted:
        response.append(_build_encrypted_assertion(assertion))
    else:
        response.append(assertion)
        response = sign_assertion(response, assertion.get("ID", ""), key)

    xml: bytes = etree.tostring(response, xml_declaration=True, encoding="UTF-8")
    return xml


def encode_response(xml: bytes) -> str:
    """Encode XML as base64, the way the IdP posts it in the ``SAMLResponse`` form field."""
    return base64.b64encode(xml).decode("ascii")
