"""`oi settings personal tokens revoke-all`: asks first naming the account and the token in use,
revokes every PAT and run token, and says how to get back in."""
from __future__ import annotations

import json

import httpx

from .conftest import APP_URL, Accounts, Api, Cli, Recording, login, one_line

REVOKE_ALL = ("settings", "personal", "tokens", "revoke-all")


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def test_revoke_all_asks_first_naming_the_account_and_the_token_in_use(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    sent.requests.clear()
    result = cli(*REVOKE_ALL, input="n\n")
    assert result.exit_code == 1 and one_line(result.stderr.splitlines()[-1]) == "oi: not revoked"
    question = result.stderr
    assert owner.user.email in question and "including the one this command uses" in question
    assert "profile 'default'" in question and "[y/N]" in question
    assert [request.method for request in sent.requests] == ["GET"]  # GET /me, nothing revoked
    assert status(api, owner.token) == 200


def test_revoke_all_revokes_every_pat_and_run_token_and_says_how_to_get_back_in(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    owner, bystander = accounts.create(), accounts.create()
    second = api.post("/me/pats", owner.token, body={"name": "second", "scope": "read_write"}).body["token"]
    run = accounts.run_token(api, owner)["token"]
    login(cli, owner.token)
    result = cli(*REVOKE_ALL, input="y\n")
    assert result.exit_code == 0, result.output
    assert [status(api, token) for token in (owner.token, second, run)] == [401, 401, 401]
    assert status(api, bystander.token) == 200
    said = result.stdout
    assert "profile 'default' no longer works" in said
    assert "re-access link" in said and owner.user.id in said and "oi invites claim" in said
    assert "make bootstrap" not in said  # a member cannot bootstrap themselves back
    assert owner.token not in result.output
    checked = cli("auth", "check")
    assert checked.exit_code == 4 and "This token was revoked" in one_line(checked.stderr)


def test_revoke_all_without_a_terminal_or_yes_says_use_yes(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    sent.requests.clear()
    result = cli(*REVOKE_ALL)  # standard input: empty, not a terminal
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("oi: not revoked") and "--yes" in last and "Aborted" not in result.output
    assert [request.method for request in sent.requests] == ["GET"]
    assert status(api, owner.token) == 200


def test_revoke_all_with_yes_and_json_names_the_environment_token(cli: Cli, accounts: Accounts, api: Api) -> None:
    admin = accounts.admin()
    env = {"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": admin.token}
    result = cli(*REVOKE_ALL, "--yes", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"revokedAll": True, "userId": admin.user.id, "email": admin.user.email,
                                         "tokenSource": "OPENINDEX_TOKEN"}
    assert status(api, admin.token) == 401
    text = cli(*REVOKE_ALL, "--yes", env={**env, "OPENINDEX_TOKEN": accounts.admin().token})
    assert "OPENINDEX_TOKEN no longer works" in text.stdout and "make bootstrap" in text.stdout  # an admin


def test_revoke_all_with_a_run_token_is_refused_before_asking(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    login(cli, accounts.run_token(api, owner)["token"])
    sent.requests.clear()
    result = cli(*REVOKE_ALL, input="y\n")
    assert result.exit_code == 5 and "human-owned personal access token" in one_line(result.stderr)
    assert [request.url.path for request in sent.requests] == ["/me"]
    assert status(api, owner.token) == 200


def test_a_refused_revoke_all_prints_the_servers_message(cli: Cli) -> None:
    me = {"id": "usr_x", "email": "a@example.com", "role": "member", "createdAt": "2026-11-24T12:00:00Z",
          "token": {"id": "pat_x", "name": "n", "scope": "read_write", "kind": "pat", "expiresAt": None}}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=me)
        return httpx.Response(503, json={"error": {"code": "service_unavailable", "message": "retry it."}})

    cli.transport = httpx.MockTransport(answer)
    result = cli(*REVOKE_ALL, "--yes", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 7 and "retry it." in one_line(result.stderr)
