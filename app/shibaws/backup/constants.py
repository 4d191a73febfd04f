"""Backup constants that the argument parser needs, in a module that imports no boto3."""

from __future__ import annotations

from enum import Enum

MIB = 1024 * 1024
# Files uploaded at once, and parts of one large file at once.
DEFAULT_JOBS = 16


class Checksum(Enum):
    """Checksum sent with each upload for the server to verify."""

    CRC32 = "CRC32"
    SHA256 = "SHA256"
    SHA1 = "SHA1"
    # Content-MD5 only, and no new-style checksum headers, for older S3-compatible
    # servers that reject them (the SDKs send CRC32 by default since early 2025).
    MD5 = "MD5"
