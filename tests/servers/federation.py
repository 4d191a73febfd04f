"""Stand-in for the AWS federation endpoint (``https://signin.aws.amazon.com/federation``).

It imitates ``Action=getSigninToken``: a GET whose ``Session`` parameter is a
JSON document with ``sessionId``, ``sessionKey`` and ``sessionToken``; the
answer is ``{"SigninToken": "..."}``. When a ``check`` callback is given (the
strict STS's record of issued credentials), only those credentials get a token;
others get HTTP 400, as AWS answers an invalid session. ``Action=login`` answers
a small page naming the ``Destination``.

Thinner than the real endpoint: no ``SessionDuration`` checks, no token expiry,
and no console behind the login redirect.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from servers.loopback_server import LoopbackServer, QuietHandler

CheckSession = Callable[[str, str, str], bool]


@dataclass
class FederationState:
    check: CheckSession | None = None
    sessions: list[dict[str, str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


class FederationEndpoint(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.state = FederationState()

    @property
    def url(self) -> str:
        return f"{self.base_url}/federation"

    def reset(self, check: CheckSession | None = None) -> None:
        with self.lock:
            self.state = FederationState(check=check)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        endpoint: FederationEndpoint = self.owner
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path != "/federation":
            self.send_text(HTTPStatus.NOT_FOUND, "not found", "text/plain")
            return
        if query.get("Action") == "login":
            destination = query.get("Destination", "")
            self.send_text(HTTPStatus.OK, f"<html><body>console {destination}</body></html>")
            return
        if query.get("Action") != "getSigninToken":
            self.send_text(HTTPStatus.BAD_REQUEST, "unknown Action", "text/plain")
            return
        self._token(endpoint, query.get("Session", ""))

    def _token(self, endpoint: FederationEndpoint, session_text: str) -> None:
        try:
            session = json.loads(session_text)
            key_id, secret, token = (
                session["sessionId"],
                session["sessionKey"],
                session["sessionToken"],
            )
        except (ValueError, KeyError, TypeError):
            self.send_text(HTTPStatus.BAD_REQUEST, "invalid Session", "text/plain")
            return
        with endpoint.lock:
            check = endpoint.state.check
            endpoint.state.sessions.append(dict(session))
        if check is not None and not check(key_id, secret, token):
            self.send_text(HTTPStatus.BAD_REQUEST, "invalid credentials", "text/plain")
            return
        signin_token = secrets.token_urlsafe(48)
        with endpoint.lock:
            endpoint.state.tokens.append(signin_token)
        self.send_text(HTTPStatus.OK, json.dumps({"SigninToken": signin_token}), "application/json")
