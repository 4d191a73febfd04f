"""Read an SMB share in user space with smbprotocol's ``smbclient``.

No CIFS mount, so no root and no container privileges. Quirks handled here
(smbprotocol 1.17):

- ``open_file`` requests exclusive access by default, which blocks users and
  fails on files that are open elsewhere, so files are opened with
  ``share_access="rwd"``.
- One connection waits for each read response before sending the next read
  request, so throughput comes from reading many files at once, and a
  connection shared by threads runs out of SMB credits ("Request requires 1
  credits but only 0 credits are available"). So each thread that calls the
  source gets its own connection and session. Windows servers cap one user
  at about 20 sessions: keep the caller's thread count below that.
- An expired session is not re-authenticated by the library, so an operation
  that fails with an expired session or a closed connection reconnects and
  runs once more.
- Directory entries come back unsorted; ``walk`` sorts them.
"""

from __future__ import annotations

import datetime
import errno
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar, cast

import smbclient
from smbclient._pool import get_smb_tree
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBConnectionClosed, SMBOSError, SMBResponseException
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    FileAttributes,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    ShareAccess,
)

from shibaws.backup.errors import SourceUnavailable
from shibaws.backup.plan import key_order_name
from shibaws.backup.smburl import SmbLocation, parse_smb_url
from shibaws.backup.source import SourceEntry, SourceProblem

__all__ = ["SmbLocation", "SmbSource", "open_smb_source", "parse_smb_url"]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15
# Directory nesting deeper than this is reported instead of walked: an S3 key
# has at most 1024 bytes, so no real tree that can be stored is this deep.
MAX_DEPTH = 512

# [MS-ERREF] NTSTATUS values that mean "log on again".
STATUS_NETWORK_SESSION_EXPIRED = 0xC000035C
STATUS_USER_SESSION_DELETED = 0xC0000203
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_END_OF_FILE = 0xC0000011
RECONNECT_STATUSES = {STATUS_NETWORK_SESSION_EXPIRED, STATUS_USER_SESSION_DELETED}

# [MS-FSCC] 2.1.2.1 reparse tags for links. Other reparse points (for example
# deduplicated or cloud files) are regular files and are read.
IO_REPARSE_TAG_SYMLINK = 0xA000000C
IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003
FILE_ATTRIBUTE_DIRECTORY = 0x10
FILE_ATTRIBUTE_REPARSE_POINT = 0x400

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Files up to this size are read with one compound CREATE+READ+CLOSE request (bytes).
# 1 MiB keeps the READ within 16 credits and under every server's maximum read size.
COMPOUND_READ_MAX = 1024 * 1024
READ_ACCESS = (
    FilePipePrinterAccessMask.FILE_READ_DATA
    | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES
    | FilePipePrinterAccessMask.FILE_READ_EA
)
SHARE_ALL = (
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
)

T = TypeVar("T")


def open_smb_source(url: str, password: str) -> SmbSource:
    """Return a ``Source`` for the folder that the ``smb://`` URL names.

    Nothing is contacted yet: call ``check()`` to prove the share is there.
    """
    return SmbSource(parse_smb_url(url), password)


@dataclass
class _ConnectionSlot:
    """One thread's smbclient connection cache (one TCP connection and session)."""

    cache: dict[str, Any]
    lock: threading.Lock


