"""Run a real SAML 2.0 IdP (SimpleSAMLphp from Debian) on loopback for login tests.

The IdP is Debian's ``simplesamlphp`` package (1.19 on bookworm) served by PHP's built-in
server with a private config folder (``SIMPLESAMLPHP_CONFIG_DIR``). It hosts one SAML 2.0
IdP with a fresh self-signed key, an ``exampleauth:UserPass`` source with the users in
``IDP_USERS``, and remote SP metadata for ``urn:amazon:webservices`` whose
AssertionConsumerService is a loopback "sign-in URL" served by a small Python page.
SimpleSAMLphp signs both the Response and the Assertion with RSA-SHA256.

It replaces a Shibboleth IdP in tests, with two differences. The login page markup is
SimpleSAMLphp's ``#username``/``#password`` form rather than Shibboleth's ``j_username``,
and there is no Duo step.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs

from servers.saml_builder import (
    ROLE_ATTRIBUTE,
    ROLE_SESSION_NAME_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE,
    URI_NAME_FORMAT,
    SigningKey,
    make_signing_key,
)

SIMPLESAMLPHP_WWW = Path("/usr/share/simplesamlphp/www")
AWS_SP_ENTITY_ID = "urn:amazon:webservices"
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0

ACCOUNT_A = "111122223333"
ACCOUNT_B = "444455556666"
PROVIDER_A = f"arn:aws:iam::{ACCOUNT_A}:saml-provider/Shibboleth"
PROVIDER_B = f"arn:aws:iam::{ACCOUNT_B}:saml-provider/Shibboleth"


class IdpUser(NamedTuple):
    """A login on the test IdP and the AWS roles its assertion carries."""

    password: str
    role_arns: list[str]
    principal_arns: list[str]
    role_values: list[str]
    session_name: str
    session_duration: int


IDP_USERS: dict[str, IdpUser] = {
    # alice has one role, written provider ARN first.
    "alice": IdpUser(
        password="alice-pass",
        role_arns=[f"arn:aws:iam::{ACCOUNT_A}:role/ReadOnly"],
        principal_arns=[PROVIDER_A],
        role_values=[f"{PROVIDER_A},arn:aws:iam::{ACCOUNT_A}:role/ReadOnly"],
        session_name="alice@example.edu",
        session_duration=43200,
    ),
    # bob has three roles in two accounts, one with a role path, in both value orders.
    "bob": IdpUser(
        password="bob-pass",
        role_arns=[
            f"arn:aws:iam::{ACCOUNT_A}:role/team/ops/Admin",
            f"arn:aws:iam::{ACCOUNT_A}:role/ReadOnly",
            f"arn:aws:iam::{ACCOUNT_B}:role/Developer",
        ],
        principal_arns=[PROVIDER_A, PROVIDER_A, PROVIDER_B],
        role_values=[
            f"{PROVIDER_A},arn:aws:iam::{ACCOUNT_A}:role/team/ops/Admin",
            f"arn:aws:iam::{ACCOUNT_A}:role/ReadOnly,{PROVIDER_A}",
            f"arn:aws:iam::{ACCOUNT_B}:role/Developer,{PROVIDER_B}",
        ],
        session_name="bob@example.edu",
        session_duration=28800,
    ),
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def php_literal(value: object) -> str:
    """Render a Python str, bool, int, None, list or dict as a PHP literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Mapping):
        items = ", ".join(f"{php_literal(k)} => {php_literal(v)}" for k, v in value.items())
        return f"[{items}]"
    if isinstance(value, Sequence):
        return "[" + ", ".join(php_literal(item) for item in value) + "]"
    raise TypeError(f"cannot render a {type(value).__name__} value as a PHP literal")


def _php_file(variable: str, value: object) -> str:
    return f"<?php\n${variable} = {php_literal(value)};\n"


# Sign-in URL page


