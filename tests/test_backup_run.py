"""End-to-end backups from local folders into a real S3 server (rclone serve s3) on loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import botocore.config
import pytest

from servers.s3_fixtures import S3Proxy, S3Server, new_bucket_name
from shibaws.__main__ import main
from shibaws.backup.local import LocalSource
from shibaws.backup.report import JobStats, LineProgress
from shibaws.backup.run import JobOptions, run_job
from shibaws.backup.s3 import S3Settings, make_client, make_session, parse_destination
from shibaws.backup.source import SourceEntry, SourceProblem
from shibaws.backup.upload import MIB, UploadOptions
from shibaws.exitcodes import ExitCode

AWKWARD_NAMES = [
    "plain.txt",
    "with space.txt",
    "plus+sign.txt",
    "per%cent%20.txt",
    "hash#tag.txt",
    "ünïcødé/日本語 ファイル.txt",
    "a.txt",
    "a/b.txt",
    "a0.txt",
    "empty.txt",
    "/".join(f"level{depth}" for depth in range(40)) + "/deep.txt",
]


def s3_client(endpoint_url: str) -> Any:
    """Return a plain boto3 client for checking the bucket, independent of shibaws."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def bucket(s3_env: S3Server) -> str:
    """A new empty bucket on the session's rclone server."""
    name = new_bucket_name()
    s3_client(s3_env.endpoint_url).create_bucket(Bucket=name)
    return name


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def tree_files(root: Path) -> dict[str, bytes]:
    """Return every regular file under ROOT (no symlinks), keyed by "/"-separated path."""
    found: dict[str, bytes] = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def bucket_files(endpoint_url: str, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Return every object under PREFIX except the manifest, keyed relative to PREFIX."""
    client = s3_client(endpoint_url)
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"][len(prefix) :]
            if key.startswith(".shibaws/"):
                continue
            found[key] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def backup(*args: str) -> int:
    return main(["backup", "--path-style", *args])


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    files = {name: f"content of {name}\n".encode() for name in AWKWARD_NAMES}
    files["empty.txt"] = b""
    return make_tree(tmp_path / "src", files)


# --- Full runs and runs with nothing to do ------------------------------------------------


def test_backup_full_run_copies_names_and_contents(
    s3_env: S3Server, bucket: str, source_tree: Path
) -> None:
    (source_tree / "big.bin").write_bytes(os.urandom(12 * MIB + 123))
    code = backup(str(source_tree), f"s3://{bucket}/backup", "--part-size", "5")
    assert code == ExitCode.OK
    assert bucket_files(s3_env.endpoint_url, bucket, "backup/") == tree_files(source_tree)


def test_backup_stores_source_mtime_metadata(
    s3_env: S3Server, bucket: str, source_tree: Path
) -> None:
    os.utime(source_tree / "plain.txt", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
    head = s3_client(s3_env.endpoint_url).head_object(Bucket=bucket, Key="p/plain.txt")
    metadata = {name.lower(): value for name, value in head["Metadata"].items()}
    assert metadata["mtime-ns"] == "1600000000123456789"


def test_backup_second_run_sends_no_put(
    s3_proxy: S3Proxy, bucket: str, source_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
    s3_proxy.reset()
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
    counts = s3_proxy.counts()
    assert counts["PUT"] == 0
    assert counts["POST"] == 0
    assert counts["HEAD"] == 0
    assert counts["GET"] == 2  # one listing page and the manifest
    assert f"0 files (0 B), {len(AWKWARD_NAMES)} unchanged" in capsys.readouterr().out


def test_backup_same_size_older_mtime_is_copied(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"db.bak": b"version-1"})
    target = source / "db.bak"
    os.utime(target, ns=(2_000_000_000 * 10**9, 2_000_000_000 * 10**9))
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK

    target.write_bytes(b"version-2")  # same size
    os.utime(target, ns=(1_000_000_000 * 10**9, 1_000_000_000 * 10**9))  # older mtime
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    assert bucket_files(s3_env.endpoint_url, bucket, "p/") == {"db.bak": b"version-2"}


def test_backup_future_mtime_is_copied_once(s3_proxy: S3Proxy, bucket: str, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {"future.txt": b"from the future"})
    future = 4_000_000_000 * 10**9  # year 2096
    os.utime(source / "future.txt", ns=(future, future))
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    s3_proxy.reset()
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    assert s3_proxy.counts()["PUT"] == 0


def test_backup_lost_manifest_costs_heads_not_uploads(
    s3_proxy: S3Proxy, bucket: str, source_tree: Path
) -> None:
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
    s3_client(s3_proxy.endpoint_url).delete_object(
        Bucket=bucket, Key="p/.shibaws/manifest.jsonl.gz"
    )
    s3_proxy.reset()
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
    counts = s3_proxy.counts()
    assert counts["HEAD"] == len(AWKWARD_NAMES)
    assert counts["PUT"] == 1  # the rebuilt manifest only


# --- Deletes and their guards -------------------------------------------------------------


def four_files(root: Path) -> Path:
    return make_tree(root, {f"f{index}.txt": b"x" * index for index in range(4)})


def test_backup_delete_removes_gone_file(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p", "--delete") == ExitCode.OK
    (source / "f0.txt").unlink()
    assert backup(str(source), f"s3://{bucket}/p", "--delete") == ExitCode.OK
    assert sorted(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["f1.txt", "f2.txt", "f3.txt"]


def test_backup_without_delete_keeps_gone_file(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    (source / "f0.txt").unlink()
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    assert "f0.txt" in bucket_files(s3_env.endpoint_url, bucket, "p/")


def test_backup_delete_over_percent_refused(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    for index in range(3):
        (source / f"f{index}.txt").unlink()
    code = backup(str(source), f"s3://{bucket}/p", "--delete")
    assert code == ExitCode.BACKUP_PARTIAL
    assert len(bucket_files(s3_env.endpoint_url, bucket, "p/")) == 4
    assert "--force-delete" in capsys.readouterr().out


def test_backup_delete_over_percent_forced(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    for index in range(3):
        (source / f"f{index}.txt").unlink()
    code = backup(str(source), f"s3://{bucket}/p", "--delete", "--force-delete")
    assert code == ExitCode.OK
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["f3.txt"]


def test_backup_missing_source_deletes_nothing(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    code = backup(str(tmp_path / "not-mounted"), f"s3://{bucket}/p", "--delete", "--force-delete")
    assert code == ExitCode.BACKUP_SOURCE_ERROR
    assert len(bucket_files(s3_env.endpoint_url, bucket, "p/")) == 4
    assert "not found" in capsys.readouterr().err


def test_backup_empty_mount_point_deletes_nothing(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    empty = tmp_path / "mnt"
    empty.mkdir()
    code = backup(str(empty), f"s3://{bucket}/p", "--delete", "--force-delete")
    assert code == ExitCode.BACKUP_SOURCE_ERROR
    assert len(bucket_files(s3_env.endpoint_url, bucket, "p/")) == 4
    assert "may not be mounted" in capsys.readouterr().err


def test_backup_empty_source_allowed_still_deletes_nothing(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ("--delete", "--force-delete", "--allow-empty-source")
    code = backup(str(empty), f"s3://{bucket}/p", *args)
    assert code == ExitCode.BACKUP_NOTHING_DONE
    assert len(bucket_files(s3_env.endpoint_url, bucket, "p/")) == 4


class ProblemSource(LocalSource):
    """A local folder whose walk also reports one unreadable sub-folder.

    It imitates a folder the account may not list; the tests run as root,
    which can list every folder, so the problem is injected.
    """

    def walk(self) -> Iterator[SourceEntry | SourceProblem]:
        yield SourceProblem("locked", "cannot list folder: Permission denied")
        yield from super().walk()


class UnreadableSource(LocalSource):
    """A local folder whose files named in ``unreadable`` cannot be opened.

    It imitates files without read permission (root reads every file here).
    """

    def __init__(self, root: Path, unreadable: set[str]) -> None:
        super().__init__(root)
        self.unreadable = unreadable

    def open(self, path: str) -> BinaryIO:
        if path in self.unreadable:
            raise PermissionError(13, "Permission denied", path)
        return super().open(path)


def run_direct(source: LocalSource, endpoint_url: str, bucket: str, **options: Any) -> JobStats:
    """Run one job through run_job, without the CLI, against ENDPOINT_URL."""
    settings = S3Settings(endpoint_url=endpoint_url, path_style=True)
    client = make_client(make_session(settings), settings)
    stats = JobStats(source.description, f"s3://{bucket}/p/")
    run_job(
        source,
        parse_destination(f"s3://{bucket}/p"),
        client,
        JobOptions(**options),
        stats,
        LineProgress(stats),
    )
    return stats


def test_backup_delete_refused_after_source_error(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = four_files(tmp_path / "src")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    (source / "f0.txt").unlink()
    stats = run_direct(ProblemSource(source), s3_env.endpoint_url, bucket, delete=True)
    assert stats.source_errors == 1
    assert stats.delete_refused is not None
    assert "f0.txt" in bucket_files(s3_env.endpoint_url, bucket, "p/")


def test_backup_unreadable_file_counted(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = four_files(tmp_path / "src")
    stats = run_direct(UnreadableSource(source, {"f1.txt"}), s3_env.endpoint_url, bucket)
    assert stats.files_failed == 1
    assert stats.failures == [{"path": "f1.txt", "message": "cannot read: Permission denied"}]
    assert stats.files_copied == 3
    assert stats.exit_code() == ExitCode.BACKUP_PARTIAL


def test_backup_all_unreadable_is_nothing_done(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = four_files(tmp_path / "src")
    every = {f"f{index}.txt" for index in range(4)}
    stats = run_direct(UnreadableSource(source, every), s3_env.endpoint_url, bucket)
    assert stats.files_failed == 4
    assert stats.exit_code() == ExitCode.BACKUP_NOTHING_DONE


# --- Files changing while read ------------------------------------------------------------


class GrowingSource(LocalSource):
    """A local folder where a writer appends to a file each time it has been read.

    It imitates a log or database file that another program writes while
    the backup reads it; ``growths`` limits how many reads see a change.
    """

    def __init__(self, root: Path, name: str, growths: int) -> None:
        super().__init__(root)
        self.name = name
        self.growths = growths

    def open(self, path: str) -> BinaryIO:
        stream = super().open(path)
        if path != self.name or self.growths <= 0:
            return stream
        self.growths -= 1
        original_read: Callable[..., bytes] = stream.read

        def read_then_grow(*args: Any) -> bytes:
            data = original_read(*args)
            with open(self._absolute(path), "ab") as writer:
                writer.write(b"more")
            return data

        stream.read = read_then_grow  # type: ignore[method-assign]
        return stream


def test_backup_growing_file_not_stored(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {"log.txt": b"start", "other.txt": b"ok"})
    stats = run_direct(GrowingSource(source, "log.txt", growths=100), s3_env.endpoint_url, bucket)
    assert stats.files_failed == 1
    assert "changed while being read" in stats.failures[0]["message"]
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["other.txt"]


def test_backup_growing_file_retried_consistent(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"log.txt": b"start"})
    stats = run_direct(GrowingSource(source, "log.txt", growths=1), s3_env.endpoint_url, bucket)
    assert stats.files_failed == 0
    assert bucket_files(s3_env.endpoint_url, bucket, "p/") == {"log.txt": b"startmore"}


def test_backup_growing_large_file_aborts_multipart(
    s3_env: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"big.bin": os.urandom(11 * MIB)})
    upload = UploadOptions(multipart_threshold=5 * MIB, part_size=5 * MIB)
    grower = GrowingSource(source, "big.bin", growths=1000)
    stats = run_direct(grower, s3_env.endpoint_url, bucket, upload=upload)
    assert stats.files_failed == 1
    assert bucket_files(s3_env.endpoint_url, bucket, "p/") == {}
    pending = s3_client(s3_env.endpoint_url).list_multipart_uploads(Bucket=bucket)
    assert pending.get("Uploads", []) == []


# --- Names ---------------------------------------------------------------------------------


def test_backup_too_long_key_reported_and_skipped(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_path = "/".join(["d" * 250] * 4) + "/" + "f" * 100  # 1104 bytes
    source = make_tree(tmp_path / "src", {long_path: b"x", "short.txt": b"y"})
    code = backup(str(source), f"s3://{bucket}/p")
    assert code == ExitCode.BACKUP_PARTIAL
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["short.txt"]
    assert "over S3's limit" in capsys.readouterr().err


def test_backup_undecodable_name_reported_and_skipped(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_tree(tmp_path / "src", {"good.txt": b"y"})
    with open(os.path.join(os.fsencode(source), b"bad\xff.txt"), "wb") as handle:
        handle.write(b"x")
    code = backup(str(source), f"s3://{bucket}/p")
    assert code == ExitCode.BACKUP_PARTIAL
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["good.txt"]
    assert "bad\\xff.txt: name is not valid UTF-8" in capsys.readouterr().err


def test_backup_symlinks_skipped_by_default(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {"real/file.txt": b"x"})
    (source / "link.txt").symlink_to(source / "real" / "file.txt")
    (source / "linkdir").symlink_to(source / "real")
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["real/file.txt"]


def test_backup_follow_symlinks_reports_loop(
    s3_env: S3Server, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_tree(tmp_path / "src", {"real/file.txt": b"x"})
    (source / "real" / "loop").symlink_to(source)
    code = backup(str(source), f"s3://{bucket}/p", "--follow-symlinks")
    assert code == ExitCode.BACKUP_PARTIAL
    assert list(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["real/file.txt"]
    assert "symbolic link loop" in capsys.readouterr().err


# --- Credentials ---------------------------------------------------------------------------


def test_backup_expired_credentials_stop_then_continue(
    s3_proxy: S3Proxy,
    bucket: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = make_tree(tmp_path / "src", {f"f{index:03}.txt": b"x" * index for index in range(60)})
    report = tmp_path / "report.json"
    s3_proxy.expire_after(22)  # the listing, the manifest GET, then 20 uploads
    code = backup(str(source), f"s3://{bucket}/p", "--jobs", "2", "--report", str(report))
    assert code == ExitCode.BACKUP_CREDENTIALS_EXPIRED
    err = capsys.readouterr().err
    assert err.count("expired") == 1
    assert "failed:" not in err
    first = json.loads(report.read_text())["jobs"][0]
    assert 0 < first["files_copied"] < 60
    assert first["files_failed"] == 0

    s3_proxy.reset()
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    counts = s3_proxy.counts()
    assert counts["PUT"] == 60 - first["files_copied"] + 1  # the rest, then the manifest
    assert bucket_files(s3_proxy.endpoint_url, bucket, "p/") == tree_files(source)


def test_backup_expired_before_start(
    s3_proxy: S3Proxy, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = four_files(tmp_path / "src")
    s3_proxy.expire_after(0)
    code = backup(str(source), f"s3://{bucket}/p")
    assert code == ExitCode.BACKUP_CREDENTIALS_EXPIRED
    assert "shibaws login" in capsys.readouterr().err


# --- Options ---------------------------------------------------------------------------------


def test_backup_exclude_then_include(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    files = {"a.log": b"1", "keep/b.log": b"2", "c.txt": b"3", "deep/d.log": b"4"}
    source = make_tree(tmp_path / "src", files)
    args = ("--exclude", "*.log", "--include", "keep/*")
    assert backup(str(source), f"s3://{bucket}/p", *args) == ExitCode.OK
    assert sorted(bucket_files(s3_env.endpoint_url, bucket, "p/")) == ["c.txt", "keep/b.log"]


def test_backup_excluded_objects_not_deleted(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {"a.log": b"1", "b.txt": b"2", "c.txt": b"3"})
    assert backup(str(source), f"s3://{bucket}/p") == ExitCode.OK
    (source / "a.log").unlink()
    args = ("--delete", "--exclude", "*.log")
    assert backup(str(source), f"s3://{bucket}/p", *args) == ExitCode.OK
    assert "a.log" in bucket_files(s3_env.endpoint_url, bucket, "p/")


def test_backup_dry_run_changes_nothing(
    s3_proxy: S3Proxy, bucket: str, source_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backup(str(source_tree), f"s3://{bucket}/p", "--dry-run") == ExitCode.OK
    assert s3_proxy.counts()["PUT"] == 0
    assert bucket_files(s3_proxy.endpoint_url, bucket, "p/") == {}
    assert f"would copy {len(AWKWARD_NAMES)} files" in capsys.readouterr().out


def test_backup_report_json(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    source = four_files(tmp_path / "src")
    report = tmp_path / "report.json"
    assert backup(str(source), f"s3://{bucket}/p", "--report", str(report)) == ExitCode.OK
    document = json.loads(report.read_text())
    job = document["jobs"][0]
    assert document["exit_code"] == 0
    assert job["files_copied"] == 4
    assert job["bytes_copied"] == 0 + 1 + 2 + 3
    assert job["files_failed"] == 0
    assert job["destination"] == f"s3://{bucket}/p"


def test_backup_md5_checksum_mode(s3_env: S3Server, bucket: str, source_tree: Path) -> None:
    (source_tree / "big.bin").write_bytes(os.urandom(11 * MIB))
    args = ("--checksum", "MD5", "--part-size", "5")
    assert backup(str(source_tree), f"s3://{bucket}/p", *args) == ExitCode.OK
    assert bucket_files(s3_env.endpoint_url, bucket, "p/") == tree_files(source_tree)


def test_backup_config_runs_each_folder(s3_env: S3Server, bucket: str, tmp_path: Path) -> None:
    first = four_files(tmp_path / "one")
    second = make_tree(tmp_path / "two", {"x.txt": b"x", "y.tmp": b"y"})
    config = tmp_path / "backup.toml"
    config.write_text(
        f'[s3]\npath_style = true\n[defaults]\nexclude = ["*.tmp"]\n'
        f'[[folder]]\npath = "{first}"\ndestination = "s3://{bucket}/one"\n'
        f'[[folder]]\npath = "{second}"\ndestination = "s3://{bucket}/two"\n'
    )
    assert main(["backup", "--config", str(config)]) == ExitCode.OK
    assert bucket_files(s3_env.endpoint_url, bucket, "one/") == tree_files(first)
    assert bucket_files(s3_env.endpoint_url, bucket, "two/") == {"x.txt": b"x"}


def test_backup_moto_full_run(moto_s3_env: S3Server, source_tree: Path) -> None:
    bucket = new_bucket_name()
    s3_client(moto_s3_env.endpoint_url).create_bucket(Bucket=bucket)
    (source_tree / "big.bin").write_bytes(os.urandom(11 * MIB))
    assert backup(str(source_tree), f"s3://{bucket}/p", "--part-size", "5") == ExitCode.OK
    assert bucket_files(moto_s3_env.endpoint_url, bucket, "p/") == tree_files(source_tree)
    assert backup(str(source_tree), f"s3://{bucket}/p") == ExitCode.OK
