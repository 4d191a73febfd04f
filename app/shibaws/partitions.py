"""AWS partitions, their SAML sign-in endpoints and the STS region each one uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Partition:
    name: str  # "aws", "aws-us-gov" or "aws-cn"
    signin_host: str  # global sign-in host of the partition
    default_sts_region: str
    console_host: str


PARTITIONS: dict[str, Partition] = {
    "aws": Partition("aws", "signin.aws.amazon.com", "us-east-1", "console.aws.amazon.com"),
    "aws-us-gov": Partition(
        "aws-us-gov", "signin.amazonaws-us-gov.com", "us-gov-west-1", "console.amazonaws-us-gov.com"
    ),
    "aws-cn": Partition("aws-cn", "signin.amazonaws.cn", "cn-north-1", "console.amazonaws.cn"),
}

# Region names as AWS spells them: us-east-1, eu-central-2, us-gov-west-1, cn-north-1.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_REGION_PATTERN = re.compile(rf"^{_REGION}$")


@dataclass(frozen=True)
class SignInEndpoint:
    """Where an IdP posts the SAML Response, and what follows from it."""

    partition: Partition
    region: str | None  # set for regional endpoints such as us-west-2.signin.aws.amazon.com


def is_region_name(value: str) -> bool:
    """Return whether VALUE has the shape of an AWS region name."""
    return bool(_REGION_PATTERN.match(value))


def parse_signin_url(url: str) -> SignInEndpoint | None:
    """Return the partition and region of an AWS SAML sign-in URL, or None for other URLs.

    Global (``https://signin.aws.amazon.com/saml``), regional
    (``https://us-west-2.signin.aws.amazon.com/saml``) and encrypted-assertion
    (``.../saml/acs/IDP-ID``) forms are recognised in all three partitions.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not _is_saml_path(parts.path):
        return None
    host = (parts.hostname or "").lower()
    for partition in PARTITIONS.values():
        if host == partition.signin_host:
            return SignInEndpoint(partition, None)
        prefix, dot, rest = host.partition(".")
        if dot and rest == partition.signin_host and is_region_name(prefix):
            return SignInEndpoint(partition, prefix)
    return None


def _is_saml_path(path: str) -> bool:
    return path in ("/saml", "/saml/") or path.startswith("/saml/acs/")


def partition_for_region(region: str) -> Partition:
    """Return the partition that REGION belongs to."""
    if region.startswith("us-gov-"):
        return PARTITIONS["aws-us-gov"]
    if region.startswith("cn-"):
        return PARTITIONS["aws-cn"]
    return PARTITIONS["aws"]


def matches_signin_url(url: str, extra_prefixes: tuple[str, ...]) -> bool:
    """Return whether a request to URL carries the SAML Response to AWS.

    EXTRA_PREFIXES are further endpoints given with ``--sign-in-url``; they
    match as prefixes so that ``.../saml/acs/ID`` forms are caught too.
    """
    if parse_signin_url(url) is not None:
        return True
    return any(_url_has_prefix(url, prefix) for prefix in extra_prefixes)


def _url_has_prefix(url: str, prefix: str) -> bool:
    url_parts, prefix_parts = urlsplit(url), urlsplit(prefix)
    return (
        url_parts.scheme == prefix_parts.scheme
        and url_parts.netloc.lower() == prefix_parts.netloc.lower()
        and url_parts.path.startswith(prefix_parts.path)
    )
