"""One backup job: check, plan, upload in parallel, delete behind guards, save the manifest.

Phases: prove the source is there, then read the manifest and check the
credentials' expiry. Next, walk the source, the listing and the manifest
together (``plan.merge_by_key``) and hand uploads to a thread pool. A
bounded window keeps results in key order, so the new manifest is written
as a stream. Last, delete if asked and safe, and store the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shibaws.backup.constants import DEFAULT_JOBS as DEFAULT_JOBS  # re-exported
from shibaws.backup.delete import DeleteGuards, delete_objects, refuse_reason
from shibaws.backup.directput import DirectPut
from shibaws.backup.errors import BackupError, CredentialsExpired, DestinationUnavailable
from shibaws.backup.manifest import (
    MANIFEST_NAME,
    SPOOL_BYTES,
    ManifestHeader,
    ManifestInvalid,
    ManifestWriter,
    read_manifest,
)
from shibaws.backup.plan import (
    Action,
    FileState,
    Filters,
    ListedObject,
    OutOfOrder,
    Record,
    decide,
    key_problem,
    merge_by_key,
)
from shibaws.backup.report import JobStats, Progress
from shibaws.backup.s3 import Checksum, Destination, error_code, is_expired, list_objects
from shibaws.backup.source import Source, SourceEntry, SourceProblem
from shibaws.backup.upload import RunStopped, Uploader, UploadFailed, UploadOptions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

logger = logging.getLogger(__name__)

# Results kept waiting in key order while earlier uploads finish; bounds memory.
WINDOW = 4096
# Without a previous run to go by, expect a run to take this long (seconds).
DEFAULT_RUN_ESTIMATE_S = 600.0


@dataclass(frozen=True)
class JobOptions:
    """Settings of one job; the source and destination are passed separately."""

    filters: Filters = field(default_factory=Filters)
    delete: bool = False
    guards: DeleteGuards = field(default_factory=DeleteGuards)
    upload: UploadOptions = field(default_factory=UploadOptions)
    jobs: int = DEFAULT_JOBS
    dry_run: bool = False


@dataclass
class _Outcome:
    """Result of a worker for one file; ``record`` is the manifest entry kept for its key."""

    action: str  # "copied", "skipped", "failed", "stopped"
    record: Record | None
    size: int = 0
    message: str = ""
    source_error: bool = False


def run_job(
    source: Source,
    destination: Destination,
    client: S3Client,
    options: JobOptions,
    stats: JobStats,
    progress: Progress,
    expiry: datetime | None = None,
) -> JobStats:
    """Run one backup job and return its counters; ``stats.stopped`` is set if it stopped early.

    Raises ``SourceUnavailable`` before anything is copied when the source is
    missing, and ``CredentialsExpired`` when the credentials have already expired.
    """
    started = time.monotonic()
    source.check()

    manifest_file = _fetch_manifest(client, destination)
    try:
        header, records = _open_manifest(manifest_file)
        _check_expiry(expiry, header)
        job = _Job(source, destination, client, options, stats, progress)
        job.sync(records)
        stats.seconds = time.monotonic() - started
        if not stats.stopped:
            job.delete()
            job.store_manifest(stats.seconds)
    finally:
        if manifest_file is not None:
            manifest_file.close()
        stats.seconds = time.monotonic() - started
    return stats


def _fetch_manifest(client: S3Client, destination: Destination) -> IO[bytes] | None:
    """Download the manifest into a temporary file, or return None when there is none."""
    key = destination.prefix + MANIFEST_NAME
    try:
        response = client.get_object(Bucket=destination.bucket, Key=key)
    except ClientError as error:
        if is_expired(error):
            raise CredentialsExpired(
                "the AWS credentials have expired; run `shibaws login` again and rerun the backup"
            ) from error
        if error_code(error) in ("NoSuchKey", "404"):
            logger.debug("no manifest at s3://%s/%s", destination.bucket, key)
        else:
            logger.warning(
                "cannot read the manifest s3://%s/%s: %s", destination.bucket, key, error
            )
        return None
    except BotoCoreError as error:
        raise DestinationUnavailable(
            f"cannot reach S3 at {client.meta.endpoint_url}: {error}; check --endpoint-url "
            "(or AWS_ENDPOINT_URL_S3) and the network path to it"
        ) from None

    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    body = response["Body"]
    try:
        for chunk in body.iter_chunks(1024 * 1024):
            spool.write(chunk)
    except BotoCoreError as error:
        logger.warning("cannot read the manifest: %s; checking objects one by one", error)
        spool.close()
        return None
    finally:
        body.close()
    spool.seek(0)
    return spool


def _open_manifest(file: IO[bytes] | None) -> tuple[ManifestHeader, Iterator[Record]]:
    if file is None:
        return ManifestHeader(), iter(())
    try:
        return read_manifest(file)  # type: ignore[arg-type]
    except ManifestInvalid as error:
        logger.warning("ignoring the stored manifest: %s", error)
        return ManifestHeader(), iter(())


def _check_expiry(expiry: datetime | None, header: ManifestHeader) -> None:
    """Raise when the credentials have expired; warn when they will before the run ends."""
    if expiry is None:
        return
    remaining = (expiry - datetime.now(UTC)).total_seconds()
    if remaining <= 0:
        raise CredentialsExpired(
            f"the AWS credentials expired at {expiry.isoformat(timespec='seconds')}; "
            "run `shibaws login` again"
        )
    estimate = header.last_run_seconds or DEFAULT_RUN_ESTIMATE_S
    if remaining < estimate * 1.2:
        basis = "the last run took" if header.last_run_seconds else "a run may take"
        logger.warning(
            "the AWS credentials expire in %.0f min, and %s %.0f min; log in again first "
            "or the run will stop when they expire (the next run continues from there)",
            remaining / 60,
            basis,
            estimate / 60,
        )


class _Job:
    def __init__(
        self,
        source: Source,
        destination: Destination,
        client: S3Client,
        options: JobOptions,
        stats: JobStats,
        progress: Progress,
    ) -> None:
        self.source = source
        self.destination = destination
        self.client = client
        self.options = options
        self.stats = stats
        self.progress = progress
        self.stop = threading.Event()
        self.expired: CredentialsExpired | None = None
        self.manifest = ManifestWriter()
        self.delete_keys: list[str] = []
        self.destination_objects = 0
        self.manifest_changed = False  # False: the stored manifest is still exact

    # --- Phase: plan and upload -------------------------------------------------------------

    def sync(self, records: Iterator[Record]) -> None:
        """Walk source, listing and manifest together and upload what needs it."""
        jobs = max(1, self.options.jobs)
        window: deque[tuple[str, Record | None, Future[_Outcome] | _Outcome]] = deque()
        with (
            ThreadPoolExecutor(jobs, thread_name_prefix="backup-file") as files_pool,
            ThreadPoolExecutor(jobs, thread_name_prefix="backup-part") as part_pool,
        ):
            direct = DirectPut(self.client) if self.options.upload.direct_put else None
            uploader = Uploader(
                self.client,
                self.source,
                self.destination,
                self.options.upload,
                part_pool,
                self.stop,
                direct,
            )
            try:
                for merged in merge_by_key(self._files(), self._listing(), records):
                    if self.stop.is_set():
                        break
                    item = self._plan(merged.key, merged.file, merged.listed, merged.record)
                    if item is None:
                        self.manifest_changed = True
                        continue
                    if isinstance(item, tuple):
                        file, listed, fallback, check = item
                        task = files_pool.submit(
                            self._work, uploader, file, listed, fallback, check
                        )
                        window.append((merged.key, merged.record, task))
                    else:
                        window.append((merged.key, merged.record, item))
                    self._drain(window, keep=WINDOW // 2 if len(window) >= WINDOW else WINDOW)
            except OutOfOrder as error:
                self.stop.set()
                raise BackupError(f"cannot sync safely: {error}") from error
            except CredentialsExpired as error:
                # The listing ran into expired credentials part way through.
                self.expired = error
                self.stop.set()
            finally:
                if self.stop.is_set():
                    for _, _, pending in window:
                        if isinstance(pending, Future):
                            pending.cancel()
                self._drain(window, keep=0)
                if direct is not None:
                    direct.close()

        if self.expired is not None:
            self.stats.stopped = str(self.expired)

    def _files(self) -> Iterator[FileState]:
        """Yield the source's included files as sorted FileStates, reporting the others."""
        entries: Iterator[SourceEntry | SourceProblem] = self.source.walk()
        if not getattr(self.source, "sorted_walk", False):
            # NOTE: a source that walks in another order is sorted here, in memory.
            entries = iter(sorted(entries, key=lambda entry: entry.path))

        for entry in entries:
            if isinstance(entry, SourceProblem):
                self.stats.add_failure(entry.path, entry.message, source_error=True)
                continue
            if entry.name_error is not None:
                self.stats.add_failure(entry.path, entry.name_error)
                continue
            if not self.options.filters.includes(entry.path):
                logger.debug("skip %s: excluded", entry.path)
                self.stats.files_excluded += 1
                continue
            problem = key_problem(entry.path, self.destination.prefix)
            if problem is not None:
                self.stats.add_failure(entry.path, problem)
                continue
            self.stats.files_seen += 1
            yield FileState(entry.path, entry.size, entry.mtime_ns)

    def _listing(self) -> Iterator[ListedObject]:
        for listed in list_objects(self.client, self.destination):
            self.destination_objects += 1
            yield listed

    def _plan(
        self,
        key: str,
        file: FileState | None,
        listed: ListedObject | None,
        record: Record | None,
    ) -> _Outcome | tuple[FileState, ListedObject | None, Record | None, bool] | None:
        """Decide one key; return a finished outcome, work for the pool, or None."""
        valid_record = record if _matches(record, listed) else None
        if file is None and not self.options.filters.includes(key):
            logger.debug("keep %s: excluded, so neither copied nor deleted", key)
            return _Outcome("kept", valid_record)

        decision = decide(file, listed, record)
        logger.debug("%s %s: %s", decision.action.value, key, decision.reason)
        if decision.action is Action.FORGET:
            return None
        if decision.action is Action.DELETE:
            self.stats.delete_candidates += 1
            if self.options.delete:
                self.delete_keys.append(key)
            return _Outcome("kept", valid_record)
        assert file is not None
        if decision.action is Action.SKIP:
            return _Outcome("skipped", valid_record)
        check = decision.action is Action.CHECK_METADATA
        return (file, listed, valid_record, check)

    def _work(
        self,
        uploader: Uploader,
        file: FileState,
        listed: ListedObject | None,
        fallback: Record | None,
        check_metadata: bool,
    ) -> _Outcome:
        """Run in the pool: read the object's metadata if needed, then upload."""
        try:
            if check_metadata and listed is not None:
                stored = uploader.read_record(listed)
                decision = decide(file, listed, stored, metadata_checked=True)
                logger.debug("%s %s: %s", decision.action.value, file.key, decision.reason)
                if decision.action is Action.SKIP:
                    return _Outcome("skipped", stored)
                fallback = stored
            if self.options.dry_run:
                return _Outcome("copied", fallback, file.size)
            record = uploader.upload(file)
            return _Outcome("copied", record, record.size)
        except UploadFailed as error:
            return _Outcome("failed", fallback, message=str(error), source_error=error.source_error)
        except RunStopped:
            return _Outcome("stopped", fallback)
        except CredentialsExpired as error:
            self.expired = error
            self.stop.set()
            return _Outcome("stopped", fallback)

    def _drain(
        self, window: deque[tuple[str, Record | None, Future[_Outcome] | _Outcome]], keep: int
    ) -> None:
        """Move results from the front of WINDOW, in key order, into the counters and manifest.

        Finished results always move; the call waits for unfinished ones
        only while more than KEEP results are in the window.
        """
        while window:
            key, old_record, pending = window[0]
            if isinstance(pending, Future):
                if not pending.done() and len(window) <= keep:
                    return
                cancelled = pending.cancelled()
                outcome = _Outcome("stopped", None) if cancelled else pending.result()
            else:
                outcome = pending
            window.popleft()
            self._count(key, outcome)
            if outcome.record is not None:
                self.manifest.write(outcome.record)
            if outcome.record != old_record:
                self.manifest_changed = True

    def _count(self, key: str, outcome: _Outcome) -> None:
        if outcome.action == "copied":
            self.stats.add_copied(outcome.size)
            self.progress.file_done(
                key, outcome.size, "would copy" if self.options.dry_run else "copied"
            )
        elif outcome.action == "skipped":
            self.stats.files_skipped += 1
        elif outcome.action == "failed":
            self.stats.add_failure(key, outcome.message, outcome.source_error)
            self.progress.file_done(key, 0, "failed")

    # --- Phase: delete ----------------------------------------------------------------------

    def delete(self) -> None:
        """Delete objects whose source file is gone, when --delete is given and the guards pass."""
        stats = self.stats
        if not self.options.delete or not self.delete_keys:
            return
        reason = refuse_reason(
            len(self.delete_keys),
            self.destination_objects,
            stats.files_seen,
            stats.source_errors,
            self.options.guards,
        )
        if reason is not None:
            stats.delete_refused = reason
            logger.warning("not deleting %d objects: %s", len(self.delete_keys), reason)
            return
        if self.options.dry_run:
            stats.files_deleted = len(self.delete_keys)
            for key in self.delete_keys:
                self.progress.file_done(key, 0, "would delete")
            return

        deleted, failed = delete_objects(self.client, self.destination, self.delete_keys)
        stats.files_deleted = len(deleted)
        for key in deleted:
            self.progress.file_done(key, 0, "deleted")
        for key, message in failed:
            stats.add_failure(key, f"delete failed: {message}")

    # --- Phase: store the manifest ----------------------------------------------------------

    def store_manifest(self, run_seconds: float) -> None:
        """Upload the new manifest; a failure costs the next run HEAD requests, not data."""
        if self.options.dry_run or not self.manifest_changed:
            # A run that changed nothing stores nothing: no request beyond the listing.
            self.manifest.close()
            return
        key = self.destination.prefix + MANIFEST_NAME
        try:
            body = self.manifest.finish(run_seconds)
            self.client.put_object(
                Bucket=self.destination.bucket,
                Key=key,
                Body=body,
                ContentType="application/gzip",
                **_manifest_checksum(self.options.upload, body),
            )
            logger.debug("stored manifest with %d records", self.manifest.count)
        except ClientError as error:
            if is_expired(error):
                self.stats.stopped = "the AWS credentials expired before the manifest was stored"
                return
            logger.warning("cannot store the manifest %s: %s", key, error)
        except BotoCoreError as error:
            logger.warning("cannot store the manifest %s: %s", key, error)
        finally:
            self.manifest.close()


def _matches(record: Record | None, listed: ListedObject | None) -> bool:
    return (
        record is not None
        and listed is not None
        and record.size == listed.size
        and record.etag == listed.etag
    )


def _manifest_checksum(options: UploadOptions, body: IO[bytes]) -> dict[str, Any]:
    if options.checksum is not Checksum.MD5:
        return {"ChecksumAlgorithm": options.checksum.value}
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    body.seek(0)
    return {"ContentMD5": base64.b64encode(digest.digest()).decode()}
