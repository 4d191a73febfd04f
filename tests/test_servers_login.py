"""Tests of the login test servers themselves: SAML builder, strict STS, moto STS, SimpleSAMLphp.

These use boto3, the AWS CLI and plain HTTP directly, never the product, so a failure here
points at the test infrastructure rather than at shibaws.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from lxml import etree
from signxml.exceptions import InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from servers.saml_builder import (
    ROLE_ATTRIBUTE,
    SAML_NS,
    SigningKey,
    build_response,
    encode_response,
    make_signing_key,
)
from servers.simplesamlphp import IdpStartError, SimpleSamlIdp, _wait_for_port, php_literal
from servers.strict_sts import DURATION_TOO_LONG_MESSAGE, StrictSts

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/ops/Admin"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/Shib"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ReadOnly"
DESTINATION = "http://127.0.0.1:9/saml"
NS = {"saml": SAML_NS}


# Helpers


def sts_client(
    endpoint_url: str,
    aws_access_key_id: str = "unused",
    aws_secret_access_key: str = "unused",
    aws_session_token: str | None = None,
) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
    )


def assertion_for(
    key: SigningKey, role_values: Sequence[str] = (f"{PROVIDER},{ROLE}",), **options: Any
) -> str:
    return encode_response(
        build_response(destination=DESTINATION, role_values=role_values, key=key, **options)
    )


def assume(sts: StrictSts, assertion: str, role: str = ROLE, **options: Any) -> dict[str, Any]:
    response: dict[str, Any] = sts_client(sts.endpoint_url).assume_role_with_saml(
        RoleArn=role, PrincipalArn=PROVIDER, SAMLAssertion=assertion, **options
    )
    return response


def error_of(sts: StrictSts, assertion: str, role: str = ROLE, **options: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        assume(sts, assertion, role, **options)
    error = caught.value.response["Error"]
    return {"Code": error.get("Code", ""), "Message": error.get("Message", "")}


def verify_assertion(xml: bytes, cert_pem: bytes) -> etree._Element:
    """Return the signed Assertion of a Response after checking its signature."""
    root = etree.fromstring(xml)
    assertion = root.find("saml:Assertion", NS)
    assert assertion is not None
    result = XMLVerifier().verify(
        etree.tostring(assertion),
        x509_cert=cert_pem.decode(),
        expect_config=SignatureConfiguration(location="./"),
    )
    signed: etree._Element = result.signed_xml  # type: ignore[union-attr]
    return signed


def attribute_values(assertion: etree._Element, name: str) -> list[str]:
    path = f"saml:AttributeStatement/saml:Attribute[@Name='{name}']/saml:AttributeValue"
    return [value.text or "" for value in assertion.findall(path, NS)]


class FormParser(HTMLParser):
    """Collect the action and the named inputs of the forms on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}))
        elif tag == "input" and self.forms and "name" in attributes:
            self.forms[-1][1][attributes["name"]] = attributes.get("value", "")


