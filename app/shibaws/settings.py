"""Per-profile login settings kept as ``shibaws_*`` keys in ~/.aws/config.

A login reads the settings of ``[profile NAME]`` first and those of
``[default]`` second, so ``shibaws login --profile research-admin`` needs no
other option once a login has stored them. Precedence, highest first: the
command line, a SHIBAWS_* environment variable, the profile's settings, the
``[default]`` settings, built-in defaults. With ``-v`` each value's source is
logged. botocore ignores keys it does not know, so these keys do not disturb
the AWS CLI or the SDKs.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shibaws import awsfiles
from shibaws.errors import UsageError

logger = logging.getLogger(__name__)

PREFIX = "shibaws_"
ACCOUNT_NAMES_KEY = "shibaws_account_names"


@dataclass(frozen=True)
class Setting:
    """One login option that can be stored: its argparse dest, config key and value type."""

    dest: str
    key: str
    kind: str  # "text", "list", "int", "bool" or "path"
    env: str | None = None
    default: object = None
    # False for keys that only the profile's own section may set, never [default].
    shared: bool = True


SETTINGS: tuple[Setting, ...] = (
    Setting("idp_url", "shibaws_idp_url", "text", env="SHIBAWS_IDP_URL"),
    Setting("username", "shibaws_username", "text", env="SHIBAWS_USERNAME"),
    Setting("roles", "shibaws_role_arn", "list", shared=False),
    Setting("principal_arn", "shibaws_principal_arn", "text", shared=False),
    Setting("duration", "shibaws_duration", "int"),
    # The profile's standard region key, which a login writes too. Read from the profile's
    # own section only: a [default] region may belong to another partition.
    Setting("region", "region", "text", shared=False),
    Setting("browser_mode", "shibaws_browser_mode", "text", default="headless"),
    Setting("sign_in_urls", "shibaws_sign_in_url", "list"),
    Setting("password_file", "shibaws_password_file", "path", env="SHIBAWS_PASSWORD_FILE"),
    Setting("trust_browser", "shibaws_trust_browser", "bool"),
    Setting("duo_method", "shibaws_duo_method", "text", env="SHIBAWS_DUO_METHOD"),
    Setting("duo_device", "shibaws_duo_device", "text"),
    Setting("browser_profile", "shibaws_browser_profile", "path", env="SHIBAWS_BROWSER_PROFILE"),
    Setting("account_names_from_signin", "shibaws_account_names_from_signin", "bool"),
    Setting("signin_page_url", "shibaws_signin_page_url", "text"),
)

# Check a value read from the file as argparse would check it on the command line.
Validator = Callable[[str], object]


@dataclass(frozen=True)
class Resolved:
    """The value a login uses for one setting, and where it came from."""

    setting: Setting
    value: object
    source: str

    @property
    def from_default(self) -> bool:
        return self.source == "default"


def config_section_values(path: Path, section: str) -> dict[str, str]:
    """Return the keys of SECTION in the INI file at PATH ({} when either is missing)."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        raise UsageError(f"cannot parse {path}: {error}; fix the file and try again") from None
    if not parser.has_section(section):
        return {}
    return dict(parser.items(section))


def stored_settings(profile: str) -> dict[str, tuple[str, str]]:
    """Return ``key -> (value, source)`` for PROFILE: its own section over ``[default]``."""
    path = awsfiles.config_path()
    own_section = awsfiles.config_section(profile)
    found: dict[str, tuple[str, str]] = {}
    shared_keys = {setting.key for setting in SETTINGS if setting.shared}
    shared_keys.add(ACCOUNT_NAMES_KEY)

    if own_section != "default":
        for key, value in config_section_values(path, "default").items():
            if key in shared_keys and value.strip():
                found[key] = (value, f"{path} [default]")
    for key, value in config_section_values(path, own_section).items():
        if (key.startswith(PREFIX) or key == "region") and value.strip():
            found[key] = (value, f"{path} [{own_section}]")
    return found


DEFERRED_DEFAULTS = "shibaws_deferred_defaults"


def defer_defaults(parser: argparse.ArgumentParser) -> None:
    """Move the parser's defaults for stored settings out of the way.

    The options then parse to None unless given, so ``apply_settings`` can tell a value
    typed on the command line from a default, and put stored settings between the two.
    """
    deferred = {}
    for setting in SETTINGS:
        default = parser.get_default(setting.dest)
        if default is not None:
            deferred[setting.dest] = default
    parser.set_defaults(**dict.fromkeys(deferred), **{DEFERRED_DEFAULTS: deferred})


