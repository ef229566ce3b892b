"""`oi invites claim` takes the whole link `oi` prints (…/invite#token=oi_inv_…) as well as the bare
token, from argv, standard input or the prompt; with no app URL configured, the link's is used."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from openindex_cli import invites as cli_main

from .conftest import APP_URL, Accounts, Api, Cli, Recording, login, one_line

CLAIM = ("invites", "claim")


def printed_link(cli: Cli, api: Api, accounts: Accounts, email: str = "new@example.com") -> str:
    """The link `oi admin invites create` prints, as an admin sends it."""
    login(cli, accounts.admin().token, profile="admin")
    made = cli("admin", "invites", "create", email, "--profile", "admin")
    assert made.exit_code == 0, made.output
    link = made.stdout.strip()
    assert link.startswith(f"{APP_URL}/invite#token=oi_inv_")
    return link


@pytest.mark.parametrize("how", ["stdin", "argv", "prompt"])
def test_the_whole_link_is_claimed_however_it_comes(
    cli: Cli, accounts: Accounts, api: Api, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    link = printed_link(cli, api, accounts)
    if how == "prompt":
        monkeypatch.setattr(cli_main, "stdin_is_terminal", lambda: True)
    args = (*CLAIM, link) if how == "argv" else (*CLAIM, "-")
    result = cli(*args, "--app-url", APP_URL, "--no-save", input=None if how == "argv" else link + "\n")
    assert result.exit_code == 0, result.output
    assert "Welcome, new@example.com (member)" in result.stdout
    assert api.get("/me", result.stdout.strip().splitlines()[-1]).body["email"] == "new@example.com"
    if how == "prompt":
        assert "Invite link or token" in result.stderr and link not in result.output


def test_the_bare_token_still_works(cli: Cli, accounts: Accounts, api: Api) -> None:
    token = printed_link(cli, api, accounts).split("#token=")[1]
    result = cli(*CLAIM, "-", "--app-url", APP_URL, "--no-save", input=token + "\n")
    assert result.exit_code == 0, result.output


def test_with_no_app_url_anywhere_the_links_is_used_and_saved(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    link = printed_link(cli, api, accounts)
    result = cli(*CLAIM, "-", "--profile", "newcomer", "--save", input=link + "\n")
    assert result.exit_code == 0, result.output
    assert f"oi: using the app URL in the link, {APP_URL}" in result.stderr
    checked = cli("auth", "check", "--profile", "newcomer")
    assert checked.exit_code == 0 and "new@example.com" in checked.stdout


def test_with_no_app_url_a_bare_token_says_where_one_comes_from(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    token = printed_link(cli, api, accounts).split("#token=")[1]
    sent.requests.clear()
    result = cli(*CLAIM, "-", "--profile", "newcomer", input=token + "\n")
    assert result.exit_code == 3
    assert one_line(result.stderr).startswith("oi: no app URL: give --app-url URL, or paste the whole link")
    assert sent.requests == []


def test_a_link_to_a_remote_host_over_http_is_refused_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    token = urlsplit(printed_link(cli, api, accounts)).fragment.removeprefix("token=")
    sent.requests.clear()
    result = cli(*CLAIM, "-", "--profile", "newcomer", input=f"http://10.0.0.1/invite#token={token}\n")
    assert result.exit_code == 3 and "refusing to send secrets in clear to 10.0.0.1" in one_line(result.stderr)
    assert sent.requests == []


@pytest.mark.parametrize("value", [f"{APP_URL}/invite#token=", f"{APP_URL}/invite#token=oi_pat_abc",
                                   f"{APP_URL}/invite"])
def test_a_link_without_an_invite_in_it_is_refused_in_words(cli: Cli, sent: Recording, value: str) -> None:
    result = cli(*CLAIM, "-", "--app-url", APP_URL, "--no-save", input=value + "\n")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("oi: that is not an invite link or token")
    assert sent.requests == []


def test_what_oi_says_about_a_link_it_prints_is_true(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.admin().token)
    made = cli("admin", "invites", "create", "new@example.com")
    assert "`oi invites claim` takes the whole link" in made.stderr
