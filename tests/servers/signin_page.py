"""Stand-in for the AWS sign-in page that lists a SAML user's accounts and roles.

``https://signin.aws.amazon.com/saml`` answers a POSTed SAML Response with a
page that lists the roles of the assertion grouped by account, with each
account's alias. It comes in several forms, chosen with ``form``:

- ``"2023"``: the page AWS introduced in August 2023, a Next.js page whose
  markup uses hashed CSS module classes (``saml-form_account_name_div__dDGkX``,
  ``saml-form_account_id_div__Q1PBA`` with the id shown as ``1234-5678-9012``),
  after the markup users posted in Versent/saml2aws issue 1110;
- ``"classic"``: the page before that, ``<fieldset>`` with
  ``<div class="saml-account-name">Account: ALIAS (123456789012)</div>``;
- ``"interstitial"``: a script-only page with no account list, as some POSTs now get;
- ``"missing"``: HTTP 404.

Thinner than the real page: roles are read from the posted Response with a
regular expression (no signature check), there is no CSRF token, no
``RelayState`` handling, and no follow-up POST that signs the user in.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal
from urllib.parse import parse_qs

from servers.loopback_server import LoopbackServer, QuietHandler

PageForm = Literal["2023", "classic", "interstitial", "missing"]
MAX_BODY_BYTES = 512 * 1024
_ROLE_ARN = re.compile(r"arn:aws(?:-us-gov|-cn)?:iam::(\d{12}):role/[\w+=,.@/-]+")


@dataclass
class SigninPageState:
    form: PageForm = "2023"
    aliases: dict[str, str] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)


class SigninPage(LoopbackServer):
    """The stand-in server; POST ``/saml`` with ``SAMLResponse`` to get the account page."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.state = SigninPageState()

    @property
    def url(self) -> str:
        return f"{self.base_url}/saml"

    def configure(self, form: PageForm, aliases: dict[str, str]) -> None:
        with self.lock:
            self.state.form = form
            self.state.aliases = dict(aliases)

    def reset(self) -> None:
        with self.lock:
            self.state = SigninPageState()

    @property
    def posts(self) -> list[str]:
        """The SAMLResponse values received, oldest first."""
        with self.lock:
            return list(self.state.posts)


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        page: SigninPage = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large")
            return
        fields = parse_qs(self.rfile.read(length).decode("utf-8", errors="replace"))
        response = (fields.get("SAMLResponse") or [""])[0]
        with page.lock:
            page.state.posts.append(response)
            form, aliases = page.state.form, dict(page.state.aliases)
        if form == "missing":
            self.send_text(HTTPStatus.NOT_FOUND, "<html><body>Not Found</body></html>")
            return
        roles = _roles_in(response)
        self.send_text(HTTPStatus.OK, render_page(form, roles, aliases))


def _roles_in(encoded: str) -> dict[str, list[str]]:
    try:
        xml = base64.b64decode(encoded).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return {}
    accounts: dict[str, list[str]] = {}
    for match in _ROLE_ARN.finditer(xml):
        arns = accounts.setdefault(match.group(1), [])
        if match.group(0) not in arns:
            arns.append(match.group(0))
    return accounts


def render_page(form: PageForm, accounts: dict[str, list[str]], aliases: dict[str, str]) -> str:
    """Return the page's HTML for ACCOUNTS (id -> role ARNs) with ALIASES (id -> alias)."""
    if form == "interstitial":
        return (
            "<html><head><script>var hashArgs = window.location.hash;"
            "document.forms[0] && document.forms[0].submit();</script></head>"
            "<body><noscript>JavaScript is required.</noscript></body></html>"
        )
    if form == "classic":
        return _classic(accounts, aliases)
    return _page_2023(accounts, aliases)


def _classic(accounts: dict[str, list[str]], aliases: dict[str, str]) -> str:
    blocks = []
    for account_id, arns in accounts.items():
        name = html.escape(aliases.get(account_id, account_id))
        roles = "".join(
            f'<div class="saml-role"><input type="radio" name="roleIndex" value="{arn}" '
            f'class="saml-radio" id="{arn}"><label for="{arn}" class="saml-role-description">'
            f"{arn.rsplit('/', 1)[-1]}</label></div>"
            for arn in arns
        )
        blocks.append(
            '<div class="saml-account"><div class="expandable-container">'
            f'<div class="saml-account-name">Account: {name} ({account_id})</div></div>'
            f'<hr style="border: 1px solid #ddd;"><div class="saml-account">{roles}</div></div>'
        )
    return (
        "<html><body><form id='saml_form' method='post' action='/saml'>"
        f"<p>Select a role:</p><fieldset>{''.join(blocks)}</fieldset>"
        "<input type='submit' id='signin_button' value='Sign In'></form></body></html>"
    )


def _page_2023(accounts: dict[str, list[str]], aliases: dict[str, str]) -> str:
    items = []
    for account_id, arns in accounts.items():
        dashed = f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
        alias = aliases.get(account_id)
        name = f"{html.escape(alias)} " if alias else ""
        roles = "".join(
            '<div class="saml-form_role_div__BeMu2">'
            f'<a class="saml-form_role_text__Cfxwn" id="{arn}" role="button" '
            f'aria-label="Account ID {dashed} Role Name {arn.rsplit("/", 1)[-1]}">'
            f'{arn.rsplit("/", 1)[-1]}</a><p class="saml-form_space__uJWq3"></p></div>'
            for arn in arns
        )
        items.append(
            '<li class="saml-form_custom_list_item__H1wPE"><div class="flex flex-row">'
            f'<div class="flex-grow"><div class="saml-form_account_name_div__dDGkX">{name}</div>'
            f'<div class="saml-form_account_id_div__Q1PBA">{dashed}</div>'
            f'<div class="saml-form_account_role_div__FhQmy">{roles}</div></div></div></li>'
        )
    return (
        '<!DOCTYPE html><html><head><script id="__NEXT_DATA__" type="application/json">{}'
        '</script></head><body><div id="__next"><main><h1>Select a role</h1>'
        f'<ul class="saml-form_custom_list__LuP_V">{"".join(items)}</ul></main></div></body></html>'
    )
