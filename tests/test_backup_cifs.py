"""``--mount cifs`` mode, with a stand-in ``mount.cifs``.

This machine's kernel has no CIFS support, so the real mount.cifs cannot
run here. ``FAKE_MOUNT_CIFS`` imitates it: it takes the same arguments,
records them and the credentials file it was given, then bind-mounts a
local folder where the share would be. It is thinner than the real thing:
it contacts no server and checks no password, and the mounted folder is a
local file system, not cifs. Everything around the mount call (argv,
credentials file, mount check, error path, unmount, cleanup) is real.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shibaws.backup.cifs import (
    CifsSource,
    credentials_text,
    is_mount_point,
    mount_argv,
    mount_cifs,
    open_cifs_source,
)
from shibaws.backup.errors import BackupConfigInvalid, SourceUnavailable
from shibaws.backup.smburl import parse_smb_url
from shibaws.backup.source import SourceEntry

PASSWORD = "Cifs Secret;=,pa$$"

FAKE_MOUNT_CIFS = """\
#!{python}
import json, os, stat, subprocess, sys

record = {{"argv": sys.argv[1:]}}
options = dict(
    item.split("=", 1) if "=" in item else (item, "")
    for item in sys.argv[sys.argv.index("-o") + 1].split(",")
)
credentials = options["credentials"]
info = os.stat(credentials)
record["credentials_mode"] = stat.S_IMODE(info.st_mode)
record["credentials_dir_mode"] = stat.S_IMODE(os.stat(os.path.dirname(credentials)).st_mode)
record["credentials_text"] = open(credentials).read()
record["cmdline"] = open("/proc/self/cmdline", "rb").read().decode()
with open(os.environ["FAKE_CIFS_LOG"], "w") as log:
    json.dump(record, log)

mode = os.environ.get("FAKE_CIFS_MODE", "mount")
if mode == "fail":
    print("mount error(13): Permission denied", file=sys.stderr)
    sys.exit(32)
if mode == "mount":
    share = os.path.join(os.environ["FAKE_CIFS_SERVER_ROOT"], sys.argv[1].rsplit("/", 1)[1])
    subprocess.run(["mount", "--bind", share, sys.argv[2]], check=True)
