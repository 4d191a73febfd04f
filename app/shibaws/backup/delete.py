"""--delete: the guards that decide whether deleting is safe, and the batched deletes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shibaws.backup.errors import CredentialsExpired
from shibaws.backup.s3 import Destination, error_code, is_expired

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

logger = logging.getLogger(__name__)

DELETE_BATCH = 1000  # S3's limit on keys in one DeleteObjects request


@dataclass(frozen=True)
class DeleteGuards:
    max_percent: float = 50.0  # share of the destination's objects one run may delete
    force: bool = False  # allow deleting more than max_percent


def refuse_reason(
    candidates: int,
    destination_objects: int,
    source_files: int,
    source_errors: int,
    guards: DeleteGuards,
) -> str | None:
    """Return why deleting CANDIDATES objects is unsafe, or None when it may go ahead.

    Deletes are refused after any source error in this run, because a
    folder that could not be listed looks like deleted files. They are
    refused when the source has no files at all, because an unmounted share
    looks empty. And they are refused above the guards' share of the
    destination, unless forced.
    """
    if candidates == 0:
        return None
    if source_errors:
        return (
            f"{source_errors} source error(s) in this run; fix them so that no file "
            "is mistaken for deleted"
        )
    if source_files == 0:
        return "the source has no files; refusing to empty the destination"

    percent = 100.0 * candidates / max(destination_objects, 1)
    if percent > guards.max_percent and not guards.force:
        return (
            f"{candidates} of {destination_objects} objects ({percent:.0f} %) would be deleted, "
            f"over --max-delete-percent {guards.max_percent:g}; pass --force-delete if intended"
        )
    return None


def delete_objects(
    client: S3Client, destination: Destination, keys: Sequence[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Delete KEYS (relative to the prefix) in batches; return deleted keys and failures."""
    deleted: list[str] = []
    failed: list[tuple[str, str]] = []
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        objects = [{"Key": destination.prefix + key} for key in batch]
        try:
            response = client.delete_objects(
                Bucket=destination.bucket,
                Delete={"Objects": objects, "Quiet": True},  # type: ignore[typeddict-item]
            )
        except ClientError as error:
            if is_expired(error):
                raise CredentialsExpired(
                    "the AWS credentials expired while deleting; run `shibaws login` again "
                    "and rerun the backup"
                ) from error
            failed.extend((key, f"{error_code(error)}: {error}") for key in batch)
            continue
        except BotoCoreError as error:
            failed.extend((key, str(error)) for key in batch)
            continue

        errors = {
            item["Key"][len(destination.prefix) :]: f"{item.get('Code')}: {item.get('Message')}"
            for item in response.get("Errors", [])
        }
        failed.extend(errors.items())
        deleted.extend(key for key in batch if key not in errors)
    return deleted, failed
