"""`oi` as a new user meets it in the README (issue #10): each section is one finding."""
from __future__ import annotations

import json
import stat
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import click
import httpx
import pytest
from click.testing import Result

from openindex_cli import api as cli_api
from openindex_cli import config as cli_config
from openindex_cli import invites as cli_main
from openindex_cli.main import oi

from .conftest import APP_URL, Accounts, Api, Cli, Recording, login, one_line
from .test_cli import config_file, stored

# 1. A token's shape is checked before any request


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


# 2. Claiming an invite never replaces a profile's token without an explicit yes


def an_invite(api: Api, accounts: Accounts, email: str = "new@example.com") -> str:
    admin = accounts.admin()
    return api.post("/admin/invites", admin.token, body={"email": email}).body["token"]


def test_enter_keeps_the_admin_token_and_the_invite(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", input=invite + "\n\n")
    assert result.exit_code == 1, result.output
    assert stored(tmp_path)["default"]["token"] == admin.token
    assert f"holds a token for {admin.user.email} (admin)" in result.stderr and "[y/N]" in result.stderr
    assert "not claimed" in result.stderr and "--profile NAME" in result.stderr
    assert "oi_pat_" not in result.stdout
    elsewhere = cli("invites", "claim", "-", "--profile", "member", "--app-url", APP_URL, input=invite + "\ny\n")
    assert elsewhere.exit_code == 0, elsewhere.output  # the invite is still there to claim
    assert api.get("/me", stored(tmp_path)["member"]["token"]).body["email"] == "new@example.com"


def test_an_explicit_yes_replaces_the_token(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    login(cli, accounts.admin().token)
    result = cli("invites", "claim", "-", input=an_invite(api, accounts) + "\ny\n")
    assert result.exit_code == 0, result.output
    assert api.get("/me", stored(tmp_path)["default"]["token"]).body["email"] == "new@example.com"


def test_save_without_an_answer_claims_nothing(cli: Cli, accounts: Accounts, api: Api, tmp_path: Path) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", "--save", input=invite + "\n")
    assert result.exit_code == 1 and "not claimed" in result.stderr
    assert stored(tmp_path)["default"]["token"] == admin.token
    assert api.post("/auth/invites/claim", body={"token": invite}).status == 201


def test_a_profile_holding_a_refused_token_is_still_protected(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    login(cli, "oi_pat_revoked")
    result = cli("invites", "claim", "-", input=an_invite(api, accounts) + "\n\n")
    assert "holds a token" in result.stderr and "[y/N]" in result.stderr and result.exit_code == 1
    assert stored(tmp_path)["default"]["token"] == "oi_pat_revoked"


def test_json_without_save_never_asks_and_keeps_the_profile(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    result = cli("invites", "claim", "-", "--json", input=an_invite(api, accounts) + "\n")
    assert result.exit_code == 0 and json.loads(result.stdout)["savedToProfile"] is None
    assert stored(tmp_path)["default"]["token"] == admin.token


def test_profile_saves_the_new_token_elsewhere_without_asking(
    cli: Cli, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    admin = accounts.admin()
    login(cli, admin.token)
    result = cli("invites", "claim", "-", "--profile", "member", "--app-url", APP_URL, "--save",
                 input=an_invite(api, accounts) + "\n")
    assert result.exit_code == 0, result.output
    profiles = stored(tmp_path)
    assert profiles["default"]["token"] == admin.token
    assert api.get("/me", profiles["member"]["token"]).body["email"] == "new@example.com"
    assert "[y/N]" not in result.output and profiles["member"]["token"] not in result.output


def test_the_invite_token_comes_from_stdin_by_default_and_argv_gets_a_warning(
    cli: Cli, accounts: Accounts, api: Api
) -> None:
    quiet = cli("invites", "claim", "--app-url", APP_URL, "--no-save", input=an_invite(api, accounts) + "\n")
    assert quiet.exit_code == 0, quiet.output
    assert "shell history" not in quiet.stderr
    loud = cli("invites", "claim", an_invite(api, accounts, "two@example.com"), "--app-url", APP_URL, "--no-save")
    assert loud.exit_code == 0 and "shell history" in loud.stderr and "invites claim -" in loud.stderr


def test_at_a_terminal_the_invite_token_is_asked_for_without_echo(
    cli: Cli, accounts: Accounts, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_main, "stdin_is_terminal", lambda: True)
    invite = an_invite(api, accounts)
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=invite + "\n")
    assert result.exit_code == 0, result.output
    assert "Invite link or token" in result.output and invite not in result.output


@pytest.mark.parametrize("value", ["oi_inv_…", "oi_pat_abcdef", "\n"])
def test_a_value_that_is_not_an_invite_is_refused_before_any_request(
    cli: Cli, sent: Recording, value: str
) -> None:
    result = cli("invites", "claim", "-", "--app-url", APP_URL, "--no-save", input=value + "\n")
    assert result.exit_code == 2 and "invite" in one_line(result.stderr)
    assert sent.requests == []


# 3. Ids are checked and every path part is encoded


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


# 4. No token in clear to a remote host; the config file stays private, even through a symlink


REMOTE_HTTP = "http://example.invalid"


def test_http_to_a_remote_host_is_refused_before_any_request(cli: Cli, sent: Recording, accounts: Accounts) -> None:
    token = accounts.create().token
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": REMOTE_HTTP, "OPENINDEX_TOKEN": token})
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert "example.invalid" in line and "--insecure" in line and "https://" in line
    assert sent.requests == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://127.3.2.1", "http://localhost:8000", "http://LOCALHOST", "http://[::1]:8000"]
)
def test_http_to_this_machine_is_allowed(cli: Cli, accounts: Accounts, url: str) -> None:
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": url, "OPENINDEX_TOKEN": accounts.create().token})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1.example.com", "http://localhost.example.com", "http://10.0.0.1", "http://[::2]"]
)
def test_http_to_names_that_merely_look_local_is_refused(cli: Cli, sent: Recording, url: str) -> None:
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": url, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 3 and sent.requests == []


@pytest.mark.parametrize("args", [["--insecure", "auth", "check"], ["auth", "check", "--insecure"]])
def test_insecure_allows_http_for_one_command(cli: Cli, accounts: Accounts, args: list[str]) -> None:
    result = cli(*args, env={"OPENINDEX_APP_URL": REMOTE_HTTP, "OPENINDEX_TOKEN": accounts.create().token})
    assert result.exit_code == 0, result.output


def test_a_profile_can_allow_http_to_its_own_app_url(cli: Cli, accounts: Accounts, tmp_path: Path) -> None:
    token = accounts.create().token
    cli("profile", "set", "--app-url", REMOTE_HTTP, "--token", "-", input=token + "\n")
    assert cli("auth", "check").exit_code == 3
    assert cli("profile", "set", "--insecure").exit_code == 0
    assert stored(tmp_path)["default"]["insecure"] is True
    assert "insecure" in cli("profile", "show").stdout
    assert cli("auth", "check").exit_code == 0
    assert cli("auth", "check", env={"OPENINDEX_APP_URL": "http://other.invalid"}).exit_code == 3
    cli("profile", "set", "--no-insecure")
    assert cli("auth", "check").exit_code == 3


def test_insecure_in_the_file_must_be_true_or_false(cli: Cli, tmp_path: Path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text(f'[profiles.default]\napp_url = "{REMOTE_HTTP}"\ninsecure = "yes"\n')
    result = cli("auth", "check", env={"OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 3 and "true or false" in one_line(result.stderr)


def test_claiming_an_invite_over_remote_http_is_refused_before_reading_it(cli: Cli, sent: Recording) -> None:
    result = cli("invites", "claim", "-", "--app-url", REMOTE_HTTP, "--no-save", input="oi_inv_abc\n")
    assert result.exit_code == 3 and "--insecure" in one_line(result.stderr)
    assert sent.requests == []


@pytest.mark.parametrize(
    "args", [["auth", "check"], ["settings", "personal", "tokens", "list"], ["profile", "show"]]
)
def test_a_config_file_others_can_read_is_warned_about_on_every_command(
    cli: Cli, accounts: Accounts, tmp_path: Path, args: list[str]
) -> None:
    login(cli, accounts.create().token)
    config_file(tmp_path).chmod(0o640)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("chmod 600") == 1


def test_a_symlinked_config_file_is_written_through_to_its_target(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "openindex.toml"
    target.parent.mkdir()
    target.write_text('[profiles.default]\ntoken = "oi_pat_old1234"\n')
    target.chmod(0o644)
    link = config_file(tmp_path)
    link.parent.mkdir(parents=True)
    link.symlink_to(Path("..", "..", "dotfiles", "openindex.toml"))
    result = cli("profile", "set", "--token", "-", input="oi_pat_new5678\n")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert stored(tmp_path)["default"]["token"] == "oi_pat_new5678"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    for place in (target.parent, link.parent):
        for file in place.iterdir():
            assert "oi_pat_old1234" not in file.read_text(), file


def test_an_unwritable_config_file_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")  # what a read-only directory answers (root ignores modes)

    monkeypatch.setattr(cli_config.tempfile, "mkstemp", refuse)
    result = cli("profile", "set", "--app-url", APP_URL)
    assert result.exit_code == 3 and "cannot write" in one_line(result.stderr)


# 5. A 401 says which token failed and why, in the server's words


def reply(status: int, body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def refusal(message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": "invalid_token", "message": message}}


def test_auth_check_names_the_environment_token_and_does_not_send_you_back_to_itself(cli: Cli) -> None:
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_unknown"})
    assert result.exit_code == 4
    line = one_line(result.stderr)
    assert "the token from OPENINDEX_TOKEN was refused" in line
    assert "missing, invalid, expired or revoked" in line  # the server's own words
    assert "oi auth check" not in line and "unset it" in line


def test_other_commands_name_the_profile_and_keep_the_servers_advice(cli: Cli) -> None:
    login(cli, "oi_pat_unknown", profile="work")
    result = cli("settings", "personal", "tokens", "list", "--profile", "work")
    assert result.exit_code == 4
    line = one_line(result.stderr)
    assert "the token from profile 'work' was refused" in line and "`oi auth check`" in line


def test_the_servers_reason_is_shown_as_it_is(cli: Cli) -> None:
    cli.transport = reply(401, refusal("This token expired on 2027-01-01. Check it with `oi auth check`."))
    login(cli, "oi_pat_old", profile="work")
    result = cli("auth", "check", "--profile", "work")
    line = one_line(result.stderr)
    assert result.exit_code == 4 and "This token expired on 2027-01-01." in line
    assert "oi auth check" not in line and "oi profile set --profile work --token -" in line
    listed = one_line(cli("settings", "personal", "tokens", "list", "--profile", "work").stderr)
    assert "expired on 2027-01-01. Check it with `oi auth check`." in listed


# 6. A wrong app URL is reported as one, not as a token problem


def test_an_app_url_with_a_path_the_api_does_not_have(cli: Cli, accounts: Accounts) -> None:
    login(cli, accounts.admin().token)
    cli("profile", "set", "--app-url", APP_URL + "/api")
    result = cli("auth", "check")
    assert result.exit_code == 7
    line = one_line(result.stderr)
    assert f"no OpenIndex API at {APP_URL}/api" in line and "scope" not in line


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (404, b"<html>Not Found</html>"),
        (403, b'{"message": "Missing Authentication Token"}'),
        (401, b'{"message": "Unauthorized"}'),
        (400, b'{"error": "bad"}'),
        (200, b"<html>hello</html>"),
        (200, b'{"ok": true}'),
        (200, b"[]"),
    ],
)
def test_a_reply_that_is_not_the_apis_means_no_api_at_that_url(cli: Cli, status: int, content: bytes) -> None:
    cli.transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    for args in (["auth", "check"], ["settings", "personal", "tokens", "list"]):
        result = cli(*args, env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
        assert result.exit_code == 7, (args, result.output)
        assert f"no OpenIndex API at {APP_URL}" in one_line(result.stderr)


def test_a_gateway_failure_is_still_a_server_failure(cli: Cli) -> None:
    cli.transport = httpx.MockTransport(lambda request: httpx.Response(504, content=b'{"message": "timed out"}'))
    result = cli("auth", "check", env={"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": "oi_pat_x"})
    assert result.exit_code == 7 and "failed (HTTP 504)" in one_line(result.stderr)


# 7. Profiles, version, help, confirmation and expiry as a new user expects them


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (["auth", "check", "--profile", "work"], {}, "--profile"),
        (["settings", "personal", "tokens", "list"], {"OPENINDEX_PROFILE": "work"}, "OPENINDEX_PROFILE"),
        (["profile", "show", "--profile", "work"], {}, "--profile"),
    ],
)
def test_a_profile_that_does_not_exist_is_named(
    cli: Cli, sent: Recording, accounts: Accounts, args: list[str], env: dict[str, str], source: str
) -> None:
    login(cli, accounts.create().token)
    sent.requests.clear()
    result = cli(*args, env={"OPENINDEX_TOKEN": accounts.create().token, **env})
    assert result.exit_code == 3
    line = one_line(result.stderr)
    assert "profile 'work'" in line and "does not exist" in line and source in line and "oi profile list" in line
    assert sent.requests == []


def test_profile_set_creates_a_profile_and_the_implicit_default_may_be_absent(
    cli: Cli, accounts: Accounts
) -> None:
    env = {"OPENINDEX_APP_URL": APP_URL, "OPENINDEX_TOKEN": accounts.create().token}
    assert cli("auth", "check", env=env).exit_code == 0  # no file at all: the environment is enough
    assert cli("profile", "set", "--profile", "work", "--app-url", APP_URL).exit_code == 0
    assert cli("auth", "check", "--profile", "work", env=env).exit_code == 0


def test_profile_list_shows_every_profile_without_token_values(cli: Cli, accounts: Accounts) -> None:
    assert "no profiles" in cli("profile", "list").stderr
    first, second = accounts.create().token, accounts.create().token
    login(cli, first)
    login(cli, second, profile="work")
    cli("profile", "set", "--profile", "local", "--app-url", "http://127.0.0.1:8000")
    result = cli("profile", "list", env={"OPENINDEX_PROFILE": "work"})
    assert result.exit_code == 0, result.output
    assert first not in result.output and second not in result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["PROFILE", "APP", "URL", "TOKEN"]
    assert rows[1:] == [
        ["default", APP_URL, f"oi_pat_…{first[-4:]}"],
        ["local", "http://127.0.0.1:8000", "(not", "set)"],
        ["work", "(in", "use)", APP_URL, f"oi_pat_…{second[-4:]}"],
    ]
    listed = json.loads(cli("profile", "list", "--json").stdout)
    assert listed["inUse"] == "default" and [p["name"] for p in listed["profiles"]] == ["default", "local", "work"]
    assert listed["profiles"][2]["token"] == f"oi_pat_…{second[-4:]}" and second not in json.dumps(listed)


def test_version_comes_from_the_installed_distribution(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout == f"oi {metadata.version('openindex-auth')}\n"


@pytest.mark.parametrize("args", [[], ["profile"], ["settings", "personal"]])
def test_a_bare_group_shows_its_help_and_exits_0(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0 and "Usage:" in result.stdout and "Commands:" in result.stdout


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
    return found


def test_help_is_never_cut_off_and_every_command_shows_examples(cli: Cli) -> None:
    for path, command in [((), oi), *every_command(oi)]:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        lines = result.stdout.splitlines()
        assert all(len(line) <= 100 for line in lines), path
        assert not [line for line in lines if line.rstrip().endswith("...") and "[ARGS]..." not in line], path
        if not isinstance(command, click.Group):
            examples = lines[lines.index("  Examples:") + 1:] if "  Examples:" in lines else []
            assert len([line for line in examples if line.strip().startswith("oi ")]) >= 2, path


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


def test_delete_reports_a_bad_token_before_asking(cli: Cli, tmp_path: Path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text(f'[profiles.default]\napp_url = "{APP_URL}"\ntoken = "oi_pat_…"\n')
    result = cli("settings", "personal", "tokens", "delete", "pat_01jdx7k2m4c8b3n5q6r7s8t9v0", input="y\n")
    assert result.exit_code == 3 and "Delete token" not in result.output