"""


@pytest.fixture
def fake_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the stand-in mount.cifs first on PATH; return the folder that contains its shares."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mount.cifs"
    script.write_text(FAKE_MOUNT_CIFS.format(python=sys.executable))
    script.chmod(0o755)
    share = tmp_path / "share"
    (share / "Backups" / "SQL").mkdir(parents=True)
    (share / "Backups" / "SQL" / "db one.bak").write_bytes(b"backup data")
    (share / "Backups" / "SQL" / "caf\u00e9.log").write_bytes(b"log")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CIFS_LOG", str(tmp_path / "mount-record.json"))
    monkeypatch.setenv("FAKE_CIFS_SERVER_ROOT", str(share))
    monkeypatch.setenv("FAKE_CIFS_MODE", "mount")
    return share


def mount_record(tmp_path: Path) -> dict[str, object]:
    return dict(json.loads((tmp_path / "mount-record.json").read_text()))


def cifs_mounts() -> list[str]:
    return [
        line
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if "shibaws-cifs-" in line
    ]


# -- pure parts ----------------------------------------------------------------------


def test_credentials_text_with_domain() -> None:
    location = parse_smb_url("smb://CAMPUS;svc@files/share")

    text = credentials_text(location, PASSWORD)

    assert text == f"username=svc\npassword={PASSWORD}\ndomain=CAMPUS\n"


def test_credentials_text_rejects_line_break() -> None:
    location = parse_smb_url("smb://svc@files/share")

    with pytest.raises(BackupConfigInvalid):
        credentials_text(location, "two\nlines")


def test_mount_argv_has_no_password(tmp_path: Path) -> None:
    location = parse_smb_url("smb://CAMPUS;svc@files:1445/Backups/SQL")

    argv = mount_argv(location, tmp_path / "mnt", tmp_path / "cred", ["vers=3.1.1"])

    assert argv[:4] == ["mount.cifs", "//files/Backups", str(tmp_path / "mnt"), "-o"]
    assert argv[4].split(",") == [
        "ro",
        f"credentials={tmp_path / 'cred'}",
        "iocharset=utf8",
        "port=1445",
        "vers=3.1.1",
    ]
    assert all(PASSWORD not in arg and "svc" not in arg for arg in argv)


@pytest.mark.parametrize("option", ["password=x", "PASS=x", "username=svc", "credentials=/x"])
def test_mount_argv_rejects_account_options(tmp_path: Path, option: str) -> None:
    location = parse_smb_url("smb://svc@files/share")

    with pytest.raises(BackupConfigInvalid):
        mount_argv(location, tmp_path, tmp_path / "cred", [option])


def test_mount_argv_rejects_comma_in_option(tmp_path: Path) -> None:
    location = parse_smb_url("smb://svc@files/share")

    with pytest.raises(BackupConfigInvalid):
        mount_argv(location, tmp_path, tmp_path / "cred", ["ro,password=x"])


# -- mounting with the stand-in --------------------------------------------------------


def test_cifs_source_mounts_walks_and_unmounts(fake_share: Path, tmp_path: Path) -> None:
    source = open_cifs_source("smb://CAMPUS;svc@files/Backups/SQL", PASSWORD)
    try:
        source.check()
        mount_point = source._mount_point
        assert mount_point is not None
        assert is_mount_point(mount_point)
        entries = [item for item in source.walk() if isinstance(item, SourceEntry)]
        with source.open("db one.bak") as reader:
            content = reader.read()
        credentials_left = (mount_point.parent / "credentials").exists()
    finally:
        source.close()

    assert sorted(entry.path for entry in entries) == ["caf\u00e9.log", "db one.bak"]
    assert content == b"backup data"
    assert not credentials_left
    assert not is_mount_point(mount_point)
    assert not mount_point.parent.exists()
    assert cifs_mounts() == []


def test_cifs_source_credentials_file_private(fake_share: Path, tmp_path: Path) -> None:
    source = open_cifs_source("smb://CAMPUS;svc@files/Backups", PASSWORD)
    try:
        source.check()
    finally:
        source.close()
    record = mount_record(tmp_path)

    assert record["credentials_mode"] == 0o600
    assert record["credentials_dir_mode"] == 0o700
    assert record["credentials_text"] == f"username=svc\npassword={PASSWORD}\ndomain=CAMPUS\n"
    assert PASSWORD not in str(record["cmdline"])
    assert PASSWORD not in " ".join(str(arg) for arg in record["argv"])  # type: ignore[attr-defined]


def test_cifs_source_mount_failure(
    fake_share: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CIFS_MODE", "fail")
    source = open_cifs_source("smb://svc@files/Backups", PASSWORD)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "Permission denied" in str(caught.value)
    assert "//files/Backups" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert source._work_dir is None
    assert cifs_mounts() == []


def test_cifs_source_success_without_mount(
    fake_share: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CIFS_MODE", "pretend")
    source = open_cifs_source("smb://svc@files/Backups", PASSWORD)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "is not a mount point" in str(caught.value)
    assert source._work_dir is None


def test_cifs_source_missing_folder_unmounts(fake_share: Path) -> None:
    source = open_cifs_source("smb://svc@files/Backups/Missing", PASSWORD)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "Missing" in str(caught.value)
    assert cifs_mounts() == []
    assert source._work_dir is None


def test_cifs_source_without_mount_cifs(tmp_path: Path) -> None:
    source = CifsSource(
        parse_smb_url("smb://svc@files/Backups"),
        PASSWORD,
        mount_command=str(tmp_path / "no-such-mount.cifs"),
    )

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "install cifs-utils" in str(caught.value)
    assert source._work_dir is None


def test_cifs_source_unmounts_on_sigterm(fake_share: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from shibaws.backup.cifs import open_cifs_source

        source = open_cifs_source("smb://svc@files/Backups", "pw")
        try:
            source.check()
            print(source._mount_point, flush=True)
            time.sleep(60)
        finally:
            source.close()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        mount_point = Path(process.stdout.readline().strip())
        assert is_mount_point(mount_point)

        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert "Cancelled" in stderr
    assert not is_mount_point(mount_point)
    assert not mount_point.exists()
    assert cifs_mounts() == []


def test_mount_cifs_yields_folder_and_unmounts(fake_share: Path) -> None:
    with mount_cifs("smb://svc@files/Backups/SQL", PASSWORD) as folder:
        names = sorted(path.name for path in folder.iterdir())
        mounted = is_mount_point(folder.parent)

    assert names == ["caf\u00e9.log", "db one.bak"]
    assert mounted
    assert not folder.parent.exists()
    assert cifs_mounts() == []


def test_mount_cifs_unmounts_after_error(fake_share: Path) -> None:
    with pytest.raises(RuntimeError), mount_cifs("smb://svc@files/Backups", PASSWORD) as folder:
        raise RuntimeError("job failed")

    assert not folder.exists()
    assert cifs_mounts() == []


def test_is_mount_point_unescapes_spaces(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    source_dir = tmp_path / "src"
    target = tmp_path / "with space"
    source_dir.mkdir()
    target.mkdir()
    subprocess.run(["mount", "--bind", str(source_dir), str(target)], check=True, timeout=30)
    try:
        assert is_mount_point(target)
        assert stat.S_ISDIR(target.stat().st_mode)
    finally:
        subprocess.run(["umount", str(target)], check=True, timeout=30)

    assert not is_mount_point(target)
