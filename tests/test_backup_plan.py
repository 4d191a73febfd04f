"""Pure parts of the backup: decisions, filters, key checks, merge, guards, manifest, config."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shibaws.backup.config import load_config, parse_config
from shibaws.backup.delete import DeleteGuards, refuse_reason
from shibaws.backup.errors import BackupConfigInvalid
from shibaws.backup.manifest import ManifestWriter, read_manifest
from shibaws.backup.plan import (
    Action,
    FileState,
    Filters,
    ListedObject,
    OutOfOrder,
    Record,
    decide,
    key_order_name,
    key_problem,
    merge_by_key,
)
from shibaws.backup.s3 import parse_destination

FILE = FileState("a.txt", 10, 1_000)
LISTED = ListedObject("a.txt", 10, "etag1")
RECORD = Record("a.txt", 10, "etag1", 1_000)


def test_decide_new_file_uploads() -> None:
    assert decide(FILE, None, None).action is Action.UPLOAD


def test_decide_unchanged_file_skips() -> None:
    assert decide(FILE, LISTED, RECORD).action is Action.SKIP


def test_decide_size_change_uploads() -> None:
    assert decide(FILE._replace(size=11), LISTED, RECORD).action is Action.UPLOAD


def test_decide_same_size_older_mtime_uploads() -> None:
    decision = decide(FILE._replace(mtime_ns=500), LISTED, RECORD)
    assert decision.action is Action.UPLOAD
    assert "mtime differs" in decision.reason


def test_decide_future_mtime_skips_once_recorded() -> None:
    future = 4_000_000_000 * 10**9  # year 2096
    record = RECORD._replace(mtime_ns=future)
    assert decide(FILE._replace(mtime_ns=future), LISTED, record).action is Action.SKIP


def test_decide_record_for_other_etag_checks_metadata() -> None:
    decision = decide(FILE, LISTED._replace(etag="etag2"), RECORD)
    assert decision.action is Action.CHECK_METADATA


def test_decide_no_record_checks_metadata() -> None:
    assert decide(FILE, LISTED, None).action is Action.CHECK_METADATA


def test_decide_after_metadata_without_mtime_uploads() -> None:
    assert decide(FILE, LISTED, None, metadata_checked=True).action is Action.UPLOAD


def test_decide_gone_file_is_delete_candidate() -> None:
    assert decide(None, LISTED, RECORD).action is Action.DELETE


def test_decide_record_only_is_forgotten() -> None:
    assert decide(None, None, RECORD).action is Action.FORGET


def test_filters_last_match_wins() -> None:
    filters = Filters(((False, "*.log"), (True, "keep/*.log")))
    assert not filters.includes("a/b.log")
    assert filters.includes("keep/b.log")
    assert filters.includes("a/b.txt")


def test_filters_star_crosses_folders() -> None:
    assert not Filters(((False, "*.tmp"),)).includes("deep/er/x.tmp")


def test_key_problem_too_long() -> None:
    problem = key_problem("é" * 513, "")
    assert problem is not None
    assert "1026 bytes" in problem


def test_key_problem_counts_prefix() -> None:
    assert key_problem("a" * 1000, "p" * 24) is None
    assert key_problem("a" * 1000, "p" * 25) is not None


def test_key_problem_invalid_utf8() -> None:
    assert key_problem("bad\udcff", "") == "name is not valid UTF-8"


def test_key_problem_reserved_prefix() -> None:
    assert key_problem(".shibaws/manifest.jsonl.gz", "") is not None


def test_key_order_matches_s3_byte_order() -> None:
    names = [("a", True), ("a.txt", False), ("a0", False), ("é", False), ("Z", False)]
    ordered = sorted(names, key=lambda pair: key_order_name(*pair))
    keys = [name + ("/x" if is_dir else "") for name, is_dir in ordered]
    assert keys == sorted(keys, key=lambda key: key.encode("utf-8"))


def test_merge_by_key_aligns_three_streams() -> None:
    files = [FileState("a", 1, 1), FileState("c", 1, 1)]
    listed = [ListedObject("a", 1, "e"), ListedObject("b", 1, "e")]
    records = [Record("b", 1, "e", 1), Record("d", 1, "e", 1)]
    merged = list(merge_by_key(files, listed, records))
    assert [item.key for item in merged] == ["a", "b", "c", "d"]
    assert merged[0].file is not None and merged[0].listed is not None
    assert merged[1].file is None
    assert merged[1].record is not None
    assert merged[3].listed is None
    assert merged[3].record is not None


def test_merge_by_key_rejects_unsorted_listing() -> None:
    listed = [ListedObject("b", 1, "e"), ListedObject("a", 1, "e")]
    with pytest.raises(OutOfOrder):
        list(merge_by_key([], listed, []))


def test_refuse_reason_allows_small_delete() -> None:
    assert refuse_reason(1, 10, 9, 0, DeleteGuards()) is None


def test_refuse_reason_after_source_error() -> None:
    reason = refuse_reason(1, 10, 9, 1, DeleteGuards(force=True))
    assert reason is not None
    assert "source error" in reason


def test_refuse_reason_empty_source() -> None:
    reason = refuse_reason(10, 10, 0, 0, DeleteGuards(force=True))
    assert reason is not None
    assert "no files" in reason


def test_refuse_reason_over_percent() -> None:
    reason = refuse_reason(6, 10, 4, 0, DeleteGuards(max_percent=50))
    assert reason is not None
    assert "--force-delete" in reason


def test_refuse_reason_over_percent_forced() -> None:
    assert refuse_reason(6, 10, 4, 0, DeleteGuards(max_percent=50, force=True)) is None


def test_manifest_round_trip() -> None:
    writer = ManifestWriter()
    records = [Record("a b+%#é", 3, "e1", 1), Record("z/deep", 0, "e2-3", 2)]
    for record in records:
        writer.write(record)
    data = writer.finish(12.34).read()
    writer.close()
    header, stored = read_manifest(io.BytesIO(data))
    assert header.last_run_seconds == 12.3
    assert list(stored) == records


def test_manifest_truncated_keeps_earlier_records() -> None:
    writer = ManifestWriter()
    for index in range(2000):
        writer.write(Record(f"k{index:05}", index, "e", index))
    data = writer.finish(1.0).read()
    writer.close()
    _, stored = read_manifest(io.BytesIO(data[: len(data) // 2]))
    kept = list(stored)
    assert 0 < len(kept) < 2000
    assert kept[0] == Record("k00000", 0, "e", 0)


def test_parse_destination_adds_slash() -> None:
    destination = parse_destination("s3://bucket/some/prefix")
    assert destination.bucket == "bucket"
    assert destination.prefix == "some/prefix/"


def test_parse_destination_rejects_other_scheme() -> None:
    with pytest.raises(BackupConfigInvalid):
        parse_destination("https://bucket/prefix")


CONFIG = """
[share]
server = "files.example.edu"
share = "Backups"
user = "svc"
password_file = "/run/secrets/smb_password"

