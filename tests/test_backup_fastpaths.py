"""Tests of the backup's fast paths: direct PUTs, whole-file reads and SMB compound reads.

They run against the real rclone S3 server and the real Samba server of the
test session.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.credentials import ReadOnlyCredentials

from servers.s3_fixtures import S3Server, new_bucket_name
from servers.samba_fixtures import SambaFolder
from shibaws.__main__ import main
from shibaws.backup.directput import DirectPut
from shibaws.backup.local import LocalSource
from shibaws.backup.s3 import S3Settings, make_client, make_session
from shibaws.backup.smb import COMPOUND_READ_MAX, SmbSource, open_smb_source
from shibaws.backup.source import SourceEntry
from shibaws.exitcodes import ExitCode

MIB = 1024 * 1024
AWKWARD_KEYS = ["p/a b.txt", "p/plus+percent%.txt", "p/hash#.txt", "p/grüße/ü.txt", "p/~t"]


def plain_client(endpoint_url: str) -> Any:
    """A boto3 client for checking the bucket, independent of shibaws."""
    config = botocore.config.Config(s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


@pytest.fixture
def bucket(s3_env: S3Server) -> str:
    name = new_bucket_name()
    plain_client(s3_env.endpoint_url).create_bucket(Bucket=name)
    return name


@pytest.fixture
def shibaws_client(s3_env: S3Server) -> Any:
    settings = S3Settings(path_style=True)
    return make_client(make_session(settings), settings)


def learned(client: Any, bucket: str) -> DirectPut:
    """Return a DirectPut that has seen one PutObject sent by botocore."""
    direct = DirectPut(client)
    client.put_object(Bucket=bucket, Key="p/first", Body=b"first")
    direct.learn("p/first")
    return direct


# --- DirectPut -----------------------------------------------------------------------------


def test_direct_put_not_ready_before_learning(shibaws_client: Any, bucket: str) -> None:
    direct = DirectPut(shibaws_client)
    assert not direct.ready
    assert direct.put("p/x", b"x", {"Bucket": bucket, "Key": "p/x"}) is None


def test_direct_put_stores_awkward_keys_with_metadata(
    s3_env: S3Server, shibaws_client: Any, bucket: str
) -> None:
    direct = learned(shibaws_client, bucket)
    assert direct.ready
    for key in AWKWARD_KEYS:
        data = f"content of {key}".encode()
        arguments = {
            "Bucket": bucket,
            "Key": key,
            "Metadata": {"mtime-ns": "123"},
            "ChecksumAlgorithm": "CRC32",
        }
        assert direct.put(key, data, arguments) == hashlib.md5(data).hexdigest()
    direct.close()

    checker = plain_client(s3_env.endpoint_url)
    for key in AWKWARD_KEYS:
        stored = checker.get_object(Bucket=bucket, Key=key)
        assert stored["Body"].read() == f"content of {key}".encode()
        # rclone capitalises metadata names, as it does for botocore's requests.
        metadata = {name.lower(): value for name, value in stored["Metadata"].items()}
        assert metadata == {"mtime-ns": "123"}


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA1"])
def test_direct_put_sends_other_checksums(
    s3_env: S3Server, shibaws_client: Any, bucket: str, algorithm: str
) -> None:
    direct = learned(shibaws_client, bucket)
    arguments = {"Bucket": bucket, "Key": "p/c", "ChecksumAlgorithm": algorithm}
    assert direct.put("p/c", b"checked", arguments) is not None
    stored = plain_client(s3_env.endpoint_url).get_object(Bucket=bucket, Key="p/c")
    assert stored["Body"].read() == b"checked"


def test_direct_put_wrong_content_md5_turns_itself_off(shibaws_client: Any, bucket: str) -> None:
    direct = learned(shibaws_client, bucket)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    arguments = {"Bucket": bucket, "Key": "p/bad", "ContentMD5": wrong}
    assert direct.put("p/bad", b"data", arguments) is None
    assert not direct.ready


def test_direct_put_wrong_secret_rejected(
    s3_env: S3Server, shibaws_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rclone serve s3 with --auth-key checks SigV4 signatures, so it rejects a wrong secret key.

    This shows that the accepted direct PUTs in the other tests were checked too.
    """
    direct = learned(shibaws_client, bucket)
    good = shibaws_client._request_signer._credentials.get_frozen_credentials()
    wrong = ReadOnlyCredentials(good.access_key, good.secret_key + "x", good.token)
    monkeypatch.setattr(direct, "_credentials", lambda: wrong)

    assert direct.put("p/forged", b"data", {"Bucket": bucket, "Key": "p/forged"}) is None
    assert not direct.ready
    listing = plain_client(s3_env.endpoint_url).list_objects_v2(Bucket=bucket, Prefix="p/forged")
    assert listing.get("KeyCount", 0) == 0