class SmbSource:
    """A folder in an SMB share, read with one SMB session per calling thread.

    Safe to use from many threads. A file object returned by ``open`` uses
    the connection of the thread that opened it, so read it from that
    thread only.
    """

    sorted_walk = True  # walk() yields paths in S3 key order

    def __init__(self, location: SmbLocation, password: str) -> None:
        self.location = location
        self.description = location.describe()
        self._password = password
        self._slots: list[_ConnectionSlot] = []
        self._slots_lock = threading.Lock()
        self._local = threading.local()

    # -- Source protocol -------------------------------------------------------

    def check(self) -> None:
        """Raise ``SourceUnavailable`` unless the server, share and folder can be listed."""
        self._check_session()
        self._check_share()
        self._check_folder()

    def walk(self) -> Iterator[SourceEntry | SourceProblem]:
        """Yield every regular file under the folder, in S3 key order.

        Each folder is sorted with ``key_order_name``, so the depth-first
        walk is sorted by full path. Links are not followed.
        A folder already visited (same SMB file id) is reported and not
        walked again, so link loops that the server follows never hang.
        """
        visited: set[int] = set()
        try:
            root_unc = self.location.unc()
            visited.add(int(self._call(lambda kwargs: smbclient.stat(root_unc, **kwargs)).st_ino))
        except (OSError, SMBResponseException) as error:
            yield SourceProblem(".", f"cannot read the folder's file id: {error}")
            return
        yield from self._walk_folder("", 0, visited)

    def open(self, path: str) -> BinaryIO:
        """Open PATH for reading while letting others read, write and delete it."""
        unc = self.location.unc(path)
        try:
            reader = self._call(
                lambda kwargs: smbclient.open_file(unc, mode="rb", share_access="rwd", **kwargs)
            )
        except SMBOSError as error:
            raise _as_os_error(error, path) from error
        return cast(BinaryIO, reader)

    def stat(self, path: str) -> SourceEntry:
        """Return size and mtime of PATH now, with the same precision that ``walk`` gives."""
        unc = self.location.unc(path)
        try:
            result = self._call(lambda kwargs: smbclient.stat(unc, **kwargs))
        except SMBOSError as error:
            raise _as_os_error(error, path) from error
        # scandir gives whole microseconds, stat 100 ns units: compare like with like.
        mtime_ns = int(result.st_mtime_ns) // 1000 * 1000
        return SourceEntry(path=path, size=int(result.st_size), mtime_ns=mtime_ns)

    def read_file(
        self, path: str, size_hint: int, limit: int
    ) -> tuple[bytes, SourceEntry, SourceEntry]:
        """Read PATH whole if it is smaller than LIMIT bytes; return the bytes, and size and
        mtime before and after the read (no bytes when it is not smaller).

        A file the walk saw at SIZE_HINT bytes, up to ``COMPOUND_READ_MAX``,
        costs one round trip: CREATE, READ and CLOSE go as one related
        compound request, the CREATE response gives size and mtime before
        the read and the CLOSE response (with SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB)
        after it. Separate stat, open, read, close and stat took five.
        """
        if size_hint + 1 <= COMPOUND_READ_MAX:
            try:
                result = self._call(lambda kwargs: self._read_compound(path, size_hint + 1, kwargs))
            except SMBOSError as error:
                raise _as_os_error(error, path) from error
            if result is not None and result[1].size <= size_hint:
                return result
        return self._read_separately(path, limit)

    def _read_compound(
        self, path: str, length: int, kwargs: dict[str, Any]
    ) -> tuple[bytes, SourceEntry, SourceEntry] | None:
        """Send CREATE+READ+CLOSE as one request; None when the server's answer is unusable."""
        tree, file_path = get_smb_tree(self.location.unc(path), **kwargs)
        handle = Open(tree, file_path)
        messages = [
            handle.create(
                ImpersonationLevel.Impersonation,
                READ_ACCESS,
                FileAttributes.FILE_ATTRIBUTE_NORMAL,
                SHARE_ALL,
                CreateDisposition.FILE_OPEN,
                CreateOptions.FILE_NON_DIRECTORY_FILE,
                send=False,
            ),
            handle.read(0, min(length, tree.session.connection.max_read_size), send=False),
            handle.close(get_attributes=True, send=False),
        ]
        requests = tree.session.connection.send_compound(
            [message for message, _ in messages],
            tree.session.session_id,
            tree.tree_connect_id,
            related=True,
        )
        # Every response must be received, even after a failure, or the connection's
        # bookkeeping of outstanding requests goes wrong (smbclient does the same).
        results: list[Any] = []
        failure: Exception | None = None
        before: SourceEntry | None = None
        for (_, receive), request in zip(messages, requests, strict=True):
            try:
                results.append(receive(request))
            except SMBResponseException as error:
                results.append(None)
                # READ of an empty file returns STATUS_END_OF_FILE: no data, not an error.
                if not (len(results) == 2 and error.status == STATUS_END_OF_FILE):
                    failure = failure or SMBOSError(error.status, self.location.unc(path))
            if len(results) == 1 and failure is None:
                # Taken now: the CLOSE response replaces these attributes with later ones.
                before = _entry(path, handle.end_of_file, handle.last_write_time)
        if failure is not None:
            raise failure
        closed = results[2]
        if before is None or closed is None or not closed["flags"].get_value():
            return None  # no attributes after the read: let the separate stat give them
        data = results[1] or b""
        after = _entry(path, handle.end_of_file, handle.last_write_time)
        return data, before, after

    def _read_separately(self, path: str, limit: int) -> tuple[bytes, SourceEntry, SourceEntry]:
        before = self.stat(path)
        data = b""
        if before.size < limit:
            with self.open(path) as reader:
                data = reader.read(before.size + 1)
        return data, before, self.stat(path)

    def close(self) -> None:
        """Log off and close every connection of the pool."""
        with self._slots_lock:
            slots = list(self._slots)
        for slot in slots:
            with slot.lock:
                _delete_session(self.location, slot.cache)

    # -- sessions --------------------------------------------------------------

    def _slot(self) -> _ConnectionSlot:
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = _ConnectionSlot(cache={}, lock=threading.Lock())
            with self._slots_lock:
                self._slots.append(slot)
            self._local.slot = slot
        return cast(_ConnectionSlot, slot)

    def _session_kwargs(self, slot: _ConnectionSlot) -> dict[str, Any]:
        self._connect(slot)
        return {
            "username": self.location.login_name,
            "password": self._password,
            "port": self.location.port,
            "connection_cache": slot.cache,
            "connection_timeout": CONNECT_TIMEOUT_S,
        }

    def _call(self, operation: Callable[[dict[str, Any]], T]) -> T:
        """Run OPERATION with this thread's session, reconnecting once if the session is gone."""
        slot = self._slot()
        if _has_dead_connection(slot.cache):
            self._reconnect(slot, "the connection was closed")
        try:
            return operation(self._session_kwargs(slot))
        except Exception as error:
            if not (_needs_reconnect(error) or _has_dead_connection(slot.cache)):
                raise
            self._reconnect(slot, str(error) or type(error).__name__)
        return operation(self._session_kwargs(slot))

    def _connect(self, slot: _ConnectionSlot) -> None:
        """Open SLOT's connection with a client GUID of its own, unless it has one.

        smbclient gives every connection the process-wide client GUID, and
        Samba with multichannel support hands all connections with one GUID
        to one smbd process. That serialises the threads on one server CPU,
        and concurrent session setups hung there (Samba 4.17).
        """
        key = f"{self.location.server.lower()}:{self.location.port}"
        connection = slot.cache.get(key)
        if connection is not None and connection.transport.connected:
            return
        connection = Connection(uuid.uuid4(), self.location.server, self.location.port)
        connection.connect(timeout=CONNECT_TIMEOUT_S)
        slot.cache[key] = connection

    def _reconnect(self, slot: _ConnectionSlot, reason: str) -> None:
        logger.info("SMB session to %s ended (%s); reconnecting", self.description, reason)
        with slot.lock:
            _delete_session(self.location, slot.cache)

    def _check_session(self) -> None:
        location = self.location
        where = f"{location.server}:{location.port}"
        try:
            self._connect(self._slot())
            smbclient.register_session(
                location.server,
                username=location.login_name,
                password=self._password,
                port=location.port,
                connection_cache=self._slot().cache,
                connection_timeout=CONNECT_TIMEOUT_S,
            )
        except (ValueError, OSError) as error:
            raise SourceUnavailable(
                f"cannot reach SMB server {where}: {error}; check the server name and port "
                "in the smb:// URL and that this host may connect to it"
            ) from error
        except SMBResponseException as error:
            raise SourceUnavailable(
                f"SMB server {where} rejected the logon of {location.login_name!r} "
                f"({_status_text(error)}); check the user name, the domain and the password file"
            ) from error
        except Exception as error:  # spnego and smbprotocol raise their own types
            raise SourceUnavailable(
                f"SMB logon to {where} as {location.login_name!r} failed: {error}; "
                "check the user name, the domain and the password file"
            ) from error

    def _check_share(self) -> None:
        location = self.location
        share_unc = rf"\\{location.server}\{location.share}"
        try:
            self._call(lambda kwargs: _list_one(share_unc, kwargs))
        except (SMBOSError, SMBResponseException) as error:
            raise SourceUnavailable(
                f"share {location.share!r} on {location.server} cannot be opened by "
                f"{location.login_name!r} ({_status_text(error)}); check the share name "
                f"(smbclient -L //{location.server} -U {location.username} lists shares) "
                "and that the user may read it"
            ) from error

    def _check_folder(self) -> None:
        location = self.location
        if not location.path:
            return
        try:
            self._call(lambda kwargs: _list_one(location.unc(), kwargs))
        except (SMBOSError, SMBResponseException) as error:
            raise SourceUnavailable(
                f"folder {location.path!r} in share {location.share!r} cannot be listed "
                f"({_status_text(error)}); check the path in the smb:// URL"
            ) from error

    # -- walk ------------------------------------------------------------------

    def _walk_folder(
        self, relative: str, depth: int, visited: set[int]
    ) -> Iterator[SourceEntry | SourceProblem]:
        if depth > MAX_DEPTH:
            yield SourceProblem(relative, f"more than {MAX_DEPTH} folders deep; not walked")
            return

        try:
            entries = self._list_folder(relative)
        except (OSError, SMBResponseException, UnicodeDecodeError) as error:
            yield SourceProblem(relative or ".", f"cannot list folder: {error}")
            return

        for sort_key, entry in entries:
            info = entry.smb_info
            path = f"{relative}/{entry.name}" if relative else entry.name
            if _is_link(info.file_attributes, info.ea_size):
                logger.debug("skip %s: a link, and links are not followed", path)
                continue

            if not sort_key.endswith("/"):
                yield _file_entry(path, info.end_of_file, info.last_write_time)
                continue

            # Samba shows a symlink to a folder as the folder itself; the file
            # id (the inode on Samba) exposes the loop. 0 means "no id".
            if info.file_id and info.file_id in visited:
                yield SourceProblem(path, "folder already walked through another path (a loop?)")
                continue
            if info.file_id:
                visited.add(info.file_id)
            yield from self._walk_folder(path, depth + 1, visited)

    def _list_folder(self, relative: str) -> list[tuple[str, Any]]:
        """Return the entries of a folder as (sort key, entry), sorted."""
        unc = self.location.unc(relative)

        def scan(kwargs: dict[str, Any]) -> list[Any]:
            with smbclient.scandir(unc, **kwargs) as iterator:
                return list(iterator)

        keyed = []
        for entry in self._call(scan):
            is_folder = bool(entry.smb_info.file_attributes & FILE_ATTRIBUTE_DIRECTORY)
            keyed.append((key_order_name(entry.name, is_folder), entry))
        keyed.sort(key=lambda pair: pair[0])
        return keyed


