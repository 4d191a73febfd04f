"""Proxies: Firefox preferences from the proxy variables, and STS calls through a proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roles_helpers import provider_arn, role_arn, role_values
from servers.proxy import RecordingProxy
from servers.saml_builder import SigningKey, build_response, encode_response
from servers.strict_sts import StrictSts
from shibaws import sts
from shibaws.errors import UsageError
from shibaws.proxy import proxy_preferences
from shibaws.saml import Role

ADMIN = role_arn("111122223333", "Admin")


def test_no_proxy_variables_no_preferences() -> None:
    assert proxy_preferences({}) == {}


def test_https_proxy_sets_ssl_proxy() -> None:
    preferences = proxy_preferences(
        {"HTTPS_PROXY": "http://proxy.example.edu:3128", "NO_PROXY": "localhost,.example.edu"}
    )
    assert preferences["network.proxy.type"] == 1
    assert preferences["network.proxy.ssl"] == "proxy.example.edu"
    assert preferences["network.proxy.ssl_port"] == 3128
    assert "network.proxy.http" not in preferences
    assert preferences["network.proxy.no_proxies_on"] == "localhost, .example.edu"


def test_lower_case_wins_and_default_port() -> None:
    preferences = proxy_preferences(
        {
            "https_proxy": "proxy-a.example.edu",
            "HTTPS_PROXY": "http://b:1",
            "http_proxy": "http://c",
        }
    )
    assert preferences["network.proxy.ssl"] == "proxy-a.example.edu"
    assert preferences["network.proxy.ssl_port"] == 80
    assert preferences["network.proxy.http"] == "c"


def test_wildcard_no_proxy_disables() -> None:
    assert proxy_preferences({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}) == {}


def test_socks_proxy_preferences() -> None:
    preferences = proxy_preferences({"HTTPS_PROXY": "socks5h://127.0.0.1:1080"})
    assert preferences["network.proxy.socks"] == "127.0.0.1"
    assert preferences["network.proxy.socks_version"] == 5
    assert preferences["network.proxy.socks_remote_dns"] is True


def test_wildcard_suffix_translated() -> None:
    preferences = proxy_preferences({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*.example.edu"})
    assert preferences["network.proxy.no_proxies_on"] == ".example.edu"


@pytest.mark.parametrize("value", ["ftp://p:21", "http://p:notaport", "http://"])
def test_bad_proxy_rejected(value: str) -> None:
    with pytest.raises(UsageError, match="invalid proxy"):
        proxy_preferences({"HTTPS_PROXY": value})


def test_proxy_password_hidden_in_error() -> None:
    with pytest.raises(UsageError) as caught:
        proxy_preferences({"HTTPS_PROXY": "gopher://user:secret@p:1"})
    assert "secret" not in str(caught.value)


@pytest.fixture
def fresh_sts_client() -> Iterator[None]:
    """boto3 reads proxy variables when a client is made; start each test with none cached."""
    sts._sts_client.cache_clear()
    yield
    sts._sts_client.cache_clear()


def _assertion(key: SigningKey) -> str:
    xml = build_response(
        destination="https://signin.aws.amazon.com/saml",
        role_values=role_values((ADMIN,)),
        key=key,
    )
    return encode_response(xml)


def test_sts_call_goes_through_proxy(
    strict_sts: StrictSts,
    saml_signing_key: SigningKey,
    recording_proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch,
    fresh_sts_client: None,
) -> None:
    strict_sts.set_role(ADMIN, max_session_duration=3600)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", strict_sts.endpoint_url)
    monkeypatch.setenv("HTTP_PROXY", recording_proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", recording_proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    role = Role(ADMIN, provider_arn("111122223333"))
    credentials = sts.assume_role_with_saml(
        role, _assertion(saml_signing_key), region="us-east-1", duration=3600
    )
    assert credentials.access_key_id.startswith("ASIA")
    assert recording_proxy.lines() == [f"POST {strict_sts.endpoint_url}/"]


def test_no_proxy_bypasses_proxy(
    strict_sts: StrictSts,
    saml_signing_key: SigningKey,
    recording_proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch,
    fresh_sts_client: None,
) -> None:
    strict_sts.set_role(ADMIN, max_session_duration=3600)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", strict_sts.endpoint_url)
    monkeypatch.setenv("HTTP_PROXY", recording_proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    role = Role(ADMIN, provider_arn("111122223333"))
    sts.assume_role_with_saml(role, _assertion(saml_signing_key), region="us-east-1", duration=3600)
    assert recording_proxy.lines() == []
