"""Every Duo method and IdP page in real Firefox, against the Shibboleth and Duo stand-ins."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port
from login_helpers import RunningLogin, login_env, run_shibaws, shibboleth_args
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

pytestmark = pytest.mark.browser

PROVIDER = "arn:aws:iam::111122223333:saml-provider/Shibboleth"
ADMIN = "arn:aws:iam::111122223333:role/Admin"
PASSCODE = "246810"
APPROVAL_SECONDS = 3.0
# For tests that switch away from the push Duo sends on load: long enough that the switch
# (a few seconds on a loaded 2-core machine) always wins over the push's approval.
SLOW_APPROVAL_SECONDS = 10.0


@pytest.fixture
def shib(shib_duo: ShibDuo, strict_sts: StrictSts) -> ShibDuo:
    strict_sts.trust_cert(shib_duo.cert_pem)
    strict_sts.set_role(ADMIN, max_session_duration=43200)
    shib_duo.add_user("alice", "alice-pass", [f"{PROVIDER},{ADMIN}"])
    # A person takes a few seconds to approve, which leaves time to switch methods.
    shib_duo.set_push_behaviour("approve", after_seconds=APPROVAL_SECONDS)
    return shib_duo


@pytest.fixture
def env(aws_home: Path, strict_sts: StrictSts) -> dict[str, str]:
    return login_env(aws_home, strict_sts.endpoint_url)


def _args(shib: ShibDuo, *extra: str) -> list[str]:
    return shibboleth_args(shib.start_url, shib.sign_in_url, "alice", *extra)


def _login(shib: ShibDuo, env: dict[str, str], *extra: str, stdin: str = "alice-pass\n"):  # type: ignore[no-untyped-def]
    return run_shibaws(_args(shib, *extra), env, stdin)


def _profile_written(aws_home: Path) -> bool:
    credentials = configparser.ConfigParser()
    credentials.read(aws_home / "credentials")
    return "saml" in credentials


# --- Duo Universal Prompt methods ---


def test_passcode_method(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    shib.add_passcode(PASSCODE)
    result = _login(
        shib, env, "--duo-method", "passcode", "--passcode-stdin", stdin=f"alice-pass\n{PASSCODE}\n"
    )
    assert result.returncode == 0, result.stderr
    assert [attempt.passcode for attempt in shib.passcode_attempts] == [PASSCODE]
    assert PASSCODE not in result.stderr
    assert _profile_written(aws_home)


def test_wrong_passcode_denied(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    shib.add_passcode(PASSCODE)
    result = _login(
        shib, env, "--duo-method", "passcode", "--passcode-stdin", stdin="alice-pass\n999999\n"
    )
    assert result.returncode == ExitCode.MFA_DENIED, result.stderr
    assert "rejected the passcode" in result.stderr
    assert not _profile_written(aws_home)


def test_passcode_without_terminal(shib: ShibDuo, env: dict[str, str]) -> None:
    result = _login(shib, env, "--duo-method", "passcode")
    assert result.returncode == ExitCode.INTERACTION_REQUIRED, result.stderr
    assert "--passcode-stdin" in result.stderr


def test_sms_method(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    login = RunningLogin(
        _args(shib, "--duo-method", "sms", "--passcode-stdin"),
        env,
        "alice-pass\n",
        keep_stdin_open=True,
    )
    assert shib.wait_for_sms(1, timeout=60)
    login.send_line(shib.sms_passcodes()[-1])
    returncode, _, stderr = login.finish()
    assert returncode == 0, stderr
    assert "text message" in stderr
    assert _profile_written(aws_home)


def test_call_method(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    result = _login(shib, env, "--duo-method", "call")
    assert result.returncode == 0, result.stderr
    assert len(shib.calls_made) == 1
    assert "calling your phone" in result.stderr


def test_device_choice(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    shib.set_devices(["iPhone", "Pixel"])
    result = _login(shib, env, "--duo-device", "Pixel")
    assert result.returncode == 0, result.stderr
    assert shib.pushes_sent_to[-1].startswith("Pixel")


def test_unknown_device_reported(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_push_behaviour("approve", after_seconds=SLOW_APPROVAL_SECONDS)
    shib.set_devices(["iPhone", "Pixel"])
    result = _login(shib, env, "--duo-device", "Nokia")
    assert result.returncode == ExitCode.MFA_DENIED
    assert "'Nokia'" in result.stderr


def test_trust_browser_answers_yes(shib: ShibDuo, env: dict[str, str]) -> None:
    result = _login(shib, env, "--trust-browser")
    assert result.returncode == 0, result.stderr
    assert shib.trust_choices == [True]


def test_retry_after_denied_push(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_push_behaviour("deny")
    login = RunningLogin(_args(shib, "--retries", "1"), env, "alice-pass\n")
    assert shib.wait_for_push(1, timeout=60)
    shib.set_push_behaviour("approve")
    returncode, _, stderr = login.finish()
    assert returncode == 0, stderr
    assert shib.push_count == 2
    assert "trying again (1 of 1)" in stderr


def test_verified_push_retry_new_code(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_push_behaviour("verified")
    login = RunningLogin(_args(shib, "--retries", "1"), env, "alice-pass\n")
    first = login.wait_for_stderr("Duo Verified Push")
    assert first is not None
    shib.phone_enter_code("000000")  # a wrong code denies the push
    assert shib.wait_for_push(2, timeout=60)
    code = shib.current_verified_code()
    assert code is not None
    second = login.wait_for_stderr(f"enter the code {code}")
    assert second is not None
    assert second != first
    shib.phone_enter_code(code)
    returncode, _, stderr = login.finish()
    assert returncode == 0, stderr


def test_locked_out_exit_code(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_locked_out(True)
    result = _login(shib, env)
    assert result.returncode == ExitCode.MFA_LOCKED_OUT, result.stderr
    assert "locked" in result.stderr


# --- Duo traditional prompt ---


def test_traditional_push(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_duo_mode("traditional")
    result = _login(shib, env)
    assert result.returncode == 0, result.stderr
    assert shib.push_count == 1
    assert _profile_written(aws_home)


def test_traditional_call(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_duo_mode("traditional")
    result = _login(shib, env, "--duo-method", "call")
    assert result.returncode == 0, result.stderr
    assert len(shib.calls_made) == 1


def test_traditional_passcode(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_duo_mode("traditional")
    shib.add_passcode(PASSCODE)
    result = _login(
        shib, env, "--duo-method", "passcode", "--passcode-stdin", stdin=f"alice-pass\n{PASSCODE}\n"
    )
    assert result.returncode == 0, result.stderr
    assert [attempt.passcode for attempt in shib.passcode_attempts] == [PASSCODE]


def test_traditional_device_and_remember(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_duo_mode("traditional")
    shib.set_devices(["iPhone", "Pixel"])
    result = _login(shib, env, "--duo-device", "Pixel", "--trust-browser")
    assert result.returncode == 0, result.stderr
    assert shib.pushes_sent_to[-1].startswith("Pixel")
    assert shib.trust_choices == [True]


def test_traditional_denied(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_duo_mode("traditional")
    shib.set_push_behaviour("deny")
    result = _login(shib, env)
    assert result.returncode == ExitCode.MFA_DENIED, result.stderr


# --- IdP pages between the password and AWS ---


def test_consent_stops_without_flag(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_interstitials(consent=True)
    result = _login(shib, env)
    assert result.returncode == ExitCode.INTERACTION_REQUIRED, result.stderr
    assert "--accept-consent" in result.stderr
    assert "Role" in result.stderr
    assert shib.consent_given == []
    assert not _profile_written(aws_home)


def test_consent_accepted_with_flag(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_interstitials(consent=True)
    result = _login(shib, env, "--accept-consent")
    assert result.returncode == 0, result.stderr
    assert shib.consent_given == [True]
    assert _profile_written(aws_home)


def test_expiring_password_waited_for(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_interstitials(expiring_password=True)
    result = _login(shib, env)
    assert result.returncode == 0, result.stderr
    assert "The IdP says:" in result.stderr
    assert "expir" in result.stderr


def test_terms_of_use_stop(shib: ShibDuo, env: dict[str, str]) -> None:
    shib.set_interstitials(terms_of_use=True)
    result = _login(shib, env)
    assert result.returncode == ExitCode.INTERACTION_REQUIRED, result.stderr
    assert "terms of use" in result.stderr
    assert "Campus computing accounts" in result.stderr
    assert shib.tou_accepted == []


def test_stale_request_restarts_once(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_interstitials(stale_request_once=True)
    result = _login(shib, env)
    assert result.returncode == 0, result.stderr
    assert shib.stale_requests_shown == 1
    assert "starting over" in result.stderr
    assert _profile_written(aws_home)


def test_lost_session_restarts_once(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_interstitials(lost_session_once=True)
    result = _login(shib, env)
    assert result.returncode == 0, result.stderr
    assert shib.lost_sessions_shown == 1
    assert _profile_written(aws_home)


def test_client_storage_pages_pass(shib: ShibDuo, env: dict[str, str], aws_home: Path) -> None:
    shib.set_interstitials(client_storage=True)
    result = _login(shib, env)
    assert result.returncode == 0, result.stderr
    assert len(shib.storage_pages_submitted) == 2
    assert _profile_written(aws_home)


def test_unknown_page_reported_and_saved(
    shib: ShibDuo, env: dict[str, str], tmp_path: Path
) -> None:
    shib.set_interstitials(unknown_page=True)
    debug_dir = tmp_path / "debug"
    result = _login(shib, env, "--debug-dir", str(debug_dir))
    assert result.returncode == ExitCode.UNKNOWN_PAGE, result.stderr
    assert "does not recognise" in result.stderr
    assert "Duo prompt" in result.stderr
    assert "?" not in result.stderr.split(" at ", 1)[1].split()[0]
    saved = sorted(path.suffix for path in debug_dir.iterdir())
    assert saved == [".html", ".png"]
    for path in debug_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    html = next(debug_dir.glob("*.html")).read_text()
    assert "Security Questions" in html
    assert "alice-pass" not in html
    assert "csrf" not in html or 'value=""' in html


def test_closed_port_reported_fast(env: dict[str, str], aws_home: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/idp/profile/SAML2/Unsolicited/SSO"
    started = time.monotonic()
    result = run_shibaws(
        ["login", "--idp-url", closed, "--username", "alice", "--password-stdin"], env, "x\n"
    )
    assert result.returncode == ExitCode.PAGE_UNREACHABLE, result.stderr
    assert "connectionFailure" in result.stderr
    assert time.monotonic() - started < 60


# --- A person at a visible window, and a kept profile ---


@pytest.fixture
def virtual_display() -> Iterator[str]:
    """Run Xvfb on a free display for the test, as a desktop session would have."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        display = pipe.readline().strip()
    try:
        yield f":{display}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_visible_mode_person_accepts_terms(
    shib: ShibDuo, env: dict[str, str], virtual_display: str, aws_home: Path
) -> None:
    shib.set_interstitials(terms_of_use=True)
    env["DISPLAY"] = virtual_display
    login = RunningLogin(_args(shib, "--browser-mode", "visible"), env, "alice-pass\n")
    assert login.wait_for_stderr("Please finish this step in the Firefox window") is not None

    # The person: focus the window, tick the box, press Submit.
    xdotool = shutil.which("xdotool")
    assert xdotool is not None
    person_env = {**os.environ, "DISPLAY": virtual_display}
    subprocess.run(
        [
            xdotool,
            "search",
            "--sync",
            "--name",
            "Web Login Service",
            "windowfocus",
            "--sync",
            "key",
            "--delay",
            "100",
            "Tab",
            "space",
            "Tab",
            "Return",
        ],
        env=person_env,
        check=True,
        timeout=60,
    )
    returncode, _, stderr = login.finish()
    assert returncode == 0, stderr
    assert len(shib.tou_accepted) == 1
    assert _profile_written(aws_home)


def test_kept_profile_spares_password_and_push(
    shib: ShibDuo, env: dict[str, str], tmp_path: Path
) -> None:
    shib.set_sso(cookie_max_age=3600)
    profile = tmp_path / "firefox-profile"
    first = _login(shib, env, "--browser-profile", str(profile), "--trust-browser")
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700

    # --force: the first login's credentials are still valid, which would skip the browser.
    second = _login(shib, env, "--browser-profile", str(profile), "--trust-browser", "--force")
    assert second.returncode == 0, second.stderr
    assert shib.password_logins == 1
    assert shib.sso_logins == 1
    assert shib.push_count == 1
