"""Firefox proxy preferences from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.

boto3 and urllib read these variables themselves; Firefox does not, so the
browser gets the same proxies as ``network.proxy.*`` preferences. Lower-case
names win over upper-case ones, as in curl and Python's urllib. Only
``http://HOST:PORT`` proxies are supported (Firefox speaks CONNECT to them
for https URLs); a ``socks5://`` value is mapped to Firefox's SOCKS setting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from shibaws.errors import UsageError

logger = logging.getLogger(__name__)

# network.proxy.type 1 is "manual proxy configuration".
MANUAL_PROXY = 1
_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080, "socks4": 1080}


def proxy_preferences(environ: Mapping[str, str]) -> dict[str, object]:
    """Return Firefox preferences for the proxies in ENVIRON, or {} when none is set.

    Raises UsageError for a proxy URL Firefox cannot use, so a typo is not
    silently bypassed.
    """
    https_proxy = _variable(environ, "https_proxy")
    http_proxy = _variable(environ, "http_proxy")
    no_proxy = _variable(environ, "no_proxy")
    # NO_PROXY=* turns proxies off for every host, in curl and urllib alike.
    if (not https_proxy and not http_proxy) or no_proxy == "*":
        return {}

    preferences: dict[str, object] = {"network.proxy.type": MANUAL_PROXY}
    for scheme_pref, value in (("ssl", https_proxy), ("http", http_proxy)):
        if not value:
            continue
        kind, host, port = _parse_proxy(value)
        if kind == "socks":
            preferences.update(_socks_preferences(value, host, port))
            continue
        preferences[f"network.proxy.{scheme_pref}"] = host
        preferences[f"network.proxy.{scheme_pref}_port"] = port

    preferences["network.proxy.no_proxies_on"] = _firefox_bypass_list(no_proxy)
    # Firefox never proxies localhost unless told to; other tools proxy it unless NO_PROXY
    # lists it, so follow NO_PROXY here too.
    preferences["network.proxy.allow_hijacking_localhost"] = True
    logger.debug("browser proxies: https %s, http %s", https_proxy or "-", http_proxy or "-")
    return preferences


def _variable(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name) or environ.get(name.upper()) or "").strip()


def _parse_proxy(value: str) -> tuple[str, str, int]:
    """Return ("http" or "socks", host, port) for a proxy URL; a bare HOST:PORT means http."""
    url = value if "://" in value else f"http://{value}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port, scheme = None, "invalid port"
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise UsageError(
            f"invalid proxy {_without_password(value)!r}: expected http://HOST:PORT "
            "(or socks5://HOST:PORT)"
        )
    if parts.username or parts.password:
        # NOTE: Firefox asks for proxy credentials in a dialog that WebDriver cannot answer.
        logger.warning("the browser cannot send the proxy's user name and password; it may fail")
    kind = "socks" if scheme.startswith("socks") else "http"
    return kind, parts.hostname, port or _DEFAULT_PORTS[scheme]


def _socks_preferences(value: str, host: str, port: int) -> dict[str, object]:
    scheme = urlsplit(value).scheme.lower()
    return {
        "network.proxy.socks": host,
        "network.proxy.socks_port": port,
        "network.proxy.socks_version": 4 if scheme == "socks4" else 5,
        "network.proxy.socks_remote_dns": scheme == "socks5h",
    }


def _firefox_bypass_list(no_proxy: str) -> str:
    """Translate NO_PROXY (comma-separated hosts, ``.domain`` suffixes, ``*``) to Firefox's form.

    Firefox matches ``.example.edu`` as a suffix and ``127.0.0.1/8`` as a CIDR, as NO_PROXY
    does, so entries pass through; ``*.example.edu`` becomes ``.example.edu``.
    """
    entries = []
    for raw in no_proxy.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry.startswith("*."):
            entry = entry[1:]
        entries.append(entry)
    return ", ".join(entries)


def _without_password(value: str) -> str:
    parts = urlsplit(value if "://" in value else f"http://{value}")
    if parts.password is None:
        return value
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}:***@{host}{port}").geturl()
