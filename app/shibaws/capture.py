"""Capture the SAML Response from the browser's POST to an AWS sign-in endpoint.

The IdP's last page submits a form to AWS at once (often from an inline
script that then removes the form), so reading the page is a race. The
POST is caught at the browser's network layer with WebDriver BiDi instead:
an intercept on the sign-in hosts blocks the request before it is sent, a
data collector yields its body, and the request is then failed so it never
reaches AWS. Other requests to those hosts continue unchanged.
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shibaws.partitions import PARTITIONS, matches_signin_url

logger = logging.getLogger(__name__)

# Bodies larger than this are not a SAML POST; Firefox keeps at most this much.
MAX_BODY_BYTES = 2_000_000


@dataclass(frozen=True)
class CapturedPost:
    url: str
    saml_response: str = field(repr=False)
    relay_state: str | None


class SamlCapture:
    """Watch the browser for the SAML POST; ``wait`` returns it once seen."""

    def __init__(self, driver: Any, extra_urls: tuple[str, ...] = ()) -> None:
        self._driver = driver
        self._extra_urls = extra_urls
        self._seen = threading.Event()
        self._result: CapturedPost | None = None
        self._error: str | None = None

    def start(self) -> None:
        """Install the data collector, the intercept and the event handler."""
        network = self._driver.network
        network.add_data_collector(data_types=["request"], max_encoded_data_size=MAX_BODY_BYTES)
        patterns = [_host_pattern(url) for url in self._intercept_urls()]
        network.add_intercept(phases=["beforeRequestSent"], url_patterns=patterns)
        network.add_event_handler("before_request_sent", self._on_request)
        logger.debug("watching %d sign-in hosts for the SAML POST", len(patterns))

    @property
    def result(self) -> CapturedPost | None:
        return self._result

    def wait(self, timeout: float) -> CapturedPost | None:
        """Wait up to TIMEOUT seconds for the POST; return it, or None."""
        self._seen.wait(timeout)
        return self._result

    def _intercept_urls(self) -> list[str]:
        return [f"https://{host}/saml" for host in signin_hosts()] + list(self._extra_urls)

    def _on_request(self, params: Any) -> None:
        # Runs on a Selenium websocket thread; every blocked request must be
        # continued or failed here, or the page hangs.
        if not isinstance(params, dict) or not params.get("isBlocked"):
            return
        request = params.get("request", {})
        request_id = request.get("request")
        try:
            if request.get("method") == "POST" and matches_signin_url(
                request.get("url", ""), self._extra_urls
            ):
                self._take(request)
                self._command("network.failRequest", {"request": request_id})
            else:
                self._command("network.continueRequest", {"request": request_id})
        except Exception as error:  # must not kill the websocket thread
            logger.debug("handling intercepted request failed: %s", error)
            self._error = str(error)

    def _take(self, request: dict[str, Any]) -> None:
        data = self._command(
            "network.getData", {"dataType": "request", "request": request["request"]}
        )
        body = _decode_bytes(data.get("bytes", {}))
        fields = parse_qs(body, keep_blank_values=True)
        saml = fields.get("SAMLResponse", [""])[0]
        if not saml:
            logger.warning("a POST to %s carried no SAMLResponse", _without_query(request["url"]))
            return
        relay = fields.get("RelayState", [None])[0]
        self._result = CapturedPost(request["url"], saml, relay)
        logger.info("captured the SAML Response posted to %s", _without_query(request["url"]))
        self._seen.set()

    def _command(self, method: str, params: dict[str, Any]) -> Any:
        from selenium.webdriver.common.bidi.common import command_builder

        return self._driver._websocket_connection.execute(command_builder(method, params))


def _decode_bytes(value: dict[str, Any]) -> str:
    if value.get("type") == "base64":
        return base64.b64decode(value.get("value", "")).decode("utf-8", "replace")
    return str(value.get("value", ""))


def _host_pattern(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    pattern = {"type": "pattern", "protocol": parts.scheme, "hostname": parts.hostname or ""}
    if parts.port is not None:
        pattern["port"] = str(parts.port)
    return pattern


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@cache
def signin_hosts() -> tuple[str, ...]:
    """Return every AWS SAML sign-in host: global and per region, in all three partitions."""
    hosts = [partition.signin_host for partition in PARTITIONS.values()]
    for name, regions in _regions_by_partition().items():
        partition = PARTITIONS.get(name)
        if partition is None:
            continue
        hosts.extend(f"{region}.{partition.signin_host}" for region in regions)
    return tuple(hosts)


def _regions_by_partition() -> dict[str, list[str]]:
    """Read region names from botocore's bundled endpoint data."""
    from botocore.loaders import create_loader

    data = create_loader().load_data("endpoints")
    return {
        partition["partition"]: sorted(partition.get("regions", {}))
        for partition in data.get("partitions", [])
    }
