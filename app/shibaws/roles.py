"""Choose the IAM roles to assume from those the assertion allows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shibaws.accounts import account_label
from shibaws.errors import Cancelled, NoUsableRole
from shibaws.saml import ROLE_ARN_PATTERN, Role, SamlAssertion

logger = logging.getLogger(__name__)

# A picker returns the roles chosen (one Role is read as a list of one), or None when cancelled.
Picker = Callable[[Sequence[Role]], "Role | Sequence[Role] | None"]
# Above this many roles the checkbox list filters as the user types.
FILTER_THRESHOLD = 8


def choose_roles(
    assertion: SamlAssertion,
    requested: Sequence[str],
    *,
    principal_arn: str | None,
    interactive: bool,
    picker: Picker | None = None,
    all_roles: bool = False,
    account_names: Mapping[str, str] | None = None,
) -> list[Role]:
    """Return the roles to assume.

    ``all_roles`` takes every role in the assertion. Roles named with ``--role``
    are taken without asking. Otherwise a single role is taken at once, and
    several are offered in a checkbox picker when a terminal is available.
    """
    if assertion.encrypted:
        return _roles_for_encrypted(requested, principal_arn, all_roles)
    available = assertion.roles
    if not available:
        raise NoUsableRole(
            "the SAML assertion lists no AWS roles; ask your IdP administrators to release "
            "the https://aws.amazon.com/SAML/Attributes/Role attribute for you"
        )
    if all_roles:
        return list(available)
    if requested:
        return _unique([_find(available, arn) for arn in requested])
    if len(available) == 1:
        logger.info("using the only role offered: %s", available[0].role_arn)
        return [available[0]]
    if not interactive:
        raise NoUsableRole(
            "several roles are available and there is no terminal to choose from; "
            f"pass --role with one or more of: {_listing(available)}, or --all-roles"
        )
    names = account_names or {}
    chosen = (picker or (lambda roles: pick_roles(roles, names)))(available)
    if chosen is None:
        raise Cancelled("no role chosen")
    result = [chosen] if isinstance(chosen, Role) else list(chosen)
    if not result:
        raise Cancelled("no role chosen")
    return result


def pick_roles(roles: Sequence[Role], account_names: Mapping[str, str]) -> list[Role] | None:
    """Ask for one or more roles in a questionary checkbox list grouped by account.

    Returns None when cancelled. With more than FILTER_THRESHOLD roles, typing filters.
    """
    import questionary

    choices: list[Any] = []
    for account_id, group in _by_account(roles, account_names):
        label = account_label(account_id, account_names)
        choices.append(questionary.Separator(f"-- {label}"))
        for role in group:
            choices.append(questionary.Choice(title=role_label(role, account_names), value=role))
    use_filter = len(roles) > FILTER_THRESHOLD
    answer: list[Role] | None = questionary.checkbox(
        "Choose the AWS roles to assume (space selects, enter confirms):",
        choices=choices,
        validate=lambda picked: bool(picked) or "choose at least one role",
        use_search_filter=use_filter,
        use_jk_keys=not use_filter,
    ).ask()
    return answer


def role_label(role: Role, account_names: Mapping[str, str]) -> str:
    """Return "name (id) / role path", as the picker and the summary show a role."""
    return f"{account_label(role.account_id, account_names)} / {_role_path(role)}"


def _by_account(
    roles: Sequence[Role], account_names: Mapping[str, str]
) -> list[tuple[str, list[Role]]]:
    """Group ROLES by account, named accounts first by name, then the others by id."""
    groups: dict[str, list[Role]] = {}
    for role in sorted(roles, key=lambda role: role.role_arn):
        groups.setdefault(role.account_id, []).append(role)

    def order(account_id: str) -> tuple[int, str]:
        name = account_names.get(account_id)
        return (0, name.lower()) if name else (1, account_id)

    return [(account_id, groups[account_id]) for account_id in sorted(groups, key=order)]


def _unique(roles: list[Role]) -> list[Role]:
    return list(dict.fromkeys(roles))


def _roles_for_encrypted(
    requested: Sequence[str], principal_arn: str | None, all_roles: bool
) -> list[Role]:
    if all_roles:
        raise NoUsableRole(
            "the IdP sent an encrypted assertion, so shibaws cannot list its roles for "
            "--all-roles; name each one with --role ROLE_ARN and give --principal-arn"
        )
    if not requested or principal_arn is None:
        raise NoUsableRole(
            "the IdP sent an encrypted assertion, so shibaws cannot read which roles it "
            "allows; pass --role ROLE_ARN and --principal-arn PROVIDER_ARN (the IAM SAML "
            "provider's ARN) to name them"
        )
    return _unique([Role(role_arn=arn, principal_arn=principal_arn) for arn in requested])


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
