"""Parse ``smb://[DOMAIN;]USER@SERVER[:PORT]/SHARE/PATH`` URLs.

The form is that of the SMB URL Internet-Draft (draft-crhertel-smb-url),
with ``;`` between domain and user. Parts are
percent-decoded, so ``%20``, ``%23`` (``#``), ``%25`` (``%``) and UTF-8
escapes work in user, share and path. A password in the URL is rejected,
because URLs end up in shell history, process lists and logs.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from shibaws.errors import UsageError

DEFAULT_PORT = 445
URL_FORM = "smb://[DOMAIN;]USER@SERVER[:PORT]/SHARE/PATH"

# Characters Windows rejects in user and domain names, and in share names.
INVALID_ACCOUNT_CHARS = set('"/\\[]:;|=,+*?<>')
INVALID_SHARE_CHARS = set('"/\\[]:|<>+=;,*?')
MAX_SHARE_LENGTH = 80
# One DNS label (RFC 1123, plus "_" that NetBIOS-style names use).
HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


@dataclass(frozen=True)
class SmbLocation:
    """A folder in an SMB share and the account that reads it."""

    server: str
    port: int
    share: str
    path: str  # "/"-separated, relative to the share, "" for the share's root
    username: str
    domain: str | None = None

    @property
    def login_name(self) -> str:
        """Return the user name as SMB sends it: ``DOMAIN\\user`` or ``user``."""
        return f"{self.domain}\\{self.username}" if self.domain else self.username

    def unc(self, relative: str = "") -> str:
        """Return the UNC path of RELATIVE (a "/"-separated path inside the folder)."""
        parts = [part for part in (self.path, relative) if part]
        unc = rf"\\{self.server}\{self.share}"
        for part in parts:
            unc += "\\" + part.replace("/", "\\")
        return unc

    def describe(self) -> str:
        """Return the URL again, re-encoded, for messages; it never contains a password."""
        user = quote(self.username, safe="")
        if self.domain:
            user = f"{quote(self.domain, safe='')};{user}"
        host = f"[{self.server}]" if ":" in self.server else self.server
        port = f":{self.port}" if self.port != DEFAULT_PORT else ""
        path = quote(f"{self.share}/{self.path}".rstrip("/"), safe="/")
        return f"smb://{user}@{host}{port}/{path}"


def parse_smb_url(url: str) -> SmbLocation:
    """Split an ``smb://`` URL into an ``SmbLocation``, raising ``UsageError`` on any bad part."""
    if not url.lower().startswith("smb://"):
        raise UsageError(f"{_mask(url)!r} is not an SMB URL; write it as {URL_FORM}")
    masked_url = _mask(url)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # urlsplit checks bracketed IPv6 hosts itself
        raise UsageError(
            f"SMB URL {masked_url!r} is invalid: {error}; check the server part"
        ) from None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise UsageError(
            f"SMB URL {masked_url!r} contains '?' or '#'; "
            "percent-encode them in names as %3F and %23"
        )

    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        raise UsageError(f"SMB URL {masked_url!r} has no user name; write it as {URL_FORM}")
    if ":" in userinfo:
        raise UsageError(
            f"SMB URL {masked_url!r} contains a password; remove it from the URL and give it "
            "with --smb-password-file, SHIBAWS_SMB_PASSWORD_FILE or at the prompt"
        )
    domain, username = _parse_userinfo(userinfo, masked_url)
    server, port = _parse_hostport(hostport, masked_url)
    share, path = _parse_path(parts.path, masked_url)
    return SmbLocation(
        server=server, port=port, share=share, path=path, username=username, domain=domain
    )


def _parse_userinfo(userinfo: str, masked_url: str) -> tuple[str | None, str]:
    domain_text, semicolon, user_text = userinfo.rpartition(";")
    username = _decode(user_text, "user name", masked_url)
    domain = _decode(domain_text, "domain", masked_url) if semicolon else None
    if not username:
        raise UsageError(f"SMB URL {masked_url!r} has an empty user name; write it as {URL_FORM}")
    if semicolon and not domain:
        raise UsageError(f"SMB URL {masked_url!r} has an empty domain before ';'; remove the ';'")
    for label, value in (("user name", username), ("domain", domain or "")):
        bad = sorted({char for char in value if char in INVALID_ACCOUNT_CHARS or ord(char) < 32})
        if bad:
            raise UsageError(
                f"{label} {value!r} in SMB URL contains {''.join(bad)!r}, which SMB account "
                "names cannot contain; check the URL"
            )
    return domain, username


def _parse_hostport(hostport: str, masked_url: str) -> tuple[str, int]:
    if hostport.startswith("["):
        host, bracket, rest = hostport[1:].partition("]")
        if not bracket:
            raise UsageError(f"SMB URL {masked_url!r} has an unclosed '[' in the server address")
        _check_ipv6(host, masked_url)
        port_text = rest[1:] if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise UsageError(f"SMB URL {masked_url!r} has text after the server address ']'")
    else:
        host, _, port_text = hostport.partition(":")
        if not host:
            raise UsageError(f"SMB URL {masked_url!r} has no server name; write it as {URL_FORM}")
        if not _is_host_name(host):
            raise UsageError(
                f"server {host!r} in SMB URL is not a valid host name or IPv4 address; "
                "check the URL"
            )
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(
            f"port {port_text!r} in SMB URL is not a number from 1 to 65535; SMB's port is 445"
        )
    return host, int(port_text)


def _is_host_name(host: str) -> bool:
    """Return whether HOST is a DNS name, NetBIOS name or IPv4 address."""
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(HOST_LABEL.match(label) for label in labels)


def _check_ipv6(host: str, masked_url: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise UsageError(
            f"server [{host}] in SMB URL {masked_url!r} is not an IPv6 address"
        ) from None


def _parse_path(raw_path: str, masked_url: str) -> tuple[str, str]:
    segments = [_decode(segment, "path", masked_url) for segment in raw_path.split("/") if segment]
    if not segments:
        raise UsageError(f"SMB URL {masked_url!r} names no share; write it as {URL_FORM}")
    share, folders = segments[0], segments[1:]

    bad = sorted({char for char in share if char in INVALID_SHARE_CHARS or ord(char) < 32})
    if bad:
        raise UsageError(
            f"share name {share!r} contains {''.join(bad)!r}, which share names cannot contain"
        )
    if len(share) > MAX_SHARE_LENGTH:
        raise UsageError(f"share name {share!r} is longer than {MAX_SHARE_LENGTH} characters")
    for folder in folders:
        if folder in (".", ".."):
            raise UsageError(
                f"SMB URL {masked_url!r} contains a {folder!r} path segment; give the folder's "
                "path from the share's root"
            )
        if "\\" in folder or any(ord(char) < 32 for char in folder):
            raise UsageError(
                f"folder name {folder!r} in SMB URL contains a backslash or control "
                "character; separate folders with '/'"
            )
    return share, "/".join(folders)


def _decode(text: str, label: str, masked_url: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise UsageError(
            f"the {label} in SMB URL {masked_url!r} has a percent escape that is not UTF-8; "
            "encode non-ASCII characters as UTF-8 (é is %C3%A9)"
        ) from None


def _mask(url: str) -> str:
    """Return URL with any password replaced by ``***``, so messages never show it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}"
    return f"{scheme}{sep}{netloc}{slash}{path}"
