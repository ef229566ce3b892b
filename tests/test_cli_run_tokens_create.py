"""`oi workflows run-tokens create`: an agent run token for one workflow run, for the profile's
agent by default, printed once."""
from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from .conftest import APP_URL, SECRETS, Accounts, Api, Cli, FrozenClock, Recording, login, one_line

CREATE = ("workflows", "run-tokens", "create")


def test_a_run_token_is_minted_for_the_agent_and_printed_once(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli(*CREATE, "--agent-id", "agent-alpha", "--stage", "build", "--expires-in", "30m")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.startswith("oi_run_") and token not in result.stderr
    assert (f"for agent agent-alpha, stage build, expires {clock.now() + timedelta(minutes=30):%Y-%m-%d %H:%M} UTC "
            "(in 30 minutes).") in result.stderr
    assert result.stderr.count("Copy it now: it cannot be shown again.") == 1
    me = api.get("/me", token).body["token"]
    assert (me["kind"], me["agentId"], me["stage"], me["scope"]) == ("agent_run", "agent-alpha", "build", "read_write")
    for value in SECRETS.known - {token}:
        assert value not in result.output


def test_the_profiles_agent_id_is_the_default_and_an_hour_the_lifetime(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    assert cli("profile", "set", "--agent-id", "agent-beta").exit_code == 0
    result = cli(*CREATE, "--json")
    assert result.exit_code == 0, result.output
    minted = json.loads(result.stdout)
    assert minted["agentId"] == "agent-beta" and minted["stage"] is None
    assert minted["expiresAt"] == f"{clock.now() + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    listed = json.loads(cli("settings", "personal", "run-tokens", "list", "--json").stdout)["items"]
    assert [(item["id"], item["parentId"]) for item in listed] == [(minted["id"], owner.token_id)]


def test_with_no_agent_id_anywhere_it_says_where_one_goes(cli: Cli, sent: Recording, accounts: Accounts) -> None:
    login(cli, accounts.create().token, profile="work")
    sent.requests.clear()
    result = cli(*CREATE, "--profile", "work")
    assert result.exit_code == 2
    assert one_line(result.stderr) == ("oi: --agent-id: give the agent the run is for, or store one in the profile "
                                       "with `oi profile set --profile work --agent-id ID`")
    assert sent.requests == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--agent-id", ""), "oi: --agent-id: an agent id is required"),
        (("--agent-id", "a", "--stage", " "), "oi: --stage: a stage is required"),
        (("--agent-id", "a", "--expires-in", "30s"), "oi: --expires-in: '30s' is shorter than 1 minute, the shortest"),
        (("--agent-id", "a", "--expires-in", "2d"), "oi: --expires-in: '2d' is longer than 1 day, the longest"),
        (("--agent-id", "a", "--expires-in", "soon"), "oi: --expires-in: 'soon' is not a duration"),
    ],
)
def test_bad_input_is_refused_in_words_before_any_request(
    cli: Cli, sent: Recording, accounts: Accounts, args: tuple[str, ...], said: str
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*CREATE, *args)
    assert result.exit_code == 2 and one_line(result.stderr).startswith(said)
    assert sent.requests == []


def test_a_lifetime_past_the_policy_is_the_servers_400_in_words(
    cli: Cli, accounts: Accounts, api: Api, clock: FrozenClock
) -> None:
    admin = accounts.admin()
    assert api.request("PUT", "/admin/settings/token-policy", admin.token, body={
        "maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None,
        "runTokenMaxSeconds": 600, "refuseReadWritePreset": False}).status == 200
    login(cli, accounts.create().token)
    result = cli(*CREATE, "--agent-id", "a", "--expires-in", "1h")
    line = one_line(result.stderr)
    assert result.exit_code == 1 and "expire at or before 2026-11-24 12:10 UTC" in line
    assert "T12:10" not in line


def test_an_admin_token_or_a_run_token_is_refused_with_exit_5(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.admin().token)
    admin = cli(*CREATE, "--agent-id", "a")
    assert admin.exit_code == 5 and "use a read_write token" in one_line(admin.stderr)
    run = accounts.run_token(api, accounts.create())["token"]
    by_run = cli(*CREATE, "--agent-id", "a", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": run})
    assert by_run.exit_code == 5 and "human-owned personal access token" in one_line(by_run.stderr)


def test_the_lifetime_is_counted_from_when_the_server_made_it(cli: Cli, clock: FrozenClock) -> None:
    made = clock.now() - timedelta(seconds=1)  # the answer took a moment to arrive
    minted = {"id": "run_x", "agentId": "a", "stage": None, "token": "oi_run_x", "scope": "read_write",
              "kind": "agent_run", "createdAt": f"{made:%Y-%m-%dT%H:%M:%SZ}",
              "expiresAt": f"{made + timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}"}
    cli.transport = httpx.MockTransport(lambda _: httpx.Response(201, json=minted))
    result = cli(*CREATE, "--agent-id", "a", "--expires-in", "30m",
                 env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 0, result.output
    assert "(in 30 minutes)." in result.stderr


def test_a_run_token_is_minted_with_only_what_the_run_needs(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.create().token)
    result = cli(*CREATE, "--agent-id", "triage", "--permission", "work_items=read", "--permission", "queues=write")
    assert result.exit_code == 0, result.output
    assert "for agent triage, narrowed to write: queues; read: work items, expires" in result.stderr
    granted = api.get("/me", result.stdout.strip()).body["token"]["permissions"]
    assert (granted["work_items"], granted["queues"], granted["workflows"]) == ("read", "write", "none")
    for permission, said in (("users=read", "--permission: a run token's families are work_items"),
                             ("work_items", "FAMILY=none|read|write")):
        refused = cli(*CREATE, "--agent-id", "triage", "--permission", permission)
        assert refused.exit_code != 0 and said in one_line(refused.stderr), refused.stderr
        assert "Traceback" not in refused.output
