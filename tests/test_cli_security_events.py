"""`oi settings personal security-events`: your security log, one page or all of it, without
control characters, refused to an agent run token."""
from __future__ import annotations

import json

import httpx
from click.testing import Result

from chalicelib.model.events import EventType
from openindex_cli.security_events import EVENT_WORDS

from .conftest import APP_URL, SECRETS, Accounts, Api, Cli, FrozenClock, login, one_line

EVENTS = ("settings", "personal", "security-events")


def no_token_in(result: Result, shown_once: str | None = None) -> None:
    """No token value minted in this session is in the output, but the one this command made."""
    assert "Traceback" not in result.output
    for value in SECRETS.known - {shown_once}:
        assert value not in result.output


def test_security_events_list_an_admins_revocation_with_the_token_named(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    laptop = api.post("/me/pats", member.token, body={"name": "laptop", "scope": "read_write"}).body
    clock.advance(minutes=5)
    assert api.delete(f"/admin/users/{member.user.id}/pats/{laptop['id']}", admin.token).status == 204
    login(cli, member.token)
    result = cli(*EVENTS)
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["WHEN", "EVENT", "TOKEN", "DETAIL"]
    assert row.startswith(f"{clock.now():%Y-%m-%d %H:%M} UTC  Revoked by an admin  laptop ({laptop['id']})")
    shown = json.loads(cli(*EVENTS, "--json").stdout)
    assert shown["nextCursor"] is None
    assert [(e["type"], e["tokenId"], e["tokenName"]) for e in shown["items"]] == [
        ("token_revoked_by_admin", laptop["id"], "laptop")]
    no_token_in(result)


def test_security_events_show_one_page_and_all_of_them_with_all(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    for name in ("one", "two", "three"):
        made = api.post("/me/pats", member.token, body={"name": name, "scope": "read_write"}).body
        clock.advance(minutes=1)
        api.delete(f"/admin/users/{member.user.id}/pats/{made['id']}", admin.token)
    login(cli, member.token)
    first = cli(*EVENTS, "--limit", "2")
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 3 and "three (" in first.stdout and "one (" not in first.stdout
    assert one_line(first.stderr) == "oi: more events than these 2; --all shows every one"
    page = json.loads(cli(*EVENTS, "--limit", "2", "--json").stdout)
    assert len(page["items"]) == 2 and page["nextCursor"]
    every = json.loads(cli(*EVENTS, "--all", "--json").stdout)
    assert [e["tokenName"] for e in every["items"]] == ["three", "two", "one"] and every["nextCursor"] is None
    assert cli(*EVENTS, "--limit", "0").exit_code == 2


def test_security_events_never_print_control_characters_the_server_sent(cli: Cli) -> None:
    event = {"id": "evt_1", "type": "token_revoked_by_admin", "tokenId": "pat_1", "tokenName": "ci\x1b]0;x\x07",
             "at": "2026-11-24T12:00:00Z", "detail": "gone\r\n\u202eevil"}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"items": [event], "nextCursor": None}))
    result = cli(*EVENTS, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0, result.output
    assert not any(char in result.stdout for char in "\x1b\x07\r\u202e") and len(result.stdout.splitlines()) == 2


def test_security_events_refuse_an_agent_run_token(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.run_token(api, accounts.create())["token"])
    result = cli(*EVENTS)
    assert result.exit_code == 5 and "human-owned personal access token" in one_line(result.stderr)


def test_oi_has_words_for_every_security_event_type() -> None:
    assert sorted(EVENT_WORDS) == sorted(EventType)
    assert all(words and "_" not in words for words in EVENT_WORDS.values())


def test_an_event_type_oi_does_not_know_is_shown_as_the_api_names_it(cli: Cli) -> None:
    event = {"id": "evt_1", "type": "token_teleported", "tokenId": None, "tokenName": None,
             "at": "2026-11-24T12:00:00Z", "detail": "x"}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"items": [event], "nextCursor": None}))
    result = cli(*EVENTS, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0 and "token_teleported" in result.stdout
