"""SMB source: URL parsing, and walking and reading a real Samba share."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import smbclient
from smbprotocol.exceptions import SMBOSError

from servers.s3_fixtures import S3Server, new_bucket_name
from servers.samba_fixtures import SambaFolder, SambaServer, free_port
from shibaws.__main__ import main
from shibaws.backup.errors import SourceUnavailable
from shibaws.backup.smb import (
    STATUS_NETWORK_SESSION_EXPIRED,
    SmbSource,
    _has_dead_connection,
    open_smb_source,
    parse_smb_url,
)
from shibaws.backup.smburl import SmbLocation
from shibaws.backup.source import SourceEntry, SourceProblem
from shibaws.errors import UsageError
from shibaws.exitcodes import ExitCode

AWKWARD_NAMES = [
    "plain.txt",
    "with space.txt",
    "plus+sign.txt",
    "100%.txt",
    "%41 not an escape.txt",
    "hash#tag.txt",
    "caf\u00e9/\u00fcml\u00e4ut.txt",
    "\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt",
    "emoji \U0001f600.txt",
    "semi;colon & amp's.txt",
    "/".join(f"level{i:02d}" for i in range(40)) + "/deep.txt",
]


def write_tree(root: Path, names: list[str]) -> dict[str, bytes]:
    """Create each "/"-separated name under ROOT with distinct content; return path -> content."""
    contents = {}
    for index, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = f"{index}:{name}\n".encode() * (index + 1)
        path.write_bytes(data)
        contents[name] = data
    return contents


def walk_files(source: SmbSource) -> list[SourceEntry]:
    return [item for item in source.walk() if isinstance(item, SourceEntry)]


def walk_problems(source: SmbSource) -> list[SourceProblem]:
    return [item for item in source.walk() if isinstance(item, SourceProblem)]


@pytest.fixture
def smb_source(samba_folder: SambaFolder) -> Iterator[SmbSource]:
    source = open_smb_source(samba_folder.url, samba_folder.server.password)
    yield source
    source.close()


# -- URL parsing ---------------------------------------------------------------


def test_parse_smb_url_full_form() -> None:
    location = parse_smb_url("smb://CAMPUS;backup-svc@files.example.edu:1445/Backups/SQL/daily")

    assert location.domain == "CAMPUS"
    assert location.username == "backup-svc"
    assert location.login_name == "CAMPUS\\backup-svc"
    assert location.server == "files.example.edu"
    assert location.port == 1445
    assert location.share == "Backups"
    assert location.path == "SQL/daily"


def test_parse_smb_url_defaults_port_and_root() -> None:
    location = parse_smb_url("smb://svc@files/Backups/")

    assert location.port == 445
    assert location.domain is None
    assert location.path == ""
    assert location.unc() == "\\\\files\\Backups"


def test_parse_smb_url_percent_decodes_parts() -> None:
    location = parse_smb_url(
        "smb://svc%40example.edu@files/My%20Share/caf%C3%A9/100%25/a%23b/c%3Fd/e+f"
    )

    assert location.username == "svc@example.edu"
    assert location.share == "My Share"
    assert location.path == "caf\u00e9/100%/a#b/c?d/e+f"
    assert (
        location.unc("x/y.txt") == "\\\\files\\My Share\\caf\u00e9\\100%\\a#b\\c?d\\e+f\\x\\y.txt"
    )


def test_parse_smb_url_ipv6_server() -> None:
    location = parse_smb_url("smb://svc@[::1]:4450/share")

    assert location.server == "::1"
    assert location.port == 4450


def test_parse_smb_url_describe_round_trips() -> None:
    url = "smb://DOM;svc@files:1445/My%20Share/caf%C3%A9"

    assert parse_smb_url(parse_smb_url(url).describe()) == parse_smb_url(url)


def test_parse_smb_url_rejects_password_without_showing_it() -> None:
    with pytest.raises(UsageError) as caught:
        parse_smb_url("smb://svc:Hunter2-Secret@files/share/path")

    message = str(caught.value)
    assert "Hunter2-Secret" not in message
    assert "password" in message
    assert "--smb-password-file" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://svc@files/share", "is not an SMB URL"),
        ("smb://files/share", "no user name"),
        ("smb://@files/share", "empty user name"),
        ("smb://;svc@files/share", "empty domain"),
        ("smb://sv*c@files/share", "'*'"),
        ("smb://svc@/share", "no server name"),
        ("smb://svc@fi les/share", "not a valid host name"),
        ("smb://svc@files:0/share", "from 1 to 65535"),
        ("smb://svc@files:99999/share", "from 1 to 65535"),
        ("smb://svc@files:abc/share", "from 1 to 65535"),
        ("smb://svc@[zz]/share", "check the server part"),
        ("smb://svc@files", "names no share"),
        ("smb://svc@files/", "names no share"),
        ("smb://svc@files/sh<are", "share names cannot contain"),
        ("smb://svc@files/" + "s" * 81, "longer than 80"),
        ("smb://svc@files/share/../etc", "'..' path segment"),
        ("smb://svc@files/share/a%5Cb", "backslash"),
        ("smb://svc@files/share/a#b", "%23"),
        ("smb://svc@files/share/a?b", "%3F"),
        ("smb://svc@files/share/caf%E9", "not UTF-8"),
    ],
)
def test_parse_smb_url_rejects_invalid(url: str, expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_smb_url(url)

    assert expected in str(caught.value)


# -- walking and reading a real share -------------------------------------------


def test_walk_lists_awkward_names(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    contents = write_tree(samba_folder.local, AWKWARD_NAMES)

    entries = walk_files(smb_source)

    assert sorted(entry.path for entry in entries) == sorted(contents)
    assert walk_problems(smb_source) == []


def test_walk_reports_size_and_mtime(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    write_tree(samba_folder.local, AWKWARD_NAMES)

    for entry in walk_files(smb_source):
        local = (samba_folder.local / entry.path).stat()
        assert entry.size == local.st_size, entry.path
        assert entry.mtime_ns == local.st_mtime_ns // 1000 * 1000, entry.path
        assert entry.name_error is None, entry.path


def test_walk_yields_paths_in_sorted_order(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    # "a.b" sorts before "a/..." by code point ('.' < '/'), but a folder
    # listing sorted by bare name would put "a" first.
    write_tree(samba_folder.local, ["a/x", "a.b", "a-c", "b", "a0", "Z"])

    paths = [entry.path for entry in walk_files(smb_source)]

    assert paths == sorted(paths)


def test_walk_skips_empty_folders_and_lists_nothing_else(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    (samba_folder.local / "empty" / "deeper").mkdir(parents=True)
    write_tree(samba_folder.local, ["only.txt"])

    assert [entry.path for entry in walk_files(smb_source)] == ["only.txt"]


def test_walk_stops_at_symlink_loop(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    write_tree(samba_folder.local, ["dir/file.txt"])
    (samba_folder.local / "dir" / "loop").symlink_to("..")

    items = list(smb_source.walk())

    files = [item.path for item in items if isinstance(item, SourceEntry)]
    problems = [item for item in items if isinstance(item, SourceProblem)]
    assert files == ["dir/file.txt"]
    assert [problem.path for problem in problems] == ["dir/loop"]


def test_walk_reports_unreadable_folder_and_goes_on(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    write_tree(samba_folder.local, ["locked/secret.txt", "open/visible.txt"])
    (samba_folder.local / "locked").chmod(0o000)

    items = list(smb_source.walk())

    files = [item.path for item in items if isinstance(item, SourceEntry)]
    problems = [item for item in items if isinstance(item, SourceProblem)]
    assert files == ["open/visible.txt"]
    assert [problem.path for problem in problems] == ["locked"]
    assert "cannot list folder" in problems[0].message


def test_open_reads_awkward_names(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    contents = write_tree(samba_folder.local, AWKWARD_NAMES)

    for path, data in contents.items():
        with smb_source.open(path) as reader:
            assert reader.read() == data, path


def test_open_unreadable_file_raises_permission_error(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    write_tree(samba_folder.local, ["private.txt"])
    (samba_folder.local / "private.txt").chmod(0o000)

    with pytest.raises(PermissionError):
        smb_source.open("private.txt")


def test_open_reads_file_another_client_writes(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    server = samba_folder.server
    writer_cache: dict[str, object] = {}
    kwargs = {
        "username": server.username,
        "password": server.password,
        "port": server.port,
        "connection_cache": writer_cache,
    }
    unc = server.unc(f"{samba_folder.relative}/busy.log")
    writer = smbclient.open_file(unc, mode="wb", share_access="r", **kwargs)
    try:
        writer.write(b"first line\n")
        writer.flush()

        # A reader asking for exclusive access (smbclient's default) is refused...
        with pytest.raises(OSError):
            smbclient.open_file(unc, mode="rb", **kwargs).close()
        # ...while the source shares access and reads what was written so far.
        with smb_source.open("busy.log") as reader:
            assert reader.read() == b"first line\n"
    finally:
        writer.close()
        smbclient.delete_session(server.host, port=server.port, connection_cache=writer_cache)


def test_stat_matches_walk(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    write_tree(samba_folder.local, ["a.txt", "sub/b.txt"])

    for entry in walk_files(smb_source):
        assert smb_source.stat(entry.path) == entry


def test_stat_sees_a_change(samba_folder: SambaFolder, smb_source: SmbSource) -> None:
    write_tree(samba_folder.local, ["growing.txt"])
    before = smb_source.stat("growing.txt")

    with (samba_folder.local / "growing.txt").open("ab") as handle:
        handle.write(b"more")
    os.utime(samba_folder.local / "growing.txt", ns=(0, before.mtime_ns + 5_000_000))
    after = smb_source.stat("growing.txt")

    assert after.size == before.size + 4
    assert after.mtime_ns == before.mtime_ns + 5_000_000


def test_open_from_many_threads(samba_folder: SambaFolder) -> None:
    names = [f"f{i:03d}.bin" for i in range(60)]
    contents = write_tree(samba_folder.local, names)
    source = open_smb_source(samba_folder.url, samba_folder.server.password)

    def read(path: str) -> bytes:
        with source.open(path) as reader:
            return reader.read()

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = dict(zip(names, pool.map(read, names), strict=True))
    finally:
        source.close()

    assert results == contents


def smbd_children(server: SambaServer) -> set[int]:
    """Return the pids of processes whose parent is the fixture's main smbd."""
    children = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:
            children.add(int(proc.name))
    return children


