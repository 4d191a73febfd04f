"""Choose the IAM roles to assume from those the assertion allows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from shibaws.errors import Cancelled, NoUsableRole
from shibaws.saml import ROLE_ARN_PATTERN, Role, SamlAssertion

logger = logging.getLogger(__name__)

Picker = Callable[[Sequence[Role]], Role | None]


def choose_roles(
    assertion: SamlAssertion,
    requested: Sequence[str],
    *,
    principal_arn: str | None,
    interactive: bool,
    picker: Picker | None = None,
) -> list[Role]:
    """Return the roles to assume.

    Roles named with ``--role`` are taken without asking; otherwise a single
    role is taken at once, and several are offered in a picker when a
    terminal is available.
    """
    if assertion.encrypted:
        return _roles_for_encrypted(requested, principal_arn)
    available = assertion.roles
    if not available:
        raise NoUsableRole(
            "the SAML assertion lists no AWS roles; ask your IdP administrators to release "
            "the https://aws.amazon.com/SAML/Attributes/Role attribute for you"
        )
    if requested:
        return [_find(available, arn) for arn in requested]
    if len(available) == 1:
        logger.info("using the only role offered: %s", available[0].role_arn)
        return [available[0]]
    if not interactive:
        raise NoUsableRole(
            "several roles are available and there is no terminal to choose one; "
            f"pass --role with one of: {_listing(available)}"
        )
    chosen = (picker or pick_role)(available)
    if chosen is None:
        raise Cancelled("no role chosen")
    return [chosen]


def pick_role(roles: Sequence[Role]) -> Role | None:
    """Ask the user to pick one role with a questionary list; None when cancelled."""
    import questionary

    choices = [
        questionary.Choice(title=f"{role.account_id} / {_role_path(role)}", value=role)
        for role in sorted(roles, key=lambda role: (role.account_id, role.role_arn))
    ]
    answer: Role | None = questionary.select(
        "Choose the AWS role to assume:", choices=choices, use_shortcuts=len(choices) <= 36
    ).ask()
    return answer


def _roles_for_encrypted(requested: Sequence[str], principal_arn: str | None) -> list[Role]:
    if not requested or principal_arn is None:
        raise NoUsableRole(
            "the IdP sent an encrypted assertion, so shibaws cannot read which roles it "
            "allows; pass --role ROLE_ARN and --principal-arn PROVIDER_ARN (the IAM SAML "
            "provider's ARN) to name them"
        )
    return [Role(role_arn=arn, principal_arn=principal_arn) for arn in requested]


def _find(available: Sequence[Role], arn: str) -> Role:
    for role in available:
        if role.role_arn == arn:
            return role
    for role in available:
        if role.role_arn.lower() == arn.lower():
            return role
    raise NoUsableRole(f"role {arn} is not in the SAML assertion; available: {_listing(available)}")


def _listing(roles: Sequence[Role]) -> str:
    return ", ".join(role.role_arn for role in roles)


def _role_path(role: Role) -> str:
    return role.role_arn.split(":role/", 1)[-1]


def check_role_arn(value: str) -> str:
    """Return VALUE, or raise ValueError when it is not an IAM role ARN."""
    if not ROLE_ARN_PATTERN.match(value.strip()):
        raise ValueError(
            f"invalid role ARN {value!r}: expected arn:aws:iam::123456789012:role/NAME"
        )
    return value.strip()
