"""`--expires-at DATE` is 00:00 UTC at the start of that day, wherever `oi` runs (the web UI's
date field means the same instant); `oi` says what that is on this machine's clock, and refuses
a date or time already past in words before sending it."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, timedelta, timezone

import pytest
from click.testing import Result

from .conftest import Accounts, Cli, Recording, login, one_line

CREATE = ("settings", "personal", "tokens", "create", "--name", "x", "--scope", "read_write")
PACIFIC = timezone(timedelta(hours=-8), "PST")
KIRIBATI = timezone(timedelta(hours=14), "LINT")


@pytest.mark.parametrize("zone", [UTC, PACIFIC, KIRIBATI])
def test_a_date_is_the_start_of_that_day_in_utc_on_any_machine(cli: Cli, accounts: Accounts, zone: timezone) -> None:
    login(cli, accounts.create().token)
    cli.zone = zone
    result = cli(*CREATE, "--expires-at", "2027-01-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["expiresAt"] == "2027-01-01T00:00:00Z"


def test_off_utc_a_date_says_what_it_is_on_this_machines_clock(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    cli.zone = PACIFIC
    result = cli(*CREATE, "--expires-at", "2027-01-01")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == ("oi: 2027-01-01 means 2027-01-01 00:00 UTC, the start of that day "
                                             "(2026-12-31 16:00 PST on this machine's clock)")
    assert "expires 2026-12-31 16:00 PST." in result.stderr  # oi's sentences tell times on the machine's clock


def test_on_utc_or_with_a_time_nothing_more_is_said(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    on_utc = cli(*CREATE, "--expires-at", "2027-01-01")
    assert on_utc.exit_code == 0 and "the start of that day" not in on_utc.stderr
    cli.zone = PACIFIC
    timed = cli(*CREATE, "--expires-at", "2027-01-01T09:00:00Z")
    assert timed.exit_code == 0 and "the start of that day" not in timed.stderr


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("2026-11-24", "oi: --expires-at: 2026-11-24 means 2026-11-24 00:00 UTC, the start of that day, which has "
                       "passed; give a later date, or a duration such as 30d"),
        ("2026-11-24T11:00:00Z", "oi: --expires-at: 2026-11-24T11:00:00Z is 2026-11-24 11:00 UTC, which has passed; "
                                 "give a later time, or a duration such as 30d"),
    ],
)
def test_a_date_or_time_already_past_is_refused_in_words_before_sending(
    cli: Cli, sent: Recording, accounts: Accounts, when: str, said: str
) -> None:
    login(cli, accounts.create().token)  # the clock says 2026-11-24 12:00 UTC
    sent.requests.clear()
    result = cli(*CREATE, "--expires-at", when)
    assert result.exit_code == 2 and one_line(result.stderr) == said
    assert sent.requests == []


def test_the_help_says_which_instant_a_date_is(cli: Cli) -> None:
    shown = cli(*CREATE[:4], "--help").stdout
    assert "2027-01-01: 00:00 UTC at its start" in " ".join(shown.split())


@pytest.fixture
def create_at(cli: Cli, sent: Recording, accounts: Accounts) -> Callable[[str], Result]:
    """`tokens create --expires-at WHEN` on the app's frozen clock."""
    login(cli, accounts.create().token)

    def create(when: str) -> Result:
        sent.requests.clear()
        return cli("settings", "personal", "tokens", "create", "--name", "t", "--scope", "read_write",
                   "--expires-at", when, "--json")

    return create


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2027-01-01", "2027-01-01T00:00:00Z"),
        ("30d", "2026-12-24T12:00:00Z"),
        ("12h", "2026-11-25T00:00:00Z"),
        ("90m", "2026-11-24T13:30:00Z"),
        ("2w", "2026-12-08T12:00:00Z"),
        ("2027-01-01T09:30:00+02:00", "2027-01-01T07:30:00Z"),
        ("2027-01-01t09:30:00.250z", "2027-01-01T09:30:00Z"),
        ("2027-01-01 09:30Z", "2027-01-01T09:30:00Z"),
    ],
)
def test_expires_at_takes_a_date_a_time_or_a_duration(
    create_at: Callable[[str], Result], sent: Recording, when: str, expected: str
) -> None:
    result = create_at(when)
    assert result.exit_code == 0, result.output
    assert json.loads(sent.requests[-1].content)["expiresAt"] == expected
    assert json.loads(result.stdout)["expiresAt"] == expected


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("tomorrow", "a duration from now (30d"),
        ("30", "a duration from now (30d"),
        ("3 days", "a duration from now (30d"),
        ("2027-01-01T00:00:00", "no timezone"),
        ("2027-02-30", "not a real date"),
        ("0d", "more than zero"),
        ("999999w", "too far"),
    ],
)
def test_a_bad_expires_at_is_explained_before_any_request(
    create_at: Callable[[str], Result], sent: Recording, when: str, words: str
) -> None:
    result = create_at(when)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("oi: --expires-at: ") and words in line
    assert sent.requests == []