[s3]
profile = "saml"
checksum = "md5"
jobs = 8

[defaults]
exclude = ["*.tmp"]

[[folder]]
path = "SQL"
destination = "s3://dr/sql"
delete = true
include = ["keep.tmp"]

[[folder]]
path = "Web"
destination = "s3://dr/web"
max_delete_percent = 10
"""


def test_load_config_reads_folders(tmp_path: Path) -> None:
    path = tmp_path / "backup.toml"
    path.write_text(CONFIG)
    config = load_config(path)
    assert config.share is not None
    assert config.share.server == "files.example.edu"
    assert config.s3.profile == "saml"
    assert config.s3.checksum.value == "MD5"
    assert config.jobs == 8
    assert [folder.path for folder in config.folders] == ["SQL", "Web"]
    assert config.folders[0].delete is True
    assert config.folders[0].filters.rules == ((False, "*.tmp"), (True, "keep.tmp"))
    assert config.folders[1].guards.max_percent == 10


@pytest.mark.parametrize(
    ("text", "named_key"),
    [
        ('[[folder]]\npath = "a"\n', "folder[0].destination"),
        ('[[folder]]\npath = "a"\ndestination = "http://x"\n', "folder[0].destination"),
        ('[[folder]]\npath = "a"\ndestination = "s3://b/p"\ndelete = "yes"\n', "folder[0].delete"),
        ('[[folder]]\npath = "a"\ndestination = "s3://b/p"\ncolour = 1\n', "folder[0].colour"),
        (
            '[s3]\nchecksum = "xx"\n[[folder]]\npath = "a"\ndestination = "s3://b/p"\n',
            "s3.checksum",
        ),
        (
            "[share]\nserver = 'x'\n[[folder]]\npath = 'a'\ndestination = 's3://b/p'\n",
            "share.share",
        ),
        ("", "folder"),
    ],
)
def test_parse_config_error_names_key(text: str, named_key: str) -> None:
    import tomllib

    with pytest.raises(BackupConfigInvalid) as caught:
        parse_config(tomllib.loads(text), "backup.toml")
    assert f"backup.toml: {named_key}:" in str(caught.value)
