"""Run ``shibaws login`` from parsed options, and log in on behalf of the credential commands.

The steps: fill unset options from the profile's stored settings, skip the
browser when the profile's credentials are still valid for longer than the
margin, log in, then store the options used so the next login needs none.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from shibaws import awsfiles, lifecycle
from shibaws.accounts import parse_account_names
from shibaws.errors import LoginRequired, UsageError
from shibaws.exitcodes import ExitCode
from shibaws.settings import (
    ACCOUNT_NAMES_KEY,
    Resolved,
    Validator,
    apply_settings,
    config_section_values,
    settings_to_store,
    stored_settings,
    write_settings,
)

logger = logging.getLogger(__name__)

BuildSettings = Callable[[argparse.Namespace], Any]


def run_login_command(
    args: argparse.Namespace, build: BuildSettings, validators: Mapping[str, Validator]
) -> int:
    """Run the login that ARGS describe; BUILD turns the completed ARGS into LoginSettings."""
    from shibaws.login import run_login

    awsfiles.check_profile_name(args.profile)
    resolved = apply_settings(args, args.profile, validators)
    account_names = stored_account_names(args.profile)

    stored = _credentials_to_keep(args)
    if stored is not None:
        _print(_still_valid_message(stored))
        return ExitCode.OK

    settings = dataclasses.replace(
        build(args),
        all_roles=args.all_roles,
        account_names=account_names,
        account_names_from_signin=bool(args.account_names_from_signin),
        signin_page_url=args.signin_page_url,
    )
    outcome = run_login(settings)
    for written in outcome.written:
        write_settings(written.profile, _settings_for_profile(resolved, args))
    return ExitCode.LOGIN_PARTIAL if outcome.failed else ExitCode.OK


def stored_account_names(profile: str) -> dict[str, str]:
    """Return the ``shibaws_account_names`` map of PROFILE (or of ``[default]``)."""
    found = stored_settings(profile).get(ACCOUNT_NAMES_KEY)
    if found is None:
        return {}
    text, source = found
    try:
        return parse_account_names(text)
    except ValueError as error:
        raise UsageError(
            f"invalid {ACCOUNT_NAMES_KEY} in {source}: {error}; write one 123456789012 = NAME "
            "pair per line or separate pairs with commas"
        ) from None


def _settings_for_profile(resolved: list[Resolved], args: argparse.Namespace) -> dict[str, Any]:
    """Keep what the user typed or set in the environment this time; stored values stay."""
    typed = [
        item
        for item in resolved
        if item.source.startswith(("command line", "environment variable"))
    ]
    values = settings_to_store(typed)
    if args.principal_arn:
        values["shibaws_principal_arn"] = args.principal_arn
    return values


def _credentials_to_keep(args: argparse.Namespace) -> lifecycle.StoredCredentials | None:
    """Return the profile's credentials when they make a login unnecessary, else None."""
    if args.force or args.all_roles or "{" in args.profile:
        return None
    stored = lifecycle.load_credentials(args.profile)
    if stored is None or not stored.valid_for(args.margin):
        return None
    section = awsfiles.config_section(args.profile)
    stored_role = config_section_values(awsfiles.config_path(), section).get("shibaws_role_arn")
    requested = [arn.lower() for arn in args.roles or []]
    if requested and requested != [(stored_role or "").lower()]:
        logger.info("profile %s holds another role; logging in", args.profile)
        return None
    return stored


def _still_valid_message(stored: lifecycle.StoredCredentials) -> str:
    assert stored.expiration is not None
    minutes = int((stored.seconds_left() or 0) // 60)
    local = stored.expiration.astimezone()
    return (
        f"Profile [{stored.profile}] is valid until {local:%Y-%m-%d %H:%M %Z} ({minutes} min "
        "left); not logging in. Use --force to log in anyway."
    )


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fresh_credentials(
    profile: str, margin: float, *, allow_login: bool = True
) -> lifecycle.StoredCredentials:
    """Return PROFILE's credentials, logging in first when they expire within MARGIN seconds.

    A login needs a terminal for the password prompt and Duo messages; without one,
    LoginRequired is raised with the command that fixes it.
    """
    stored = lifecycle.load_credentials(profile)
    if stored is not None and (stored.expiration is None or stored.valid_for(margin)):
        return stored

    state = "are missing" if stored is None else "have expired or expire soon"
    if not allow_login:
        raise LoginRequired(
            f"the credentials of profile {profile} {state}; run shibaws login --profile {profile}"
        )
    with _terminal() as terminal:
        if terminal is None:
            raise LoginRequired(
                f"the credentials of profile {profile} {state} and there is no terminal to "
                f"log in from; run shibaws login --profile {profile} in a terminal first"
            )
        login_for_profile(profile, terminal)

    stored = lifecycle.load_credentials(profile)
    if stored is None:
        raise LoginRequired(f"the login wrote no credentials for profile {profile}")
    return stored


def login_for_profile(profile: str, terminal: IO[str]) -> None:
    """Log in as ``shibaws login --profile PROFILE --force`` would, talking on TERMINAL.

    Standard output is pointed at the terminal meanwhile, so nothing the login prints can
    reach a caller that reads our standard output (credential_process, ``eval $(...)``).
    """
    from shibaws.cli import build_parser

    args = build_parser().parse_args(["login", "--profile", profile, "--force"])
    with _stdout_to(terminal), contextlib.redirect_stderr(terminal):
        code = int(args.handler(args))
    if code not in (ExitCode.OK, ExitCode.LOGIN_PARTIAL):
        raise LoginRequired(f"the login for profile {profile} failed (exit code {code})")


@contextlib.contextmanager
def _terminal() -> Iterator[IO[str] | None]:
    """Open the controlling terminal; yield None when there is none."""
    try:
        handle = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        yield None
        return
    try:
        yield handle
    finally:
        handle.close()


@contextlib.contextmanager
def _stdout_to(stream: IO[str]) -> Iterator[None]:
    """Point file descriptor 1 at STREAM, so child processes (Firefox) obey it too."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(stream.fileno(), 1)
        with contextlib.redirect_stdout(stream):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
