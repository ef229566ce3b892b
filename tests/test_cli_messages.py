"""What `oi` says is said in words: no validator jargon, no API field names, no raw timestamps
(times are told on the terminal's clock), and never two full stops in a row."""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import httpx
import pytest

from .conftest import APP_URL, Accounts, Cli, FrozenClock, Recording, login, one_line

CREATE = ("settings", "personal", "tokens", "create")
PACIFIC = timezone(timedelta(hours=-8), "PST")
API_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "oi: --name: a name is required"),
        ("   ", "oi: --name: a name is required"),
        ("x" * 101, "oi: --name: a name is at most 100 characters long; this one has 101"),
    ],
)
def test_a_missing_or_overlong_name_is_refused_in_words_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, name: str, said: str
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*CREATE, "--name", name, "--scope", "read_write")
    assert result.exit_code == 2 and one_line(result.stderr) == said
    assert sent.requests == []


def test_a_name_of_exactly_the_longest_length_is_sent(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    assert cli(*CREATE, "--name", "x" * 100, "--scope", "read_write").exit_code == 0


def test_a_servers_sentence_that_ends_twice_is_shown_with_one_full_stop(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    result = cli("admin", "invites", "create", "not-an-email")
    line = one_line(result.stderr)
    assert result.exit_code == 1 and line.endswith("@-sign.") and ".." not in line


def test_an_ellipsis_survives_the_full_stop_rule(cli: Cli) -> None:
    refusal = {"error": {"code": "invalid_request", "message": "Send oi_inv_... only once.."}}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(400, json=refusal))
    result = cli("admin", "invites", "list", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert one_line(result.stderr) == "oi: Send oi_inv_... only once."


def test_a_refusal_names_the_option_and_says_the_time_on_the_terminals_clock(
    cli: Cli, accounts: Accounts, clock: FrozenClock
) -> None:
    login(cli, accounts.create(expires_at=clock.now() + timedelta(days=30)).token)
    cli.zone = PACIFIC
    result = cli(*CREATE, "--name", "longer", "--scope", "read_write", "--expires-at", "60d")
    line = one_line(result.stderr)
    assert result.exit_code == 1
    assert "expiresAt" not in line and not API_TIME.search(line)
    assert "this token expires at 2026-12-24 04:00 PST" in line
    assert "set --expires-at at or before 2026-12-24 04:00 PST" in line


def test_an_expired_tokens_401_says_when_on_the_terminals_clock(
    cli: Cli, accounts: Accounts, clock: FrozenClock
) -> None:
    login(cli, accounts.create(expires_at=clock.now() + timedelta(hours=1)).token)
    clock.advance(hours=2)
    cli.zone = PACIFIC
    result = cli("auth", "check")
    line = one_line(result.stderr)
    assert result.exit_code == 4 and "This token expired at 2026-11-24 05:00 PST" in line
    assert not API_TIME.search(line)


def test_json_keeps_the_servers_values(cli: Cli, accounts: Accounts, clock: FrozenClock) -> None:
    login(cli, accounts.create().token)
    cli.zone = PACIFIC
    result = cli(*CREATE, "--name", "x", "--scope", "read_write", "--expires-at", "2027-01-01", "--json")
    assert result.exit_code == 0 and '"expiresAt": "2027-01-01T00:00:00Z"' in result.stdout


def test_ois_own_sentences_tell_times_on_the_terminals_clock_and_tables_keep_utc(
    cli: Cli, accounts: Accounts, clock: FrozenClock
) -> None:
    login(cli, accounts.create(expires_at=clock.now() + timedelta(days=2)).token)
    cli.zone = PACIFIC
    listed = cli("settings", "personal", "tokens", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stderr.strip() == ("oi: warning: the token from profile 'default' expires in 2 days (2026-11-26 "
                                     "04:00 PST); rotate it with `oi settings personal tokens rotate self --save`")
    assert "2026-11-26 12:00 UTC" in listed.stdout  # the EXPIRES column
    rotated = cli("settings", "personal", "tokens", "rotate", "self", "--grace", "1h", "--save")
    assert rotated.exit_code == 0, rotated.output
    assert "keeps working until 2026-11-24 05:00 PST (in 1 hour)." in rotated.stdout
