"""Smoke test: the backup benchmark runs end to end on tiny data sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def test_backup_benchmark_quick_run(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- bench-login:start -->\nlogin\n<!-- bench-login:end -->\n")

    result = subprocess.run(
        [sys.executable, "benchmarks/backup.py", "--quick", "--output", str(page)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    text = page.read_text()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "WARNING" not in result.stderr
    assert "<!-- bench-login:start -->\nlogin\n<!-- bench-login:end -->" in text
    assert "<!-- bench-backup:start -->\n## Backup" in text
    assert "| small | 60 |" in text
    assert "failed" not in text.split("<!-- bench-backup:start -->")[1]
