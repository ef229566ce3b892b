"""The `oi` command line against the real app (click's CliRunner + the Chalice test client)."""
from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import httpx
import pytest

from openindex_cli.main import oi

from .conftest import APP_URL, Accounts, Api, Cli, config_file, login, stored

# oi profile


def test_profile_set_writes_a_private_file_and_keeps_other_fields(cli: Cli, tmp_path: Path) -> None:
    assert cli("profile", "set", "--app-url", APP_URL).exit_code == 0
    assert cli("profile", "set", "--agent-id", "agent-alpha").exit_code == 0
    assert cli("profile", "set", "--token", "-", input="oi_pat_secret1234\n").exit_code == 0
    path = config_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stored(tmp_path) == {
        "default": {"app_url": APP_URL, "agent_id": "agent-alpha", "token": "oi_pat_secret1234", "token_store": "file"}
    }
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary file left


def test_profiles_are_separate_and_picked_by_option_or_environment(cli: Cli, tmp_path: Path) -> None:
    cli("profile", "set", "--app-url", "https://one.test")
    cli("profile", "set", "--profile", "staging", "--app-url", "https://two.test")
    assert stored(tmp_path)["default"] == {"app_url": "https://one.test"}
    shown = json.loads(cli("profile", "show", "--json", env={"OPENINDEX_PROFILE": "staging"}).stdout)
    assert (shown["profile"], shown["appUrl"]) == ("staging", "https://two.test")
    shown = json.loads(cli("profile", "show", "--json", "--profile", "default").stdout)
    assert shown["appUrl"] == "https://one.test"


def test_openindex_config_names_another_file(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    assert cli("profile", "set", "--app-url", APP_URL, env={"OPENINDEX_CONFIG": str(elsewhere)}).exit_code == 0
    assert elsewhere.exists() and not config_file(tmp_path).exists()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600


def test_a_token_from_argv_is_saved_with_a_warning_and_stdin_has_none(cli: Cli) -> None:
    result = cli("profile", "set", "--token", "oi_pat_fromargv1234")
    assert result.exit_code == 0
    assert "shell history" in result.stderr and "--token -" in result.stderr
    assert "shell history" not in cli("profile", "set", "--token", "-", input="oi_pat_x1234567890\n").stderr


def test_profile_set_needs_something_to_set(cli: Cli) -> None:
    assert cli("profile", "set").exit_code == 2


@pytest.mark.parametrize("name", ["bad name", "a.b", "", "x" * 65])
def test_profile_names_are_checked(cli: Cli, name: str) -> None:
    result = cli("profile", "set", "--profile", name, "--app-url", APP_URL)
    assert result.exit_code == 3 and "profile name" in result.stderr


def test_profile_show_masks_the_token_and_names_its_source(cli: Cli, accounts: Accounts) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    result = cli("profile", "show")
    assert result.exit_code == 0
    assert owner.token not in result.output
    assert f"oi_pat_…{owner.token[-4:]} (from profile)" in result.stdout
    assert f"{APP_URL} (from profile)" in result.stdout
    other = accounts.create().token
    result = cli("profile", "show", "--json", env={"OPENINDEX_TOKEN": other, "OPENINDEX_APP_URL": "https://env.test"})
    shown = json.loads(result.stdout)
    assert shown["token"] == f"oi_pat_…{other[-4:]}" and shown["tokenSource"] == "OPENINDEX_TOKEN"
    assert (shown["appUrl"], shown["appUrlSource"]) == ("https://env.test", "OPENINDEX_APP_URL")
    assert other not in result.output


def test_profile_show_warns_about_a_file_others_can_read(cli: Cli, tmp_path: Path) -> None:
    cli("profile", "set", "--app-url", APP_URL)
    config_file(tmp_path).chmod(0o644)
    assert "chmod 600" in cli("profile", "show").stderr


def test_a_corrupt_config_file_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text("profiles = [not toml")
    result = cli("profile", "show")
    assert result.exit_code == 3 and "cannot read" in result.stderr and "Traceback" not in result.output


# oi auth check


def test_auth_check_shows_the_user_token_kind_scope_and_expiry(cli: Cli, accounts: Accounts) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    result = cli("auth", "check")
    assert result.exit_code == 0, result.output
    for shown in (admin.user.email, "setup", admin.token_id, "kind:     pat", "scope:    admin", "never"):
        assert shown in result.stdout
    assert admin.token not in result.output
    as_json = json.loads(cli("auth", "check", "--json").stdout)
    assert as_json["valid"] is True and as_json["token"]["scope"] == "admin"


def test_auth_check_says_what_the_token_may_read_and_write(cli: Cli, accounts: Accounts, api: Api) -> None:
    member = accounts.create()
    login(cli, member.token)
    assert ("grant:    write: work items, queues, domains, workflows, calendar sources, conversations"
            in cli("auth", "check").stdout)
    reader = api.post("/me/pats", member.token, body={"name": "r", "scope": "read"}).body["token"]
    run = accounts.run_token(api, member, permissions={"work_items": "write", "workflows": "read"})["token"]
    assert "grant:    read: work items, queues," in cli("auth", "check", env={"OPENINDEX_TOKEN": reader}).stdout
    narrowed = cli("auth", "check", env={"OPENINDEX_TOKEN": run}).stdout
    assert "scope:    custom" in narrowed and "grant:    write: work items; read: workflows" in narrowed


def test_auth_check_exits_4_on_401_with_the_documented_resolution(cli: Cli) -> None:
    login(cli, "oi_pat_revoked")
    result = cli("auth", "check")
    assert result.exit_code == 4
    line = result.stderr.strip()
    assert line.startswith("oi: the token from profile 'default' was refused (HTTP 401): ")  # then the server's why
    assert line.endswith(" Store a valid one with `oi profile set --token -`.") and "oi auth check" not in line
    assert result.stdout == ""


def test_the_environment_token_wins_over_the_profile(cli: Cli, accounts: Accounts) -> None:
    good = accounts.create().token
    login(cli, "oi_pat_stale")
    assert cli("auth", "check", env={"OPENINDEX_TOKEN": good}).exit_code == 0
    login(cli, good)
    assert cli("auth", "check", env={"OPENINDEX_TOKEN": "oi_pat_bad"}).exit_code == 4


def test_the_environment_app_url_wins_over_the_profile(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    cli("profile", "set", "--app-url", "ftp://nowhere")
    assert cli("auth", "check").exit_code == 3
    assert cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL}).exit_code == 0


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [(["--app-url", APP_URL], "no token"), (["--token", "-"], "no app URL"), (["--app-url", "ftp://x"], "not an http")],
)
def test_missing_or_bad_configuration_exits_3(cli: Cli, setup: list[str], fragment: str) -> None:
    cli("profile", "set", *setup, input="oi_pat_whatever\n")
    if "--token" not in setup and fragment != "no token":
        cli("profile", "set", "--token", "-", input="oi_pat_whatever\n")
    result = cli("auth", "check")
    assert result.exit_code == 3 and fragment in result.stderr