@dataclass
class SignInPage:
    """A loopback page at the AWS sign-in URL that records every POST and returns 200.

    The product is expected to capture the SAMLResponse in the browser and stop the POST
    there, so a test can assert that ``posts`` stays empty.
    """

    posts: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        page = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self._reply()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                page.posts.append({name: values[0] for name, values in fields.items()})
                self._reply()

            def _reply(self) -> None:
                body = b"<!DOCTYPE html><html><body><h1>Test AWS sign-in page</h1></body></html>"
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sign-in page is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/saml"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# SimpleSAMLphp


class IdpStartError(RuntimeError):
    """SimpleSAMLphp failed to start. The message contains PHP's output."""


@dataclass
class SimpleSamlIdp:
    """A running SimpleSAMLphp IdP and what tests need to know about it."""

    base_url: str
    start_url: str
    sign_in_url: str
    entity_id: str
    users: dict[str, IdpUser]
    signing_key: SigningKey
    sign_in_page: SignInPage
    work_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def cert_pem(self) -> bytes:
        return self.signing_key.cert_pem

    def stop(self) -> None:
        """Stop PHP's whole process group (it forks workers) and the sign-in page."""
        _stop_process_group(self.process)
        self.sign_in_page.stop()

    def php_log(self) -> str:
        return (self.work_dir / "php.log").read_text(errors="replace")


def start_simplesaml_idp(
    work_dir: Path, users: Mapping[str, IdpUser] = IDP_USERS, key: SigningKey | None = None
) -> SimpleSamlIdp:
    """Write a SimpleSAMLphp config under WORK_DIR, start PHP's server and wait for it."""
    php = shutil.which("php")
    if php is None or not SIMPLESAMLPHP_WWW.is_dir():
        raise IdpStartError(
            "php or SimpleSAMLphp is missing. Run tests/setup/system.sh to install "
            "simplesamlphp php-cli php-xml php-mbstring"
        )

    key = key or make_signing_key("simplesaml-idp")
    sign_in_page = SignInPage()
    sign_in_page.start()
    try:
        port, entity_id, process = _launch_php(php, work_dir, sign_in_page.url, users, key)
    except BaseException:
        sign_in_page.stop()
        raise
    base_url = f"http://127.0.0.1:{port}"

    idp = SimpleSamlIdp(
        base_url=base_url,
        start_url=f"{base_url}/simplesaml/saml2/idp/SSOService.php?spentityid={AWS_SP_ENTITY_ID}",
        sign_in_url=sign_in_page.url,
        entity_id=entity_id,
        users=dict(users),
        signing_key=key,
        sign_in_page=sign_in_page,
        work_dir=work_dir,
        process=process,
    )
    try:
        _wait_for_port(port, process)
    except IdpStartError as exc:
        idp.stop()
        raise IdpStartError(f"{exc}\nPHP output:\n{idp.php_log()}") from exc
    return idp


