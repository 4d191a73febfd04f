"""Uploading one file: a single PUT or a parallel multipart upload, checksummed, never torn.

Every request carries a checksum the server verifies (CRC32, SHA-256 or
SHA-1 through botocore's flexible checksums, or Content-MD5). A file is
stat'ed before and after it is read. When size or mtime moved, or the
read returned a different length, the upload is dropped and the read is
tried again. A multipart upload is aborted before it completes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shibaws.backup.constants import MIB as MIB  # re-exported for importers
from shibaws.backup.directput import DirectPut
from shibaws.backup.errors import CredentialsExpired
from shibaws.backup.plan import FileState, ListedObject, Record
from shibaws.backup.s3 import Checksum, Destination, error_code, is_expired, normal_etag
from shibaws.backup.source import Source, SourceEntry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

logger = logging.getLogger(__name__)

MAX_PARTS = 10_000  # S3's limit on parts in one multipart upload
MTIME_METADATA = "mtime-ns"  # user metadata: the source file's mtime in ns since the epoch


@dataclass(frozen=True)
class UploadOptions:
    storage_class: str | None = None
    sse: str | None = None  # "AES256" or "aws:kms"
    sse_kms_key_id: str | None = None
    checksum: Checksum = Checksum.CRC32
    multipart_threshold: int = 8 * MIB  # files of this size or larger go multipart (bytes)
    part_size: int = 8 * MIB  # bytes; raised for files that would need over 10,000 parts
    read_attempts: int = 3  # reads of a file that keeps changing before it is reported
    direct_put: bool = True  # send single PUTs without botocore's pipeline (directput.py)


class UploadFailed(Exception):
    """One file could not be uploaded; the run goes on."""

    def __init__(self, message: str, source_error: bool = False) -> None:
        super().__init__(message)
        self.source_error = source_error  # the source could not be read: deletes are unsafe


class ChangedWhileRead(Exception):
    """The file's size or mtime changed while it was read."""


class RunStopped(Exception):
    """The run is stopping (credentials expired elsewhere); this file was not started."""


@dataclass(frozen=True)
class _Part:
    number: int
    offset: int
    length: int


def _check_same(before: SourceEntry, after: SourceEntry) -> None:
    """Raise ``ChangedWhileRead`` when size or mtime moved between BEFORE and AFTER."""
    if (after.size, after.mtime_ns) != (before.size, before.mtime_ns):
        raise ChangedWhileRead(
            f"size {before.size} -> {after.size} bytes, "
            f"mtime {before.mtime_ns} -> {after.mtime_ns} ns"
        )


