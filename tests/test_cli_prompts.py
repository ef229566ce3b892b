"""Questions name what they are about, and a piped answer means what the prompt's brackets say."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import APP_URL, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

DELETE = ("settings", "personal", "tokens", "delete")
RUN_DELETE = ("settings", "personal", "run-tokens", "delete")


def test_the_delete_question_names_the_token(cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock) -> None:
    owner = accounts.create()
    laptop = api.post("/me/pats", owner.token, body={"name": "laptop", "scope": "read_write"}).body
    login(cli, owner.token)
    result = cli(*DELETE, laptop["id"], input="n\n")
    assert result.exit_code == 1
    assert (f"Delete token 'laptop' ({laptop['id']}, read_write, created {clock.now():%Y-%m-%d %H:%M} UTC, last used "
            "never)? It stops working at once. [y/N]") in result.stderr
    assert "this command uses" not in result.stderr
    done = cli(*DELETE, laptop["id"], input="y\n")
    assert done.exit_code == 0 and f"Deleted token 'laptop' ({laptop['id']}" in done.stdout


def test_deleting_the_token_in_use_says_so(cli: Cli, accounts: Accounts) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli(*DELETE, owner.token_id, input="n\n")
    assert result.exit_code == 1
    assert (f"Delete token 'setup' ({owner.token_id}, read_write, created") in result.stderr
    assert "It is the token this command uses (from profile 'default')" in result.stderr


def test_a_token_that_is_not_yours_is_refused_without_a_question(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    stranger = accounts.create()
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*DELETE, stranger.token_id, input="y\n")
    assert result.exit_code == 1 and "[y/N]" not in result.stderr
    assert one_line(result.stderr) == ("oi: No personal access token with this id among yours; `oi settings personal "
                                       "tokens list` shows them.")
    assert "DELETE" not in [request.method for request in sent.requests]
    assert api.get("/me", stranger.token).status == 200


def test_the_run_token_delete_question_names_its_agent_and_stage(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner, stage="build")
    login(cli, owner.token)
    result = cli(*RUN_DELETE, run["id"], input="n\n")
    assert result.exit_code == 1
    assert f"Delete run token {run['id']} (agent agent-alpha, stage build, expires " in result.stderr


def an_invite(api: Api, accounts: Accounts) -> str:
    return api.post("/admin/invites", accounts.admin().token, body={"email": "new@example.com"}).body["token"]


@pytest.mark.parametrize("answer", ["", "\n"])
def test_a_piped_save_question_shows_no_default_and_no_answer_is_no(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path, answer: str
) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, input=an_invite(api, accounts) + "\n" + answer)
    assert result.exit_code == 0, result.output
    assert "Save the new token into profile 'default'? [y/n]:" in result.stderr and "[Y/n]" not in result.stderr
    assert not (tmp_path / "xdg" / "openindex" / "config.toml").exists()
    assert result.stdout.strip().splitlines()[-1].startswith("oi_pat_")  # printed instead


def test_a_piped_yes_to_the_save_question_saves(cli: Cli, accounts: Accounts, api: Api) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, input=an_invite(api, accounts) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert "new@example.com" in cli("auth", "check").stdout


@pytest.mark.usefixtures("at_a_terminal")
def test_at_a_terminal_the_save_question_shows_its_default_and_enter_takes_it(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, input=an_invite(api, accounts) + "\n\n")
    assert result.exit_code == 0, result.output
    assert "Save the new token into profile 'default'? [Y/n]" in result.stderr
    assert "new@example.com" in cli("auth", "check").stdout


def test_delete_without_a_terminal_or_yes_says_use_yes(cli: Cli, sent: Recording, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    sent.requests.clear()
    result = cli("settings", "personal", "tokens", "delete", owner.token_id)  # standard input: empty, not a terminal
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]  # after the question
    assert last.startswith("oi: not deleted") and "--yes" in last and "Aborted" not in result.output
    assert "DELETE" not in [request.method for request in sent.requests]  # it was only looked up, to be named
    assert api.get("/me", owner.token).status == 200
