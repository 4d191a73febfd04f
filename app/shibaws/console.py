"""AWS console sign-in URLs made from temporary credentials through the federation endpoint.

The endpoint (``https://signin.aws.amazon.com/federation`` and its GovCloud
and China twins) exchanges the credentials for a sign-in token
(``Action=getSigninToken``); the console URL then carries that token
(``Action=login``). SHIBAWS_FEDERATION_URL replaces the endpoint, for a
proxy that only allows certain hosts, or a stand-in in tests.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from shibaws.errors import FederationFailed, UsageError
from shibaws.lifecycle import StoredCredentials
from shibaws.partitions import Partition

logger = logging.getLogger(__name__)

FEDERATION_URL_ENV = "SHIBAWS_FEDERATION_URL"
ISSUER = "shibaws"
# Seconds the federation endpoint may take to return a sign-in token.
FEDERATION_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 100_000


def federation_url(partition: Partition, environ: Mapping[str, str] | None = None) -> str:
    """Return the federation endpoint of PARTITION, or the SHIBAWS_FEDERATION_URL override."""
    env = os.environ if environ is None else environ
    override = env.get(FEDERATION_URL_ENV, "").strip()
    if override:
        _check_override(override)
        return override
    return f"https://{partition.signin_host}/federation"


def _check_override(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise UsageError(
        f"invalid {FEDERATION_URL_ENV} {url!r}: expected https://HOST/federation "
        "(plain http only on loopback, since the credentials travel in the URL)"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def console_destination(partition: Partition, region: str | None) -> str:
    """Return the console page to open: the home page of REGION in PARTITION's console."""
    base = f"https://{partition.console_host}/"
    if region:
        return f"{base}console/home?{urllib.parse.urlencode({'region': region})}"
    return base


def signin_token(credentials: StoredCredentials, endpoint: str) -> str:
    """Exchange CREDENTIALS for a console sign-in token at the federation ENDPOINT."""
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    query = urllib.parse.urlencode({"Action": "getSigninToken", "Session": session})
    try:
        with urllib.request.urlopen(f"{endpoint}?{query}", timeout=FEDERATION_TIMEOUT) as reply:
            body = reply.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        raise FederationFailed(
            f"the federation endpoint {endpoint} refused the credentials of profile "
            f"{credentials.profile} (HTTP {error.code}); log in again with "
            f"shibaws login --profile {credentials.profile} --force"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FederationFailed(
            f"could not reach the federation endpoint {endpoint} ({reason}); check the "
            f"network path or HTTPS_PROXY, or set {FEDERATION_URL_ENV}"
        ) from None
    return _read_token(body, endpoint)


def _read_token(body: bytes, endpoint: str) -> str:
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        raise FederationFailed(
            f"the federation endpoint {endpoint} returned no SigninToken; check "
            f"{FEDERATION_URL_ENV} or try again later"
        ) from None
    if not isinstance(token, str) or not token:
        raise FederationFailed(f"the federation endpoint {endpoint} returned an empty SigninToken")
    return token


def login_url(endpoint: str, token: str, destination: str) -> str:
    """Return the console sign-in URL that carries TOKEN to DESTINATION."""
    query = urllib.parse.urlencode(
        {"Action": "login", "Issuer": ISSUER, "Destination": destination, "SigninToken": token}
    )
    return f"{endpoint}?{query}"


def console_url(credentials: StoredCredentials, partition: Partition, region: str | None) -> str:
    """Return a console sign-in URL for CREDENTIALS in PARTITION, opening REGION's home page."""
    endpoint = federation_url(partition)
    token = signin_token(credentials, endpoint)
    logger.debug("got a sign-in token from %s", endpoint)
    return login_url(endpoint, token, console_destination(partition, region))
