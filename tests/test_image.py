"""End-to-end tests of the container image and docker-compose.yml on a real Docker engine.

Everything goes through ``docker run`` and ``docker compose`` as users type them. Logins
run against the demo stand-ins (Shibboleth IdP, Duo Universal Prompt with an approving
phone, strict STS), which run in their own container on an internal Docker network. The
shibaws container joins that container's network namespace.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import stat
import subprocess
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
from servers.s3_fixtures import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = pytest.mark.docker

LOGIN_TIMEOUT_SECONDS = 180.0
OTHER_PROFILE = "# kept by shibaws\n[other]\naws_access_key_id = AKIAOTHER\nregion = eu-west-1\n"
GECKODRIVER_SHA256 = "12994672529413925506cade8dee78d91683015146dac8dab017496f02d7bbb0"
FIREFOX_WAIT_SECONDS = 60.0

# `rclone serve s3` of the demo stand-ins, inside their network namespace.
DEMO_S3_URL = "http://127.0.0.1:9200"
S3_ENV = [
    "-e", f"AWS_ACCESS_KEY_ID={ACCESS_KEY}",
    "-e", f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}",
    "-e", f"AWS_DEFAULT_REGION={REGION}",
]  # fmt: skip
# croniter reads a sixth field as seconds, after the weekday: every 5 s.
BACKUP_CRON = "* * * * * */5"
BACKUP_WAIT_SECONDS = 90.0
COMPOSE_TIMEOUT_SECONDS = 180.0
# Names that break naive key handling: spaces, +, %, #, non-ASCII, depth, an empty file.
AWKWARD_FILES = {
    "plain.txt": b"plain\n",
    "with space.txt": b"space\n",
    "plus+sign.txt": b"plus\n",
    "100% done.txt": b"percent\n",
    "#hash.txt": b"hash\n",
    "ünïcödé/日本語 ファイル.txt": "こんにちは\n".encode(),
    "a/b/c/d/e/f/g/deep.bin": bytes(range(256)) * 64,
    "empty.bin": b"",
}
# Creates a bucket, or lists it as {key: SHA-256 of the content}, with the image's own boto3.
S3_SCRIPT = """
import hashlib, json, sys
import boto3
from botocore.config import Config

client = boto3.client(
    "s3", endpoint_url=sys.argv[1], config=Config(s3={"addressing_style": "path"})
)
bucket, action = sys.argv[2], sys.argv[3]
if action == "create":
    client.create_bucket(Bucket=bucket)
    print("{}")
else:
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            objects[item["Key"]] = hashlib.sha256(body).hexdigest()
    print(json.dumps(objects))
"""


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
    assert "SHIBAWS_STATUS_FILE=/var/lib/shibaws/status.json" in config["Env"]


def test_image_cifs_and_status_folder(docker_engine: DockerEngine, shibaws_image: str) -> None:
    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, shibaws_image,
        "sh", "-c", "command -v mount.cifs; stat -c %u:%g /var/lib/shibaws",
    )  # fmt: skip

    assert result.stdout.splitlines() == ["/usr/sbin/mount.cifs", "1000:1000"]


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
        "compose", "--profile", "demo", "--profile", "login", "--profile", "backup",
        "config", "--services",
        env={"HOME": "/nonexistent"},
    )  # fmt: skip

    assert set(result.stdout.split()) == {"login", "standins", "demo-login", "backup"}


# --- backups: the image and the compose `backup` service ---


def make_source(parent: Path) -> Path:
    """Create a source folder containing AWKWARD_FILES, readable by every uid."""
    source = parent / "source"
    for name, content in AWKWARD_FILES.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for path in [source, *source.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return source


def source_digests(source: Path) -> dict[str, str]:
    """Return {relative path: SHA-256 of the content} for every file under SOURCE."""
    return {
        path.relative_to(source).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in source.rglob("*")
        if path.is_file()
    }


def make_s3_home(parent: Path, uid: int, gid: int) -> Path:
    """Create a home whose ~/.aws (owned by UID:GID) has profile [saml] with the S3 test key."""
    home = parent / "home"
    aws_dir = home / ".aws"
    aws_dir.mkdir(parents=True, mode=0o700)
    credentials = aws_dir / "credentials"
    credentials.write_text(
        f"[saml]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    credentials.chmod(0o600)
    for path in (aws_dir, credentials):
        os.chown(path, uid, gid)
    return home


def run_s3_script(engine: DockerEngine, image: str, standins: str, *args: str) -> dict[str, str]:
    """Run S3_SCRIPT with ARGS in the image, in STANDINS' network namespace; return its JSON."""
    result = engine.docker(
        "run", "--rm", "--label", TEST_LABEL, "--network", f"container:{standins}",
        *S3_ENV, image, "python", "-c", S3_SCRIPT, DEMO_S3_URL, *args,
    )  # fmt: skip
    objects: dict[str, str] = json.loads(result.stdout)
    return objects