def test_a_server_that_does_not_answer_exits_6(cli: Cli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        cli.transport = None
        result = cli("auth", "check", env={"OPENINDEX_APP_URL": f"http://127.0.0.1:{port}",
                                           "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 6 and "cannot reach" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("status", "content", "code", "fragment"),
    [
        (200, b"<html>hello</html>", 7, f"no OpenIndex API at {APP_URL}"),
        (502, b"Bad Gateway", 7, "server failed (HTTP 502)"),
        (503, b'{"error": {"code": "service_unavailable", "message": "retry"}}', 7, "server failed (HTTP 503)"),
    ],
)
def test_unexpected_replies_get_their_own_message(
    cli: Cli, status: int, content: bytes, code: int, fragment: str
) -> None:
    cli.transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == code and fragment in result.stderr


# oi settings personal tokens


def test_create_prints_the_token_once_on_stdout(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "local cli", "--scope", "read_write")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("oi_pat_") and "\n" not in token
    assert "cannot be shown again" in result.stderr
    assert api.get("/me", token).body["token"]["name"] == "local cli"


def test_create_a_read_only_token(cli: Cli, accounts: Accounts, api: Api) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "dashboard", "--scope", "read")
    assert result.exit_code == 0, result.output
    assert "scope read" in result.stderr
    assert api.get("/me", result.stdout.strip()).body["token"]["scope"] == "read"


def test_create_with_expiry_and_json(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "ci", "--scope", "read_write",
                 "--expires-at", "2027-01-01T00:00:00Z", "--json")
    created = json.loads(result.stdout)
    assert created["expiresAt"] == "2027-01-01T00:00:00Z" and created["token"].startswith("oi_pat_")


def test_create_reports_the_servers_validation_error(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "x\u200by", "--scope", "read_write")
    assert result.exit_code == 1 and "name: must not contain control, format or invisible characters" in result.stderr


def test_list_shows_a_table_without_token_values(cli: Cli, accounts: Accounts) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    created = cli("settings", "personal", "tokens", "create", "--name", "ci", "--scope", "read_write").stdout.strip()
    result = cli("settings", "personal", "tokens", "list")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split()
    assert header == ["ID", "NAME", "SCOPE", "STATUS", "CREATED", "EXPIRES", "LAST", "USED", "IP", "USER", "AGENT"]
    assert "ci" in result.stdout and owner.token_id in result.stdout
    assert created not in result.output and owner.token not in result.output
    items = json.loads(cli("settings", "personal", "tokens", "list", "--json").stdout)["items"]
    assert [item["name"] for item in items] == ["ci", "setup"]


def test_list_points_out_tokens_that_expire_within_7_days(cli: Cli, accounts: Accounts, api: Api, clock) -> None:
    from datetime import timedelta

    owner = accounts.create()
    login(cli, owner.token)
    def made(name: str, days: int) -> dict:
        ends = f"{clock.now() + timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"
        return api.post("/me/pats", owner.token, body={"name": name, "scope": "read", "expiresAt": ends}).body

    soon, later = made("soon", 3), made("later", 30)
    result = cli("settings", "personal", "tokens", "list")
    assert (f"! {soon['id']} expires in 3 days (2026-11-27 12:00 UTC): rotate it before then "
            f"(oi settings personal tokens rotate {soon['id']})") in result.stdout
    assert later["id"] not in "".join(line for line in result.stdout.splitlines() if line.startswith("!"))


def test_list_follows_every_page(cli: Cli, accounts: Accounts, api: Api, clock) -> None:
    owner = accounts.create()
    for number in range(120):
        clock.advance(seconds=1)
        api.post("/me/pats", owner.token, body={"name": f"t{number}", "scope": "read_write"})
    login(cli, owner.token)
    items = json.loads(cli("settings", "personal", "tokens", "list", "--json").stdout)["items"]
    assert len(items) == 121


def test_delete_asks_first_unless_yes(cli: Cli, accounts: Accounts, api: Api) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    doomed = json.loads(cli("settings", "personal", "tokens", "create", "--name", "d", "--scope", "read_write",
                            "--json").stdout)
    refused = cli("settings", "personal", "tokens", "delete", doomed["id"], input="n\n")
    assert refused.exit_code == 1 and api.get("/me", doomed["token"]).status == 200
    confirmed = cli("settings", "personal", "tokens", "delete", doomed["id"], input="y\n")
    assert confirmed.exit_code == 0 and api.get("/me", doomed["token"]).status == 401
    again = cli("settings", "personal", "tokens", "delete", doomed["id"], "--yes")
    assert again.exit_code == 1 and "No personal access token with this id" in again.stderr


def test_delete_with_yes_and_json(cli: Cli, accounts: Accounts) -> None:
    owner = accounts.create()
    login(cli, owner.token)
    created = json.loads(cli("settings", "personal", "tokens", "create", "--name", "d", "--scope", "read_write",
                             "--json").stdout)
    result = cli("settings", "personal", "tokens", "delete", created["id"], "--yes", "--json")
    assert json.loads(result.stdout) == {"deleted": created["id"]}


def test_a_read_write_token_asking_for_admin_gets_the_403_resolution(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "create", "--name", "x", "--scope", "admin")
    assert result.exit_code == 5
    assert result.stderr.strip() == "oi: token scope is insufficient; use a token with admin scope"


def test_an_agent_run_token_on_settings_is_told_to_use_a_human_pat(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    run = accounts.run_token(api, accounts.create())
    login(cli, run["token"])
    assert cli("auth", "check").exit_code == 0
    result = cli("settings", "personal", "tokens", "list")
    assert result.exit_code == 5
    assert "use a human-owned personal access token" in result.stderr


# oi invites claim


def invite_token(api: Api, accounts: Accounts) -> str:
    admin = accounts.admin()
    return api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body["token"]


def test_claim_can_save_the_new_token_into_the_profile(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    token = invite_token(api, accounts)
    result = cli("invites", "claim", token, "--app-url", APP_URL, "--save")
    assert result.exit_code == 0, result.output
    saved = stored(tmp_path)["default"]
    assert saved["app_url"] == APP_URL and saved["token"].startswith("oi_pat_")
    assert saved["token"] not in result.output
    assert "new@example.com" in cli("auth", "check").stdout


def test_claim_asks_before_saving(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    result = cli("invites", "claim", invite_token(api, accounts), "--app-url", APP_URL, input="y\n")
    assert result.exit_code == 0 and stored(tmp_path)["default"]["token"].startswith("oi_pat_")


def test_claim_without_saving_prints_the_token_once(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=invite_token(api, accounts) + "\n")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert api.get("/me", token).status == 200
    assert not config_file(tmp_path).exists()


def test_claiming_twice_or_a_bad_invite_is_one_clear_line(cli: Cli, accounts: Accounts, api: Api) -> None:
    token = invite_token(api, accounts)
    assert cli("invites", "claim", token, "--app-url", APP_URL, "--no-save").exit_code == 0
    again = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=token + "\n")  # no argv warning
    assert again.exit_code == 1 and again.stderr.strip() == "oi: This invite has already been claimed."
    bad = cli("invites", "claim", "oi_inv_nope", "--app-url", APP_URL, "--no-save")
    assert bad.exit_code == 1 and "No invite matches" in bad.stderr


def test_claim_json(cli: Cli, accounts: Accounts, api: Api) -> None:
    result = cli("invites", "claim", invite_token(api, accounts), "--app-url", APP_URL, "--json")
    claimed = json.loads(result.stdout)
    assert claimed["user"]["email"] == "new@example.com" and claimed["savedToProfile"] is None


def leaf_commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_takes_json_and_profile() -> None:
    for path, command in leaf_commands(oi):
        options = {option for param in command.params for option in getattr(param, "opts", [])}
        assert {"--json", "--profile"} <= options, path


def test_the_console_script_is_installed() -> None:
    assert (Path(os.sys.executable).parent / "oi").exists()
