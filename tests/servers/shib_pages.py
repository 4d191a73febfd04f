"""HTML of the Shibboleth IdP stand-in's pages, filled from ``templates/shib_*.html``.

``shibboleth.py`` describes which real IdP view each page follows and where it is thinner.
Every argument is escaped here, so callers pass plain text.
"""

from __future__ import annotations

import html
import secrets
from typing import TYPE_CHECKING

from servers.standin_http import render_template

if TYPE_CHECKING:
    from servers.shibboleth import IdPUser

# The stock heading of the IdP's expiring-password view.
EXPIRING_PASSWORD = "Your password will be expiring soon!"

# Attribute ids and display names the consent page lists for the AWS attributes.
AWS_ATTRIBUTE_NAMES = {
    "awsRoles": "AWS Role",
    "awsRoleSessionName": "AWS Role Session Name",
    "awsSessionDuration": "AWS Session Duration",
}


def login_page(action: str, csrf_token: str, error: str | None, username: str) -> str:
    error_html = ""
    if error:
        error_html = (
            f'<section>\n<p class="form-element form-error">{html.escape(error)}</p>\n</section>'
        )
    return render_template(
        "shib_login.html",
        action=html.escape(action),
        csrf_token=csrf_token,
        error=error_html,
        username=html.escape(username),
    )


def client_storage_page(stage: str, action: str, csrf_token: str) -> str:
    """Return the self-submitting "Loading" (STAGE "storage_read") or "Saving" page."""
    if stage == "storage_read":
        return render_template(
            "shib_storage_read.html", action=html.escape(action), csrf_token=csrf_token
        )
    return render_template(
        "shib_storage_write.html",
        action=html.escape(action),
        csrf_token=csrf_token,
        storage_value=secrets.token_hex(16),
    )


def expiring_password_page(proceed_url: str, seconds: int) -> str:
    """Return the warning page that continues to PROCEED_URL by itself after SECONDS."""
    return render_template(
        "shib_expiring.html",
        proceed_url=html.escape(proceed_url),
        seconds=str(seconds),
        heading=html.escape(EXPIRING_PASSWORD),
    )


def terms_of_use_page(action: str, csrf_token: str, terms_id: str) -> str:
    return render_template(
        "shib_terms.html",
        action=html.escape(action),
        csrf_token=csrf_token,
        terms_id=html.escape(terms_id),
    )


def security_questions_page(action: str, csrf_token: str) -> str:
    return render_template("shib_questions.html", action=html.escape(action), csrf_token=csrf_token)


def consent_page(action: str, csrf_token: str, user: IdPUser) -> str:
    """Return the attribute-release page listing what the IdP releases to AWS for USER."""
    values = {
        "awsRoles": list(user.role_values),
        "awsRoleSessionName": [user.session_name] if user.session_name else [],
        "awsSessionDuration": [str(user.session_duration)] if user.session_duration else [],
    }
    rows = []
    for attribute_id, attribute_values in values.items():
        if not attribute_values:
            continue
        items = "".join(f"<li>{html.escape(value)}</li>" for value in attribute_values)
        rows.append(
            "                <tr>\n"
            f"                  <td>{html.escape(AWS_ATTRIBUTE_NAMES[attribute_id])}</td>\n"
            f'                  <td><ul class="list-unstyled">{items}</ul></td>\n'
            f'                  <td><input type="hidden" name="_shib_idp_consentIds" '
            f'value="{attribute_id}"></td>\n'
            "                </tr>"
        )
    return render_template(
        "shib_consent.html",
        action=html.escape(action),
        csrf_token=csrf_token,
        rows="\n".join(rows),
    )


def duo_traditional_page(
    action: str, csrf_token: str, *, duo_host: str, sig_request: str, script_url: str
) -> str:
    return render_template(
        "shib_duo_traditional.html",
        action=html.escape(action),
        csrf_token=csrf_token,
        duo_host=html.escape(duo_host),
        sig_request=html.escape(sig_request),
        script_url=html.escape(script_url),
    )


def post_binding_page(
    *, action: str, saml_response: str, relay_state: str | None, remove_form: bool
) -> str:
    relay = ""
    if relay_state is not None:
        relay = f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}"/>'
    onload = "document.forms[0].submit()"
    if remove_form:
        onload += "; document.forms[0].remove()"
    return render_template(
        "shib_post.html",
        onload=onload,
        action=html.escape(action),
        relay_state=relay,
        saml_response=saml_response,
    )


def error_page(title: str, message: str) -> str:
    return render_template(
        "shib_error.html", title=html.escape(title), message=html.escape(message)
    )
