"""Session fixtures for the image tests: a private Docker engine, the images, the demo world.

- ``docker_engine``: Debian's dockerd on /run/shibaws-test/docker/docker.sock, started by
  tests/setup/docker.sh (which also builds the local base image debian:bookworm-slim and
  installs Compose v2), and stopped with tests/setup/docker-stop.sh when the session ends.
  An engine that was already running is reused and left running, but every container and
  network that the tests labelled is removed.
- ``shibaws_image`` and ``standins_image``: the real Dockerfile and demo/Dockerfile.standins,
  built once per session as the tags docker-compose.yml uses.
- ``demo_standins``: one container of the demo stand-ins on an internal Docker network; a
  shibaws container joins its network namespace to reach them on loopback.

Every command runs /usr/bin/docker, Debian's client, whose builds use BuildKit.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER_CLIENT = "/usr/bin/docker"
SOCKET = "/run/shibaws-test/docker/docker.sock"
DOCKER_CONFIG = "/var/lib/shibaws-test/docker-config"
TEST_LABEL = "org.shibaws.test=1"
IMAGE = "shibaws:latest"
STANDINS_IMAGE = "shibaws-demo-standins:latest"

SETUP_TIMEOUT_SECONDS = 600.0
STOP_TIMEOUT_SECONDS = 120.0
BUILD_TIMEOUT_SECONDS = 900.0
STANDINS_READY_TIMEOUT_SECONDS = 90.0

# Addresses of the demo stand-ins, as demo/standins.py pins them.
DEMO_SHIBBOLETH_START_URL = (
    "http://127.0.0.1:9000/idp/profile/SAML2/Unsolicited/SSO?providerId=urn%3Aamazon%3Awebservices"
)
DEMO_SIGN_IN_URL = "http://127.0.0.3:9002/saml"
DEMO_STS_URL = "http://127.0.0.1:9100"
DEMO_USERNAME = "alice"
DEMO_PASSWORD = "alice-pass"
DEMO_ROLE = "arn:aws:iam::111122223333:role/ReadOnly"


@dataclass(frozen=True)
class DockerEngine:
    """The private engine: the client environment and a way to run docker commands."""

    env: dict[str, str]

    def docker(
        self,
        *args: str,
        timeout: float = 120.0,
        input: str | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against the private engine and return the finished process."""
        result = subprocess.run(
            [DOCKER_CLIENT, *args],
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited with {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


def client_env() -> dict[str, str]:
    """Return an environment that points docker clients at the private engine only."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DOCKER_", "COMPOSE_"))
    }
    env.update(DOCKER_HOST=f"unix://{SOCKET}", DOCKER_CONFIG=DOCKER_CONFIG, DOCKER_BUILDKIT="1")
    return env


def _engine_answers(env: dict[str, str]) -> bool:
    try:
        result = subprocess.run(
            [DOCKER_CLIENT, "version"], env=env, capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _remove_labelled(engine: DockerEngine) -> None:
    """Remove every container and network that the tests labelled."""
    containers = engine.docker("ps", "-aq", "--filter", f"label={TEST_LABEL}", check=False)
    ids = containers.stdout.split()
    if ids:
        engine.docker("rm", "-f", *ids, check=False, timeout=STOP_TIMEOUT_SECONDS)
    engine.docker(
        "network", "prune", "-f", "--filter", f"label={TEST_LABEL}", check=False, timeout=60
    )


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """Start the private engine (or reuse a running one) and stop what the session started."""
    if os.geteuid() != 0:
        pytest.skip("the Docker engine tests need root (dockerd and mmdebstrap)")
    env = client_env()
    already_running = _engine_answers(env)
    setup = subprocess.run(
        ["bash", str(REPO / "tests/setup/docker.sh")],
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_SECONDS,
        check=False,
    )
    if setup.returncode != 0:
        pytest.fail(f"tests/setup/docker.sh failed:\n{setup.stdout}\n{setup.stderr}")
    engine = DockerEngine(env)
    try:
        yield engine
    finally:
        _remove_labelled(engine)
        if not already_running:
            subprocess.run(
                ["bash", str(REPO / "tests/setup/docker-stop.sh")],
                capture_output=True,
                timeout=STOP_TIMEOUT_SECONDS,
                check=False,
            )


def _build(engine: DockerEngine, tag: str, dockerfile: str) -> str:
    engine.docker(
        "build", "--quiet", "--file", dockerfile, "--tag", tag, ".",
        timeout=BUILD_TIMEOUT_SECONDS,
    )  # fmt: skip
    return tag


@pytest.fixture(scope="session")
def shibaws_image(docker_engine: DockerEngine) -> str:
    """Build the real Dockerfile as shibaws:latest and return the tag."""
    return _build(docker_engine, IMAGE, "Dockerfile")


@pytest.fixture(scope="session")
def standins_image(docker_engine: DockerEngine) -> str:
    """Build demo/Dockerfile.standins as the tag that docker-compose.yml uses."""
    return _build(docker_engine, STANDINS_IMAGE, "demo/Dockerfile.standins")


def wait_for_standins(engine: DockerEngine, container: str) -> None:
    """Wait until CONTAINER's stand-ins report ready, or fail with its log."""
    deadline = time.monotonic() + STANDINS_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        logs = engine.docker("logs", container, check=False)
        if "demo stand-ins ready" in logs.stdout:
            return
        state = engine.docker("inspect", "--format", "{{.State.Running}}", container)
        if state.stdout.strip() != "true":
            pytest.fail(f"demo stand-ins exited:\n{logs.stdout}\n{logs.stderr}")
        time.sleep(0.5)
    logs = engine.docker("logs", container, check=False)
    pytest.fail(
        f"demo stand-ins not ready within {STANDINS_READY_TIMEOUT_SECONDS} s:\n"
        f"{logs.stdout}\n{logs.stderr}"
    )


@pytest.fixture(scope="session")
def demo_standins(docker_engine: DockerEngine, standins_image: str) -> Iterator[str]:
    """Run the demo stand-ins on a new internal network and return the container's name.

    Start shibaws with ``--network container:NAME`` to reach them on loopback.
    """
    suffix = uuid.uuid4().hex[:8]
    network = f"shibaws-test-{suffix}"
    container = f"shibaws-test-standins-{suffix}"
    docker_engine.docker("network", "create", "--internal", "--label", TEST_LABEL, network)
    try:
        docker_engine.docker(
            "run", "--detach", "--name", container, "--label", TEST_LABEL,
            "--network", network, standins_image,
        )  # fmt: skip
        try:
            wait_for_standins(docker_engine, container)
            yield container
        finally:
            docker_engine.docker("rm", "--force", container, check=False, timeout=60)
    finally:
        docker_engine.docker("network", "rm", network, check=False, timeout=60)


def login_args(profile: str = "saml", extra: Sequence[str] = ()) -> list[str]:
    """Return the ``shibaws login`` arguments that log in as the demo user at the stand-ins."""
    return [
        "login",
        "--idp-url",
        DEMO_SHIBBOLETH_START_URL,
        "--sign-in-url",
        DEMO_SIGN_IN_URL,
        "--username",
        DEMO_USERNAME,
        "--profile",
        profile,
        *extra,
    ]
