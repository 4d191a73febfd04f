"""``shibaws schedule``: cron firing, no overlap, SIGTERM, lock and status file.

Most tests run the scheduler with a stand-in backup command
(``FAKE_BACKUP``): a Python script that logs its start and end, writes a
report shaped like ``shibaws backup --report``, and sleeps or ignores
SIGINT on request. The last tests run the real ``shibaws backup`` from the
Samba share into the S3 server.
"""

from __future__ import annotations

import datetime
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import botocore.config
import pytest

from servers.s3_fixtures import S3Server, new_bucket_name
from servers.samba_fixtures import SambaFolder
from shibaws.__main__ import main
from shibaws.backup.schedule import (
    ScheduleInvalid,
    ScheduleSettings,
    check_cron,
    hold_lock,
    next_fire_time,
    read_status,
    run_schedule,
    write_status,
)
from shibaws.exitcodes import ExitCode
from test_backup_smb import s3_objects, write_tree

EVERY_SECOND = "* * * * * *"

FAKE_BACKUP = """\
import json, os, signal, sys, time

log, sleep_s, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
report = sys.argv[sys.argv.index("--report") + 1]
if mode == "ignore-sigint":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
with open(log, "a") as handle:
    handle.write(f"start {time.time()} {os.getpid()}\\n")
try:
    time.sleep(sleep_s)
except KeyboardInterrupt:
    with open(log, "a") as handle:
        handle.write(f"interrupted {time.time()}\\n")
    sys.exit(130)
job = {"source": "src", "destination": "s3://b/p", "files_copied": 3, "bytes_copied": 30,
       "files_skipped": 2, "files_failed": 0, "exit_code": 0, "stopped": None}
with open(report, "w") as handle:
    json.dump({"version": 1, "exit_code": 0, "jobs": [job, dict(job, files_copied=1)]}, handle)
with open(log, "a") as handle:
    handle.write(f"end {time.time()}\\n")
"""


def fake_settings(
    tmp_path: Path,
    sleep_s: float = 0.0,
    mode: str = "normal",
    cron: str = EVERY_SECOND,
    **options: object,
) -> ScheduleSettings:
    script = tmp_path / "fake_backup.py"
    script.write_text(FAKE_BACKUP)
    return ScheduleSettings(
        cron=cron,
        backup_args=(str(tmp_path / "runs.log"), str(sleep_s), mode),
        status_file=tmp_path / "state" / "status.json",
        lock_file=tmp_path / "state" / "status.json.lock",
        command=(sys.executable, str(script)),
        **options,  # type: ignore[arg-type]
    )


def run_events(tmp_path: Path) -> list[tuple[str, float]]:
    lines = (tmp_path / "runs.log").read_text().splitlines()
    return [(line.split()[0], float(line.split()[1])) for line in lines]


# -- cron expressions ------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["0 2 * * *", "*/15 * * * *", "@daily", "* * * * * */5"])
def test_check_cron_accepts(expression: str) -> None:
    assert check_cron(f" {expression} ") == expression


@pytest.mark.parametrize("expression", ["", "every day", "61 * * * *", "* * *"])
def test_check_cron_rejects(expression: str) -> None:
    with pytest.raises(ScheduleInvalid) as caught:
        check_cron(expression)

    assert "0 2 * * *" in str(caught.value)


def test_next_fire_time_seconds_field() -> None:
    start = datetime.datetime(2026, 1, 1, 0, 0, 1).astimezone().timestamp()

    fire_at = next_fire_time("* * * * * */5", start)

    assert fire_at - start == 4.0


def test_next_fire_time_daily() -> None:
    start = datetime.datetime(2026, 1, 1, 3, 0, 0).astimezone()

    fire_at = datetime.datetime.fromtimestamp(next_fire_time("0 2 * * *", start.timestamp()))

    assert fire_at == datetime.datetime(2026, 1, 2, 2, 0, 0)


# -- runs with the stand-in backup --------------------------------------------------------