def test_direct_put_declines_unknown_arguments(shibaws_client: Any, bucket: str) -> None:
    direct = learned(shibaws_client, bucket)
    arguments = {"Bucket": bucket, "Key": "p/t", "Tagging": "a=b"}
    assert direct.put("p/t", b"data", arguments) is None
    assert direct.ready


def test_backup_without_direct_put_matches_source(
    s3_env: S3Server, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The botocore-only path (direct_put off) still stores every file."""
    from shibaws.backup import upload

    monkeypatch.setattr(upload.UploadOptions, "__init__", _no_direct_init(upload.UploadOptions))
    source = tmp_path / "src"
    source.mkdir()
    for index in range(5):
        (source / f"f{index}.txt").write_bytes(os.urandom(100 + index))
    code = main(["backup", "--path-style", str(source), f"s3://{bucket}/n"])
    assert code == ExitCode.OK
    checker = plain_client(s3_env.endpoint_url)
    for index in range(5):
        stored = checker.get_object(Bucket=bucket, Key=f"n/f{index}.txt")["Body"].read()
        assert stored == (source / f"f{index}.txt").read_bytes()


def _no_direct_init(cls: Any) -> Any:
    original = cls.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["direct_put"] = False
        original(self, *args, **kwargs)

    return init


def test_backup_multipart_second_and_third_runs_copy_nothing(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The record takes CompleteMultipartUpload's ETag; rclone lists another one, so the
    second run reads the object's metadata once and the third finds the record exact."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "big.bin").write_bytes(os.urandom(11 * MIB))
    arguments = ["backup", "--path-style", "--part-size", "5", str(source), f"s3://{bucket}/m"]
    assert main(arguments) == ExitCode.OK
    assert main(arguments) == ExitCode.OK
    assert main(arguments) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert "copied 1 file " in lines[0]
    assert "copied 0 files (0 B), 1 unchanged" in lines[1]
    assert "copied 0 files (0 B), 1 unchanged" in lines[2]


# --- whole-file reads ------------------------------------------------------------------------


def test_local_read_file_returns_data_and_stats(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    data, before, after = LocalSource(tmp_path).read_file("a.txt", 5, 8 * MIB)
    assert data == b"hello"
    assert before.size == 5
    assert after == before


def test_local_read_file_skips_data_at_limit(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 100)
    data, before, _ = LocalSource(tmp_path).read_file("big.bin", 10, 100)
    assert data == b""
    assert before.size == 100


def smb_source(samba_folder: SambaFolder) -> SmbSource:
    source = open_smb_source(samba_folder.url, samba_folder.server.password)
    source.check()
    return source


def test_smb_read_file_compound_matches_walk(
    samba_folder: SambaFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    (samba_folder.local / "small file.txt").write_bytes(b"compound read")
    (samba_folder.local / "empty").write_bytes(b"")
    source = smb_source(samba_folder)
    # Only the compound request may answer: the separate path would raise.
    monkeypatch.setattr(source, "_read_separately", None)
    try:
        walked = {item.path: item for item in source.walk() if isinstance(item, SourceEntry)}
        data, before, after = source.read_file("small file.txt", 13, 8 * MIB)
        empty, empty_before, _ = source.read_file("empty", 0, 8 * MIB)
    finally:
        source.close()
    assert data == b"compound read"
    assert before.size == 13
    assert before.mtime_ns == walked["small file.txt"].mtime_ns
    assert after == before
    assert empty == b""
    assert empty_before.size == 0


def test_smb_read_file_missing_file_raises_not_found(samba_folder: SambaFolder) -> None:
    (samba_folder.local / "present").write_bytes(b"x")
    source = smb_source(samba_folder)
    try:
        with pytest.raises(OSError) as raised:
            source.read_file("gone.txt", 10, 8 * MIB)
    finally:
        source.close()
    assert raised.value.errno == 2


def test_smb_read_file_grown_file_reads_whole(samba_folder: SambaFolder) -> None:
    """A file larger than the walk saw is read again separately, not cut short."""
    (samba_folder.local / "grew.bin").write_bytes(b"y" * 5000)
    source = smb_source(samba_folder)
    try:
        data, before, _ = source.read_file("grew.bin", 10, 8 * MIB)
    finally:
        source.close()
    assert len(data) == 5000
    assert before.size == 5000


def test_smb_read_file_above_compound_size(samba_folder: SambaFolder) -> None:
    content = os.urandom(COMPOUND_READ_MAX + 10)
    (samba_folder.local / "medium.bin").write_bytes(content)
    source = smb_source(samba_folder)
    try:
        data, before, after = source.read_file("medium.bin", len(content), 8 * MIB)
    finally:
        source.close()
    assert data == content
    assert after == before
