"""Counters of a backup run, its progress display, and its summary and JSON report."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TextIO

from shibaws.exitcodes import ExitCode

logger = logging.getLogger(__name__)

MAX_LISTED_FAILURES = 1000  # failures kept by name for the report; the rest are only counted


@dataclass
class JobStats:
    """Counters of one job; updated from worker threads under ``lock``."""

    source: str
    destination: str
    dry_run: bool = False
    files_seen: int = 0
    files_copied: int = 0
    bytes_copied: int = 0
    files_skipped: int = 0
    files_excluded: int = 0
    files_deleted: int = 0
    files_failed: int = 0
    source_errors: int = 0
    delete_candidates: int = 0
    delete_refused: str | None = None
    stopped: str | None = None  # why the run stopped early, if it did
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_failure(self, path: str, message: str, source_error: bool = False) -> None:
        with self.lock:
            self.files_failed += 1
            if source_error:
                self.source_errors += 1
            if len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append({"path": path, "message": message})
        logger.warning("failed: %s: %s", path, message)

    def add_copied(self, size: int) -> None:
        with self.lock:
            self.files_copied += 1
            self.bytes_copied += size

    def exit_code(self) -> ExitCode:
        """Map the counters to the job's exit status (credential expiry is raised, not mapped)."""
        if self.files_failed == 0 and self.delete_refused is None:
            return ExitCode.OK
        done = self.files_copied + self.files_deleted + self.files_skipped
        if done == 0:
            return ExitCode.BACKUP_NOTHING_DONE
        return ExitCode.BACKUP_PARTIAL

    def as_json(self) -> dict[str, Any]:
        data = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "lock"}
        data["failures"] = [dict(failure) for failure in self.failures]
        data["exit_code"] = int(self.exit_code())
        return data


def format_bytes(count: float) -> str:
    """Return COUNT bytes in binary units, e.g. "1.5 MiB"."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def summary_line(stats: JobStats) -> str:
    """Return the one-line result of a job, for stdout."""
    verb = "would copy" if stats.dry_run else "copied"
    deleted = "would delete" if stats.dry_run else "deleted"
    text = (
        f"{stats.source} -> {stats.destination}: {verb} {_files(stats.files_copied)} "
        f"({format_bytes(stats.bytes_copied)}), {stats.files_skipped} unchanged, "
        f"{stats.files_excluded} excluded, {deleted} {stats.files_deleted}, "
        f"{stats.files_failed} failed, in {stats.seconds:.1f} s"
    )
    if stats.delete_refused:
        text += f"; deletes refused: {stats.delete_refused}"
    if stats.stopped:
        text += f"; stopped early: {stats.stopped}"
    return text


def write_report(path: Path, jobs: list[JobStats], exit_code: int) -> None:
    """Write the JSON report of all jobs to PATH."""
    document = {"version": 1, "exit_code": exit_code, "jobs": [job.as_json() for job in jobs]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class Progress(Protocol):
    """Receives events from a running job."""

    def file_done(self, path: str, size: int, action: str) -> None: ...

    def close(self) -> None: ...


class LineProgress:
    """Plain log lines, for logs and pipes: one per copied or deleted file at info level."""

    def __init__(self, stats: JobStats) -> None:
        self.stats = stats

    def file_done(self, path: str, size: int, action: str) -> None:
        logger.info("%s: %s (%d bytes)", action, path, size)

    def close(self) -> None:
        return


class RichProgress:
    """A live progress line on a terminal, drawn by rich."""

    REFRESH_S = 0.25

    def __init__(self, stats: JobStats, stream: TextIO = sys.stderr) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self.stats = stats
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._progress.add_task(self._describe(), total=None)
        self._progress.start()
        self._last = 0.0

    def _describe(self) -> str:
        s = self.stats
        return (
            f"{s.files_seen} checked, {s.files_copied} copied, "
            f"{s.files_skipped} unchanged, {s.files_failed} failed"
        )

    def file_done(self, path: str, size: int, action: str) -> None:
        now = time.monotonic()
        if now - self._last < self.REFRESH_S:
            self._progress.update(self._task, completed=self.stats.bytes_copied)
            return
        self._last = now
        self._progress.update(
            self._task, completed=self.stats.bytes_copied, description=self._describe()
        )

    def close(self) -> None:
        self._progress.update(
            self._task, completed=self.stats.bytes_copied, description=self._describe()
        )
        self._progress.stop()


def make_progress(stats: JobStats, stream: TextIO = sys.stderr) -> Progress:
    """Return a rich progress bar when STREAM is a terminal, plain log lines otherwise."""
    if stream.isatty():
        return RichProgress(stats, stream)
    return LineProgress(stats)
