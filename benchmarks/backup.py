"""Time ``shibaws backup`` against ``aws s3 sync``, ``s5cmd sync`` and ``rclone sync``.

Every tool copies the same local data sets into the same ``rclone serve s3``
server on loopback, serving /dev/shm, each into a bucket of its own, then
runs again with nothing to do. The data sets: 5,000 small files (1 to 16
KiB), 4 files of 256 MiB, and a mixed tree. The tools run as subprocesses
with their default parallelism, timed from spawn to exit.

It also reads the small and large sets from a private Samba server (the
test suite's ``start_samba``). shibaws's ``SmbSource`` reads with 16
threads, the backup's default ``--jobs``, and Samba's own ``smbclient``
with ``recurse ON; mget *``. Last, it measures the peak RSS of the sync
planning path (merge of source walk, bucket listing and manifest,
``decide``, manifest writer) over a generated listing of one million files.

Run from the repository: ``.venv/bin/python benchmarks/backup.py``. It
needs samba and smbclient (tests/setup/system.sh), the venv with the test
extras (tests/setup/python.sh), root (for the Samba user) and about 4 GiB
free in /dev/shm. It prints the tables and writes them to
docs/benchmarks.md between the ``bench-backup`` markers, keeping the rest of
the page and any notes after the ``bench-backup:notes`` marker. ``--quick``
runs tiny data sets for a smoke test and writes nothing unless ``--output``
is given.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "tests"))

from servers.s3_fixtures import ACCESS_KEY, REGION, SECRET_KEY, start_rclone_s3  # noqa: E402
from servers.samba_fixtures import start_samba  # noqa: E402

DOCS_PAGE = REPOSITORY / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench-backup:start -->"
SECTION_END = "<!-- bench-backup:end -->"
NOTES_MARKER = "<!-- bench-backup:notes -->"
PAGE_HEADER = (
    "# Benchmarks\n\n"
    "Speed measurements of shibaws. Each section is written by a script under "
    "`benchmarks/`. Run the script again to refresh its section.\n"
)
BIN = Path(sys.executable).parent
KIB = 1024
MIB = 1024 * KIB
# Seconds one tool run may take before the benchmark gives up on it.
RUN_TIMEOUT_S = 900.0
SMB_READ_JOBS = 16
READ_CHUNK = 4 * MIB
MULTIPART_THRESHOLD = 8 * MIB  # the backup's default: smaller files are read whole
MEMORY_FILES = 1_000_000
MEMORY_TARGET_MIB = 150


@dataclass(frozen=True)
class Sizes:
    small_count: int
    large_count: int
    large_size: int
    mixed_small: int
    mixed_medium: int
    mixed_big: int
    memory_files: int


FULL = Sizes(5000, 4, 256 * MIB, 2000, 40, 4, MEMORY_FILES)
QUICK = Sizes(60, 2, 2 * MIB, 40, 2, 1, 10_000)


@dataclass
class DataSet:
    name: str
    root: Path
    files: int = 0
    size: int = 0


@dataclass
class Timing:
    seconds: float | None
    error: str | None = None


@dataclass
class Results:
    uploads: dict[tuple[str, str], tuple[Timing, Timing]] = field(default_factory=dict)
    smb_reads: dict[tuple[str, str], Timing] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)


# -- data -----------------------------------------------------------------------------


def write_file(path: Path, size: int, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Incompressible content, made from a random seed block so large files are fast to write.
    block = rng.randbytes(min(size, MIB))
    with path.open("wb") as handle:
        written = 0
        while written < size:
            chunk = block[: size - written]
            handle.write(chunk)
            written += len(chunk)
            block = block[1:] + block[:1]


def make_data(base: Path, sizes: Sizes) -> list[DataSet]:
    rng = random.Random(20260101)
    small = DataSet("small", base / "small")
    for index in range(sizes.small_count):
        size = rng.randint(1 * KIB, 16 * KIB)
        write_file(small.root / f"d{index % 50:02d}" / f"file {index:05d}.bin", size, rng)
        small.files += 1
        small.size += size

    large = DataSet("large", base / "large")
    for index in range(sizes.large_count):
        write_file(large.root / f"big-{index}.bin", sizes.large_size, rng)
        large.files += 1
        large.size += sizes.large_size

    mixed = DataSet("mixed", base / "mixed")
    plan = [(sizes.mixed_small, 1 * KIB, 64 * KIB), (sizes.mixed_medium, MIB, 4 * MIB)]
    plan.append((sizes.mixed_big, 32 * MIB, 96 * MIB))
    for group, (count, low, high) in enumerate(plan):
        for index in range(count):
            depth = rng.randint(0, 5)
            folders = [f"level{level} {rng.choice('abc')}" for level in range(depth)]
            path = mixed.root.joinpath(*folders, f"g{group} f{index:04d}+x.dat")
            size = rng.randint(low, high)
            write_file(path, size, rng)
            mixed.files += 1
            mixed.size += size
    return [small, large, mixed]


# -- tools ------------------------------------------------------------------------------


def tool_commands(endpoint: str) -> dict[str, Callable[[Path, str], list[str]]]:
    """Return, per tool, a function from (source, bucket) to the sync command line."""
    return {
        "shibaws": lambda source, bucket: [
            str(BIN / "shibaws"),
            "backup",
            "--path-style",
            str(source),
            f"s3://{bucket}/data",
        ],
        "aws s3 sync": lambda source, bucket: [
            str(BIN / "aws"),
            "s3",
            "sync",
            "--only-show-errors",
            "--endpoint-url",
            endpoint,
            str(source),
            f"s3://{bucket}/data",
        ],
        "s5cmd": lambda source, bucket: [
            str(BIN / "s5cmd"),
            "--endpoint-url",
            endpoint,
            "sync",
            f"{source}/",
            f"s3://{bucket}/data/",
        ],
        "rclone sync": lambda source, bucket: [
            str(BIN / "rclone"),
            "sync",
            str(source),
            f":s3:{bucket}/data",
        ],
    }


def tool_environment(endpoint: str, work: Path) -> dict[str, str]:
    """Return the environment every tool runs with: the test key, path-style, no home config."""
    config = work / "aws-config"
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    rclone_config = work / "rclone.conf"
    rclone_config.write_text("")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        {
            "HOME": str(work),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-credentials"),
            "AWS_ENDPOINT_URL_S3": endpoint,
            "RCLONE_CONFIG": str(rclone_config),
            "RCLONE_S3_PROVIDER": "Other",
            "RCLONE_S3_ENDPOINT": endpoint,
            "RCLONE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "RCLONE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "RCLONE_S3_REGION": REGION,
            "RCLONE_S3_FORCE_PATH_STYLE": "true",
        }
    )
    return env


def run_timed(argv: list[str], env: dict[str, str]) -> Timing:
    started = time.perf_counter()
    try:
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return Timing(None, f"timed out after {RUN_TIMEOUT_S:.0f} s")
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return Timing(seconds, f"exit {result.returncode}: {detail[0][:200]}")
    return Timing(seconds)


def bench_uploads(datasets: list[DataSet], work: Path, results: Results) -> None:
    """Run each tool on each data set against a fresh S3 server with one empty bucket."""
    for dataset in datasets:
        for tool in tool_commands(""):
            # A new server each time: rclone serve s3 caches its folder listing, and the
            # previous tool's copy is freed from /dev/shm.
            server = start_rclone_s3(work / "s3")
            try:
                assert server.root is not None
                bucket = "bench"
                (server.root / bucket).mkdir()
                env = tool_environment(server.endpoint_url, work)
                argv = tool_commands(server.endpoint_url)[tool](dataset.root, bucket)
                full = run_timed(argv, env)
                again = run_timed(argv, env)
                results.uploads[(dataset.name, tool)] = (full, again)
                print(f"{dataset.name:6} {tool:12} full {show(full)}  nothing to do {show(again)}")
                check_copy(dataset, server.root / bucket / "data", tool)
            finally:
                server.stop()
                shutil.rmtree(work / "s3", ignore_errors=True)


def check_copy(dataset: DataSet, copy: Path, tool: str) -> None:
    """Warn unless COPY has as many files and bytes as the data set (rclone stores files)."""
    files = [path for path in copy.rglob("*") if path.is_file() and ".shibaws" not in path.parts]
    size = sum(path.stat().st_size for path in files)
    if len(files) != dataset.files or size != dataset.size:
        print(
            f"WARNING: {tool} left {len(files)} files, {size} bytes for {dataset.name}; "
            f"expected {dataset.files}, {dataset.size}",
            file=sys.stderr,
        )


# -- reading from Samba ---------------------------------------------------------------------


def bench_smb(datasets: list[DataSet], work: Path, results: Results) -> None:
    share_root = work / "share"
    share_root.mkdir()
    share_root.chmod(0o755)
    for dataset in datasets:
        if dataset.name in ("small", "large"):
            shutil.copytree(dataset.root, share_root / dataset.name)
    subprocess.run(["chmod", "-R", "a+rX", str(share_root)], check=True, timeout=60)

    server = start_samba(share_root=share_root)
    try:
        auth = work / "smb-auth"
        auth.write_text(f"username = {server.username}\npassword = {server.password}\n")
        auth.chmod(0o600)
        for dataset in datasets:
            if dataset.name not in ("small", "large"):
                continue
            ours = time_smb_source(server.url(dataset.name), server.password, dataset)
            theirs = time_smbclient(server, auth, dataset.name, work / "smbclient-out")
            results.smb_reads[(dataset.name, "shibaws SmbSource")] = ours
            results.smb_reads[(dataset.name, "smbclient mget")] = theirs
            print(f"smb {dataset.name:6} shibaws {show(ours)}  smbclient {show(theirs)}")
    finally:
        server.stop()


def time_smb_source(url: str, password: str, dataset: DataSet) -> Timing:
    from shibaws.backup.smb import open_smb_source
    from shibaws.backup.source import SourceEntry

    started = time.perf_counter()
    source = open_smb_source(url, password)
    try:
        source.check()
        entries = [item for item in source.walk() if isinstance(item, SourceEntry)]

        def read(entry: SourceEntry) -> int:
            # As the backup reads: small files whole with stats around the read,
            # large ones in chunks.
            if entry.size < MULTIPART_THRESHOLD:
                data, _, _ = source.read_file(entry.path, entry.size, MULTIPART_THRESHOLD)
                return len(data)
            total = 0
            with source.open(entry.path) as reader:
                while chunk := reader.read(READ_CHUNK):
                    total += len(chunk)
            return total

        with ThreadPoolExecutor(max_workers=SMB_READ_JOBS) as pool:
            total = sum(pool.map(read, entries))
    finally:
        source.close()
    seconds = time.perf_counter() - started
    if len(entries) != dataset.files or total != dataset.size:
        return Timing(seconds, f"read {len(entries)} files, {total} bytes")
    return Timing(seconds)


def time_smbclient(server: object, auth: Path, folder: str, output: Path) -> Timing:
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir()
    argv = [
        "smbclient",
        f"//{server.host}/{server.share}",  # type: ignore[attr-defined]
        "-p",
        str(server.port),  # type: ignore[attr-defined]
        "-A",
        str(auth),
        "-c",
        f"prompt OFF; recurse ON; cd {folder}; lcd {output}; mget *",
    ]
    timing = run_timed(argv, dict(os.environ))
    shutil.rmtree(output, ignore_errors=True)
    return timing


# -- memory of the planning path ---------------------------------------------------------------


def measure_memory(count: int) -> int:
    """Run the planning path over COUNT generated keys in a child process; return peak RSS."""
    argv = [sys.executable, __file__, "--memory-child", str(count)]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=True, cwd=REPOSITORY
    )
    return int(json.loads(result.stdout)["max_rss_kib"])


def memory_child(count: int) -> None:
    """Merge a walk, a bucket listing and a manifest of COUNT keys, as a nothing-to-do run."""
    from shibaws.backup.manifest import ManifestWriter
    from shibaws.backup.plan import FileState, ListedObject, Record, decide, merge_by_key

    def keys() -> Iterator[str]:
        # Sorted like a walk: 1,000 folders of 1,000 files, names like real backups.
        for folder in range(max(count // 1000, 1)):
            for name in range(min(count, 1000)):
                yield f"projects/team {folder:04d}/reports/2026/file-{name:04d}.docx"

    files = (FileState(key, 4096, 1_700_000_000_000_000_000) for key in keys())
    listed = (ListedObject(key, 4096, '"0123456789abcdef0123456789abcdef"') for key in keys())
    records = (
        Record(key, 4096, '"0123456789abcdef0123456789abcdef"', 1_700_000_000_000_000_000)
        for key in keys()
    )
    writer = ManifestWriter()
    decided = 0
    action = "none"
    gc.collect()
    for merged in merge_by_key(files, listed, records):
        action = decide(merged.file, merged.listed, merged.record).action.name
        decided += 1
        if merged.record is not None:
            writer.write(merged.record)
    writer.finish(1.0).close()
    writer.close()
    print(json.dumps({"keys": decided, "max_rss_kib": peak_rss_kib(), "last": action}))


def peak_rss_kib() -> int:
    """Return this process's peak RSS (VmHWM) in KiB.

    Not ``ru_maxrss``: on Linux it keeps the parent's peak across fork and
    exec, so a child started by a big parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def bench_memory(sizes: Sizes, results: Results) -> None:
    results.memory["baseline (imports, 0 keys)"] = measure_memory(0)
    label = f"{sizes.memory_files:,} keys"
    results.memory[label] = measure_memory(sizes.memory_files)
    for name, kib in results.memory.items():
        print(f"memory {name}: {kib / 1024:.0f} MiB peak RSS")


