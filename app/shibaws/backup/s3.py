"""The S3 client: endpoint, addressing, checksums, retries; listing and credential checks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.utils import determine_content_length

from shibaws.backup.constants import Checksum as Checksum  # re-exported for importers
from shibaws.backup.errors import BackupConfigInvalid, CredentialsExpired, DestinationUnavailable
from shibaws.backup.plan import RESERVED_PREFIX, ListedObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

logger = logging.getLogger(__name__)

# Error codes S3 and STS return once session credentials have expired.
EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired"}
)
# Bodies smaller than this go without "Expect: 100-continue" (bytes); see _drop_expect_header.
EXPECT_CONTINUE_MIN_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    """How to reach S3; None means boto3's own default or configuration."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    path_style: bool = False
    checksum: Checksum = Checksum.CRC32
    max_attempts: int = 5
    pool_size: int = 32


@dataclass(frozen=True)
class Destination:
    bucket: str
    prefix: str  # "" or ending in "/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_destination(url: str) -> Destination:
    """Split s3://bucket/prefix into bucket and a prefix that is empty or ends with "/"."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise BackupConfigInvalid(f"invalid destination {url!r}: expected s3://BUCKET/PREFIX")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if "//" in prefix:
        raise BackupConfigInvalid(f"invalid destination {url!r}: empty folder name in the prefix")
    return Destination(parts.netloc, prefix)


def make_session(settings: S3Settings) -> boto3.Session:
    """Return a boto3 session for the profile, or boto3's default credential chain."""
    try:
        return boto3.Session(profile_name=settings.profile, region_name=settings.region)
    except BotoCoreError as error:
        raise BackupConfigInvalid(
            f"cannot use AWS profile {settings.profile!r}: {error}"
        ) from error


def make_client(session: boto3.Session, settings: S3Settings) -> S3Client:
    """Return an S3 client; the endpoint comes from --endpoint-url or AWS_ENDPOINT_URL_S3.

    boto3 reads AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL itself when no
    endpoint is passed, so interface VPC endpoint URLs work either way.
    """
    calculation: Literal["when_required", "when_supported"] = (
        "when_required" if settings.checksum is Checksum.MD5 else "when_supported"
    )
    config = botocore.config.Config(
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        retries={"mode": "standard", "max_attempts": settings.max_attempts},
        max_pool_connections=settings.pool_size,
        request_checksum_calculation=calculation,
        response_checksum_validation="when_required",
        connect_timeout=20,
        read_timeout=120,
    )
    # The backup reads no timestamp from S3's answers, and parsing each listed object's
    # LastModified with dateutil took most of the CPU time of a run with nothing to do
    # (about 0.1 ms per key). aws-cli turns the parsing off the same way.
    parsers = session._session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=_keep_text)
    try:
        client: S3Client = session.client("s3", endpoint_url=settings.endpoint_url, config=config)
    except ValueError as error:
        raise BackupConfigInvalid(
            f"invalid endpoint URL {settings.endpoint_url!r} ({error}); "
            "give one like https://s3.us-east-1.amazonaws.com"
        ) from None
    client.meta.events.register_last("before-call.s3", _drop_expect_header)
    return client


def _keep_text(value: str) -> str:
    return value


def _drop_expect_header(params: dict[str, Any], **_: Any) -> None:
    """Send small bodies at once instead of waiting for "100 Continue" first.

    botocore asks for "Expect: 100-continue" on every PUT with a body, so
    each small file costs a second round trip before its body is sent (a
    third of the time of a 4 KiB upload to a server on loopback). The wait
    only pays off for large bodies that a server may refuse, so it is kept
    for those. The Expect header is never signed, so dropping it is safe.
    """
    headers = params.get("headers", {})
    if "Expect" not in headers:
        return
    length = determine_content_length(params.get("body"))
    if length is not None and length < EXPECT_CONTINUE_MIN_BYTES:
        del headers["Expect"]


def normal_etag(etag: str) -> str:
    """Return ETAG without quotes; some servers quote it in listings and not in headers."""
    return etag.strip('"')


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_expired(error: Exception) -> bool:
    """Return True when ERROR means the credentials have expired."""
    return error_code(error) in EXPIRED_CODES


def list_objects(client: S3Client, destination: Destination) -> Iterator[ListedObject]:
    """Yield the objects under the destination prefix, keys relative to it, in listing order.

    The manifest folder is left out. Listing errors raise ``DestinationUnavailable``
    or ``CredentialsExpired``.
    """
    paginator = client.get_paginator("list_objects_v2")
    start = len(destination.prefix)
    try:
        for page in paginator.paginate(Bucket=destination.bucket, Prefix=destination.prefix):
            for item in page.get("Contents", []):
                key = item["Key"][start:]
                if key.startswith(RESERVED_PREFIX):
                    continue
                yield ListedObject(key, int(item["Size"]), normal_etag(item.get("ETag", "")))
    except NoCredentialsError as error:
        raise DestinationUnavailable(
            "no AWS credentials found; run `shibaws login`, pass --profile, "
            "or set the AWS_* variables"
        ) from error
    except ClientError as error:
        raise destination_error(error, destination) from error
    except BotoCoreError as error:
        raise DestinationUnavailable(f"cannot list {destination}: {error}") from error


def destination_error(error: ClientError, destination: Destination) -> Exception:
    """Return the exception to raise for a request on DESTINATION that failed with ERROR."""
    if is_expired(error):
        return CredentialsExpired(
            "the AWS credentials have expired; run `shibaws login` again and rerun the backup"
        )
    message = error.response.get("Error", {}).get("Message", "") or error_code(error)
    return DestinationUnavailable(f"cannot list {destination}: {error_code(error)}: {message}")


def credential_expiry(session: boto3.Session) -> datetime | None:
    """Return when the session's credentials expire, or None when unknown or never.

    Known for temporary credentials botocore can see an expiry of
    (environment AWS_CREDENTIAL_EXPIRATION, credential_process, assumed
    roles), and for profiles with a ``shibaws_expiration`` entry (written by
    ``shibaws login``) or the ``x_security_token_expires`` or ``aws_expiration``
    entries other SAML login tools write.
    """
    credentials = session.get_credentials()
    if credentials is None:
        return None
    expiry = getattr(credentials, "_expiry_time", None)
    if isinstance(expiry, datetime):
        return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)

    try:
        profile = session._session.get_scoped_config()
    except BotoCoreError:
        return None
    for name in ("shibaws_expiration", "x_security_token_expires", "aws_expiration"):
        value = profile.get(name)
        if isinstance(value, str) and value:
            return _parse_time(value)
    return None


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        logger.debug("cannot parse credential expiry %r", value)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
