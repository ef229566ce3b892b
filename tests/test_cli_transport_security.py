"""No token in clear to a remote host: plain http only to this machine, or with --insecure, or for
a profile that allows it for its own app URL."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Accounts, Cli, Recording, config_file, one_line, stored

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