def _launch_php(
    php: str, work_dir: Path, sign_in_url: str, users: Mapping[str, IdpUser], key: SigningKey
) -> tuple[int, str, subprocess.Popen[bytes]]:
    """Write the config and start ``php -S`` in a new session.

    Returns the port, the IdP entity ID and the PHP process.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    entity_id = f"{base_url}/simplesaml/saml2/idp/metadata.php"
    config_dir = _write_config(work_dir, base_url, entity_id, sign_in_url, users, key)

    docroot = work_dir / "docroot"
    docroot.mkdir(exist_ok=True)
    (docroot / "simplesaml").symlink_to(SIMPLESAMLPHP_WWW)
    env = {
        **os.environ,
        "SIMPLESAMLPHP_CONFIG_DIR": str(config_dir),
        # Several workers, so a browser's parallel requests for CSS and images don't queue.
        "PHP_CLI_SERVER_WORKERS": "4",
    }
    command = [php, "-d", "display_errors=stderr", "-S", f"127.0.0.1:{port}", "-t", str(docroot)]
    with open(work_dir / "php.log", "wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return port, entity_id, process


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise IdpStartError(f"php -S exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise IdpStartError(
        f"php -S did not listen on 127.0.0.1:{port} within {START_TIMEOUT_SECONDS} s"
    )


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except ProcessLookupError:
        return


def _write_config(
    work_dir: Path,
    base_url: str,
    entity_id: str,
    sign_in_url: str,
    users: Mapping[str, IdpUser],
    key: SigningKey,
) -> Path:
    config_dir = work_dir / "config"
    metadata_dir = work_dir / "metadata"
    cert_dir = work_dir / "cert"
    for folder in (config_dir, metadata_dir, cert_dir, work_dir / "log", work_dir / "data"):
        folder.mkdir(parents=True, exist_ok=True)
    (work_dir / "sessions").mkdir(mode=0o700, exist_ok=True)
    (work_dir / "tmp").mkdir(mode=0o700, exist_ok=True)

    (cert_dir / "idp.key").write_bytes(key.key_pem)
    (cert_dir / "idp.crt").write_bytes(key.cert_pem)
    (config_dir / "config.php").write_text(_php_file("config", _config(work_dir, base_url)))
    (config_dir / "authsources.php").write_text(_php_file("config", _auth_sources(users)))
    (metadata_dir / "saml20-idp-hosted.php").write_text(
        _php_file("metadata", {entity_id: _hosted_idp()})
    )
    (metadata_dir / "saml20-sp-remote.php").write_text(
        _php_file("metadata", {AWS_SP_ENTITY_ID: _aws_sp(sign_in_url)})
    )
    return config_dir


def _config(work_dir: Path, base_url: str) -> dict[str, object]:
    return {
        "baseurlpath": f"{base_url}/simplesaml/",
        "certdir": f"{work_dir}/cert/",
        "loggingdir": f"{work_dir}/log/",
        "datadir": f"{work_dir}/data/",
        "tempdir": f"{work_dir}/tmp",
        "metadatadir": f"{work_dir}/metadata/",
        "metadata.sources": [{"type": "flatfile"}],
        "secretsalt": "shibaws-test-salt-not-secret",
        "auth.adminpassword": "shibaws-test-admin",
        "technicalcontact_name": "shibaws tests",
        "technicalcontact_email": "tests@example.invalid",
        "timezone": "UTC",
        "enable.saml20-idp": True,
        "module.enable": {"exampleauth": True, "core": True, "saml": True, "admin": True},
        "logging.handler": "file",
        "logging.logfile": "simplesamlphp.log",
        "logging.level": 7,
        "showerrors": True,
        "errorreporting": False,
        "admin.checkforupdates": False,
        "store.type": "phpsession",
        "session.phpsession.savepath": f"{work_dir}/sessions",
        # Plain HTTP on loopback: Secure cookies would never come back, and browsers drop
        # SameSite=None cookies without Secure.
        "session.cookie.secure": False,
        "session.cookie.samesite": None,
        "language.cookie.secure": False,
        "language.cookie.samesite": None,
        "trusted.url.domains": ["127.0.0.1"],
        "production": True,
    }


def _auth_sources(users: Mapping[str, IdpUser]) -> dict[str, object]:
    # PHP's ['exampleauth:UserPass', 'name:password' => [...]] has the class at key 0.
    user_pass: dict[str | int, object] = {0: "exampleauth:UserPass"}
    for name, user in users.items():
        user_pass[f"{name}:{user.password}"] = {
            ROLE_ATTRIBUTE: user.role_values,
            ROLE_SESSION_NAME_ATTRIBUTE: [user.session_name],
            SESSION_DURATION_ATTRIBUTE: [str(user.session_duration)],
        }
    return {"admin": ["core:AdminPassword"], "aws-users": user_pass}


def _hosted_idp() -> dict[str, object]:
    return {
        "host": "__DEFAULT__",
        "privatekey": "idp.key",
        "certificate": "idp.crt",
        "auth": "aws-users",
        "signature.algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    }


def _aws_sp(sign_in_url: str) -> dict[str, object]:
    return {
        "AssertionConsumerService": [
            {
                "Binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                "Location": sign_in_url,
                "index": 1,
            }
        ],
        "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        "attributes.NameFormat": URI_NAME_FORMAT,
        "saml20.sign.response": True,
        "saml20.sign.assertion": True,
    }