def test_run_schedule_fires_and_writes_status(tmp_path: Path) -> None:
    settings = fake_settings(tmp_path, max_runs=2)

    code = run_schedule(settings, threading.Event())

    starts = [moment for event, moment in run_events(tmp_path) if event == "start"]
    status = read_status(settings.status_file)
    last = status["last_run"]
    assert code == 0
    assert len(starts) == 2
    assert last["exit_code"] == 0
    assert last["outcome"] == "ok"
    assert last["counts"]["files_copied"] == 4
    assert last["counts"]["bytes_copied"] == 60
    assert last["counts"]["files_skipped"] == 4
    assert len(last["jobs"]) == 2
    assert datetime.datetime.fromisoformat(last["start"]) <= datetime.datetime.fromisoformat(
        last["end"]
    )
    assert status["running"] is None


def test_run_schedule_never_overlaps(tmp_path: Path) -> None:
    # Each run takes 1.5 s while the schedule fires every second.
    settings = fake_settings(tmp_path, sleep_s=1.5, max_runs=3)

    run_schedule(settings, threading.Event())

    events = run_events(tmp_path)
    assert [event for event, _ in events] == ["start", "end"] * 3
    for (_, previous_end), (_, next_start) in zip(events[1::2], events[2::2], strict=False):
        assert next_start >= previous_end


