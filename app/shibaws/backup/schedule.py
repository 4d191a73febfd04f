"""Run ``shibaws backup`` on a cron schedule, one run at a time.

Each run is a child process (``python -m shibaws backup ... --report
FILE``), so a run's memory and open connections end with it, and a hung
run can be stopped without stopping the scheduler. The rules:

- Cron expressions are parsed by croniter: five fields (minute hour day
  month weekday), an optional sixth field for seconds, which croniter
  reads last (``* * * * * */10`` fires every 10 s), or ``@daily`` and its
  kin. Times are in the local time zone (``TZ``).
- Runs never overlap. Within one scheduler they run one after another,
  and fire times missed while a run was going are skipped, not queued.
  Across processes an ``flock`` on the lock file makes a second scheduler
  skip its run while the first one's run holds the lock (flock works
  between containers only on the same host).
- After each run the status file gets start, end, exit code and the counts
  from the run's report, written atomically (JSON).
- SIGTERM or SIGINT stops the scheduler at once between runs. During a
  run the child gets SIGINT first, so its ``finally`` blocks close shares
  and unmount, then SIGTERM and SIGKILL, ``stop_timeout_s`` apart.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from shibaws.errors import UsageError
from shibaws.exitcodes import ExitCode

logger = logging.getLogger(__name__)

SCHEDULE_ENV = "SHIBAWS_SCHEDULE"
STATUS_FILE_ENV = "SHIBAWS_STATUS_FILE"
DEFAULT_STOP_TIMEOUT_S = 20.0
# The wait for the next fire time wakes at least this often, so a changed
# wall clock (suspend, NTP step) delays a run by at most this much.
MAX_SLEEP_S = 30.0
POLL_S = 0.2
# The counters copied from each job of the run's JSON report into the status file.
COUNT_KEYS = (
    "files_seen",
    "files_copied",
    "bytes_copied",
    "files_skipped",
    "files_excluded",
    "files_deleted",
    "files_failed",
    "source_errors",
)


class ScheduleInvalid(UsageError):
    """The cron expression cannot be parsed."""


@dataclass(frozen=True)
class ScheduleSettings:
    """Settings of ``run_schedule``, built from argv or directly by tests."""

    cron: str
    backup_args: tuple[str, ...]
    status_file: Path
    lock_file: Path
    run_at_start: bool = False
    max_runs: int | None = None  # stop after this many runs; None runs until stopped
    stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S
    # The command that starts one backup run; the report option is appended.
    command: tuple[str, ...] = (sys.executable, "-m", "shibaws", "backup")


@dataclass
class RunResult:
    """The outcome of one backup run, as written to the status file."""

    start: str
    end: str
    exit_code: int | None  # None when the run was skipped
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    jobs: list[dict[str, Any]] = field(default_factory=list)


def check_cron(expression: str) -> str:
    """Return EXPRESSION stripped, raising ``ScheduleInvalid`` unless croniter accepts it."""
    # Imported here because every CLI start builds the schedule parser (about 40 ms).
    from croniter import croniter

    text = expression.strip()
    if not text or not croniter.is_valid(text):
        raise ScheduleInvalid(
            f"invalid cron expression {expression!r}; use five fields 'minute hour day month "
            "weekday' (for example '0 2 * * *' for 02:00 every day), a sixth field for seconds, "
            f"or @daily, and set it with --cron or {SCHEDULE_ENV}"
        )
    return text


def next_fire_time(expression: str, after: float) -> float:
    """Return the first fire time of EXPRESSION strictly after the Unix time AFTER."""
    from croniter import croniter

    start = datetime.datetime.fromtimestamp(after).astimezone()
    return float(croniter(expression, start).get_next(float))


def run_schedule(
    settings: ScheduleSettings,
    stop: threading.Event,
    clock: Callable[[], float] = time.time,
) -> int:
    """Run backups on SETTINGS.cron until STOP is set or max_runs is reached.

    Return the last run's exit code after max_runs, else 0.
    """
    cron = check_cron(settings.cron)
    last_code = int(ExitCode.OK)
    runs = 0
    run_now = settings.run_at_start
    logger.info("backup schedule %r started (pid %d)", cron, os.getpid())

    while not stop.is_set():
        if not run_now:
            fire_at = next_fire_time(cron, clock())
            write_status(settings.status_file, {"next_run": _iso(fire_at)})
            logger.info("next backup run at %s", _iso(fire_at))
            if not _wait_until(fire_at, stop, clock):
                break
        run_now = False

        result = run_once(settings, stop, clock)
        runs += 1
        if result.exit_code is not None:
            last_code = result.exit_code
        write_status(settings.status_file, {"last_run": result.__dict__})
        if settings.max_runs is not None and runs >= settings.max_runs:
            return last_code

    logger.info("backup schedule stopped")
    return int(ExitCode.OK)


def run_once(
    settings: ScheduleSettings, stop: threading.Event, clock: Callable[[], float] = time.time
) -> RunResult:
    """Run one backup under the lock file, unless another run holds it; return its result."""
    start = clock()
    with hold_lock(settings.lock_file) as locked:
        if not locked:
            logger.warning(
                "backup run skipped: another process has locked %s; "
                "trying again at the next fire time",
                settings.lock_file,
            )
            return RunResult(
                start=_iso(start),
                end=_iso(clock()),
                exit_code=None,
                outcome=f"skipped: another process has locked {settings.lock_file}",
            )
        write_status(settings.status_file, {"running": {"start": _iso(start), "pid": os.getpid()}})
        try:
            return _run_child(settings, stop, start, clock)
        finally:
            write_status(settings.status_file, {"running": None})


def _run_child(
    settings: ScheduleSettings, stop: threading.Event, start: float, clock: Callable[[], float]
) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="shibaws-run-") as work:
        report = Path(work) / "report.json"
        argv = [*settings.command, *settings.backup_args, "--report", str(report)]
        logger.info("backup run started")
        # Its own session, so a Ctrl-C at a terminal reaches the scheduler only,
        # and the scheduler decides how the run stops.
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        code = _wait_for_child(process, stop, settings.stop_timeout_s)
        result = RunResult(
            start=_iso(start), end=_iso(clock()), exit_code=code, outcome=_outcome(code)
        )
        _read_report(report, result)

    logger.info(
        "backup run finished: exit code %d (%s), %s",
        code,
        result.outcome,
        ", ".join(f"{name} {value}" for name, value in result.counts.items()) or "no report",
    )
    return result


def _wait_for_child(process: subprocess.Popen[bytes], stop: threading.Event, timeout: float) -> int:
    """Wait for PROCESS; once STOP is set, send SIGINT, SIGTERM, SIGKILL, TIMEOUT apart."""
    while process.poll() is None:
        if stop.wait(POLL_S):
            break
    if process.poll() is not None:
        return int(process.returncode)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        logger.warning("stopping the running backup (pid %d) with %s", process.pid, sig.name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            return int(process.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            continue
    raise RuntimeError(f"backup process {process.pid} survived SIGKILL")  # pragma: no cover


def _outcome(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    try:
        return ExitCode(code).name.lower()
    except ValueError:
        return "unknown"


def _read_report(path: Path, result: RunResult) -> None:
    """Copy the counts of the run's JSON report into RESULT; a missing report leaves them empty."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.debug("no readable report at %s", path)
        return
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for job in document.get("jobs", []):
        for key in COUNT_KEYS:
            value = job.get(key)
            if isinstance(value, int):
                totals[key] += value
        result.jobs.append(
            {
                "source": job.get("source"),
                "destination": job.get("destination"),
                "exit_code": job.get("exit_code"),
                "stopped": job.get("stopped"),
            }
        )
    result.counts = totals


@contextlib.contextmanager
def hold_lock(path: Path) -> Iterator[bool]:
    """Lock PATH with an exclusive ``flock``; yield False at once if another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_status(path: Path, changes: dict[str, Any]) -> None:
    """Merge CHANGES into the JSON status file at PATH and replace it atomically."""
    status = read_status(path)
    status.update(changes)
    status["updated"] = _iso(time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".status-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(status, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_status(path: Path) -> dict[str, Any]:
    """Return the status file's content, or an empty dict when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set STOP on SIGTERM and SIGINT while the block runs; restore the old handlers after."""

    def request_stop(signum: int, frame: Any) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_until(moment: float, stop: threading.Event, clock: Callable[[], float]) -> bool:
    """Sleep until the Unix time MOMENT; return False if STOP was set first."""
    while True:
        remaining = moment - clock()
        if remaining <= 0:
            return True
        if stop.wait(min(remaining, MAX_SLEEP_S)):
            return False


def _iso(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


def stdout_log_handler(stream: TextIO | None = None) -> logging.Handler:
    """Return a handler that writes timestamped scheduler lines to stdout, for container logs."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s shibaws schedule: %(message)s"))
    return handler
