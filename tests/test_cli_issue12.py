"""`oi` for final revocation (issue #12, item 7): revoke-all, run tokens in view, re-access links."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import APP_URL, Account, Accounts, Api, Cli, FrozenClock, Recording, login, one_line
from .test_cli import stored
from .test_cli_issue10 import every_command

RUN_ID = "run_01jdx7k2m4c8b3n5q6r7s8t9v0"
REVOKE_ALL = ("settings", "personal", "tokens", "revoke-all")
RUN_LIST = ("settings", "personal", "run-tokens", "list")
RUN_DELETE = ("settings", "personal", "run-tokens", "delete")


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


def access_link(api: Api, admin: Account, user: Account) -> str:
    response = api.post(f"/admin/users/{user.user.id}/access-links", admin.token)
    assert response.status == 201, response.body
    return response.body["token"]


# 1. tokens revoke-all


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


# 2. run-tokens list


def test_run_tokens_list_shows_agent_stage_parent_and_times_never_values(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    built = accounts.run_token(api, owner, stage="build")
    clock.advance(seconds=1)
    bare = accounts.run_token(api, owner, agentId="agent-beta")
    login(cli, owner.token)
    result = cli(*RUN_LIST)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["ID", "AGENT", "STAGE", "PARENT", "EXPIRES", "CREATED"]
    assert rows[1] == [bare["id"], "agent-beta", "-", owner.token_id, "2026-11-24", "13:00", "UTC",
                       "2026-11-24", "12:00", "UTC"]
    assert rows[2][:4] == [built["id"], "agent-alpha", "build", owner.token_id]
    assert built["token"] not in result.output and bare["token"] not in result.output
    items = json.loads(cli(*RUN_LIST, "--json").stdout)["items"]
    assert [(item["id"], item["parentId"], item["stage"]) for item in items] == [
        (bare["id"], owner.token_id, None), (built["id"], owner.token_id, "build")]


def test_run_tokens_list_follows_every_page(cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock) -> None:
    owner = accounts.create()
    for _ in range(105):
        clock.advance(seconds=1)
        accounts.run_token(api, owner)
    login(cli, owner.token)
    items = json.loads(cli(*RUN_LIST, "--json").stdout)["items"]
    assert len(items) == len({item["id"] for item in items}) == 105


def test_run_tokens_list_with_a_run_token_gets_the_403_resolution(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.run_token(api, accounts.create())["token"])
    result = cli(*RUN_LIST)
    assert result.exit_code == 5 and "human-owned personal access token" in one_line(result.stderr)


# 3. run-tokens delete


def test_run_tokens_delete_asks_first_then_revokes_only_that_run_token(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    doomed, kept = accounts.run_token(api, owner), accounts.run_token(api, owner)
    login(cli, owner.token)
    refused = cli(*RUN_DELETE, doomed["id"], input="n\n")
    assert refused.exit_code == 1 and f"Delete run token {doomed['id']} (agent agent-alpha, expires " in refused.stderr
    assert status(api, doomed["token"]) == 200
    sent.requests.clear()
    confirmed = cli(*RUN_DELETE, doomed["id"], input="y\n")
    assert confirmed.exit_code == 0 and f"Deleted run token {doomed['id']} (agent agent-alpha" in confirmed.stdout
    assert [(r.method, r.url.raw_path.decode()) for r in sent.requests if r.method == "DELETE"] == [
        ("DELETE", f"/me/agent-run-tokens/{doomed['id']}")]
    assert [status(api, doomed["token"]), status(api, kept["token"])] == [401, 200]
    again = cli(*RUN_DELETE, doomed["id"], "--yes")
    assert again.exit_code == 1 and one_line(again.stderr) == "oi: No agent run token with this id."


def test_run_tokens_delete_with_yes_and_json(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    login(cli, owner.token)
    result = cli(*RUN_DELETE, run["id"], "--yes", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {"deleted": run["id"]}


def test_run_tokens_delete_without_a_terminal_or_yes_says_use_yes(
    cli: Cli, sent: Recording, accounts: Accounts, api: Api
) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    login(cli, owner.token)
    sent.requests.clear()
    result = cli(*RUN_DELETE, run["id"])
    assert result.exit_code == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("oi: not deleted") and "--yes" in last
    assert "DELETE" not in [r.method for r in sent.requests] and status(api, run["token"]) == 200


@pytest.mark.parametrize(
    ("run_id", "words"),
    [
        ("run_01JDX7K2ABCDEFGHJKMNPQRSTV", "not a run token id"),
        ("run_01jdx7k2abcdefghjkmnpqrst", "not a run token id"),
        ("run_01jdx7k2abcdefghjkmnpqrstu", "not a run token id"),
        ("run_81jdx7k2abcdefghjkmnpqrstv", "not a run token id"),
        ("run_01jdx7k2abcdefghjkmnpqrst/", "not a run token id"),
        ("../../admin/users/usr_01jdx7k2abcdefghjkmnpqrstv/agent-run-tokens/" + RUN_ID, "not a run token id"),
        ("pat_01jdx7k2abcdefghjkmnpqrstv", "tokens delete"),
        ("", "not a run token id"),
    ],
)
def test_run_ids_are_checked_before_any_request(cli: Cli, sent: Recording, run_id: str, words: str) -> None:
    result = cli(*RUN_DELETE, run_id, "--yes", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("oi: RUN_ID: ") and words in line and "run_" in line
    assert sent.requests == []


def test_a_run_token_given_as_an_id_is_not_echoed(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)["token"]
    login(cli, owner.token)
    result = cli(*RUN_DELETE, run, "--yes")
    assert result.exit_code == 2 and "a token, not its id" in result.stderr and run not in result.output
    assert status(api, run) == 200


def test_a_run_id_given_to_tokens_delete_points_at_run_tokens_delete(cli: Cli, sent: Recording) -> None:
    result = cli("settings", "personal", "tokens", "delete", RUN_ID, "--yes",
                 env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 2 and "run-tokens delete" in one_line(result.stderr) and sent.requests == []


# 4. invites claim with a re-access link


def test_after_revoke_all_a_re_access_link_gets_back_in_and_says_the_old_token_is_refused(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, owner = accounts.admin(), accounts.create()
    login(cli, owner.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    clock.advance(seconds=1)  # the cut-off covers every token issued up to its millisecond
    link = access_link(api, admin, owner)
    result = cli("invites", "claim", "-", input=link + "\ny\n")
    assert result.exit_code == 0, result.output
    assert "holds a token the server refuses (HTTP 401): This token was revoked" in result.stderr
    assert f"Welcome back, {owner.user.email} (member). Your new token is 're-access link'" in result.stdout
    fresh = stored(tmp_path)["default"]["token"]
    assert fresh != owner.token and fresh not in result.output
    assert cli("auth", "check").exit_code == 0


def test_a_re_access_link_for_the_profiles_own_account_says_so(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    assert api.patch(f"/admin/users/{member.user.id}", admin.token, body={"role": "admin"}).status == 200
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert f"holds a token for {member.user.email} (admin), scope read_write" in result.stderr
    assert "held a token for this same account" in result.stdout and "replaces it" in result.stdout
    assert "Welcome back" in result.stdout and "scope admin" in result.stdout
    fresh = stored(tmp_path)["default"]["token"]
    assert api.get("/me", fresh).body["token"]["scope"] == "admin"
    assert status(api, member.token) == 200  # the old token is untouched, as the message says


def test_a_re_access_link_claimed_with_json_reports_the_same_account(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--json", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    claimed: dict[str, Any] = json.loads(result.stdout)
    assert claimed["user"]["id"] == member.user.id and claimed["pat"]["name"] == "re-access link"
    assert claimed["savedToProfile"] == "default" and claimed["replacedSameAccount"] is True


def test_an_invite_into_a_profile_of_another_account_is_not_called_the_same(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin, member, other = accounts.admin(), accounts.create(), accounts.create()
    login(cli, other.token)
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert "same account" not in result.output and "Welcome back" in result.stdout


def test_a_re_access_link_of_a_user_deactivated_since_is_refused_in_the_servers_words(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, member = accounts.admin(), accounts.create()
    login(cli, member.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    link = access_link(api, admin, member)
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"})
    result = cli("invites", "claim", "-", "--save", input=link + "\ny\n")
    assert result.exit_code == 1
    assert one_line(result.stderr.splitlines()[-1]) == (
        "oi: This link's account was deactivated since it was sent; ask an admin for a new one.")
    assert stored(tmp_path)["default"]["token"] == member.token
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "active"})
    clock.advance(seconds=1)
    again = cli("invites", "claim", "-", "--save", input=access_link(api, admin, member) + "\ny\n")
    assert again.exit_code == 0 and cli("auth", "check").exit_code == 0


def test_a_new_account_is_still_welcomed_as_new(cli: Cli, accounts: Accounts, api: Api) -> None:
    invite = api.post("/admin/invites", accounts.admin().token, body={"email": "new@example.com"}).body["token"]
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=invite + "\n")
    assert result.exit_code == 0 and "Welcome, new@example.com (member). Your first token" in result.stdout
    assert "Welcome back" not in result.stdout
    other = api.post("/admin/invites", accounts.admin().token, body={"email": "two@example.com"}).body["token"]
    as_json = json.loads(cli("invites", "claim", "-", "--app-url", APP_URL, "--json", input=other + "\n").stdout)
    assert as_json["pat"]["name"] == "first token" and as_json["replacedSameAccount"] is False


# 5. Help and shape of the new commands


def test_the_new_commands_exist_with_examples(cli: Cli) -> None:
    from openindex_cli.main import oi

    paths = {path for path, _ in every_command(oi)}
    assert {("settings", "personal", "tokens", "revoke-all"), ("settings", "personal", "run-tokens", "list"),
            ("settings", "personal", "run-tokens", "delete")} <= paths
    for args in (REVOKE_ALL, RUN_LIST, RUN_DELETE):
        shown = cli(*args, "--help").stdout
        assert "Examples:" in shown and f"oi {' '.join(args)}" in shown
    assert "re-access link" in cli("invites", "claim", "--help").stdout


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


def test_save_replaces_a_refused_token_without_asking_so_a_piped_link_works(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock, tmp_path: Path
) -> None:
    admin, owner = accounts.admin(), accounts.create()
    login(cli, owner.token)
    assert cli(*REVOKE_ALL, "--yes").exit_code == 0
    clock.advance(seconds=1)
    result = cli("invites", "claim", "-", "--save", input=access_link(api, admin, owner) + "\n")  # no answer left
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.stderr
    assert stored(tmp_path)["default"]["token"] != owner.token
    assert cli("auth", "check").exit_code == 0