def bucket_digests(
    engine: DockerEngine, image: str, standins: str, bucket: str, prefix: str
) -> dict[str, str]:
    """Return {key below PREFIX: SHA-256} for BUCKET, leaving out the backup's manifest."""
    objects = run_s3_script(engine, image, standins, bucket, "list")
    return {
        key.removeprefix(prefix): digest
        for key, digest in objects.items()
        if key.startswith(prefix) and not key.startswith(prefix + ".shibaws/")
    }


def test_image_backup_env_credentials_without_mount(
    docker_engine: DockerEngine, shibaws_image: str, demo_standins: str, tmp_path: Path
) -> None:
    source = make_source(tmp_path)
    bucket = f"env-{uuid.uuid4().hex[:12]}"
    run_s3_script(docker_engine, shibaws_image, demo_standins, bucket, "create")

    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, "--network", f"container:{demo_standins}",
        *S3_ENV, "-v", f"{source}:/source:ro",
        shibaws_image, "backup", "/source", f"s3://{bucket}/data",
        "--endpoint-url", DEMO_S3_URL, "--path-style",
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    digests = bucket_digests(docker_engine, shibaws_image, demo_standins, bucket, "data/")
    assert digests == source_digests(source)


def test_image_backup_root_mount_missing_source(
    docker_engine: DockerEngine, shibaws_image: str, tmp_path: Path
) -> None:
    aws_dir = make_s3_home(tmp_path, 0, 0) / ".aws"

    result = docker_engine.docker(
        "run", "--rm", "--label", TEST_LABEL, "--network", "none",
        "-v", f"{aws_dir}:/root/.aws:ro",
        shibaws_image, "backup", "/no/such/folder", "s3://bucket/data",
        "--profile", "saml", "--endpoint-url", DEMO_S3_URL, "--path-style",
        check=False,
    )  # fmt: skip

    assert result.returncode == 22, result.stderr
    assert "/no/such/folder" in result.stderr
    assert "owned by root" not in result.stderr
    assert "Traceback" not in result.stderr


class BackupStack:
    """The compose project of one test: the `backup` service in the stand-ins' namespace."""

    def __init__(self, engine: DockerEngine, work: Path, home: Path, source: Path) -> None:
        self.engine = engine
        self.project = f"shibaws-test-{uuid.uuid4().hex[:8]}"
        self.config = work / "backup.toml"
        # Test overrides only: the stand-ins' network namespace and the source folder.
        self.override = work / "compose.override.yml"
        self.override.write_text(
            "services:\n"
            "  standins:\n"
            f"    labels: [{TEST_LABEL}]\n"
            "  backup:\n"
            f"    labels: [{TEST_LABEL}]\n"
            "    network_mode: service:standins\n"
            "    depends_on:\n"
            "      standins:\n"
            "        condition: service_healthy\n"
            "    volumes:\n"
            f"      - {source}:/source:ro\n"
        )
        self.env = {
            "HOME": str(home),
            "SHIBAWS_BACKUP_CONFIG": str(self.config),
            "SHIBAWS_SCHEDULE": BACKUP_CRON,
            "AWS_PROFILE": "saml",
            "TZ": "UTC",
        }

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``docker compose ARGS`` on this project with the override file."""
        return self.engine.docker(
            "compose", "--project-name", self.project,
            "--file", "docker-compose.yml", "--file", str(self.override),
            "--profile", "demo", "--profile", "backup", *args,
            env=self.env, timeout=COMPOSE_TIMEOUT_SECONDS, check=check,
        )  # fmt: skip

    def container(self, service: str) -> str:
        return self.compose("ps", "--all", "--quiet", service).stdout.strip()

    def finished_runs(self) -> int:
        logs = self.compose("logs", "--no-color", "backup", check=False).stdout
        return logs.count("shibaws schedule: backup run finished")

    def wait_for_runs(self, count: int) -> None:
        """Wait until COUNT backup runs have finished, or fail with the service's log."""
        deadline = time.monotonic() + BACKUP_WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.finished_runs() >= count:
                return
            time.sleep(0.5)
        logs = self.compose("logs", "--no-color", check=False)
        pytest.fail(f"{count} backup runs did not finish within {BACKUP_WAIT_SECONDS} s:\n{logs}")

    def down(self) -> None:
        self.compose("down", "--volumes", "--timeout", "10", check=False)


