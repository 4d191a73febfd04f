"""A private Samba server (real smbd) on loopback for the SMB backup tests.

``start_samba`` runs ``smbd`` as its own session with a configuration,
state folders and user database of its own, listening on 127.0.0.1 only.
The benchmarks reuse it. The ``samba_server`` fixture starts one per test
session and stops its whole process group at the end; ``samba_folder``
gives each test its own empty folder in the share.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SMB_USER = "shibaws-smbtest"
SMB_PASSWORD = "Samba-Test-Password-1"
SHARE_NAME = "backup"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

CONFIG_TEMPLATE = """\
[global]
    server role = standalone server
    interfaces = lo
    bind interfaces only = yes
    smb ports = {port}
    disable netbios = yes
    server min protocol = SMB2_02
    map to guest = never
    restrict anonymous = 2
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    lock directory = {base}/lock
    state directory = {base}/state
    cache directory = {base}/cache
    private dir = {base}/private
    pid directory = {base}/pid
    ncalrpc dir = {base}/ncalrpc
    binddns dir = {base}/binddns
    passdb backend = tdbsam:{base}/private/passdb.tdb
    log file = {base}/log/smbd.log
    log level = 1

[{share}]
    path = {share_root}
    read only = no
    browseable = yes
    valid users = {user}
"""


@dataclass
class SambaServer:
    """A running smbd and what a client needs to reach its share."""

    host: str
    port: int
    share: str
    username: str
    password: str
    share_root: Path
    base: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str = "") -> str:
        """Return the ``smb://`` URL of PATH inside the share (no password in it)."""
        suffix = f"/{path}" if path else ""
        return f"smb://{self.username}@{self.host}:{self.port}/{self.share}{suffix}"

    def unc(self, path: str = "") -> str:
        """Return the UNC path that smbprotocol's ``smbclient`` functions take."""
        unc = rf"\\{self.host}\{self.share}"
        if path:
            unc += "\\" + path.replace("/", "\\")
        return unc

    def stop(self) -> None:
        """Stop smbd and every helper it forked (they share one session and process group)."""
        stop_process_group(self.process)
        shutil.rmtree(self.base, ignore_errors=True)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Send SIGTERM, then SIGKILL after a bounded wait, to the group that PROCESS leads."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
            break
        except subprocess.TimeoutExpired:
            continue
    # smbd's forked children can outlive the parent briefly: sweep the group once more.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def ensure_unix_user(name: str) -> pwd.struct_passwd:
    """Return the Unix account NAME, creating it (no home, no login shell) when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        timeout=30,
    )
    return pwd.getpwnam(name)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on HOST at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until HOST:PORT accepts a TCP connection, at most START_TIMEOUT_S seconds."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"smbd exited with {process.returncode}; see {log}")
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"smbd did not listen on {host}:{port} within {START_TIMEOUT_S} s")


def start_samba(share_root: Path | None = None, port: int | None = None) -> SambaServer:
    """Start a private smbd on 127.0.0.1 serving SHARE_ROOT as share ``backup``.

    The server runs as root (smbd needs it to switch to the share user) and
    reads files as SMB_USER, so files must be readable by that user.
    """
    if shutil.which("smbd") is None or shutil.which("smbpasswd") is None:
        raise RuntimeError("smbd not found: install samba (tests/setup/system.sh)")
    account = ensure_unix_user(SMB_USER)

    # A world-traversable base folder, because smbd reads the share as SMB_USER.
    base = Path(tempfile.mkdtemp(prefix="shibaws-samba-"))
    base.chmod(0o755)
    for name in ("lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log"):
        (base / name).mkdir()
    if share_root is None:
        share_root = base / "share"
        share_root.mkdir()
        os.chown(share_root, account.pw_uid, account.pw_gid)
    port = port or free_port()

    config = base / "smb.conf"
    config.write_text(
        CONFIG_TEMPLATE.format(
            port=port, base=base, share=SHARE_NAME, share_root=share_root, user=SMB_USER
        )
    )
    subprocess.run(
        ["smbpasswd", "-c", str(config), "-s", "-a", SMB_USER],
        input=f"{SMB_PASSWORD}\n{SMB_PASSWORD}\n".encode(),
        check=True,
        capture_output=True,
        timeout=30,
    )

    log = base / "log" / "smbd.log"
    process = subprocess.Popen(
        [
            "smbd",
            "--foreground",
            "--no-process-group",
            f"--configfile={config}",
            "--debug-stdout",
        ],
        stdout=(base / "log" / "stdout.log").open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = SambaServer(
        host="127.0.0.1",
        port=port,
        share=SHARE_NAME,
        username=SMB_USER,
        password=SMB_PASSWORD,
        share_root=share_root,
        base=base,
        process=process,
    )
    try:
        wait_for_port(server.host, port, process, log)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def samba_server() -> Iterator[SambaServer]:
    """A real smbd for the whole test session, with an empty share owned by SMB_USER."""
    server = start_samba()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class SambaFolder:
    """A folder of its own in the shared test share: local path and smb:// URL."""

    server: SambaServer
    local: Path
    relative: str

    @property
    def url(self) -> str:
        return self.server.url(self.relative)


@pytest.fixture
def samba_folder(samba_server: SambaServer) -> SambaFolder:
    """An empty folder in the share, writable by the SMB user; tests add files as root."""
    relative = f"t-{uuid.uuid4().hex[:12]}"
    local = samba_server.share_root / relative
    local.mkdir(mode=0o755)
    account = pwd.getpwnam(samba_server.username)
    os.chown(local, account.pw_uid, account.pw_gid)
    return SambaFolder(server=samba_server, local=local, relative=relative)


@pytest.fixture
def samba_password_file(samba_server: SambaServer, tmp_path: Path) -> Path:
    """A 0600 file with the share user's password, as --smb-password-file takes it."""
    path = tmp_path / "smb-password"
    path.write_text(samba_server.password + "\n")
    path.chmod(0o600)
    return path