# -- report ----------------------------------------------------------------------------------------


def show(timing: Timing) -> str:
    if timing.seconds is None:
        return f"failed ({timing.error})"
    text = f"{timing.seconds:.2f} s"
    return f"{text} ({timing.error})" if timing.error else text


def rate(count: float, timing: Timing) -> str:
    if timing.seconds is None or timing.error or timing.seconds <= 0:
        return "–"
    return f"{count / timing.seconds:,.0f}"


def seconds(timing: Timing) -> str:
    if timing.seconds is None:
        return "failed"
    return f"{timing.seconds:.2f}" + (" (error)" if timing.error else "")


def ratio(ours: Timing | None, theirs: Timing | None) -> float | None:
    """Return theirs/ours (above 1 means shibaws is faster), or None when a run failed."""
    if not ours or not theirs or ours.error or theirs.error:
        return None
    if not ours.seconds or not theirs.seconds:
        return None
    return theirs.seconds / ours.seconds


def render(datasets: list[DataSet], results: Results, sizes: Sizes, total_s: float) -> str:
    lines = [
        "## Backup",
        "",
        f"Written by `benchmarks/backup.py` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"S3 server `rclone serve s3` on 127.0.0.1 serving /dev/shm, data in /dev/shm, "
        f"one run of each (whole benchmark {total_s / 60:.1f} min, 1-minute load average "
        f"{os.getloadavg()[0]:.1f} at the end). Each tool runs with its default parallelism.",
        "",
        "| data set | files | MiB | tool | full run (s) | files/s | MiB/s | nothing to do (s) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for dataset in datasets:
        for (name, tool), (full, again) in results.uploads.items():
            if name != dataset.name:
                continue
            lines.append(
                f"| {name} | {dataset.files:,} | {dataset.size / MIB:,.0f} | {tool} | "
                f"{seconds(full)} | {rate(dataset.files, full)} | "
                f"{rate(dataset.size / MIB, full)} | {seconds(again)} |"
            )
    errors = [
        f"- {name} / {tool}: {timing.error}"
        for (name, tool), pair in results.uploads.items()
        for timing in pair
        if timing.error
    ]
    if errors:
        lines += ["", "Errors:", "", *errors]

    lines += [
        "",
        f"Reading from Samba 4.17 on loopback (share on /dev/shm): shibaws's `SmbSource` with "
        f"{SMB_READ_JOBS} threads (walk, then read every file as the backup does: files under "
        f"{MULTIPART_THRESHOLD // MIB} MiB whole with `read_file`, larger ones in "
        f"{READ_CHUNK // MIB} MiB chunks; data dropped) against `smbclient` "
        "(`recurse ON; mget *` into /dev/shm).",
        "",
        "| data set | reader | time (s) | files/s | MiB/s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    by_name = {dataset.name: dataset for dataset in datasets}
    for (name, reader), timing in results.smb_reads.items():
        dataset = by_name[name]
        lines.append(
            f"| {name} | {reader} | {seconds(timing)} | {rate(dataset.files, timing)} | "
            f"{rate(dataset.size / MIB, timing)} |"
        )

    lines += [
        "",
        "Peak RSS of the planning path (source walk, bucket listing and manifest merged by "
        "key, one decision per key, new manifest written), all generated in the process:",
        "",
        "| keys | peak RSS (MiB) |",
        "| --- | ---: |",
    ]
    for name, kib in results.memory.items():
        lines.append(f"| {name} | {kib / 1024:.0f} |")

    lines += ["", *targets(results, sizes)]
    return "\n".join(lines) + "\n"


def targets(results: Results, sizes: Sizes) -> list[str]:
    uploads = results.uploads

    def full(name: str, tool: str) -> Timing | None:
        pair = uploads.get((name, tool))
        return pair[0] if pair else None

    def again(name: str, tool: str) -> Timing | None:
        pair = uploads.get((name, tool))
        return pair[1] if pair else None

    def verdict(value: float | None, needed: float) -> str:
        if value is None:
            return "not measured"
        return f"{value:.2f}: {'met' if value >= needed else 'missed'}"

    small_vs_rclone = ratio(full("small", "shibaws"), full("small", "rclone sync"))
    peers = [full("large", tool) for tool in ("aws s3 sync", "s5cmd", "rclone sync")]
    usable = [timing for timing in peers if timing and timing.seconds and not timing.error]
    fastest = min(usable, key=lambda timing: timing.seconds or 0.0) if usable else None
    large_vs_fastest = ratio(full("large", "shibaws"), fastest)
    idle = [ratio(again(name, "shibaws"), again(name, "s5cmd")) for name in ("small", "mixed")]
    smb_small = ratio(
        results.smb_reads.get(("small", "shibaws SmbSource")),
        results.smb_reads.get(("small", "smbclient mget")),
    )
    memory = results.memory.get(f"{sizes.memory_files:,} keys")
    memory_text = "not measured" if memory is None else f"{memory / 1024:.0f} MiB"
    memory_met = memory is not None and memory / 1024 < MEMORY_TARGET_MIB
    return [
        "Targets, as ratios from this run (above 1 means shibaws is faster):",
        "",
        "| target | result |",
        "| --- | --- |",
        f"| small files: files/s at least rclone's (≥ 1) | {verdict(small_vs_rclone, 1.0)} |",
        f"| large files: within 5 % of the fastest peer (≥ 0.95) | "
        f"{verdict(large_vs_fastest, 0.95)} |",
        f"| nothing to do (small): no slower than s5cmd (≥ 1) | {verdict(idle[0], 1.0)} |",
        f"| nothing to do (mixed): no slower than s5cmd (≥ 1) | {verdict(idle[1], 1.0)} |",
        f"| SMB small-file reads: at least smbclient (≥ 1) | {verdict(smb_small, 1.0)} |",
        f"| peak memory, {sizes.memory_files:,} keys: under {MEMORY_TARGET_MIB} MiB | "
        f"{memory_text}: {'met' if memory_met else 'missed'} |",
    ]


def write_section(page: Path, section: str) -> None:
    """Replace the text between the bench-backup markers, keeping notes after NOTES_MARKER."""
    text = page.read_text(encoding="utf-8") if page.exists() else PAGE_HEADER
    notes = ""
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        old, after = rest.split(SECTION_END, 1)
        if NOTES_MARKER in old:
            notes = NOTES_MARKER + old.split(NOTES_MARKER, 1)[1].rstrip("\n") + "\n"
    else:
        before, after = text.rstrip("\n") + "\n\n", "\n"
    body = f"{SECTION_START}\n{section}"
    if notes:
        body += f"\n{notes}"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"{before}{body}{SECTION_END}{after}", encoding="utf-8")


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny data sets, for a smoke test")
    parser.add_argument("--output", type=Path, help=f"page to write (default {DOCS_PAGE})")
    parser.add_argument("--skip-smb", action="store_true", help="skip the Samba read benchmark")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child is not None:
        memory_child(args.memory_child)
        return 0

    sizes = QUICK if args.quick else FULL
    output = args.output or (None if args.quick else DOCS_PAGE)
    started = time.perf_counter()
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="shibaws-bench-", dir=shm if shm.is_dir() else None))
    work.chmod(0o755)  # smbd reads the share as an unprivileged user
    results = Results()
    try:
        datasets = make_data(work / "data", sizes)
        bench_uploads(datasets, work, results)
        if not args.skip_smb:
            bench_smb(datasets, work, results)
        bench_memory(sizes, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    section = render(datasets, results, sizes, time.perf_counter() - started)
    print()
    print(section)
    if output is not None:
        write_section(output, section)
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