def _file_entry(path: str, size: int, last_write_time: datetime.datetime) -> SourceEntry:
    name_error = None
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        name_error = "name is not valid Unicode and cannot become an S3 key"
    return SourceEntry(
        path=path, size=size, mtime_ns=_datetime_ns(last_write_time), name_error=name_error
    )


def _entry(path: str, size: int, last_write_time: datetime.datetime) -> SourceEntry:
    return SourceEntry(path=path, size=int(size), mtime_ns=_datetime_ns(last_write_time))


def _datetime_ns(value: datetime.datetime) -> int:
    """Convert smbprotocol's UTC datetime (whole microseconds) to nanoseconds since 1970."""
    if value.tzinfo is None:  # smbprotocol's overflow fallback, datetime.max
        value = value.replace(tzinfo=datetime.UTC)
    delta = value - EPOCH
    microseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return microseconds * 1000


def _is_link(attributes: int, reparse_tag: int) -> bool:
    # FileIdFullDirectoryInformation carries the reparse tag in the EaSize field.
    if not attributes & FILE_ATTRIBUTE_REPARSE_POINT:
        return False
    return reparse_tag in (IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT)


def _list_one(unc: str, kwargs: dict[str, Any]) -> None:
    with smbclient.scandir(unc, **kwargs) as iterator:
        next(iter(iterator), None)


