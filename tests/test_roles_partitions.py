"""GovCloud and China end to end: sign-in destination, STS region, profile region, console URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from login_helpers import login_env, run_shibaws
from roles_helpers import RESEARCH, TEACHING, login_args, read_ini, role_arn, role_values
from servers.federation import FederationEndpoint
from servers.shib_fixtures import ShibDuo
from servers.strict_sts import StrictSts

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("partition", "destination", "region", "console"),
    [
        (
            "aws-us-gov",
            "https://signin.amazonaws-us-gov.com/saml",
            "us-gov-west-1",
            "https://console.amazonaws-us-gov.com/",
        ),
        (
            "aws-cn",
            "https://signin.amazonaws.cn/saml",
            "cn-north-1",
            "https://console.amazonaws.cn/",
        ),
        (
            "aws-cn",
            "https://cn-northwest-1.signin.amazonaws.cn/saml",
            "cn-northwest-1",
            "https://console.amazonaws.cn/",
        ),
    ],
)
def test_partition_end_to_end(
    shib_duo: ShibDuo,
    strict_sts: StrictSts,
    federation: FederationEndpoint,
    aws_home: Path,
    partition: str,
    destination: str,
    region: str,
    console: str,
) -> None:
    roles = (role_arn(RESEARCH, "Admin", partition), role_arn(TEACHING, "Reader", partition))
    strict_sts.trust_cert(shib_duo.cert_pem)
    for arn in roles:
        strict_sts.set_role(arn, max_session_duration=43200)
    shib_duo.add_user("dana", "dana-pass", role_values(roles, partition), destination=destination)
    shib_duo.set_push_behaviour("approve")
    env = login_env(aws_home, strict_sts.endpoint_url)

    result = run_shibaws(
        [
            *login_args(shib_duo, "dana", "--all-roles", "--profile", "{account_id}-{role_name}"),
            "-v",
        ],
        env,
        "dana-pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert f"through STS in {region}" in result.stderr
    config = read_ini(aws_home / "config")
    for account in (RESEARCH, TEACHING):
        assert (
            config[f"profile {account}-{'Admin' if account == RESEARCH else 'Reader'}"]["region"]
            == region
        )

    env["SHIBAWS_FEDERATION_URL"] = federation.url
    shown = run_shibaws(["console", "--profile", f"{RESEARCH}-Admin"], env)
    assert shown.returncode == 0, shown.stderr
    target = parse_qs(urlsplit(shown.stdout.strip()).query)["Destination"][0]
    assert target.startswith(console)
    assert f"region={region}" in target
