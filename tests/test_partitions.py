"""Sign-in endpoints: which URLs carry the SAML POST, and the partition they imply."""

from __future__ import annotations

import pytest

from shibaws.partitions import matches_signin_url, parse_signin_url, partition_for_region


@pytest.mark.parametrize(
    ("url", "partition", "region"),
    [
        ("https://signin.aws.amazon.com/saml", "aws", None),
        ("https://us-west-2.signin.aws.amazon.com/saml", "aws", "us-west-2"),
        ("https://signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46", "aws", None),
        ("https://signin.amazonaws-us-gov.com/saml", "aws-us-gov", None),
        ("https://us-gov-east-1.signin.amazonaws-us-gov.com/saml", "aws-us-gov", "us-gov-east-1"),
        ("https://signin.amazonaws.cn/saml", "aws-cn", None),
        ("https://cn-northwest-1.signin.amazonaws.cn/saml", "aws-cn", "cn-northwest-1"),
    ],
)
def test_signin_url_recognised(url: str, partition: str, region: str | None) -> None:
    endpoint = parse_signin_url(url)
    assert endpoint is not None
    assert endpoint.partition.name == partition
    assert endpoint.region == region


@pytest.mark.parametrize(
    "url",
    [
        "http://signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/console",
        "https://signin.aws.amazon.com.evil.example/saml",
        "https://evil.example/signin.aws.amazon.com/saml",
        "https://not-a-region.signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/samlx",
    ],
)
def test_other_urls_not_signin(url: str) -> None:
    assert parse_signin_url(url) is None


def test_extra_url_matches_as_prefix() -> None:
    extra = ("http://127.0.0.3:8443/saml",)
    assert matches_signin_url("http://127.0.0.3:8443/saml/acs/ID", extra)
    assert not matches_signin_url("http://127.0.0.3:8444/saml", extra)
    assert not matches_signin_url("https://127.0.0.3:8443/saml", extra)


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")],
)
def test_partition_for_region(region: str, partition: str) -> None:
    assert partition_for_region(region).name == partition