def test_run_schedule_skips_when_lock_held(tmp_path: Path) -> None:
    settings = fake_settings(tmp_path, max_runs=1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "handle = open(sys.argv[1], 'a')\n"
            "fcntl.flock(handle, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(30)\n",
            str(settings.lock_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        settings.lock_file.parent.mkdir(parents=True, exist_ok=True)
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"

        run_schedule(settings, threading.Event())
    finally:
        holder.kill()
        holder.wait(timeout=10)

    last = read_status(settings.status_file)["last_run"]
    assert last["exit_code"] is None
    assert last["outcome"].startswith("skipped")
    assert not (tmp_path / "runs.log").exists()


def test_run_schedule_stop_between_runs(tmp_path: Path) -> None:
    settings = fake_settings(tmp_path, cron="0 0 1 1 *")  # next fire time is months away
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()

    started = time.monotonic()
    code = run_schedule(settings, stop)

    assert code == 0
    assert time.monotonic() - started < 10
    assert "next_run" in read_status(settings.status_file)
    assert not (tmp_path / "runs.log").exists()


def test_run_schedule_stop_interrupts_run(tmp_path: Path) -> None:
    settings = fake_settings(tmp_path, sleep_s=60, run_at_start=True, stop_timeout_s=10)
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()

    started = time.monotonic()
    run_schedule(settings, stop)

    events = [event for event, _ in run_events(tmp_path)]
    last = read_status(settings.status_file)["last_run"]
    assert time.monotonic() - started < 15
    assert events == ["start", "interrupted"]
    assert last["exit_code"] == 130
    assert last["outcome"] == "cancelled"


def test_run_schedule_escalates_to_sigterm(tmp_path: Path) -> None:
    settings = fake_settings(
        tmp_path, sleep_s=60, mode="ignore-sigint", run_at_start=True, stop_timeout_s=1
    )
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()

    started = time.monotonic()
    run_schedule(settings, stop)

    last = read_status(settings.status_file)["last_run"]
    assert time.monotonic() - started < 10
    assert last["exit_code"] == -signal.SIGTERM
    assert last["outcome"] == "killed by SIGTERM"


def test_hold_lock_is_exclusive(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from shibaws.backup.schedule import hold_lock\n"
        "with hold_lock(Path(sys.argv[1])) as locked:\n"
        "    print(locked)\n"
    )

    with hold_lock(lock) as locked:
        other = subprocess.run(
            [sys.executable, "-c", script, str(lock)], capture_output=True, text=True, timeout=30
        )
    after = subprocess.run(
        [sys.executable, "-c", script, str(lock)], capture_output=True, text=True, timeout=30
    )

    assert locked
    assert other.stdout.strip() == "False"
    assert after.stdout.strip() == "True"


def test_write_status_merges_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "status.json"

    write_status(path, {"next_run": "later"})
    write_status(path, {"last_run": {"exit_code": 0}})

    status = json.loads(path.read_text())
    assert status["next_run"] == "later"
    assert status["last_run"] == {"exit_code": 0}
    assert [item.name for item in path.parent.iterdir()] == ["status.json"]


# -- the command line --------------------------------------------------------------------


def test_schedule_cli_requires_cron(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIBAWS_SCHEDULE", raising=False)

    code = main(["schedule", "--status-file", str(tmp_path / "s.json"), "--config", "x.toml"])

    assert code == ExitCode.USAGE


def test_schedule_cli_rejects_report_option(tmp_path: Path) -> None:
    code = main(
        [
            "schedule",
            "--cron",
            "@daily",
            "--status-file",
            str(tmp_path / "s.json"),
            "--",
            "--report",
            "r.json",
            "src",
            "s3://b/p",
        ]
    )

    assert code == ExitCode.USAGE


def test_schedule_cli_invalid_cron_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHIBAWS_SCHEDULE", "nightly")

    code = main(["schedule", "--status-file", str(tmp_path / "s.json"), "--config", "x.toml"])

    assert code == ExitCode.USAGE
    assert "'nightly'" in capsys.readouterr().err


def test_schedule_cli_stops_on_sigterm(tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shibaws",
            "schedule",
            "--cron",
            "0 0 1 1 *",
            "--status-file",
            str(status),
            "--",
            str(tmp_path / "src"),
            "s3://bucket/prefix",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while "next_run" not in read_status(status) and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert process.returncode == 0
    assert "next backup run at" in stdout
    assert "received SIGTERM; stopping" in stdout


# -- real backups from Samba on a schedule ---------------------------------------------------


@pytest.fixture
def smb_bucket(s3_env: S3Server) -> str:
    name = new_bucket_name()
    config = botocore.config.Config(s3={"addressing_style": "path"})
    boto3.client("s3", endpoint_url=s3_env.endpoint_url, config=config).create_bucket(Bucket=name)
    return name


def test_schedule_cli_backs_up_share(
    samba_folder: SambaFolder,
    s3_env: S3Server,
    smb_bucket: str,
    samba_password_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    contents = write_tree(samba_folder.local, ["a.txt", "sub/b c.txt"])
    status = tmp_path / "status.json"

    code = main(
        [
            "schedule",
            "--cron",
            "* * * * * */2",
            "--max-runs",
            "2",
            "--status-file",
            str(status),
            "--",
            "--path-style",
            "--smb-password-file",
            str(samba_password_file),
            samba_folder.url,
            f"s3://{smb_bucket}/scheduled",
        ]
    )

    last = read_status(status)["last_run"]
    assert code == ExitCode.OK
    assert s3_objects(s3_env.endpoint_url, smb_bucket, "scheduled/") == contents
    assert last["exit_code"] == 0
    # The second run found nothing to copy.
    assert last["counts"]["files_copied"] == 0
    assert last["counts"]["files_skipped"] == 2
    assert capsys.readouterr().out.count("backup run finished: exit code 0") == 2


def test_schedule_cli_records_source_error(
    samba_folder: SambaFolder, s3_env: S3Server, smb_bucket: str, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("wrong")
    status = tmp_path / "status.json"

    code = main(
        [
            "schedule",
            "--cron",
            "@daily",
            "--run-at-start",
            "--max-runs",
            "1",
            "--status-file",
            str(status),
            "--",
            "--path-style",
            "--smb-password-file",
            str(wrong),
            samba_folder.url,
            f"s3://{smb_bucket}/scheduled",
        ]
    )

    last = read_status(status)["last_run"]
    assert code == ExitCode.BACKUP_SOURCE_ERROR
    assert last["exit_code"] == ExitCode.BACKUP_SOURCE_ERROR
    assert last["outcome"] == "backup_source_error"