def test_threads_get_own_server_processes(samba_folder: SambaFolder) -> None:
    """Each thread's connection has its own client GUID, so Samba serves it in its own process."""
    write_tree(samba_folder.local, ["a.txt"])
    source = open_smb_source(samba_folder.url, samba_folder.server.password)
    before = smbd_children(samba_folder.server)
    barrier = threading.Barrier(4, timeout=30)

    def check_then_wait() -> None:
        source.check()
        barrier.wait()  # all four connections are open at once here
        barrier.wait()

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(check_then_wait) for _ in range(3)]
            barrier.wait()
            during = smbd_children(samba_folder.server) - before
            barrier.wait()
            for future in futures:
                future.result(timeout=30)
    finally:
        source.close()

    assert len(during) == 3


def test_open_after_server_drops_connection(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    write_tree(samba_folder.local, ["a.txt", "b.txt"])
    before = smbd_children(samba_folder.server)
    smb_source.check()
    ours = smbd_children(samba_folder.server) - before
    assert ours, "expected smbd to fork a child for our connection"

    # Ending our smbd child drops the TCP connection, as a server restart would.
    # smbprotocol's receive thread then ends, but the connection still looks
    # open: without a reconnect the next request would wait forever.
    for pid in ours:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _has_dead_connection(smb_source._slot().cache) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _has_dead_connection(smb_source._slot().cache)

    with smb_source.open("a.txt") as reader:
        assert reader.read() == (samba_folder.local / "a.txt").read_bytes()


def test_call_reconnects_on_expired_session(
    samba_folder: SambaFolder, smb_source: SmbSource
) -> None:
    """An operation failing with STATUS_NETWORK_SESSION_EXPIRED runs again on a new session.

    Samba with NTLM never expires a session, so the first failure is raised
    by the operation itself, imitating what Windows sends when a Kerberos
    ticket behind the session runs out.
    """
    write_tree(samba_folder.local, ["a.txt"])
    smb_source.check()
    sessions: list[object] = []
    calls = 0

    def expire_once(kwargs: dict[str, Any]) -> bytes:
        nonlocal calls
        calls += 1
        sessions.append(smbclient.register_session(samba_folder.server.host, **kwargs))
        if calls == 1:
            raise SMBOSError(STATUS_NETWORK_SESSION_EXPIRED, "a.txt")
        with smbclient.open_file(
            samba_folder.server.unc(f"{samba_folder.relative}/a.txt"),
            mode="rb",
            share_access="rwd",
            **kwargs,
        ) as reader:
            return bytes(reader.read())

    data = smb_source._call(expire_once)

    assert data == (samba_folder.local / "a.txt").read_bytes()
    assert calls == 2
    assert sessions[0] is not sessions[1]


# -- check(): the source must be there before anything is copied -------------------


def test_check_accepts_existing_folder(smb_source: SmbSource) -> None:
    smb_source.check()


def test_check_unreachable_server(samba_server: SambaServer) -> None:
    port = free_port()
    source = SmbSource(
        SmbLocation(
            server="127.0.0.1", port=port, share="backup", path="", username=samba_server.username
        ),
        samba_server.password,
    )

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "cannot reach" in str(caught.value)


def test_check_wrong_password(samba_folder: SambaFolder) -> None:
    source = open_smb_source(samba_folder.url, "Wrong-Password-42")

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    message = str(caught.value)
    assert "rejected the logon" in message
    assert "Wrong-Password-42" not in message
    assert samba_folder.server.password not in message


def test_check_missing_share(samba_server: SambaServer) -> None:
    url = samba_server.url().replace("/backup", "/no-such-share")
    source = open_smb_source(url, samba_server.password)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "share 'no-such-share'" in str(caught.value)


def test_check_missing_folder(samba_folder: SambaFolder) -> None:
    source = open_smb_source(samba_folder.url + "/missing", samba_folder.server.password)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert f"folder '{samba_folder.relative}/missing'" in str(caught.value)


def test_check_folder_is_a_file(samba_folder: SambaFolder) -> None:
    write_tree(samba_folder.local, ["file.txt"])
    source = open_smb_source(samba_folder.url + "/file.txt", samba_folder.server.password)

    with pytest.raises(SourceUnavailable) as caught:
        source.check()

    assert "cannot be listed" in str(caught.value)


# -- shibaws backup smb://... s3://... end to end -----------------------------------


def s3_objects(endpoint_url: str, bucket: str, prefix: str) -> dict[str, bytes]:
    """Return every object under PREFIX except shibaws's own files, keyed relative to PREFIX."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"][len(prefix) :]
            if key.startswith(".shibaws/"):
                continue
            found[key] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


@pytest.fixture
def smb_bucket(s3_env: S3Server) -> str:
    name = new_bucket_name()
    boto3.client(
        "s3",
        endpoint_url=s3_env.endpoint_url,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    ).create_bucket(Bucket=name)
    return name


def test_backup_cli_copies_share_to_s3(
    samba_folder: SambaFolder, s3_env: S3Server, smb_bucket: str, samba_password_file: Path
) -> None:
    contents = write_tree(samba_folder.local, AWKWARD_NAMES)
    destination = f"s3://{smb_bucket}/share"

    code = main(
        [
            "backup",
            "--path-style",
            "--smb-password-file",
            str(samba_password_file),
            samba_folder.url,
            destination,
        ]
    )

    assert code == ExitCode.OK
    assert s3_objects(s3_env.endpoint_url, smb_bucket, "share/") == contents


def test_backup_cli_second_run_copies_nothing(
    samba_folder: SambaFolder,
    s3_env: S3Server,
    smb_bucket: str,
    samba_password_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_tree(samba_folder.local, AWKWARD_NAMES)
    argv = ["backup", "--path-style", "--smb-password-file", str(samba_password_file)]
    argv += [samba_folder.url, f"s3://{smb_bucket}/share"]
    assert main(argv) == ExitCode.OK
    capsys.readouterr()

    code = main(argv)

    assert code == ExitCode.OK
    assert "copied 0 files" in capsys.readouterr().out


def test_backup_cli_config_file_with_share(
    samba_folder: SambaFolder,
    s3_env: S3Server,
    smb_bucket: str,
    samba_password_file: Path,
    tmp_path: Path,
) -> None:
    contents = write_tree(samba_folder.local, ["one/a.txt", "two/b.txt", "two/c d.txt"])
    server = samba_folder.server
    config = tmp_path / "backup.toml"
    config.write_text(
        f"""
[share]
server = "{server.host}"
port = {server.port}
share = "{server.share}"
user = "{server.username}"
password_file = "{samba_password_file}"

[s3]
path_style = true

[[folder]]
path = "{samba_folder.relative}/one"
destination = "s3://{smb_bucket}/one"

[[folder]]
path = "{samba_folder.relative}/two"
destination = "s3://{smb_bucket}/two"
"""
    )

    code = main(["backup", "--config", str(config)])

    assert code == ExitCode.OK
    assert s3_objects(s3_env.endpoint_url, smb_bucket, "one/") == {"a.txt": contents["one/a.txt"]}
    assert s3_objects(s3_env.endpoint_url, smb_bucket, "two/") == {
        "b.txt": contents["two/b.txt"],
        "c d.txt": contents["two/c d.txt"],
    }


@pytest.mark.parametrize("failure", ["wrong password", "unreachable server", "missing folder"])
def test_backup_cli_source_error_deletes_nothing(
    samba_folder: SambaFolder,
    s3_env: S3Server,
    smb_bucket: str,
    samba_password_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    failure: str,
) -> None:
    contents = write_tree(samba_folder.local, ["keep1.txt", "keep2.txt"])
    destination = f"s3://{smb_bucket}/share"
    base = ["backup", "--path-style", "--delete", "--force-delete"]
    assert (
        main(
            [*base, "--smb-password-file", str(samba_password_file), samba_folder.url, destination]
        )
        == 0
    )
    capsys.readouterr()

    url, secret = samba_folder.url, samba_password_file
    if failure == "wrong password":
        secret = tmp_path / "wrong"
        secret.write_text("not-the-password")
    elif failure == "unreachable server":
        url = url.replace(f":{samba_folder.server.port}/", f":{free_port()}/")
    else:
        url += "/gone"
    code = main([*base, "--smb-password-file", str(secret), url, destination])

    assert code == ExitCode.BACKUP_SOURCE_ERROR
    assert s3_objects(s3_env.endpoint_url, smb_bucket, "share/") == contents
    assert "not-the-password" not in capsys.readouterr().err
