"""Run the real ``shibaws`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

SHIBAWS = [sys.executable, "-m", "shibaws"]
# Seconds any single login under test may take before the test gives up.
LOGIN_TEST_TIMEOUT = 120


def login_env(aws_home: Path, sts_endpoint: str | None) -> dict[str, str]:
    """Return an environment with HOME and the AWS files under AWS_HOME's parent."""
    env = dict(os.environ)
    env["HOME"] = str(aws_home.parent)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(aws_home / "credentials")
    env["AWS_CONFIG_FILE"] = str(aws_home / "config")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    if sts_endpoint is not None:
        env["AWS_ENDPOINT_URL_STS"] = sts_endpoint
    return env


def run_shibaws(
    args: Sequence[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``shibaws ARGS`` to completion with STDIN and return its outcome."""
    return subprocess.run(
        [*SHIBAWS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=LOGIN_TEST_TIMEOUT,
        # A new session has no controlling terminal, as under CI, so no prompt can hang.
        start_new_session=True,
    )


STARTED: list[RunningLogin] = []


class RunningLogin:
    """A ``shibaws login`` started in the background whose stderr the test can watch.

    Every instance is listed in ``STARTED`` so that a fixture can stop the ones a
    failed test left running, with SIGTERM first so that shibaws closes Firefox.
    """

    def __init__(
        self, args: Sequence[str], env: dict[str, str], stdin: str, keep_stdin_open: bool = False
    ) -> None:
        self.process = subprocess.Popen(
            [*SHIBAWS, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        STARTED.append(self)
        assert self.process.stdin is not None
        self.process.stdin.write(stdin)
        self.process.stdin.flush()
        if not keep_stdin_open:
            self.process.stdin.close()
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def send_line(self, text: str) -> None:
        """Write TEXT and a newline to the process's standard input, then close it."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{text}\n")
        self.process.stdin.close()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def wait_for_stderr(self, text: str, timeout: float = 60) -> str | None:
        """Return the first stderr line containing TEXT, waiting up to TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr_lines):
                if text in line:
                    return line
            if self.process.poll() is not None and not self._reader.is_alive():
                return None
            time.sleep(0.05)
        return None

    def finish(self, timeout: float = LOGIN_TEST_TIMEOUT) -> tuple[int, str, str]:
        """Wait for the process; return exit code, stdout and stderr."""
        try:
            returncode = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        return returncode, self.process.stdout.read(), "".join(self.stderr_lines)


def stop_leftover_logins() -> None:
    """Stop every login a test started and did not finish: SIGTERM, then SIGKILL."""
    while STARTED:
        login = STARTED.pop()
        if login.process.poll() is not None:
            continue
        login.process.terminate()
        try:
            login.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            login.process.kill()
            login.process.wait(timeout=10)


def shibboleth_args(start_url: str, sign_in_url: str, username: str, *extra: str) -> list[str]:
    """Return ``login`` arguments for the Shibboleth stand-in, password on stdin."""
    return [
        "login",
        "--idp-url",
        start_url,
        "--username",
        username,
        "--password-stdin",
        "--sign-in-url",
        sign_in_url,
        "--timeout",
        "60",
        *extra,
    ]
