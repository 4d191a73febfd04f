"""End-to-end tests of the container image and docker-compose.yml on a real Docker engine.

Everything goes through ``docker run`` and ``docker compose`` as users type them. Logins
run against the demo stand-ins (Shibboleth IdP, Duo Universal Prompt with an approving
phone, strict STS), which run in their own container on an internal Docker network. The
shibaws container joins that container's network namespace.
"""

from __future__ import annotations

import configparser
import json
import os
import stat
import time
import uuid
from pathlib import Path

import pytest

from servers.docker_fixtures import (
    DEMO_PASSWORD,
    DEMO_STS_URL,
    TEST_LABEL,
    DockerEngine,
    login_args,
)

pytestmark = pytest.mark.docker

LOGIN_TIMEOUT_SECONDS = 180.0
OTHER_PROFILE = "# kept by shibaws\n[other]\naws_access_key_id = AKIAOTHER\nregion = eu-west-1\n"
GECKODRIVER_SHA256 = "12994672529413925506cade8dee78d91683015146dac8dab017496f02d7bbb0"
FIREFOX_WAIT_SECONDS = 60.0


def make_aws_dir(parent: Path, uid: int, gid: int) -> Path:
    """Create a host ~/.aws owned by UID:GID, mode 0700, holding another profile."""
    aws_dir = parent / "aws"
    aws_dir.mkdir(mode=0o700)
    credentials = aws_dir / "credentials"
    credentials.write_text(OTHER_PROFILE)
    credentials.chmod(0o600)
    for path in (aws_dir, credentials):
        os.chown(path, uid, gid)
    return aws_dir


def run_login(
    engine: DockerEngine,
    image: str,
    standins: str,
    docker_options: list[str],
    profile: str = "saml",
    login_options: tuple[str, ...] = (),
) -> tuple[int, str, str]:
    """Run ``docker run -i ... IMAGE login`` with the password on stdin; return rc, out, err."""
    result = engine.docker(
        "run", "--rm", "-i", "--label", TEST_LABEL,
        "--network", f"container:{standins}",
        "-e", f"AWS_ENDPOINT_URL_STS={DEMO_STS_URL}",
        *docker_options,
        image, *login_args(profile, ["--password-stdin", *login_options]),
        input=DEMO_PASSWORD + "\n",
        timeout=LOGIN_TIMEOUT_SECONDS,
        check=False,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def read_profiles(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text())
    return parser


# --- the image without a login ---


def test_image_help_without_mount(docker_engine: DockerEngine, shibaws_image: str) -> None:
    result = docker_engine.docker("run", "--rm", "--label", TEST_LABEL, shibaws_image, "--help")

    assert result.returncode == 0
    assert "login" in result.stdout


def test_image_other_command_runs_as_given(docker_engine: DockerEngine, shibaws_image: str) -> None:
    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, shibaws_image, "bash", "-c", "id -u; echo $0"
    )  # fmt: skip

    assert result.stdout.split() == ["0", "bash"]


def test_image_login_without_mount_rejected(
    docker_engine: DockerEngine, shibaws_image: str
) -> None:
    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, shibaws_image, *login_args(), check=False
    )  # fmt: skip

    assert result.returncode == 2
    assert '-v "$HOME/.aws:/home/shibaws/.aws"' in result.stderr
    assert "Traceback" not in result.stderr


def test_image_root_owned_mount_rejected(
    docker_engine: DockerEngine, shibaws_image: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 0, 0)

    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, "-v", f"{aws_dir}:/root/.aws",
        shibaws_image, *login_args(), check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert "owned by root" in result.stderr
    assert (aws_dir / "credentials").read_text() == OTHER_PROFILE


def test_image_geckodriver_pinned(docker_engine: DockerEngine, shibaws_image: str) -> None:
    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, shibaws_image,
        "sh", "-c", 'geckodriver --version | head -n 1; sha256sum "$SHIBAWS_GECKODRIVER"',
    )  # fmt: skip
    version_line, checksum_line = result.stdout.splitlines()[:2]

    assert version_line.startswith("geckodriver 0.33.0 ")
    assert checksum_line.split() == [GECKODRIVER_SHA256, "/usr/local/bin/geckodriver"]


def test_image_metadata(docker_engine: DockerEngine, shibaws_image: str) -> None:
    config = json.loads(docker_engine.docker("image", "inspect", shibaws_image).stdout)[0]["Config"]

    assert config["Labels"]["org.opencontainers.image.version"] == "0.1.0"
    assert config["Labels"]["org.opencontainers.image.licenses"] == "MIT"
    assert config["Entrypoint"][0] == "/usr/bin/tini"
    assert config.get("Healthcheck") is None
    assert "SHIBAWS_GECKODRIVER=/usr/local/bin/geckodriver" in config["Env"]


def test_image_firefox_starts_as_user(docker_engine: DockerEngine, shibaws_image: str) -> None:
    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, "--user", "1000:1000", shibaws_image,
        "sh", "-c", "id -u; firefox-esr --version",
    )  # fmt: skip

    assert result.stdout.splitlines()[0] == "1000"
    assert "Mozilla Firefox" in result.stdout


# --- logins against the stand-ins ---


def test_login_root_aws_mount_uid_1000(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 1000, 1000)

    returncode, _, stderr = run_login(
        docker_engine, shibaws_image, demo_standins, ["-v", f"{aws_dir}:/root/.aws"]
    )

    assert returncode == 0, stderr
    credentials = aws_dir / "credentials"
    info = credentials.stat()
    assert (info.st_uid, info.st_gid) == (1000, 1000)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert credentials.read_text().startswith(OTHER_PROFILE)
    profiles = read_profiles(credentials)
    assert profiles["other"]["aws_access_key_id"] == "AKIAOTHER"
    assert profiles["saml"]["aws_access_key_id"]
    assert profiles["saml"]["aws_session_token"]


