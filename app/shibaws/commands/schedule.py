"""``shibaws schedule``: run ``shibaws backup`` on a cron schedule (the compose service)."""

from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path
from typing import Any

from shibaws.backup.schedule import (
    DEFAULT_STOP_TIMEOUT_S,
    SCHEDULE_ENV,
    STATUS_FILE_ENV,
    ScheduleSettings,
    check_cron,
    run_schedule,
    stdout_log_handler,
    stop_on_signals,
)
from shibaws.errors import UsageError


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``schedule`` and its options to SUBPARSERS."""
    parser = subparsers.add_parser(
        "schedule",
        parents=[common],
        help="run backups on a cron schedule until stopped",
        description=(
            "Run `shibaws backup` with BACKUP_ARGS (after --) or --config each time the cron "
            "expression fires, one run at a time. Logs go to stdout; SIGTERM stops cleanly. "
            "Example: shibaws schedule --cron '0 2 * * *' --config backup.toml"
        ),
    )
    parser.set_defaults(handler=run)
    parser.add_argument(
        "--cron",
        default=os.environ.get(SCHEDULE_ENV),
        metavar="EXPR",
        help="cron expression: 'minute hour day month weekday', an optional sixth field for "
        f"seconds, or @daily; local time zone [env {SCHEDULE_ENV}]",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="the backup.toml each run uses")
    parser.add_argument(
        "--status-file",
        type=Path,
        default=_default_status_file(),
        metavar="FILE",
        help="JSON file with the last run's start, end, exit code and counts "
        f"[env {STATUS_FILE_ENV}; default %(default)s]",
    )
    parser.add_argument(
        "--lock-file",
        type=Path,
        metavar="FILE",
        help="lock that keeps two runs from overlapping (default: status file + .lock)",
    )
    parser.add_argument(
        "--run-at-start", action="store_true", help="run once right away, then on the schedule"
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=DEFAULT_STOP_TIMEOUT_S,
        metavar="SECONDS",
        help="on SIGTERM, how long a running backup gets after each stop signal "
        "(SIGINT, SIGTERM, then SIGKILL; default %(default)s)",
    )
    parser.add_argument(
        "--max-runs", type=int, metavar="N", help="exit after N runs (default: run until stopped)"
    )
    parser.add_argument(
        "backup_args",
        nargs=argparse.REMAINDER,
        metavar="-- BACKUP_ARGS",
        help="arguments for `shibaws backup`, after --",
    )


def _default_status_file() -> Path:
    configured = os.environ.get(STATUS_FILE_ENV)
    if configured:
        return Path(configured)
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state_home) / "shibaws" / "backup-status.json"


def settings_from_args(args: argparse.Namespace) -> ScheduleSettings:
    """Turn parsed arguments into ``ScheduleSettings``, raising ``UsageError`` on bad values."""
    if not args.cron:
        raise UsageError(f"no schedule: give --cron '0 2 * * *' or set {SCHEDULE_ENV}")
    backup_args = list(args.backup_args)
    if backup_args[:1] == ["--"]:
        backup_args = backup_args[1:]
    if args.config is not None:
        backup_args = ["--config", str(args.config), *backup_args]
    if not backup_args:
        raise UsageError(
            "nothing to run: give --config backup.toml, or the backup's arguments after --"
        )
    if "--report" in backup_args:
        raise UsageError("--report is set by the scheduler; its counts go to --status-file")
    if args.max_runs is not None and args.max_runs < 1:
        raise UsageError(f"--max-runs {args.max_runs}: use 1 or more")
    if args.stop_timeout <= 0:
        raise UsageError(f"--stop-timeout {args.stop_timeout}: use a number of seconds above 0")

    status_file = args.status_file
    return ScheduleSettings(
        cron=check_cron(args.cron),
        backup_args=tuple(backup_args),
        status_file=status_file,
        lock_file=args.lock_file or status_file.with_name(status_file.name + ".lock"),
        run_at_start=args.run_at_start,
        max_runs=args.max_runs,
        stop_timeout_s=args.stop_timeout,
    )


def run(args: argparse.Namespace) -> int:
    """Handle ``shibaws schedule``."""
    settings = settings_from_args(args)

    # Scheduler events go to stdout at info level even without -v, for `docker logs`.
    schedule_logger = logging.getLogger("shibaws.backup.schedule")
    schedule_logger.addHandler(stdout_log_handler())
    schedule_logger.setLevel(logging.DEBUG if args.verbose >= 2 else logging.INFO)
    schedule_logger.propagate = False

    stop = threading.Event()
    with stop_on_signals(stop):
        return run_schedule(settings, stop)
