"""Reading SAML Responses: roles, attributes, partitions and hostile XML."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest

from servers.saml_builder import SigningKey, build_response, encode_response
from shibaws.errors import AssertionInvalid, AuthenticationFailed
from shibaws.saml import Role, parse_role_value, parse_saml_response

HOSTILE = Path(__file__).parent / "data" / "hostile"
PROVIDER = "arn:aws:iam::111122223333:saml-provider/Shibboleth"
ADMIN = "arn:aws:iam::111122223333:role/Admin"


def _encoded(key: SigningKey, **kwargs: object) -> str:
    defaults: dict[str, object] = {
        "destination": "https://signin.aws.amazon.com/saml",
        "role_values": [f"{PROVIDER},{ADMIN}"],
    }
    defaults.update(kwargs)
    return encode_response(build_response(key=key, **defaults))  # type: ignore[arg-type]


def test_role_value_provider_first() -> None:
    assert parse_role_value(f"{PROVIDER},{ADMIN}") == Role(ADMIN, PROVIDER)


def test_role_value_role_first() -> None:
    assert parse_role_value(f"{ADMIN},{PROVIDER}") == Role(ADMIN, PROVIDER)


def test_role_value_spaces_trimmed() -> None:
    assert parse_role_value(f"  {ADMIN} ,  {PROVIDER}  ") == Role(ADMIN, PROVIDER)


def test_role_value_with_path() -> None:
    arn = "arn:aws:iam::111122223333:role/team/ops/Operator"
    role = parse_role_value(f"{PROVIDER},{arn}")
    assert role is not None
    assert role.role_arn == arn
    assert role.role_name == "Operator"


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_role_value_each_partition(partition: str) -> None:
    role = f"arn:{partition}:iam::111122223333:role/Admin"
    provider = f"arn:{partition}:iam::111122223333:saml-provider/Shib"
    parsed = parse_role_value(f"{role},{provider}")
    assert parsed is not None
    assert parsed.partition == partition


@pytest.mark.parametrize(
    "value",
    [
        ADMIN,
        f"{ADMIN},{ADMIN}",
        f"{PROVIDER},{PROVIDER}",
        f"{PROVIDER},{ADMIN},{ADMIN}",
        "arn:aws:iam::1111:role/Admin,arn:aws:iam::1111:saml-provider/S",
        "arn:other:iam::111122223333:role/Admin," + PROVIDER,
        "",
    ],
)
def test_role_value_malformed(value: str) -> None:
    assert parse_role_value(value) is None


def test_response_attributes(saml_signing_key: SigningKey) -> None:
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=5)
    assertion = parse_saml_response(
        _encoded(
            saml_signing_key,
            session_name="alice@example.edu",
            session_duration=7200,
            not_on_or_after=later,
        )
    )
    assert assertion.roles == (Role(ADMIN, PROVIDER),)
    assert assertion.session_name == "alice@example.edu"
    assert assertion.session_duration == 7200
    assert assertion.not_on_or_after == later
    assert assertion.destination == "https://signin.aws.amazon.com/saml"
    assert assertion.encrypted is False


def test_response_several_roles_deduplicated(saml_signing_key: SigningKey) -> None:
    other = "arn:aws:iam::444455556666:role/ReadOnly"
    provider2 = "arn:aws:iam::444455556666:saml-provider/Shibboleth"
    assertion = parse_saml_response(
        _encoded(
            saml_signing_key,
            role_values=[f"{PROVIDER},{ADMIN}", f"{other},{provider2}", f"{ADMIN},{PROVIDER}"],
        )
    )
    assert [role.role_arn for role in assertion.roles] == [ADMIN, other]


def test_response_govcloud_destination(saml_signing_key: SigningKey) -> None:
    assertion = parse_saml_response(
        _encoded(saml_signing_key, destination="https://signin.amazonaws-us-gov.com/saml")
    )
    endpoint = assertion.signin_endpoint
    assert endpoint is not None
    assert endpoint.partition.name == "aws-us-gov"
    assert endpoint.partition.default_sts_region == "us-gov-west-1"


def test_response_encrypted_assertion(saml_signing_key: SigningKey) -> None:
    assertion = parse_saml_response(_encoded(saml_signing_key, encrypted=True))
    assert assertion.encrypted is True
    assert assertion.roles == ()


def test_response_without_session_attributes(saml_signing_key: SigningKey) -> None:
    assertion = parse_saml_response(
        _encoded(saml_signing_key, session_name=None, session_duration=None)
    )
    assert assertion.session_name is None
    assert assertion.session_duration is None


def test_response_encoded_value_hidden_from_repr(saml_signing_key: SigningKey) -> None:
    encoded = _encoded(saml_signing_key)
    assert encoded not in repr(parse_saml_response(encoded))


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.xml")), ids=lambda path: path.stem)
def test_hostile_xml_rejected(path: Path) -> None:
    encoded = base64.b64encode(path.read_bytes()).decode()
    with pytest.raises(AssertionInvalid, match="DTD, entity declaration or external reference"):
        parse_saml_response(encoded)


def test_not_base64_rejected() -> None:
    with pytest.raises(AssertionInvalid, match="base64"):
        parse_saml_response("not base64 at all!")


def test_not_xml_rejected() -> None:
    with pytest.raises(AssertionInvalid, match="not well-formed XML"):
        parse_saml_response(base64.b64encode(b"<html><body>").decode())


def test_other_root_element_rejected() -> None:
    with pytest.raises(AssertionInvalid, match="not a SAML Response"):
        parse_saml_response(base64.b64encode(b"<html/>").decode())


def test_failed_status_reported() -> None:
    xml = (
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
        b'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"/>'
        b"<samlp:StatusMessage>No access</samlp:StatusMessage></samlp:Status></samlp:Response>"
    )
    with pytest.raises(AuthenticationFailed, match="status:Requester: No access"):
        parse_saml_response(base64.b64encode(xml).decode())
