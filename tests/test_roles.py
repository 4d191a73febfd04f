"""Choosing roles from an assertion."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shibaws.errors import Cancelled, NoUsableRole
from shibaws.roles import check_role_arn, choose_roles
from shibaws.saml import Role, SamlAssertion

PROVIDER = "arn:aws:iam::111122223333:saml-provider/Shib"
ADMIN = Role("arn:aws:iam::111122223333:role/Admin", PROVIDER)
READER = Role("arn:aws:iam::111122223333:role/team/Reader", PROVIDER)


def _assertion(*roles: Role, encrypted: bool = False) -> SamlAssertion:
    return SamlAssertion("encoded", roles, "alice", 3600, None, None, encrypted)


def test_single_role_taken_without_asking() -> None:
    def picker(roles: Sequence[Role]) -> Role | None:
        raise AssertionError("the picker must not run")

    assert choose_roles(
        _assertion(ADMIN), [], principal_arn=None, interactive=True, picker=picker
    ) == [ADMIN]


def test_requested_role_selected() -> None:
    chosen = choose_roles(
        _assertion(ADMIN, READER), [READER.role_arn], principal_arn=None, interactive=False
    )
    assert chosen == [READER]


def test_requested_role_missing_lists_available() -> None:
    with pytest.raises(NoUsableRole) as caught:
        choose_roles(
            _assertion(ADMIN, READER),
            ["arn:aws:iam::111122223333:role/Nope"],
            principal_arn=None,
            interactive=False,
        )
    assert ADMIN.role_arn in str(caught.value)
    assert READER.role_arn in str(caught.value)


def test_several_roles_without_terminal_fail() -> None:
    with pytest.raises(NoUsableRole, match="pass --role"):
        choose_roles(_assertion(ADMIN, READER), [], principal_arn=None, interactive=False)


def test_picker_answer_used() -> None:
    chosen = choose_roles(
        _assertion(ADMIN, READER),
        [],
        principal_arn=None,
        interactive=True,
        picker=lambda roles: roles[1],
    )
    assert chosen == [READER]


def test_picker_cancel_raises() -> None:
    with pytest.raises(Cancelled):
        choose_roles(
            _assertion(ADMIN, READER),
            [],
            principal_arn=None,
            interactive=True,
            picker=lambda roles: None,
        )


def test_no_roles_in_assertion() -> None:
    with pytest.raises(NoUsableRole, match="lists no AWS roles"):
        choose_roles(_assertion(), [], principal_arn=None, interactive=True)


def test_encrypted_needs_role_and_principal() -> None:
    with pytest.raises(NoUsableRole, match="--principal-arn"):
        choose_roles(
            _assertion(encrypted=True), [ADMIN.role_arn], principal_arn=None, interactive=True
        )


def test_encrypted_with_role_and_principal() -> None:
    chosen = choose_roles(
        _assertion(encrypted=True), [ADMIN.role_arn], principal_arn=PROVIDER, interactive=False
    )
    assert chosen == [ADMIN]


@pytest.mark.parametrize(
    "value", ["Admin", "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::1:role/A"]
)
def test_bad_role_arn_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="invalid role ARN"):
        check_role_arn(value)