def apply_settings(
    args: argparse.Namespace,
    profile: str,
    validators: Mapping[str, Validator],
    environ: Mapping[str, str] | None = None,
) -> list[Resolved]:
    """Fill unset options in ARGS from PROFILE's stored settings, then from defaults.

    Options the parser does not define are skipped. VALIDATORS maps a dest to the
    argparse type function that checks it. Returns every value with its source.
    """
    env = os.environ if environ is None else environ
    stored = stored_settings(profile)
    deferred: Mapping[str, object] = getattr(args, DEFERRED_DEFAULTS, {})
    resolved = []
    for setting in SETTINGS:
        if not hasattr(args, setting.dest):
            continue
        layers = _Layers(stored, deferred.get(setting.dest), validators.get(setting.dest), env)
        value, source = _resolve(args, setting, layers)
        setattr(args, setting.dest, value)
        resolved.append(Resolved(setting, value, source))
    _drop_principal_without_role(args, resolved)
    for item in resolved:
        logger.info("%s = %s (from %s)", item.setting.dest, _display(item.value), item.source)
    return resolved


@dataclass(frozen=True)
class _Layers:
    stored: Mapping[str, tuple[str, str]]
    parser_default: object
    validator: Validator | None
    env: Mapping[str, str]


def _resolve(args: argparse.Namespace, setting: Setting, layers: _Layers) -> tuple[object, str]:
    current = getattr(args, setting.dest)
    if _is_given(current):
        return current, "command line"
    default = layers.parser_default
    if setting.dest == "roles" and getattr(args, "all_roles", False):
        return default, "command line (--all-roles)"

    # The parser's default for an option with a SHIBAWS_* variable is that variable's value.
    env_value = layers.env.get(setting.env) if setting.env else None
    if env_value and default is not None and str(default) == env_value:
        return default, f"environment variable {setting.env}"

    if setting.key in layers.stored:
        text, source = layers.stored[setting.key]
        return _parse(setting, text, source, layers.validator), source
    if default is not None:
        return default, "default"
    return setting.default if setting.default is not None else current, "default"


def _is_given(value: object) -> bool:
    return value not in (None, False, [], (), "")


def _drop_principal_without_role(args: argparse.Namespace, resolved: list[Resolved]) -> None:
    """Forget a stored principal ARN when no role goes with it, as --principal-arn needs --role.

    A principal ARN given on the command line is kept, so the login reports the mistake.
    """
    if not getattr(args, "principal_arn", None) or getattr(args, "roles", None):
        return
    for index, item in enumerate(resolved):
        if item.setting.dest == "principal_arn" and item.source != "command line":
            args.principal_arn = None
            resolved[index] = Resolved(item.setting, None, "default")


def _parse(setting: Setting, text: str, source: str, validator: Validator | None) -> object:
    text = text.strip()
    try:
        if setting.kind == "list":
            return [_check(item, validator) for item in _split_list(text)]
        if setting.kind == "bool":
            return _parse_bool(text)
        if setting.kind == "path":
            return Path(text).expanduser()
        return _check(text, validator)
    except (argparse.ArgumentTypeError, ValueError) as error:
        raise UsageError(
            f"invalid {setting.key} = {text!r} in {source}: {error}; correct it with "
            "shibaws configure, or override it on the command line"
        ) from None


def _check(text: str, validator: Validator | None) -> Any:
    return validator(text) if validator else text


def _split_list(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError("expected true or false")


def _display(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value) or "(none)"
    return "(none)" if value is None else str(value)


def settings_to_store(resolved: list[Resolved]) -> dict[str, str | None]:
    """Return the ``shibaws_*`` keys to write after a login: every value not from a default.

    The role and region are written per profile by the login itself.
    """
    values: dict[str, str | None] = {}
    for item in resolved:
        key = item.setting.key
        if item.from_default or not key.startswith(PREFIX) or not item.setting.shared:
            continue
        values[key] = format_value(item.value)
    return values


def format_value(value: object) -> str | None:
    """Return VALUE as it is written in ~/.aws/config, or None for an empty value."""
    if value is None or value == [] or value == ():
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    return str(value)


def write_settings(profile: str, values: Mapping[str, str | None]) -> None:
    """Write VALUES into PROFILE's section of ~/.aws/config; None removes a key."""
    for key in values:
        if not (key.startswith(PREFIX) or key in ("region", "credential_process")):
            raise UsageError(f"cannot write {key}: shibaws writes only its own keys")
    awsfiles.update_section(awsfiles.config_path(), awsfiles.config_section(profile), values)