def test_compose_backup_schedule(
    docker_engine: DockerEngine, shibaws_image: str, standins_image: str, tmp_path: Path
) -> None:
    source = make_source(tmp_path)
    home = make_s3_home(tmp_path, 1234, 2345)
    bucket = f"schedule-{uuid.uuid4().hex[:12]}"
    stack = BackupStack(docker_engine, tmp_path, home, source)
    stack.config.write_text(
        f'[s3]\nendpoint_url = "{DEMO_S3_URL}"\npath_style = true\nregion = "{REGION}"\n\n'
        f'[[folder]]\npath = "/source"\ndestination = "s3://{bucket}/data"\n'
    )

    try:
        stack.compose("up", "--detach", "--wait", "standins")
        standins = stack.container("standins")
        run_s3_script(docker_engine, shibaws_image, standins, bucket, "create")
        stack.compose("up", "--detach", "backup")
        stack.wait_for_runs(1)
        # A file added between runs reaches the bucket at a later run.
        (source / "added later.txt").write_bytes(b"later\n")
        stack.wait_for_runs(stack.finished_runs() + 2)

        state = stack.compose("exec", "-T", "backup", "stat", "-c", "%u:%g", "/var/lib/shibaws")
        status = json.loads(
            stack.compose("exec", "-T", "backup", "cat", "/var/lib/shibaws/status.json").stdout
        )
        digests = bucket_digests(docker_engine, shibaws_image, standins, bucket, "data/")
        backup = stack.container("backup")
        stopped = stack.compose("stop", "backup")
        exit_code = docker_engine.docker("inspect", "--format", "{{.State.ExitCode}}", backup)
        container_logs = docker_engine.docker("logs", backup)
        compose_logs = stack.compose("logs", "--no-color", "backup")
    finally:
        stack.down()

    assert digests == source_digests(source)
    assert "added later.txt" in digests
    assert state.stdout.strip() == "1234:2345"
    last_run = status["last_run"]
    assert last_run["exit_code"] == 0
    assert last_run["outcome"] == "ok"
    assert last_run["counts"]["files_seen"] == len(AWKWARD_FILES) + 1
    assert last_run["counts"]["files_failed"] == 0
    assert last_run["jobs"][0]["destination"] == f"s3://{bucket}/data"
    assert status["next_run"]
    assert stopped.returncode == 0
    # tini passes SIGTERM on and the scheduler exits 0; 137 would mean Docker's SIGKILL.
    assert exit_code.stdout.strip() == "0"
    assert "shibaws schedule: backup run finished: exit code 0" in compose_logs.stdout
    assert "shibaws schedule: backup schedule stopped" in container_logs.stdout
    assert "shibaws schedule:" not in container_logs.stderr


def test_compose_backup_empty_smb_secret(
    docker_engine: DockerEngine, shibaws_image: str, tmp_path: Path
) -> None:
    source = make_source(tmp_path)
    home = make_s3_home(tmp_path, 1000, 1000)
    stack = BackupStack(docker_engine, tmp_path, home, source)
    # No network at all: the backup must stop at the password, before any connection.
    stack.override.write_text("services:\n  backup:\n    network_mode: none\n")
    stack.config.write_text(
        '[share]\nserver = "127.0.0.1"\nshare = "Backups"\nuser = "backup-svc"\n\n'
        f'[s3]\nendpoint_url = "{DEMO_S3_URL}"\npath_style = true\nregion = "{REGION}"\n\n'
        '[[folder]]\npath = "SQL"\ndestination = "s3://bucket/sql"\n'
    )

    try:
        result = stack.compose(
            "run", "--rm", "--no-deps", "-T", "backup",
            "backup", "--config", "/config/backup.toml",
            check=False,
        )  # fmt: skip
    finally:
        stack.down()

    assert result.returncode == 2, result.stderr
    assert "/run/secrets/smb_password" in result.stderr
    assert "Traceback" not in result.stderr
