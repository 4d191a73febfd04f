"""Stop cleanly on SIGTERM and Ctrl-C, even while Firefox is starting.

SIGTERM raises ``Terminated`` so that context managers still close Firefox
and remove its profile. While a browser is being started, both signals are
held back: an exception raised inside Selenium's constructor would lose the
half-started driver, and with it the only handle to stop Firefox.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any


class Terminated(Exception):
    """SIGTERM arrived; raised so that cleanup (Firefox, temporary files) still runs."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def install() -> None:
    """Turn SIGTERM into ``Terminated`` in this process."""
    signal.signal(signal.SIGTERM, raise_terminated)


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Delay SIGINT and SIGTERM until the block ends, then raise as they would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    watched = (signal.SIGINT, signal.SIGTERM)
    previous: dict[int, Any] = {number: signal.signal(number, remember) for number in watched}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if signal.SIGTERM in received:
        raise Terminated
    if signal.SIGINT in received:
        raise KeyboardInterrupt
