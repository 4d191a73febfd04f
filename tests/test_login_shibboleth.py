"""``shibaws login`` in real Firefox against the Shibboleth and Duo stand-ins and strict STS."""

from __future__ import annotations

import configparser
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from login_helpers import RunningLogin, login_env, run_shibaws, shibboleth_args
from servers.proxy import RecordingProxy
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts, StsCall
from shibaws.exitcodes import ExitCode

pytestmark = pytest.mark.browser

ACCOUNT = "111122223333"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/Shibboleth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"
OPS = f"arn:aws:iam::{ACCOUNT}:role/team/ops/Operator"
OTHER_ACCOUNT = "444455556666"
READER = f"arn:aws:iam::{OTHER_ACCOUNT}:role/Reader"
READER_PROVIDER = f"arn:aws:iam::{OTHER_ACCOUNT}:saml-provider/Shibboleth"


@pytest.fixture
def world(shib_duo: ShibDuo, strict_sts: StrictSts) -> tuple[ShibDuo, StrictSts]:
    strict_sts.trust_cert(shib_duo.cert_pem)
    for role in (ADMIN, OPS, READER):
        strict_sts.set_role(role, max_session_duration=43200)
    shib_duo.add_user("alice", "alice-pass", [f"{PROVIDER},{ADMIN}"])
    shib_duo.add_user(
        "bob",
        "bob-pass",
        [f"{PROVIDER}, {ADMIN}", f"{OPS},{PROVIDER}", f"{READER_PROVIDER},{READER}"],
        session_name="bob@example.edu",
    )
    shib_duo.set_push_behaviour("approve")
    return shib_duo, strict_sts


def _args(shib: ShibDuo, username: str, *extra: str) -> list[str]:
    return shibboleth_args(shib.start_url, shib.sign_in_url, username, *extra)


def _assume_calls(sts: StrictSts) -> list[StsCall]:
    return [call for call in sts.calls if call.action == "AssumeRoleWithSAML"]


