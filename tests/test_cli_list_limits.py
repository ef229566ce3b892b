"""Lists take --limit N: the newest N, and a line on standard error when there are more."""
from __future__ import annotations

import json

import pytest

from .conftest import Accounts, Api, Cli, FrozenClock, Recording, login

TOKENS = ("settings", "personal", "tokens", "list")
RUN_TOKENS = ("settings", "personal", "run-tokens", "list")
USERS = ("admin", "users", "list")
INVITES = ("admin", "invites", "list")


def test_tokens_list_shows_the_newest_n_and_says_there_are_more(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    for name in ("one", "two", "three"):
        clock.advance(seconds=1)
        api.post("/me/pats", owner.token, body={"name": name, "scope": "read_write"})
    login(cli, owner.token)
    result = cli(*TOKENS, "--limit", "2")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert [row.split()[1] for row in rows] == ["three", "two"]
    assert result.stderr.strip() == "oi: more tokens than these 2; raise --limit or leave it out to see them all"
    shown = json.loads(cli(*TOKENS, "--limit", "2", "--json").stdout)
    assert [item["name"] for item in shown["items"]] == ["three", "two"] and shown["more"] is True
    every = json.loads(cli(*TOKENS, "--json").stdout)
    assert len(every["items"]) == 4 and every["more"] is False


def test_a_limit_of_exactly_the_number_of_items_says_nothing_more(
    cli: Cli, sent: Recording, accounts: Accounts
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*TOKENS, "--limit", "1")
    assert result.exit_code == 0 and result.stderr == ""
    assert [request.url.params["limit"] for request in sent.requests] == ["2"]  # one more than shown, no guess


def test_a_limit_past_one_page_follows_the_pages(cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock) -> None:
    owner = accounts.create()
    for number in range(120):
        clock.advance(seconds=1)
        api.post("/me/pats", owner.token, body={"name": f"t{number}", "scope": "read_write"})
    login(cli, owner.token)
    shown = json.loads(cli(*TOKENS, "--limit", "110", "--json").stdout)
    assert len(shown["items"]) == 110 and shown["more"] is True
    assert shown["items"][0]["name"] == "t119"


@pytest.mark.parametrize(("command", "what"), [(RUN_TOKENS, "run tokens"), (USERS, "users"), (INVITES, "invites")])
def test_every_list_takes_a_limit(cli: Cli, accounts: Accounts, api: Api, command: tuple[str, ...],
                                  what: str) -> None:
    admin = accounts.admin()
    maker = accounts.create()
    for number in range(2):
        accounts.run_token(api, maker)
        api.post("/admin/invites", admin.token, body={"email": f"new{number}@example.com"})
    login(cli, maker.token if command == RUN_TOKENS else admin.token)
    result = cli(*command, "--limit", "1")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2  # the header and one row
    assert result.stderr.strip() == f"oi: more {what} than these 1; raise --limit or leave it out to see them all"
    assert cli(*command, "--limit", "0").exit_code == 2
