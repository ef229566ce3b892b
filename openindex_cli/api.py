"""Talking to the OpenIndex API over HTTP, and turning its answers into `oi` errors."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import tzinfo
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
from openindex_cli.signals import TOKEN_EXPIRES_HEADER, TOKEN_ROTATED_TO_HEADER
from openindex_cli.wording import for_people

TIMEOUT_SECONDS = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
USE_THE_NEW_TOKEN = "Use the new token."  # the 401 of a rotated token past its window, whose successor lives
TOKEN_CHECK = "/auth/token-check"
# Said after the gateway's 401 when token-check would not answer (its per-address limit).
NO_REASON = "oi could not ask the server why: too many token checks from this address; retry in a minute."
ROUTE_NOT_FOUND = "route_not_found"
ME_KEYS = ("id", "email", "role", "token")  # what GET /me answers, checked before it is shown
RUN_TOKEN_REFUSED = (
    "token scope is insufficient; use a human-owned personal access token "
    "(workflow agent run tokens are refused for settings commands, admin endpoints and minting run tokens)"
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
        successor_fix: str = "",
        insecure: bool = False,
        command: str = "oi",
        on_expiry: Callable[[str, str | None], None] | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self._app_url = app_url
        self._token = token
        self._transport = transport
        self._token_label = token_label
        self._token_fix = token_fix
        self._successor_fix = successor_fix  # how to store a rotated token's successor where it came from
        self._insecure = insecure
        self._command = command
        # given each OpenIndex-Token-Expires value (and OpenIndex-Token-Rotated-To), whatever the status
        self._on_expiry = on_expiry
        self._zone = zone  # the clock the server's times are told on (None: this machine's)

    def check(self, authenticated: bool = True) -> str:
        """The app URL, once it and (for ``authenticated`` calls) the token are fit to use.

        Commands that ask the user something call this first, so a configuration error comes
        before the question rather than after the answer.
        """
        if not self._app_url:
            raise CliError(
                "no app URL: set one with `oi profile set --app-url URL` or OPENINDEX_APP_URL", EXIT_CONFIG
            )
        _check_app_url(self._app_url, self._insecure)
        if authenticated:
            if not self._token:
                raise CliError(
                    "no token: set one with `oi profile set --token -` or OPENINDEX_TOKEN", EXIT_CONFIG
                )
            _check_token(self._token, self._token_label)
        return self._app_url

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        authenticated: bool = True,
        expect: tuple[str, ...] = (),
    ) -> Any:
        """The JSON object a 2xx response holds, with the ``expect`` keys (None for 204); CliError otherwise."""
        app_url = self.check(authenticated)
        headers = {"User-Agent": "oi"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            with httpx.Client(
                base_url=app_url, transport=self._transport, timeout=TIMEOUT_SECONDS
            ) as client:
                response = client.request(method, path, json=body, params=params, headers=headers)
                why = self._why_refused(client) if authenticated and response.status_code == 401 else None
        except httpx.TransportError as error:
            raise CliError(
                f"cannot reach {self._app_url}: {error or type(error).__name__}; "
                "is the app URL right and the service up?",
                EXIT_UNREACHABLE,
            ) from None
        if self._on_expiry is not None and TOKEN_EXPIRES_HEADER in response.headers:
            self._on_expiry(response.headers[TOKEN_EXPIRES_HEADER], response.headers.get(TOKEN_ROTATED_TO_HEADER))
        return self._answer(method, path, response, expect, why)

    def _why_refused(self, client: httpx.Client) -> str | None:
        """Why the API refused the token, from ``POST /auth/token-check`` (a gateway's 401 cannot
        say; the check tells the holder of a real token), :data:`NO_REASON` when it is over its
        limit, or None when it does not say."""
        try:
            check = client.post(TOKEN_CHECK, json={"token": self._token}, headers={"User-Agent": "oi"})
        except httpx.HTTPError:
            return None  # the 401 arrived: say it, without the reason
        if check.status_code == 429:
            return NO_REASON
        answer = _json(check) if check.is_success else None
        if isinstance(answer, dict) and answer.get("active") is False and isinstance(answer.get("message"), str):
            return str(answer["message"])
        return None

    def _answer(self, method: str, path: str, response: httpx.Response, expect: tuple[str, ...],
                why: str | None = None) -> Any:
        """The payload of a success; else the failure, told apart from a URL where the API is not."""
        status = response.status_code
        if status == 204:
            return None
        payload = _json(response)
        if response.is_success:
            if not isinstance(payload, dict) or not all(key in payload for key in expect):
                raise self._no_api(method, path, status)
            return payload
        message = _error_message(payload)
        if message is not None and status == 401 and why:
            message = f"{message} {why}" if why == NO_REASON else why
        if message is not None:  # told to a person: local times, oi's options, one full stop
            message = for_people(message, self._zone)
        if status >= 500:
            detail = message or "its reply is not the API's (a gateway or proxy in front of it?)"
            raise CliError(f"the server failed (HTTP {status}): {detail}; try again", EXIT_BAD_REPLY)
        code = _error_code(payload)
        if message is None or code == ROUTE_NOT_FOUND:  # every route oi calls exists where the API is
            raise self._no_api(method, path, status)
        if status == 401:
            raise CliError(self._unauthorized(message), EXIT_UNAUTHORIZED, server_message=message, code=code)
        if status == 403:
            raise CliError(self._forbidden(payload, message), EXIT_FORBIDDEN, server_message=message, code=code)
        raise CliError(message, EXIT_REFUSED, server_message=message, code=code)

    def _no_api(self, method: str, path: str, status: int) -> CliError:
        """Something answered, but not the API: the app URL is wrong (exit 7, a bad reply)."""
        return CliError(
            f"no OpenIndex API at {self._app_url}: {method} {path} got HTTP {status} with a reply that is "
            "not the API's; check the app URL (`oi profile show`)",
            EXIT_BAD_REPLY,
        )

    def _unauthorized(self, message: str) -> str:
        """Which token was refused, and the server's reason; never advice to rerun this very command.

        The server's message may point at a command (`oi auth check`); when that is the command
        that failed, that sentence is replaced by how to fix the token where it came from. "Use the
        new token", said of a rotated token, becomes where to store its successor.
        """
        sentences = _SENTENCE_END.split(message.strip())
        # advice to run this very command, or to call token-check (which oi just did)
        kept = [sentence for sentence in sentences
                if f"`{self._command}`" not in sentence and TOKEN_CHECK not in sentence]
        if len(kept) < len(sentences) and self._token_fix:
            kept.append(self._token_fix)
        if self._successor_fix:
            kept = [self._successor_fix if sentence == USE_THE_NEW_TOKEN else sentence for sentence in kept]
        return f"the token from {self._token_label} was refused (HTTP 401): {' '.join(kept)}"

    def _forbidden(self, payload: Any, message: str) -> str:
        """What a 403 (a valid token, not enough scope or the wrong kind) asks the user to change."""
        if self._token and self._token.startswith("oi_run_"):
            return RUN_TOKEN_REFUSED
        if _error_code(payload) == "not_narrower":  # the token narrowed cannot be widened: not the caller's scope
            return message
        if payload["error"].get("requiredScope") == "admin":
            return "token scope is insufficient; use a token with admin scope"
        return f"token scope is insufficient: {message}"


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


def _json(response: httpx.Response) -> Any:
    """The decoded body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(payload: Any) -> str | None:
    """The ``code`` of the API's error shape, if it has one."""
    error = payload.get("error") if isinstance(payload, dict) else None
    return str(error["code"]) if isinstance(error, dict) and isinstance(error.get("code"), str) else None


def _error_message(payload: Any) -> str | None:
    """The message of the API's error shape ``{"error": {"code", "message"}}``, else None."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
        return str(error["message"])
    return None
