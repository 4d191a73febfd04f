"""Single-request uploads sent without botocore's request pipeline, for many small files.

botocore spends about 0.6 ms of CPU on each PutObject (events, endpoint
rules, header dictionaries, signing, response parsing): more than the
server needs to store a 4 KiB file, and under the GIL it caps a run at
about 1,000 files per second however many threads upload. ``DirectPut``
sends the same request from one kept-alive ``http.client`` connection per
thread. botocore's own ``S3SigV4Auth`` signs it (AWS Signature Version 4
over the whole payload); only the pipeline around the signer is skipped.

It learns where to send from botocore itself: the first PutObject of a run
goes through the client, and the URL and signing scope of that request
(endpoint, addressing style, region and service chosen by botocore's
endpoint rules) become the template for the rest. Everything it does not
handle goes back to the client: any response but 2xx (so botocore's retries,
error codes and expired-credential detection still apply), a lost
connection, a proxy, a client certificate, or a request that is not plain.
A 4xx answer turns it off for the rest of the run, since the server may
read the request differently from botocore's.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import ssl
import threading
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest

logger = logging.getLogger(__name__)

ALGORITHM = "AWS4-HMAC-SHA256"
# put_object arguments DirectPut sends, and their headers.
HEADER_ARGUMENTS = {
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "ContentMD5": "content-md5",
}
CHECKSUM_HASHES = {"SHA256": hashlib.sha256, "SHA1": hashlib.sha1}


@dataclass(frozen=True)
class _Template:
    """Destination and signing scope learned from the first PutObject of a thread."""

    scheme: str
    host: str  # the Host header, with the port when botocore sent one
    base_path: str  # URL path before the percent-encoded key, e.g. "/bucket/"
    region: str
    service: str


class DirectPut:
    """Sends PutObject requests itself once ``learn`` has seen one that botocore sent.

    Safe to use from many threads; each thread keeps its own connection.
    """

    def __init__(self, client: Any, user_agent: str = "shibaws") -> None:
        self._client = client
        self._user_agent = user_agent
        self._template: _Template | None = None
        self._enabled = _transport_is_plain(client)
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        if self._enabled:
            client.meta.events.register("before-send.s3.PutObject", self._capture)

    @property
    def ready(self) -> bool:
        return self._enabled and self._template is not None

    # -- learning from botocore -------------------------------------------------------

    def _capture(self, request: Any, **_: Any) -> None:
        """Remember, per thread, the URL and Authorization header botocore is sending."""
        if self._template is None:
            self._local.seen = (request.url, request.headers.get("Authorization"))

    def learn(self, key: str) -> None:
        """Take the template from this thread's last botocore PutObject, which stored KEY."""
        seen = getattr(self._local, "seen", None)
        self._local.seen = None
        if self._template is not None or not self._enabled or seen is None:
            return
        url, authorization = seen
        template = _template_from(url, authorization, key)
        if template is None:
            logger.debug("not sending uploads directly: cannot reuse the request to %s", url)
            self._enabled = False
            return
        self._template = template
        logger.debug("sending small uploads directly to %s://%s", template.scheme, template.host)

    # -- sending ----------------------------------------------------------------------

    def put(self, key: str, data: bytes, arguments: dict[str, Any]) -> str | None:
        """PUT DATA as object KEY with put_object ARGUMENTS; return the ETag, or None.

        None means "not sent or not stored": the caller sends the same
        request through botocore, which retries or raises the error.
        """
        template = self._template
        if template is None or not self._enabled:
            return None
        headers = _headers_for(arguments, data)
        if headers is None:
            return None
        credentials = self._credentials()
        if credentials is None:
            return None

        path = template.base_path + quote(key, safe="/~")
        headers["host"] = template.host
        headers["user-agent"] = self._user_agent
        headers = _signed(path, headers, data, credentials, template)
        headers["content-length"] = str(len(data))
        try:
            status, etag = self._send(template, path, headers, data)
        except (OSError, http.client.HTTPException) as error:
            logger.debug("direct upload of %s failed (%s); retrying through botocore", key, error)
            self._drop_connection()
            return None
        if 200 <= status < 300:
            return etag
        if 400 <= status < 500:
            logger.debug("direct upload of %s got HTTP %d; using botocore from now on", key, status)
            self._enabled = False
        return None

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _credentials(self) -> Any:
        # The client's own credentials object refreshes itself when it is refreshable.
        signer = getattr(self._client, "_request_signer", None)
        credentials = getattr(signer, "_credentials", None)
        if credentials is None:
            return None
        frozen = credentials.get_frozen_credentials()
        return frozen if frozen.access_key and frozen.secret_key else None

    def _send(
        self, template: _Template, path: str, headers: dict[str, str], data: bytes
    ) -> tuple[int, str]:
        connection = self._connection(template)
        connection.request("PUT", path, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.will_close:
            self._drop_connection()
        return response.status, response.getheader("ETag", "").strip('"')

    def _connection(self, template: _Template) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        config = self._client.meta.config
        timeout = float(config.read_timeout or 60)
        if template.scheme == "https":
            connection = http.client.HTTPSConnection(
                template.host, timeout=timeout, context=_tls_context(self._client)
            )
        else:
            connection = http.client.HTTPConnection(template.host, timeout=timeout)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


def _signed(
    path: str, headers: dict[str, str], data: bytes, credentials: Any, template: _Template
) -> dict[str, str]:
    """Return HEADERS plus x-amz-date, x-amz-content-sha256 and the SigV4 Authorization.

    ``S3SigV4Auth`` hashes the whole payload into x-amz-content-sha256 here, because
    the request carries no context that would let it choose UNSIGNED-PAYLOAD. It signs
    every header it is given but User-Agent and hop-by-hop ones, so the caller adds
    Content-Length afterwards, leaving it unsigned as in botocore's own requests.
    """
    request = AWSRequest("PUT", f"{template.scheme}://{template.host}{path}", headers, data)
    S3SigV4Auth(credentials, template.service, template.region).add_auth(request)
    return dict(request.headers.items())


def _headers_for(arguments: dict[str, Any], data: bytes) -> dict[str, str] | None:
    """Return the headers for put_object ARGUMENTS, or None when one is not handled here."""
    headers: dict[str, str] = {}
    for name, value in arguments.items():
        if name in ("Bucket", "Key"):
            continue
        if name == "Metadata":
            for meta_name, meta_value in value.items():
                headers[f"x-amz-meta-{meta_name.lower()}"] = str(meta_value)
        elif name == "ChecksumAlgorithm":
            checksum = _checksum(value, data)
            if checksum is None:
                return None
            headers[f"x-amz-checksum-{value.lower()}"] = checksum
        elif name in HEADER_ARGUMENTS:
            headers[HEADER_ARGUMENTS[name]] = str(value)
        else:
            return None
    return headers


def _checksum(algorithm: str, data: bytes) -> str | None:
    """Return the base64 checksum S3 verifies for ALGORITHM, or None for one not handled."""
    if algorithm == "CRC32":
        digest = zlib.crc32(data).to_bytes(4, "big")
    elif algorithm in CHECKSUM_HASHES:
        digest = CHECKSUM_HASHES[algorithm](data).digest()
    else:
        return None
    return base64.b64encode(digest).decode()


def _template_from(url: str, authorization: object, key: str) -> _Template | None:
    """Return the template that botocore's request for KEY shows, or None if it is not plain."""
    if isinstance(authorization, bytes):
        authorization = authorization.decode("ascii", "replace")
    if not isinstance(authorization, str) or not authorization.startswith(ALGORITHM + " "):
        return None
    parts = urlsplit(url)
    encoded_key = quote(key, safe="/~")
    if parts.query or parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if not parts.path.endswith(encoded_key):
        return None
    try:
        credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        _, _, region, service, terminator = credential.split("/")
    except (IndexError, ValueError):
        return None
    if terminator != "aws4_request":
        return None
    base_path = parts.path[: len(parts.path) - len(encoded_key)]
    return _Template(parts.scheme, parts.netloc, base_path, region, service)


def _transport_is_plain(client: Any) -> bool:
    """Return whether the client talks to S3 without a proxy or a client certificate."""
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    proxies = getattr(session, "_proxy_config", None)
    host = getattr(client.meta, "endpoint_url", "")
    try:
        if proxies is None or proxies.proxy_url_for(host):
            return False
    except Exception:  # a private botocore API; anything unexpected means "not plain"
        return False
    verify = getattr(session, "_verify", True)
    return getattr(session, "_cert", None) is None and verify is not False


def _tls_context(client: Any) -> ssl.SSLContext:
    """Return a TLS context that trusts what botocore trusts (AWS_CA_BUNDLE, ca_bundle)."""
    from botocore.httpsession import get_cert_path

    verify = getattr(client._endpoint.http_session, "_verify", True)
    return ssl.create_default_context(cafile=get_cert_path(verify))