def test_login_documented_mount_other_uid(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 1234, 2345)

    returncode, _, stderr = run_login(
        docker_engine, shibaws_image, demo_standins, ["-v", f"{aws_dir}:/home/shibaws/.aws"]
    )

    assert returncode == 0, stderr
    owners = {(path.stat().st_uid, path.stat().st_gid) for path in aws_dir.iterdir()}
    assert owners == {(1234, 2345)}
    assert stat.S_IMODE((aws_dir / "credentials").stat().st_mode) == 0o600
    assert read_profiles(aws_dir / "credentials")["saml"]["aws_secret_access_key"]


def test_login_single_file_mount(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    credentials = make_aws_dir(tmp_path, 1000, 1000) / "credentials"
    inode_before = credentials.stat().st_ino

    returncode, _, stderr = run_login(
        docker_engine,
        shibaws_image,
        demo_standins,
        ["-v", f"{credentials}:/home/shibaws/.aws/credentials"],
    )

    assert returncode == 0, stderr
    assert credentials.stat().st_ino == inode_before
    assert credentials.stat().st_uid == 1000
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert credentials.read_text().startswith(OTHER_PROFILE)
    assert read_profiles(credentials)["saml"]["aws_session_token"]


def test_login_xvfb_mode(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 1000, 1000)

    returncode, _, stderr = run_login(
        docker_engine,
        shibaws_image,
        demo_standins,
        ["-v", f"{aws_dir}:/home/shibaws/.aws"],
        login_options=("--browser-mode", "xvfb"),
    )

    assert returncode == 0, stderr
    assert read_profiles(aws_dir / "credentials")["saml"]["aws_session_token"]


def _wait_for_firefox(engine: DockerEngine, container: str) -> list[tuple[int, str]]:
    """Poll ``docker top`` until Firefox shows up; return (uid, command) of every process."""
    deadline = time.monotonic() + FIREFOX_WAIT_SECONDS
    while time.monotonic() < deadline:
        # The engine needs the pid column to match processes to the container.
        top = engine.docker("top", container, "-eo", "pid,uid,args", check=False)
        rows = [line.split(None, 2) for line in top.stdout.splitlines()[1:] if line.strip()]
        processes = [(int(uid), command) for _, uid, command in rows]
        if any("firefox" in command for _, command in processes):
            return processes
        if top.returncode != 0:
            break
        time.sleep(0.2)
    pytest.fail(f"Firefox never appeared in {container} within {FIREFOX_WAIT_SECONDS} s")


def test_login_secret_firefox_not_root(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 1000, 1000)
    password_file = tmp_path / "password.txt"
    password_file.write_text(DEMO_PASSWORD + "\n")
    password_file.chmod(0o600)
    os.chown(password_file, 1000, 1000)
    container = f"shibaws-test-login-{uuid.uuid4().hex[:8]}"

    docker_engine.docker(
        "run", "--detach", "--name", container, "--label", TEST_LABEL,
        "--network", f"container:{demo_standins}",
        "-e", f"AWS_ENDPOINT_URL_STS={DEMO_STS_URL}",
        "-v", f"{aws_dir}:/home/shibaws/.aws",
        "-v", f"{password_file}:/run/secrets/shibaws_password:ro",
        shibaws_image, *login_args(),
    )  # fmt: skip
    try:
        processes = _wait_for_firefox(docker_engine, container)
        status = docker_engine.docker("wait", container, timeout=LOGIN_TIMEOUT_SECONDS)
        logs = docker_engine.docker("logs", container)
        inspect = docker_engine.docker("inspect", container)
    finally:
        docker_engine.docker("rm", "--force", container, check=False)

    assert status.stdout.strip() == "0", logs.stderr
    browser = [(uid, command) for uid, command in processes if "firefox" in command]
    assert browser
    assert all(uid == 1000 for uid, _ in browser)
    assert all(uid == 1000 for uid, command in processes if "geckodriver" in command)
    assert all(DEMO_PASSWORD not in command for _, command in processes)
    assert DEMO_PASSWORD not in logs.stdout + logs.stderr
    assert DEMO_PASSWORD not in inspect.stdout
    assert read_profiles(aws_dir / "credentials")["saml"]["aws_session_token"]


# --- docker compose ---


def test_compose_demo_login(
    docker_engine: DockerEngine, shibaws_image: str, standins_image: str, tmp_path: Path
) -> None:
    aws_dir = make_aws_dir(tmp_path, 1000, 1000)
    project = f"shibaws-test-{uuid.uuid4().hex[:8]}"
    compose_env = {"SHIBAWS_DEMO_AWS_DIR": str(aws_dir)}

    try:
        result = docker_engine.docker(
            "compose", "--project-name", project, "--profile", "demo",
            "run", "--rm", "demo-login",
            env=compose_env, timeout=LOGIN_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
    finally:
        docker_engine.docker(
            "compose", "--project-name", project, "--profile", "demo", "down",
            env=compose_env, check=False, timeout=120,
        )  # fmt: skip

    assert result.returncode == 0, result.stderr
    credentials = aws_dir / "credentials"
    assert credentials.stat().st_uid == 1000
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    profiles = read_profiles(credentials)
    assert profiles["demo"]["aws_session_token"]
    assert profiles["other"]["aws_access_key_id"] == "AKIAOTHER"


def test_compose_file_valid(docker_engine: DockerEngine) -> None:
    result = docker_engine.docker(
        "compose", "--profile", "demo", "--profile", "login", "config", "--services"
    )

    assert set(result.stdout.split()) == {"login", "standins", "demo-login"}
