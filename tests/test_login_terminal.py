"""The role picker in a real terminal (tmux): checking roles, and cancelling with Ctrl-C."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from login_helpers import login_env, shibboleth_args
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts
from shibaws.exitcodes import ExitCode

pytestmark = pytest.mark.browser

ACCOUNT = "111122223333"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/Shibboleth"
ROLES = [f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in ("Admin", "Operator", "Reader")]
# Seconds to wait for a screen to show a text.
SCREEN_TIMEOUT = 90


class Terminal:
    """A tmux session on a private socket, running one command."""

    def __init__(self, socket: Path) -> None:
        tmux = shutil.which("tmux")
        assert tmux is not None, "tmux is installed by tests/setup/system.sh"
        self._base = [tmux, "-S", str(socket)]

    def start(self, command: str) -> None:
        subprocess.run(
            [*self._base, "new-session", "-d", "-x", "160", "-y", "40", command],
            check=True,
            timeout=30,
        )

    def screen(self) -> str:
        result = subprocess.run(
            [*self._base, "capture-pane", "-p"], capture_output=True, text=True, timeout=30
        )
        return result.stdout

    def wait_for(self, text: str, timeout: float = SCREEN_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen():
                return True
            time.sleep(0.2)
        return False

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self._base, "send-keys", key], check=True, timeout=30)
            time.sleep(0.2)  # let the prompt redraw between keys, as a person would

    def stop(self) -> None:
        subprocess.run([*self._base, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    session = Terminal(tmp_path / "tmux.sock")
    yield session
    session.stop()


@pytest.fixture
def three_roles(shib_duo: ShibDuo, strict_sts: StrictSts) -> ShibDuo:
    strict_sts.trust_cert(shib_duo.cert_pem)
    for role in ROLES:
        strict_sts.set_role(role, max_session_duration=3600)
    shib_duo.add_user("bob", "bob-pass", [f"{PROVIDER},{role}" for role in ROLES])
    shib_duo.set_push_behaviour("approve")
    return shib_duo


def _command(shib: ShibDuo, env: dict[str, str], tmp_path: Path) -> tuple[str, Path]:
    password = tmp_path / "password"
    password.write_text("bob-pass\n")
    password.chmod(0o600)
    status = tmp_path / "status"
    args = shibboleth_args(shib.start_url, shib.sign_in_url, "bob", "--profile", "{role_name}")
    args = [arg for arg in args if arg != "--password-stdin"]
    args += ["--password-file", str(password)]
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    login = shlex.join([sys.executable, "-m", "shibaws", *args])
    return f"env -i {exports} {login}; echo $? > {shlex.quote(str(status))}", status


def _exit_code(status: Path) -> int | None:
    deadline = time.monotonic() + SCREEN_TIMEOUT
    while time.monotonic() < deadline:
        if status.exists() and status.read_text().strip():
            return int(status.read_text())
        time.sleep(0.2)
    return None


def _environment(aws_home: Path, sts: StrictSts) -> dict[str, str]:
    env = login_env(aws_home, sts.endpoint_url)
    keep = ("PATH", "HOME", "LANG", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")
    chosen = {name: env[name] for name in keep if name in env}
    chosen["AWS_ENDPOINT_URL_STS"] = sts.endpoint_url
    chosen["TERM"] = "xterm-256color"
    return chosen


def test_picker_checks_two_roles(
    three_roles: ShibDuo,
    strict_sts: StrictSts,
    aws_home: Path,
    tmp_path: Path,
    terminal: Terminal,
) -> None:
    command, status = _command(three_roles, _environment(aws_home, strict_sts), tmp_path)
    terminal.start(command)
    assert terminal.wait_for("Choose the AWS roles"), terminal.screen()
    terminal.keys("Space", "Down", "Down", "Space", "Enter")
    assert _exit_code(status) == 0, terminal.screen()
    credentials = configparser.ConfigParser()
    credentials.read(aws_home / "credentials")
    assert sorted(credentials.sections()) == ["Admin", "Reader"]


def test_picker_ctrl_c_cancels(
    three_roles: ShibDuo,
    strict_sts: StrictSts,
    aws_home: Path,
    tmp_path: Path,
    terminal: Terminal,
) -> None:
    command, status = _command(three_roles, _environment(aws_home, strict_sts), tmp_path)
    terminal.start(command)
    assert terminal.wait_for("Choose the AWS roles"), terminal.screen()
    terminal.keys("C-c")
    assert _exit_code(status) == ExitCode.CANCELLED, terminal.screen()
    assert not (aws_home / "credentials").exists()
