"""`oi settings personal run-tokens list|delete`: run tokens in view (agent, stage, parent and
times, never values), every page followed, one deleted after asking."""
from __future__ import annotations

import json

import pytest

from .conftest import APP_URL, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

RUN_ID = "run_01jdx7k2m4c8b3n5q6r7s8t9v0"
RUN_LIST = ("settings", "personal", "run-tokens", "list")
RUN_DELETE = ("settings", "personal", "run-tokens", "delete")


def status(api: Api, token: str) -> int:
    return api.get("/me", token).status


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
