"""What `oi` says when the server refuses or is not the API: a 401 names the token that failed and
why, in the server's words; a wrong app URL is reported as one, not as a token problem."""
from __future__ import annotations

import httpx
import pytest

from .conftest import (
    APP_URL,
    Accounts,
    Cli,
    login,
    one_line,
)


def reply(status: int, body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def refusal(message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": "invalid_token", "message": message}}


def test_auth_check_names_the_environment_token_and_does_not_send_you_back_to_itself(cli: Cli) -> None:
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_unknown"})
    assert result.exit_code == 4
    line = one_line(result.stderr)
    assert "the token from OPENINDEX_TOKEN was refused" in line
    assert "missing, invalid, expired or revoked" in line  # the server's own words
    assert "oi auth check" not in line and "unset it" in line


def test_other_commands_name_the_profile_and_keep_the_servers_advice(cli: Cli) -> None:
    login(cli, "oi_pat_unknown", profile="work")
    result = cli("settings", "personal", "tokens", "list", "--profile", "work")
    assert result.exit_code == 4
    line = one_line(result.stderr)
    assert "the token from profile 'work' was refused" in line and "`oi auth check`" in line


def test_a_gateways_401_is_explained_by_token_check_or_says_why_it_cannot_be(cli: Cli) -> None:
    gateway_401 = refusal("The access token is missing, invalid, expired or revoked. "
                          "Its holder can learn why with `oi auth check` or POST /auth/token-check.")
    checks = {"status": 200}

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token-check":
            return httpx.Response(checks["status"], json={
                "active": False, "tokenId": None, "kind": None, "scope": None, "expiresAt": None,
                "reason": "user_inactive", "message": "The account this token belongs to is deactivated."})
        return httpx.Response(401, json=gateway_401)

    cli.transport = httpx.MockTransport(server)
    login(cli, "oi_pat_old", profile="work")
    line = one_line(cli("settings", "personal", "tokens", "list", "--profile", "work").stderr)
    assert "was refused (HTTP 401): The account this token belongs to is deactivated." in line
    checks["status"] = 429  # token-check's per-address limit
    line = one_line(cli("settings", "personal", "tokens", "list", "--profile", "work").stderr)
    assert "missing, invalid, expired or revoked" in line and "too many token checks" in line
    assert "token-check" not in line.replace("token checks", "")


def test_a_401_is_said_as_one_when_asking_why_fails_on_the_way(cli: Cli) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token-check":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(401, json=refusal("The access token is missing, invalid, expired or revoked."))

    cli.transport = httpx.MockTransport(server)
    login(cli, "oi_pat_old", profile="work")
    result = cli("settings", "personal", "tokens", "list", "--profile", "work")
    assert result.exit_code == 4 and "was refused (HTTP 401)" in one_line(result.stderr)


def test_the_servers_reason_is_shown_as_it_is(cli: Cli) -> None:
    cli.transport = reply(401, refusal("This token expired on 2027-01-01. Check it with `oi auth check`."))
    login(cli, "oi_pat_old", profile="work")
    result = cli("auth", "check", "--profile", "work")
    line = one_line(result.stderr)
    assert result.exit_code == 4 and "This token expired on 2027-01-01." in line
    assert "oi auth check" not in line and "oi profile set --profile work --token -" in line
    listed = one_line(cli("settings", "personal", "tokens", "list", "--profile", "work").stderr)
    assert "expired on 2027-01-01. Check it with `oi auth check`." in listed


def test_an_app_url_with_a_path_the_api_does_not_have(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    cli("profile", "set", "--app-url", APP_URL + "/api")
    result = cli("auth", "check")
    assert result.exit_code == 7
    line = one_line(result.stderr)
    assert f"no OpenIndex API at {APP_URL}/api" in line and "scope" not in line


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (404, b"<html>Not Found</html>"),
        (403, b'{"message": "Missing Authentication Token"}'),
        (401, b'{"message": "Unauthorized"}'),
        (400, b'{"error": "bad"}'),
        (200, b"<html>hello</html>"),
        (200, b'{"ok": true}'),
        (200, b"[]"),
    ],
)
def test_a_reply_that_is_not_the_apis_means_no_api_at_that_url(cli: Cli, status: int, content: bytes) -> None:
    cli.transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    for args in (["auth", "check"], ["settings", "personal", "tokens", "list"]):
        result = cli(*args, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
        assert result.exit_code == 7, (args, result.output)
        assert f"no OpenIndex API at {APP_URL}" in one_line(result.stderr)


def test_a_gateway_failure_is_still_a_server_failure(cli: Cli) -> None:
    cli.transport = httpx.MockTransport(lambda request: httpx.Response(504, content=b'{"message": "timed out"}'))
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 7 and "failed (HTTP 504)" in one_line(result.stderr)


USERS = ("admin", "users")
UNKNOWN_USER = "usr_01jdx7k2m3n4p5q6r7s8t9v0wx"


def test_a_servers_error_message_reaches_the_terminal_without_control_characters(cli: Cli) -> None:
    refusal = {"error": {"code": "not_found", "message": "No user\x1b[2J with this id.\r\n\u202e"}}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(404, json=refusal))
    result = cli(*USERS, "show", UNKNOWN_USER, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 1 and result.stderr == "oi: No user?[2J with this id.???\n"
