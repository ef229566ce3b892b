"""What `oi` is given is checked before any request: a token's shape, a token or run id, and
every path part is percent-encoded, so no value reaches the server as something else."""
from __future__ import annotations

from pathlib import Path

import pytest

from openindex_cli import api as cli_api

from .conftest import APP_URL, Accounts, Api, Cli, Recording, config_file, login, one_line


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


def test_a_path_for_an_id_cannot_reach_another_users_token(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    victim = accounts.create()
    login(cli, accounts.admin().token)
    sent.requests.clear()
    result = cli("settings", "personal", "tokens", "delete",
                 f"../../admin/users/{victim.user.id}/pats/{victim.token_id}", "--yes")
    assert result.exit_code == 2 and "not a token id" in one_line(result.stderr)
    assert sent.requests == []
    assert api.get("/me", victim.token).status == 200


@pytest.mark.parametrize(
    "token_id",
    ["pat_01JDX7K2ABCDEFGHJKMNPQRSTV", "pat_01jdx7k2abcdefghjkmnpqrst", "pat_01jdx7k2abcdefghjkmnpqrstvw",
     "pat_01jdx7k2abcdefghjkmnpqrstu", "pat_81jdx7k2abcdefghjkmnpqrstv", "run_01jdx7k2abcdefghjkmnpqrstv",
     "pat_01jdx7k2abcdefghjkmnpqrst%2F", "pat_01jdx7k2abcdefghjkmnpqrst/", ""],
)
def test_token_ids_are_checked_before_any_request(cli: Cli, sent: Recording, token_id: str) -> None:
    result = cli("settings", "personal", "tokens", "delete", token_id, "--yes",
                 env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 2 and "pat_" in one_line(result.stderr)
    assert sent.requests == []


def test_a_token_given_as_an_id_is_not_echoed(cli: Cli, accounts: Accounts) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli("settings", "personal", "tokens", "delete", owner.token, "--yes")
    assert result.exit_code == 2 and "a token, not its id" in result.stderr and owner.token not in result.output


def test_every_path_part_is_percent_encoded() -> None:
    assert cli_api.api_path("me", "pats", "../a/b?c#d e") == "/me/pats/..%2Fa%2Fb%3Fc%23d%20e"
    assert cli_api.api_path("me", "pats", "pat_01jdx7k2abcdefghjkmnpqrstv") == "/me/pats/pat_01jdx7k2abcdefghjkmnpqrstv"


def test_delete_reports_a_bad_token_before_asking(cli: Cli, tmp_path: Path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text(f'[profiles.default]\napp_url = "{APP_URL}"\ntoken = "oi_pat_…"\n')
    result = cli("settings", "personal", "tokens", "delete", "pat_01jdx7k2m4c8b3n5q6r7s8t9v0", input="y\n")
    assert result.exit_code == 3 and "Delete token" not in result.output
