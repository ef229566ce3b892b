"""Talking to the OpenIndex API over HTTP, and turning its answers into `oi` errors."""
from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import quote

import httpx

from openindex_cli import shapes
from openindex_cli.errors import (
    EXIT_BAD_REPLY,
    EXIT_CONFIG,
    EXIT_FORBIDDEN,
    EXIT_REFUSED,
    EXIT_UNAUTHORIZED,
    EXIT_UNREACHABLE,
    CliError,
)

TIMEOUT_SECONDS = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
RUN_TOKEN_REFUSED = (
    "token scope is insufficient; use a human-owned personal access token "
    "(workflow agent run tokens are refused for settings commands and admin endpoints)"
)


class Api:
    """The API at ``app_url``, called with ``token`` (when the route needs one)."""

    def __init__(
        self,
        app_url: str | None,
        token: str | None,
        transport: httpx.BaseTransport | None = None,
        *,
        token_label: str = "the profile",
        token_fix: str = "",
        insecure: bool = False,
        command: str = "oi",
    ) -> None:
        self._app_url = app_url
        self._token = token
        self._transport = transport
        self._token_label = token_label
        self._token_fix = token_fix
        self._insecure = insecure
        self._command = command

    def check_url(self) -> str:
        """The app URL, if there is one we may send secrets to (CliError otherwise)."""
        if not self._app_url:
            raise CliError(
                "no app URL: set one with `oi profile set --app-url URL` or OPENINDEX_APP_URL", EXIT_CONFIG
            )
        _check_app_url(self._app_url, self._insecure)
        return self._app_url

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """The decoded JSON answer of a 2xx response (None for 204); CliError otherwise."""
        app_url = self.check_url()
        headers = {"User-Agent": "oi"}
        if authenticated:
            if not self._token:
                raise CliError(
                    "no token: set one with `oi profile set --token -` or OPENINDEX_TOKEN", EXIT_CONFIG
                )
            _check_token(self._token, self._token_label)
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            with httpx.Client(
                base_url=app_url, transport=self._transport, timeout=TIMEOUT_SECONDS
            ) as client:
                response = client.request(method, path, json=body, params=params, headers=headers)
        except httpx.TransportError as error:
            raise CliError(
                f"cannot reach {self._app_url}: {error or type(error).__name__}; "
                "is the app URL right and the service up?",
                EXIT_UNREACHABLE,
            ) from None
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code == 204:
            return None
        try:
            payload = response.json()
        except ValueError:
            raise CliError(
                f"the server at {self._app_url} did not answer with JSON (HTTP {response.status_code}); "
                "is the app URL right?",
                EXIT_BAD_REPLY,
            ) from None
        if response.is_success:
            return payload
        message = _server_message(payload)
        if response.status_code == 401:
            raise CliError(self._unauthorized(message), EXIT_UNAUTHORIZED)
        if response.status_code == 403:
            raise CliError(self._forbidden(response), EXIT_FORBIDDEN)
        if response.status_code >= 500:
            raise CliError(
                f"the server failed (HTTP {response.status_code}): {message}; try again", EXIT_BAD_REPLY
            )
        raise CliError(message, EXIT_REFUSED)

    def _unauthorized(self, message: str) -> str:
        """Which token was refused, and the server's reason; never advice to rerun this very command.

        The server's message may point at a command (`oi auth check`); when that is the command
        that failed, that sentence is replaced by how to fix the token where it came from.
        """
        sentences = _SENTENCE_END.split(message.strip())
        kept = [sentence for sentence in sentences if f"`{self._command}`" not in sentence]
        if len(kept) < len(sentences) and self._token_fix:
            kept.append(self._token_fix)
        return f"the token from {self._token_label} was refused (HTTP 401): {' '.join(kept)}"

    def _forbidden(self, response: httpx.Response) -> str:
        if self._token and self._token.startswith("oi_run_"):
            return RUN_TOKEN_REFUSED
        if 'scope="admin"' in response.headers.get("WWW-Authenticate", ""):
            return "token scope is insufficient; use a token with admin scope"
        return f"token scope is insufficient: {_server_message(response.json())}"


def api_path(*parts: str) -> str:
    """``/part/part``, each part percent-encoded whole, so no value can add a path segment."""
    return "".join(f"/{quote(part, safe='')}" for part in parts)


def _check_app_url(app_url: str, insecure: bool) -> None:
    """An http(s) URL; plain http only to this machine, unless the user said --insecure."""
    try:
        url = httpx.URL(app_url)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise CliError(f"app URL {app_url!r} is not an http(s) URL", EXIT_CONFIG)
    if url.scheme == "http" and not insecure and not is_loopback(url.host):
        raise CliError(
            f"refusing to send secrets in clear to {url.host} over http://; use an https:// app URL, or add "
            "--insecure (or `oi profile set --insecure` for the profile) if the network is trusted",
            EXIT_CONFIG,
        )


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: plain http never leaves this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_token(token: str, where: str) -> None:
    """A token that cannot be one is refused here: it would only fail later, less clearly."""
    problem = shapes.token_problem(token)
    if problem is not None:
        raise CliError(shapes.not_a_token(f"the token from {where}", problem), EXIT_CONFIG)


def _server_message(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return str(payload["error"].get("message", "the request was refused"))
    return "the request was refused"