class Uploader:
    """Uploads files from one source to one destination; safe to call from many threads."""

    def __init__(
        self,
        client: S3Client,
        source: Source,
        destination: Destination,
        options: UploadOptions,
        part_pool: ThreadPoolExecutor,
        stop: threading.Event,
        direct: DirectPut | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.destination = destination
        self.options = options
        self.part_pool = part_pool
        self.stop = stop
        self.direct = direct

    def upload(self, file: FileState) -> Record:
        """Upload FILE and return its manifest record, or raise UploadFailed/CredentialsExpired."""
        for attempt in range(1, self.options.read_attempts + 1):
            if self.stop.is_set():
                raise RunStopped(file.key)
            try:
                return self._upload_once(file)
            except ChangedWhileRead as change:
                logger.debug("%s changed while read (attempt %d): %s", file.key, attempt, change)
                last_change = str(change)
            except ClientError as error:
                if is_expired(error):
                    raise CredentialsExpired(
                        "the AWS credentials expired during the run; run `shibaws login` "
                        "again and rerun the backup, which continues where this one stopped"
                    ) from error
                raise UploadFailed(f"upload failed: {error_code(error)}: {error}") from error
            except BotoCoreError as error:
                raise UploadFailed(f"upload failed: {error}") from error
            except OSError as error:
                raise UploadFailed(
                    f"cannot read: {error.strerror or error}", source_error=True
                ) from error
        raise UploadFailed(
            f"changed while being read ({last_change}), {self.options.read_attempts} times; "
            "not stored, the next run tries again"
        )

    def read_record(self, listed: ListedObject) -> Record | None:
        """Return a record from the object's own metadata, or None when it has no mtime."""
        try:
            head = self.client.head_object(
                Bucket=self.destination.bucket, Key=self.destination.prefix + listed.key
            )
        except ClientError as error:
            # A HEAD response has no body, so no error code. The upload that follows
            # shows whether the credentials expired.
            logger.debug("HEAD %s failed: %s", listed.key, error)
            return None
        metadata = {name.lower(): value for name, value in head.get("Metadata", {}).items()}
        value = metadata.get(MTIME_METADATA, "")
        if not value.isdigit():
            return None
        etag = normal_etag(head.get("ETag", ""))
        return Record(listed.key, int(head["ContentLength"]), etag, int(value))

    def _upload_once(self, file: FileState) -> Record:
        key = file.key
        read_file = getattr(self.source, "read_file", None)
        if read_file is not None and file.size < self.options.multipart_threshold:
            # One call for stat, read and stat again: one SMB round trip for a small file.
            data, before, after = read_file(key, file.size, self.options.multipart_threshold)
            if before.size < self.options.multipart_threshold:
                if len(data) != before.size:
                    raise ChangedWhileRead(f"read {len(data)} bytes of {before.size}")
                _check_same(before, after)
                etag = self._put(key, data, before.mtime_ns)
                return Record(key, before.size, etag, before.mtime_ns)

        before = self.source.stat(key)
        if before.size >= self.options.multipart_threshold:
            etag = self._upload_multipart(key, before.size, before.mtime_ns)
        else:
            etag = self._upload_single(key, before.size, before.mtime_ns)
        return Record(key, before.size, etag, before.mtime_ns)

    def _check_unchanged(self, key: str, size: int, mtime_ns: int) -> None:
        _check_same(SourceEntry(key, size, mtime_ns), self.source.stat(key))

    def _common_arguments(self, key: str, mtime_ns: int) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "Bucket": self.destination.bucket,
            "Key": self.destination.prefix + key,
            "Metadata": {MTIME_METADATA: str(mtime_ns)},
        }
        if self.options.storage_class:
            arguments["StorageClass"] = self.options.storage_class
        if self.options.sse:
            arguments["ServerSideEncryption"] = self.options.sse
        if self.options.sse_kms_key_id:
            arguments["SSEKMSKeyId"] = self.options.sse_kms_key_id
        return arguments

    def _checksum_arguments(self, data: bytes) -> dict[str, Any]:
        if self.options.checksum is Checksum.MD5:
            digest = hashlib.md5(data, usedforsecurity=False).digest()
            return {"ContentMD5": base64.b64encode(digest).decode()}
        return {"ChecksumAlgorithm": self.options.checksum.value}

    def _upload_single(self, key: str, size: int, mtime_ns: int) -> str:
        with self.source.open(key) as stream:
            data = stream.read(size + 1)  # one byte more shows a file that grew
        if len(data) != size:
            raise ChangedWhileRead(f"read {len(data)} bytes of {size}")
        self._check_unchanged(key, size, mtime_ns)
        return self._put(key, data, mtime_ns)

    def _put(self, key: str, data: bytes, mtime_ns: int) -> str:
        """Store DATA with one PutObject and return its ETag."""
        arguments = {**self._common_arguments(key, mtime_ns), **self._checksum_arguments(data)}
        direct = self.direct
        if direct is not None and direct.ready:
            etag = direct.put(arguments["Key"], data, arguments)
            if etag is not None:
                return normal_etag(etag)
        response = self.client.put_object(Body=data, **arguments)
        if direct is not None:
            direct.learn(arguments["Key"])
        return normal_etag(response.get("ETag", ""))

    def _upload_multipart(self, key: str, size: int, mtime_ns: int) -> str:
        arguments = self._common_arguments(key, mtime_ns)
        if self.options.checksum is not Checksum.MD5:
            arguments["ChecksumAlgorithm"] = self.options.checksum.value
        upload_id = self.client.create_multipart_upload(**arguments)["UploadId"]
        target: dict[str, Any] = {
            "Bucket": self.destination.bucket,
            "Key": self.destination.prefix + key,
        }

        futures: list[Future[dict[str, Any]]] = []
        try:
            for part in self._parts(size):
                futures.append(self.part_pool.submit(self._upload_part, key, upload_id, part))
            parts: list[Any] = [future.result() for future in futures]
            self._check_unchanged(key, size, mtime_ns)
            response = self.client.complete_multipart_upload(
                UploadId=upload_id, MultipartUpload={"Parts": parts}, **target
            )
        except BaseException:
            for future in futures:
                future.cancel()
            self._abort(upload_id, target)
            raise
        # S3 lists the ETag that CompleteMultipartUpload returns. Some S3-compatible
        # servers list another one (rclone serve s3 1.75 lists the whole object's MD5);
        # there the next run finds no matching record, reads the object's metadata once
        # (one HEAD) and records the listed ETag. A HEAD here instead would cost every
        # run a request per large file, and made rclone hash each object at once
        # (about 0.8 s per 256 MiB, a third of the upload's time).
        return normal_etag(response.get("ETag", ""))

    def _parts(self, size: int) -> list[_Part]:
        part_size = max(self.options.part_size, -(-size // MAX_PARTS))
        part_size = -(-part_size // MIB) * MIB
        return [
            _Part(number, offset, min(part_size, size - offset))
            for number, offset in enumerate(range(0, size, part_size), start=1)
        ]

    def _upload_part(self, key: str, upload_id: str, part: _Part) -> dict[str, Any]:
        if self.stop.is_set():
            raise RunStopped(key)
        with self.source.open(key) as stream:
            stream.seek(part.offset)
            data = stream.read(part.length)
        if len(data) != part.length:
            raise ChangedWhileRead(f"part {part.number}: read {len(data)} of {part.length} bytes")

        response = self.client.upload_part(
            Bucket=self.destination.bucket,
            Key=self.destination.prefix + key,
            UploadId=upload_id,
            PartNumber=part.number,
            Body=data,
            **self._checksum_arguments(data),
        )
        done: dict[str, Any] = {"PartNumber": part.number, "ETag": response["ETag"]}
        checksum_field = f"Checksum{self.options.checksum.value}"
        if checksum_field in response:
            done[checksum_field] = response[checksum_field]  # type: ignore[literal-required]
        return done

    def _abort(self, upload_id: str, target: dict[str, Any]) -> None:
        try:
            self.client.abort_multipart_upload(UploadId=upload_id, **target)
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "could not abort multipart upload %s of %s: %s; a lifecycle rule for "
                "incomplete multipart uploads removes its parts",
                upload_id,
                target["Key"],
                error,
            )
