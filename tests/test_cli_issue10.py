"""`oi` as a new user meets it in the README (issue #10): each section is one finding."""
from __future__ import annotations

import httpx
import pytest

from .conftest import APP_URL, Accounts, Cli
from .test_cli import config_file, login


class Recording(httpx.BaseTransport):
    """Passes requests on to ``inner`` and keeps them, to show which were (not) sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture
def sent(cli: Cli) -> Recording:
    """Every request `oi` sends from now on."""
    cli.transport = Recording(cli.transport)
    return cli.transport


def one_line(stderr: str) -> str:
    """The one error line on stderr (warnings aside)."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("oi: warning:")]
    assert len(lines) == 1, stderr
    return lines[0]


# 1. A token's shape is checked before any request


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("oi_pat_…", "U+2026"),  # the README's placeholder, as pasted
        ("oi_pat_abc def", "whitespace"),
        ("oi_inv_abcdefghij", "invite"),
        ("ghp_abcdefghij", "oi_pat_"),
        ("", None),
    ],
)
def test_an_environment_token_of_the_wrong_shape_is_refused_before_any_request(
    cli: Cli, sent: Recording, token: str, why: str | None
) -> None:
    result = cli("auth", "check", env={"OPENINDEX_TOKEN": token, "OPENINDEX_APP_URL": APP_URL})
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert sent.requests == []
    if why is not None:
        assert "OPENINDEX_TOKEN" in line and why in line
        assert token not in line
    else:  # an empty variable is no token at all
        assert "no token" in line


def test_a_profile_token_of_the_wrong_shape_names_the_profile(cli: Cli, sent: Recording, tmp_path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text(f'[profiles.work]\napp_url = "{APP_URL}"\ntoken = "oi_pat_…"\n')
    result = cli("settings", "personal", "tokens", "list", "--profile", "work")
    assert result.exit_code == 3 and "profile 'work'" in one_line(result.stderr)
    assert sent.requests == []


@pytest.mark.parametrize("token", ["oi_pat_…", "oi_run_a-b", "oi_inv_abcdefghij", "hello"])
def test_profile_set_refuses_a_value_that_is_not_a_token(cli: Cli, tmp_path, token: str) -> None:
    for args, text in ((["--token", token], None), (["--token", "-"], token + "\n")):
        result = cli("profile", "set", "--app-url", APP_URL, *args, input=text)
        assert result.exit_code == 2, result.output
        line = one_line(result.stderr)
        assert "not an OpenIndex token" in line and token not in line
    assert not config_file(tmp_path).exists()


def test_a_well_shaped_token_still_reaches_the_server(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    assert cli("auth", "check").exit_code == 0