def _credentials(aws_home: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(aws_home / "credentials")
    return parser


def test_push_approved_writes_profile(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == 0, result.stderr
    profile = _credentials(aws_home)["saml"]
    issued = list(sts.issued_credentials())
    assert profile["aws_access_key_id"] == issued[-1].access_key_id
    assert profile["aws_session_token"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", profile["shibaws_expiration"])
    assert "Wrote profile [saml]" in result.stderr
    assert result.stdout == ""


def test_post_never_reaches_sign_in(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    shib.set_remove_form_after_submit(True)
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == 0, result.stderr
    assert shib.posts_received_at_sign_in == []


def test_secrets_absent_from_output(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(
        [*_args(shib, "alice"), "-vv"], login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == 0, result.stderr
    issued = list(sts.issued_credentials())[-1]
    output = result.stdout + result.stderr
    assert "alice-pass" not in output
    assert issued.secret_access_key not in output
    assert issued.session_token not in output
    assert "PHNhbWxwOlJlc3BvbnNl" not in output  # base64 of "<samlp:Response"


def test_wrong_password_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(_args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "wrong\n")
    assert result.returncode == ExitCode.AUTHENTICATION_FAILED
    assert "The password you entered was incorrect." in result.stderr
    assert not (aws_home / "credentials").exists()


def test_unknown_user_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(_args(shib, "mallory"), login_env(aws_home, sts.endpoint_url), "x\n")
    assert result.returncode == ExitCode.AUTHENTICATION_FAILED
    assert "cannot be identified" in result.stderr


def test_push_denied_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    shib.set_push_behaviour("deny")
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == ExitCode.MFA_DENIED, result.stderr
    assert "denied" in result.stderr
    assert not (aws_home / "credentials").exists()


def test_push_timeout_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    shib.set_push_timeout(3)
    shib.set_push_behaviour("timeout")
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == ExitCode.MFA_TIMED_OUT, result.stderr
    assert "not answered in time" in result.stderr


def test_verified_push_code_printed(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    shib.set_push_behaviour("verified")
    login = RunningLogin(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    line = login.wait_for_stderr("Duo Verified Push")
    assert line is not None
    code = shib.current_verified_code()
    assert code is not None
    assert code in line
    shib.phone_enter_code(code)
    returncode, _, stderr = login.finish()
    assert returncode == 0, stderr
    assert "saml" in _credentials(aws_home)


def test_trust_question_answered_no(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == 0, result.stderr
    assert shib.trust_choices == [False]


def test_role_chosen_with_option(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(
        _args(shib, "bob", "--role", OPS, "--profile", "ops"),
        login_env(aws_home, sts.endpoint_url),
        "bob-pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert _assume_calls(sts)[-1].params["RoleArn"] == OPS
    assert _assume_calls(sts)[-1].params["PrincipalArn"] == PROVIDER
    assert "ops" in _credentials(aws_home)


def test_several_roles_without_terminal(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(_args(shib, "bob"), login_env(aws_home, sts.endpoint_url), "bob-pass\n")
    assert result.returncode == ExitCode.NO_USABLE_ROLE
    for role in (ADMIN, OPS, READER):
        assert role in result.stderr


def test_several_roles_with_template(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    result = run_shibaws(
        _args(
            shib, "bob", "--role", ADMIN, "--role", READER, "--profile", "{account_id}-{role_name}"
        ),
        login_env(aws_home, sts.endpoint_url),
        "bob-pass\n",
    )
    assert result.returncode == 0, result.stderr
    credentials = _credentials(aws_home)
    assert f"{ACCOUNT}-Admin" in credentials
    assert f"{OTHER_ACCOUNT}-Reader" in credentials


def test_duration_above_role_max_retried(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    sts.set_role(ADMIN, max_session_duration=3600)
    result = run_shibaws(
        _args(shib, "alice", "--duration", "28800"),
        login_env(aws_home, sts.endpoint_url),
        "alice-pass\n",
    )
    assert result.returncode == 0, result.stderr
    durations = [call.params["DurationSeconds"] for call in _assume_calls(sts)]
    assert durations[0] == "28800"
    assert durations[-1] == "3600"
    assert "granted 3600 s instead of the 28800 s" in result.stderr


def test_sts_rejection_exit_code(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    sts.fail_role(ADMIN, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == ExitCode.STS_REJECTED
    assert "AccessDenied" in result.stderr
    assert "trust policy" in result.stderr


def test_govcloud_destination_uses_partition(
    world: tuple[ShibDuo, StrictSts], aws_home: Path
) -> None:
    shib, sts = world
    gov_role = "arn:aws-us-gov:iam::111122223333:role/Admin"
    gov_provider = "arn:aws-us-gov:iam::111122223333:saml-provider/Shibboleth"
    sts.set_role(gov_role, max_session_duration=3600)
    shib.add_user(
        "gov",
        "gov-pass",
        [f"{gov_role},{gov_provider}"],
        destination="https://signin.amazonaws-us-gov.com/saml",
        session_duration=3600,
    )
    result = run_shibaws(_args(shib, "gov"), login_env(aws_home, sts.endpoint_url), "gov-pass\n")
    assert result.returncode == 0, result.stderr
    config = configparser.ConfigParser()
    config.read(aws_home / "config")
    assert config["profile saml"]["region"] == "us-gov-west-1"
    assert _assume_calls(sts)[-1].params["RoleArn"] == gov_role


def test_encrypted_assertion_needs_role(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    shib.add_user("enc", "enc-pass", [f"{PROVIDER},{ADMIN}"], encrypted=True)
    result = run_shibaws(_args(shib, "enc"), login_env(aws_home, sts.endpoint_url), "enc-pass\n")
    assert result.returncode == ExitCode.NO_USABLE_ROLE
    assert "encrypted assertion" in result.stderr
    assert "--principal-arn" in result.stderr


def test_other_profiles_kept(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    aws_home.mkdir(mode=0o700)
    original = "# my keys\n[default]\naws_access_key_id = AKIAKEEP\n; note\n\n"
    (aws_home / "credentials").write_text(original)
    result = run_shibaws(
        _args(shib, "alice"), login_env(aws_home, sts.endpoint_url), "alice-pass\n"
    )
    assert result.returncode == 0, result.stderr
    assert (aws_home / "credentials").read_text().startswith(original)


def test_browser_and_sts_use_proxy(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, recording_proxy: RecordingProxy
) -> None:
    shib, sts = world
    env = login_env(aws_home, sts.endpoint_url)
    env["HTTP_PROXY"] = recording_proxy.url
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    result = run_shibaws(_args(shib, "alice"), env, "alice-pass\n")
    assert result.returncode == 0, result.stderr
    lines = recording_proxy.lines()
    assert any(line.startswith(f"GET {shib.idp_base}/idp/profile/") for line in lines)
    assert any(line.startswith(f"GET {shib.duo_base}/") for line in lines)
    assert f"POST {sts.endpoint_url}/" in lines


def test_no_proxy_keeps_browser_direct(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, recording_proxy: RecordingProxy
) -> None:
    shib, sts = world
    env = login_env(aws_home, sts.endpoint_url)
    env["HTTP_PROXY"] = recording_proxy.url
    env["NO_PROXY"] = "127.0.0.1,127.0.0.2,127.0.0.3"
    result = run_shibaws(_args(shib, "alice"), env, "alice-pass\n")
    assert result.returncode == 0, result.stderr
    assert recording_proxy.lines() == []


def test_sigterm_closes_firefox(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, tmp_path: Path
) -> None:
    shib, sts = world
    shib.set_push_timeout(120)
    shib.set_push_behaviour("timeout")
    env = login_env(aws_home, sts.endpoint_url)
    env["TMPDIR"] = str(tmp_path)  # the Firefox profile is created here
    login = RunningLogin(_args(shib, "alice"), env, "alice-pass\n")
    assert login.wait_for_stderr("Waiting for you to approve") is not None
    profiles = list(tmp_path.glob("shibaws-firefox-*"))
    assert len(profiles) == 1
    login.process.send_signal(signal.SIGTERM)
    returncode, _, stderr = login.finish()
    assert returncode == ExitCode.TERMINATED, stderr
    assert not profiles[0].exists()
    running = subprocess.run(["pgrep", "-f", str(profiles[0])], capture_output=True, timeout=30)
    assert running.stdout == b""


def test_sigterm_during_firefox_start(
    world: tuple[ShibDuo, StrictSts], aws_home: Path, tmp_path: Path
) -> None:
    shib, sts = world
    env = login_env(aws_home, sts.endpoint_url)
    env["TMPDIR"] = str(tmp_path)
    login = RunningLogin(_args(shib, "alice"), env, "alice-pass\n")
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("shibaws-firefox-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    profiles = list(tmp_path.glob("shibaws-firefox-*"))
    assert len(profiles) == 1
    time.sleep(0.5)  # inside Selenium's start of geckodriver and Firefox
    login.process.send_signal(signal.SIGTERM)
    returncode, _, stderr = login.finish()
    assert returncode == ExitCode.TERMINATED, stderr
    assert not profiles[0].exists()
    running = subprocess.run(["pgrep", "-f", str(profiles[0])], capture_output=True, timeout=30)
    assert running.stdout == b""


def test_parallel_logins_both_written(world: tuple[ShibDuo, StrictSts], aws_home: Path) -> None:
    shib, sts = world
    env = login_env(aws_home, sts.endpoint_url)
    first = RunningLogin([*_args(shib, "alice"), "--profile", "one"], env, "alice-pass\n")
    second = RunningLogin([*_args(shib, "alice"), "--profile", "two"], env, "alice-pass\n")
    assert first.finish()[0] == 0
    assert second.finish()[0] == 0
    credentials = _credentials(aws_home)
    assert "one" in credentials
    assert "two" in credentials
