"""``shibaws backup`` rejects bad S3 settings with a message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port
from shibaws.exitcodes import ExitCode


def _backup(aws_home: Path, source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    return subprocess.run(
        [sys.executable, "-m", "shibaws", "backup", str(source), "s3://bucket/prefix", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "file.txt").write_text("content")
    return folder


def test_jobs_zero_rejected(aws_home: Path, source: Path) -> None:
    result = _backup(aws_home, source, "--jobs", "0")
    assert result.returncode == ExitCode.USAGE
    assert "--jobs 0: must be 1 or more" in result.stderr


def test_malformed_endpoint_rejected(aws_home: Path, source: Path) -> None:
    result = _backup(aws_home, source, "--endpoint-url", "notaurl")
    assert result.returncode == ExitCode.USAGE
    assert "invalid endpoint URL 'notaurl'" in result.stderr


def test_unreachable_endpoint_reported(aws_home: Path, source: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = _backup(aws_home, source, "--endpoint-url", endpoint, "--path-style")
    assert result.returncode == ExitCode.BACKUP_NOTHING_DONE
    assert f"cannot reach S3 at {endpoint}" in result.stderr
    assert "internal error" not in result.stderr