def _as_os_error(error: SMBOSError, path: str) -> OSError:
    """Return ERROR as a plain ``OSError`` with an errno, named after the relative PATH.

    smbprotocol leaves errno 0 for statuses it does not map, access denied
    among them, so callers could not tell an unreadable file from others.
    """
    if error.ntstatus == STATUS_ACCESS_DENIED:
        return PermissionError(errno.EACCES, "access denied by the SMB server", path)
    return OSError(error.errno or errno.EIO, _status_text(error), path)


def _has_dead_connection(cache: dict[str, Any]) -> bool:
    """Return whether a cached connection's receive thread has ended.

    smbprotocol 1.17 ends that thread when the server closes the socket but
    leaves the connection marked as connected, so the next request would
    wait forever for a response. Checked before each operation.
    """
    for connection in cache.values():
        worker = getattr(connection, "_t_worker", None)  # private, hence the getattr
        if worker is not None and not worker.is_alive():
            return True
    return False


def _needs_reconnect(error: Exception) -> bool:
    if isinstance(error, SMBConnectionClosed):
        return True
    status = getattr(error, "ntstatus", None) or getattr(error, "status", None)
    return status in RECONNECT_STATUSES


def _status_text(error: Exception) -> str:
    if isinstance(error, SMBOSError):
        return str(error.strerror)
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return f"NTSTATUS 0x{status:08X}: {getattr(error, 'message', error)}"
    return str(error)


def _delete_session(location: SmbLocation, cache: dict[str, Any]) -> None:
    try:
        smbclient.delete_session(location.server, port=location.port, connection_cache=cache)
    except Exception as error:  # a dead connection cannot log off cleanly
        logger.debug("closing SMB connection to %s failed: %s", location.server, error)
