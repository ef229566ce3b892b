"""`--expires-at DATE` is 00:00 UTC at the start of that day, wherever `oi` runs (the web UI's
date field means the same instant); `oi` says what that is on this machine's clock, and refuses
a date or time already past in words before sending it."""
from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone

import pytest

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
