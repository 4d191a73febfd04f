"""The manifest: one gzip'd JSON-lines object per destination, under ``.shibaws/``.

The first line is a header (format version, when written, how long that
run took). Each further line is ``[key, size, etag, mtime_ns]`` for one
object, sorted by key so the sync can stream it beside the listing. A
record counts only while the listed object still has that size and ETag.
Otherwise the object's own ``mtime-ns`` metadata is read, so a lost or
stale manifest costs requests, never a wrong skip.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO

from shibaws.backup.plan import RESERVED_PREFIX, Record

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_NAME = RESERVED_PREFIX + "manifest.jsonl.gz"
# The manifest is spooled in memory up to this size, then on disk (bytes).
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ManifestHeader:
    written: str = ""
    last_run_seconds: float | None = None


class ManifestInvalid(Exception):
    """The stored manifest cannot be read; the run goes on as if there were none."""


def read_manifest(stream: BinaryIO) -> tuple[ManifestHeader, Iterator[Record]]:
    """Return the header of the gzip'd manifest in STREAM and an iterator over its records."""
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=stream, mode="rb"), encoding="utf-8")
    try:
        header = json.loads(text.readline())
    except (OSError, EOFError, ValueError) as error:
        raise ManifestInvalid(f"unreadable manifest header: {error}") from error
    if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
        raise ManifestInvalid(f"unknown manifest format: {str(header)[:100]}")

    seconds = header.get("last_run_seconds")
    parsed = ManifestHeader(
        written=str(header.get("written", "")),
        last_run_seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )
    return parsed, _records(text)


def _records(text: IO[str]) -> Iterator[Record]:
    for number in itertools.count(start=2):
        try:
            line = text.readline()
        except (OSError, EOFError) as error:
            # A damaged manifest must not stop the backup: stop trusting it instead.
            logger.warning(
                "manifest is truncated at line %d (%s); ignoring the rest", number, error
            )
            return
        if not line:
            return
        try:
            key, size, etag, mtime_ns = json.loads(line)
            record = Record(str(key), int(size), str(etag), int(mtime_ns))
        except (ValueError, TypeError) as error:
            logger.warning("manifest line %d is invalid (%s); ignoring the rest", number, error)
            return
        yield record


class ManifestWriter:
    """Writes a new manifest to temporary files; records must come in key order.

    The header is known only when the run ends, so records go to their own
    gzip member and ``finish`` puts a header member in front of it (a gzip
    file may hold several members, read back as one stream).
    """

    def __init__(self) -> None:
        self._body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by close()
        self._gzip = gzip.GzipFile(fileobj=self._body, mode="wb", compresslevel=6)
        self._output: IO[bytes] | None = None
        self.count = 0

    def write(self, record: Record) -> None:
        line = json.dumps(
            [record.key, record.size, record.etag, record.mtime_ns], ensure_ascii=False
        )
        self._gzip.write(line.encode("utf-8") + b"\n")
        self.count += 1

    def finish(self, run_seconds: float) -> IO[bytes]:
        """Return the whole manifest as a file positioned at its start."""
        header: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "last_run_seconds": round(run_seconds, 1),
        }
        self._gzip.close()
        self._body.seek(0)

        output: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by close()
        output.write(gzip.compress(json.dumps(header).encode() + b"\n"))
        shutil.copyfileobj(self._body, output)
        output.seek(0)
        self._output = output
        return output

    def close(self) -> None:
        self._gzip.close()
        self._body.close()
        if self._output is not None:
            self._output.close()