def http_login(idp: SimpleSamlIdp, username: str, password: str) -> tuple[str, dict[str, str], str]:
    """Log in through the IdP-initiated flow over plain HTTP.

    Returns the action and fields of the page's last form, and the page text.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(idp.start_url, timeout=15) as page:
        login_url = page.geturl()
        parser = FormParser()
        parser.feed(page.read().decode())
    _action, fields = parser.forms[0]
    fields.update(username=username, password=password)
    post_url = urllib.parse.urljoin(login_url, "?")
    data = urllib.parse.urlencode(fields).encode()
    with opener.open(post_url, data=data, timeout=15) as result:
        text = result.read().decode()
    parser = FormParser()
    parser.feed(text)
    action, result_fields = parser.forms[-1] if parser.forms else ("", {})
    return action, result_fields, text


# SAML builder


def test_build_response_signature_verifies(saml_signing_key: SigningKey) -> None:
    xml = build_response(destination=DESTINATION, role_values=["a,b"], key=saml_signing_key)
    assertion = verify_assertion(xml, saml_signing_key.cert_pem)
    assert (
        assertion.findtext("saml:Issuer", namespaces=NS) == "https://idp.example.edu/idp/shibboleth"
    )


def test_build_response_rejects_other_cert(saml_signing_key: SigningKey) -> None:
    xml = build_response(destination=DESTINATION, role_values=["a,b"], key=saml_signing_key)
    with pytest.raises(InvalidSignature):
        verify_assertion(xml, make_signing_key("other").cert_pem)


def test_build_response_shape(saml_signing_key: SigningKey) -> None:
    values = [f"{PROVIDER},{ROLE}", f"{OTHER_ROLE},{PROVIDER}"]
    xml = build_response(
        destination=DESTINATION,
        role_values=values,
        key=saml_signing_key,
        extra_attributes={"urn:oid:0.9.2342.19200300.100.1.1": ["alice"]},
    )
    root = etree.fromstring(xml)
    assertion = verify_assertion(xml, saml_signing_key.cert_pem)
    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS
    )
    name_id = assertion.find("saml:Subject/saml:NameID", NS)

    assert root.get("Destination") == DESTINATION
    assert confirmation is not None
    assert confirmation.get("Recipient") == DESTINATION
    assert name_id is not None
    assert name_id.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    assert assertion.findtext(
        "saml:Conditions/saml:AudienceRestriction/saml:Audience", namespaces=NS
    ) == ("urn:amazon:webservices")
    assert attribute_values(assertion, ROLE_ATTRIBUTE) == values
    assert attribute_values(
        assertion, "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
    ) == ["alice@example.edu"]
    assert attribute_values(
        assertion, "https://aws.amazon.com/SAML/Attributes/SessionDuration"
    ) == ["43200"]
    assert attribute_values(assertion, "urn:oid:0.9.2342.19200300.100.1.1") == ["alice"]
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        assert attribute.get("NameFormat") == "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"


def test_build_response_omits_optional_attributes(saml_signing_key: SigningKey) -> None:
    xml = build_response(
        destination=DESTINATION,
        role_values=["a,b"],
        key=saml_signing_key,
        session_name=None,
        session_duration=None,
    )
    assertion = verify_assertion(xml, saml_signing_key.cert_pem)
    names = [a.get("Name") for a in assertion.findall("saml:AttributeStatement/saml:Attribute", NS)]
    assert names == [ROLE_ATTRIBUTE]


def test_build_response_encrypted_hides_assertion(saml_signing_key: SigningKey) -> None:
    xml = build_response(
        destination=DESTINATION, role_values=["a,b"], key=saml_signing_key, encrypted=True
    )
    root = etree.fromstring(xml)
    assert root.find("saml:Assertion", NS) is None
    assert root.find("saml:EncryptedAssertion", NS) is not None
    assert b"arn:" not in xml


def test_encode_response_round_trips() -> None:
    assert base64.b64decode(encode_response(b"<x/>")) == b"<x/>"


# Strict STS: accepted assertions


@pytest.mark.parametrize(
    "role_value",
    [f"{PROVIDER},{ROLE}", f"{ROLE},{PROVIDER}", f"  {ROLE} ,  {PROVIDER} "],
    ids=["provider-first", "role-first", "spaces"],
)
def test_strict_sts_accepts_good_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey, role_value: str
) -> None:
    strict_sts.set_role(ROLE)
    before = dt.datetime.now(dt.UTC)
    response = assume(strict_sts, assertion_for(saml_signing_key, [role_value, "x,y"]))
    credentials = response["Credentials"]
    expected_expiry = before + dt.timedelta(seconds=3600)

    assert credentials["AccessKeyId"].startswith("ASIA")
    assert len(credentials["SecretAccessKey"]) == 40
    assert credentials["SessionToken"]
    assert abs((credentials["Expiration"] - expected_expiry).total_seconds()) < 10
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice@example.edu"
    )
    assert response["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice@example.edu")
    assert response["Issuer"] == "https://idp.example.edu/idp/shibboleth"
    assert response["Audience"] == DESTINATION
    assert response["SubjectType"] == "transient"
    assert response["Subject"]
    assert response["NameQualifier"]


def test_strict_sts_honors_duration_within_max(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE, max_session_duration=43200)
    before = dt.datetime.now(dt.UTC)
    response = assume(strict_sts, assertion_for(saml_signing_key), DurationSeconds=43200)
    expiry = response["Credentials"]["Expiration"]
    assert abs((expiry - before - dt.timedelta(seconds=43200)).total_seconds()) < 10


def test_strict_sts_records_calls(strict_sts: StrictSts, saml_signing_key: SigningKey) -> None:
    strict_sts.set_role(ROLE)
    assume(strict_sts, assertion_for(saml_signing_key), DurationSeconds=900)
    error_of(strict_sts, assertion_for(saml_signing_key), DurationSeconds=7200)
    calls = strict_sts.calls

    assert [call.action for call in calls] == ["AssumeRoleWithSAML", "AssumeRoleWithSAML"]
    assert calls[0].params["RoleArn"] == ROLE
    assert calls[0].params["PrincipalArn"] == PROVIDER
    assert calls[0].params["DurationSeconds"] == "900"
    assert calls[0].status == 200
    assert calls[1].error_code == "ValidationError"


def test_strict_sts_reuses_assertion_for_two_roles(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    strict_sts.set_role(OTHER_ROLE)
    assertion = assertion_for(saml_signing_key, [f"{PROVIDER},{ROLE}", f"{OTHER_ROLE},{PROVIDER}"])
    first = assume(strict_sts, assertion, ROLE)
    second = assume(strict_sts, assertion, OTHER_ROLE)
    assert first["AssumedRoleUser"]["Arn"].endswith("assumed-role/Admin/alice@example.edu")
    assert second["AssumedRoleUser"]["Arn"].endswith("assumed-role/ReadOnly/alice@example.edu")


# Strict STS: rejected assertions


def test_strict_sts_rejects_untrusted_signature(strict_sts: StrictSts) -> None:
    strict_sts.set_role(ROLE)
    error = error_of(strict_sts, assertion_for(make_signing_key("intruder")))
    assert error["Code"] == "InvalidIdentityToken"
    assert error["Message"] == "Response signature invalid"


def test_strict_sts_rejects_tampered_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(OTHER_ROLE)
    xml = build_response(
        destination=DESTINATION, role_values=[f"{PROVIDER},{ROLE}"], key=saml_signing_key
    )
    tampered = xml.replace(b"role/team/ops/Admin", b"role/ReadOnly")
    error = error_of(strict_sts, encode_response(tampered), OTHER_ROLE)
    assert error["Code"] == "InvalidIdentityToken"


def test_strict_sts_rejects_unsigned_assertion(strict_sts: StrictSts) -> None:
    strict_sts.set_role(ROLE)
    xml = build_response(
        destination=DESTINATION, role_values=[f"{PROVIDER},{ROLE}"], key=make_signing_key()
    )
    root = etree.fromstring(xml)
    for signature in list(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature")):
        parent = signature.getparent()
        assert parent is not None
        parent.remove(signature)
    error = error_of(strict_sts, encode_response(etree.tostring(root)))
    assert error["Code"] == "InvalidIdentityToken"


def test_strict_sts_rejects_expired_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    now = dt.datetime.now(dt.UTC)
    assertion = assertion_for(
        saml_signing_key,
        not_before=now - dt.timedelta(minutes=20),
        not_on_or_after=now - dt.timedelta(minutes=10),
    )
    error = error_of(strict_sts, assertion)
    assert error["Code"] == "ExpiredToken"


def test_strict_sts_rejects_future_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    now = dt.datetime.now(dt.UTC)
    assertion = assertion_for(
        saml_signing_key,
        not_before=now + dt.timedelta(minutes=10),
        not_on_or_after=now + dt.timedelta(minutes=15),
    )
    assert error_of(strict_sts, assertion)["Code"] == "InvalidIdentityToken"


def test_strict_sts_rejects_wrong_audience(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    assertion = assertion_for(saml_signing_key, audience="https://example.invalid/sp")
    assert error_of(strict_sts, assertion)["Code"] == "InvalidIdentityToken"


def test_strict_sts_rejects_issuer_mismatch(saml_signing_key: SigningKey) -> None:
    with StrictSts() as sts:
        sts.trust_cert(saml_signing_key.cert_pem, issuer="https://idp.other.invalid/idp")
        sts.set_role(ROLE)
        assert error_of(sts, assertion_for(saml_signing_key))["Code"] == "InvalidIdentityToken"


def test_strict_sts_rejects_pair_not_in_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(OTHER_ROLE)
    error = error_of(strict_sts, assertion_for(saml_signing_key), OTHER_ROLE)
    assert error["Code"] == "AccessDenied"


def test_strict_sts_rejects_unconfigured_role(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    error = error_of(strict_sts, assertion_for(saml_signing_key))
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == "Not authorized to perform sts:AssumeRoleWithSAML"


def test_strict_sts_rejects_duration_over_max(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    error = error_of(strict_sts, assertion_for(saml_signing_key), DurationSeconds=43200)
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    assert error["Message"] == DURATION_TOO_LONG_MESSAGE


def test_strict_sts_rejects_missing_session_name(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    error = error_of(strict_sts, assertion_for(saml_signing_key, session_name=None))
    assert error["Code"] == "InvalidIdentityToken"


@pytest.mark.parametrize("name", ["a", "alice smith", "x" * 65, "alice/ops"])
def test_strict_sts_rejects_invalid_session_name(
    strict_sts: StrictSts, saml_signing_key: SigningKey, name: str
) -> None:
    strict_sts.set_role(ROLE)
    error = error_of(strict_sts, assertion_for(saml_signing_key, session_name=name))
    assert error["Code"] == "InvalidIdentityToken"
    assert "RoleSessionName" in error["Message"]


def test_strict_sts_rejects_encrypted_assertion(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    error = error_of(strict_sts, assertion_for(saml_signing_key, encrypted=True))
    assert error["Code"] == "InvalidIdentityToken"


@pytest.mark.parametrize(
    "assertion",
    ["not base64 at all!", base64.b64encode(b"<not-closed").decode(), encode_response(b"<a/>")],
    ids=["bad-base64", "bad-xml", "not-a-response"],
)
def test_strict_sts_rejects_garbage_assertion(strict_sts: StrictSts, assertion: str) -> None:
    strict_sts.set_role(ROLE)
    assert error_of(strict_sts, assertion)["Code"] == "InvalidIdentityToken"


def test_strict_sts_forced_failure(strict_sts: StrictSts, saml_signing_key: SigningKey) -> None:
    strict_sts.set_role(ROLE)
    strict_sts.fail_role(ROLE, "IDPRejectedClaim", "Claim rejected by test")
    error = error_of(strict_sts, assertion_for(saml_signing_key))
    assert error["Code"] == "IDPRejectedClaim"
    assert error["Message"] == "Claim rejected by test"


def test_strict_sts_reset_forgets_roles(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    strict_sts.set_role(ROLE)
    strict_sts.reset()
    strict_sts.trust_cert(saml_signing_key.cert_pem)
    assert error_of(strict_sts, assertion_for(saml_signing_key))["Code"] == "AccessDenied"
    assert len(strict_sts.calls) == 1


@pytest.mark.parametrize("duration", [0, 899, 43201, 99999])
def test_strict_sts_set_role_rejects_bad_max(strict_sts: StrictSts, duration: int) -> None:
    with pytest.raises(ValueError, match="max_session_duration"):
        strict_sts.set_role(ROLE, max_session_duration=duration)


def test_strict_sts_set_role_rejects_bad_arn(strict_sts: StrictSts) -> None:
    with pytest.raises(ValueError, match="invalid role ARN"):
        strict_sts.set_role("arn:aws:iam::1:user/alice")


def test_strict_sts_endpoint_needs_start() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = StrictSts().endpoint_url


# Strict STS: GetCallerIdentity


def issued_credentials(sts: StrictSts, key: SigningKey) -> dict[str, str]:
    sts.set_role(ROLE)
    credentials: dict[str, str] = assume(sts, assertion_for(key))["Credentials"]
    return credentials


def test_strict_sts_get_caller_identity(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    credentials = issued_credentials(strict_sts, saml_signing_key)
    client = sts_client(
        strict_sts.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    identity = client.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice@example.edu"


def test_strict_sts_caller_identity_unknown_key(strict_sts: StrictSts) -> None:
    client = sts_client(
        strict_sts.endpoint_url,
        aws_access_key_id="ASIAUNKNOWNUNKNOWN00",
        aws_secret_access_key="secret",
        aws_session_token="token",
    )
    with pytest.raises(ClientError) as caught:
        client.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_strict_sts_caller_identity_wrong_secret(
    strict_sts: StrictSts, saml_signing_key: SigningKey
) -> None:
    credentials = issued_credentials(strict_sts, saml_signing_key)
    client = sts_client(
        strict_sts.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key="not-the-secret",
        aws_session_token=credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as caught:
        client.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_aws_cli_get_caller_identity(
    strict_sts: StrictSts, saml_signing_key: SigningKey, aws_home: Path
) -> None:
    credentials = issued_credentials(strict_sts, saml_signing_key)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_STS": strict_sts.endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = Path(sys.executable).parent / "aws"
    result = subprocess.run(
        [str(aws), "sts", "get-caller-identity", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice@example.edu"


# moto STS


def test_moto_sts_accepts_single_role(moto_sts: str, saml_signing_key: SigningKey) -> None:
    client = sts_client(moto_sts)
    response = client.assume_role_with_saml(
        RoleArn=ROLE,
        PrincipalArn=PROVIDER,
        SAMLAssertion=assertion_for(saml_signing_key, [f"{PROVIDER},{ROLE}"]),
    )
    assert response["Credentials"]["AccessKeyId"]
    assert response["AssumedRoleUser"]["Arn"].endswith("/alice@example.edu")


# SimpleSAMLphp


def saml_response_of(fields: dict[str, str]) -> bytes:
    return base64.b64decode(fields["SAMLResponse"])


def test_simplesaml_alice_login(simplesaml_idp: SimpleSamlIdp) -> None:
    user = simplesaml_idp.users["alice"]
    action, fields, _text = http_login(simplesaml_idp, "alice", user.password)
    xml = saml_response_of(fields)
    assertion = verify_assertion(xml, simplesaml_idp.cert_pem)

    assert action == simplesaml_idp.sign_in_url
    assert etree.fromstring(xml).get("Destination") == simplesaml_idp.sign_in_url
    assert attribute_values(assertion, ROLE_ATTRIBUTE) == user.role_values
    assert len(user.role_arns) == 1
    assert user.role_arns[0] in user.role_values[0]
    assert user.principal_arns[0] in user.role_values[0]
    assert attribute_values(
        assertion, "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
    ) == ["alice@example.edu"]


def test_simplesaml_bob_has_three_roles(simplesaml_idp: SimpleSamlIdp) -> None:
    user = simplesaml_idp.users["bob"]
    _action, fields, _text = http_login(simplesaml_idp, "bob", user.password)
    assertion = verify_assertion(saml_response_of(fields), simplesaml_idp.cert_pem)
    values = attribute_values(assertion, ROLE_ATTRIBUTE)

    assert values == user.role_values
    assert len(values) == 3
    assert any(":role/team/ops/" in value for value in values)
    assert len({arn.split(":")[4] for arn in user.role_arns}) == 2


def test_simplesaml_wrong_password(simplesaml_idp: SimpleSamlIdp) -> None:
    _action, fields, text = http_login(simplesaml_idp, "alice", "wrong-pass")
    assert "SAMLResponse" not in fields
    assert "Incorrect username or password" in text


def test_simplesaml_assertion_accepted_by_strict_sts(
    simplesaml_idp: SimpleSamlIdp, strict_sts: StrictSts
) -> None:
    user = simplesaml_idp.users["bob"]
    strict_sts.trust_cert(simplesaml_idp.cert_pem, issuer=simplesaml_idp.entity_id)
    for role_arn in user.role_arns:
        strict_sts.set_role(role_arn)
    _action, fields, _text = http_login(simplesaml_idp, "bob", user.password)
    client = sts_client(strict_sts.endpoint_url)

    for role_arn, principal_arn in zip(user.role_arns, user.principal_arns, strict=True):
        response = client.assume_role_with_saml(
            RoleArn=role_arn, PrincipalArn=principal_arn, SAMLAssertion=fields["SAMLResponse"]
        )
        role_name = role_arn.rsplit("/", 1)[-1]
        assert response["AssumedRoleUser"]["Arn"].endswith(f"/{role_name}/bob@example.edu")


def test_simplesaml_sign_in_page_returns_200(simplesaml_idp: SimpleSamlIdp) -> None:
    before = len(simplesaml_idp.sign_in_page.posts)
    data = urllib.parse.urlencode({"SAMLResponse": "eA=="}).encode()
    with urllib.request.urlopen(simplesaml_idp.sign_in_url, data=data, timeout=10) as page:
        assert page.status == 200
    assert len(simplesaml_idp.sign_in_page.posts) == before + 1
    assert simplesaml_idp.sign_in_page.posts[-1]["SAMLResponse"] == "eA=="


def test_simplesaml_urls_are_loopback(simplesaml_idp: SimpleSamlIdp) -> None:
    for url in (simplesaml_idp.start_url, simplesaml_idp.sign_in_url, simplesaml_idp.base_url):
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1"
    assert simplesaml_idp.start_url.endswith(
        "/simplesaml/saml2/idp/SSOService.php?spentityid=urn:amazon:webservices"
    )


def test_php_literal_escapes_quotes() -> None:
    assert php_literal("it's \\ here") == "'it\\'s \\\\ here'"
    assert php_literal({0: "a", "k": [True, None, 3]}) == "[0 => 'a', 'k' => [true, null, 3]]"


def test_php_literal_rejects_float() -> None:
    with pytest.raises(TypeError, match="float"):
        php_literal(1.5)


def test_simplesaml_wait_reports_early_exit() -> None:
    process = subprocess.Popen(["php", "-r", "exit(3);"])
    process.wait(timeout=30)
    with pytest.raises(IdpStartError, match="exited with status 3"):
        _wait_for_port(1, process)
