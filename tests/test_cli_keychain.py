"""`oi` keeps tokens in the system keychain when there is one (as `gh` does): the config file
then only names the token; --insecure-storage, or a machine without a keychain, keeps today's
0600 file; one command moves a profile's token between the two. The keychain here is an
in-memory keyring backend: nothing needs a desktop."""
from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from .conftest import APP_URL, Accounts, Api, Cli, config_file, login, stored


class MemoryKeychain(KeyringBackend):
    """A keychain that lives as long as the test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.refuse = False
        self.fail_with: Exception | None = None  # what a backend raises of its own (pywintypes.error, say)
        self.keep_on_delete = False

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.refuse:
            raise keyring.errors.PasswordSetError("locked")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.keep_on_delete:
            raise keyring.errors.KeyringLocked("locked")
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")


@pytest.fixture
def keychain() -> Iterator[MemoryKeychain]:
    backend = MemoryKeychain()
    keyring.set_keyring(backend)
    yield backend  # the autouse no_keychain fixture puts its own back afterwards


def test_a_token_goes_to_the_keychain_and_the_file_only_names_it(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, tmp_path: Path
) -> None:
    token = accounts.create().token
    result = cli("profile", "set", "--app-url", APP_URL, "--token", "-", input=token + "\n")
    assert result.exit_code == 0, result.output
    assert "the token is kept in the system keychain" in result.stderr
    assert token not in config_file(tmp_path).read_text()
    assert stored(tmp_path)["default"] == {"app_url": APP_URL, "token_store": "keychain"}
    assert list(keychain.entries.values()) == [token]
    assert cli("auth", "check").exit_code == 0  # read back from the keychain
    shown = cli("profile", "show")
    assert "kept in the system keychain" in shown.stdout and token not in shown.output
    assert json.loads(cli("profile", "show", "--json").stdout)["tokenStore"] == "keychain"
    assert "keychain" in cli("profile", "list").stdout


def test_insecure_storage_keeps_the_token_in_the_private_file(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, tmp_path: Path
) -> None:
    token = accounts.create().token
    result = cli("profile", "set", "--app-url", APP_URL, "--token", "-", "--insecure-storage", input=token + "\n")
    assert result.exit_code == 0, result.output
    assert stored(tmp_path)["default"]["token"] == token and keychain.entries == {}
    assert stat.S_IMODE(config_file(tmp_path).stat().st_mode) == 0o600
    assert f"kept in {config_file(tmp_path)} (mode 0600)" in cli("profile", "show").stdout


def test_without_a_keychain_the_file_keeps_it_and_says_so(cli: Cli, accounts: Accounts, tmp_path: Path) -> None:
    token = accounts.create().token
    result = cli("profile", "set", "--app-url", APP_URL, "--token", "-", input=token + "\n")
    assert result.exit_code == 0
    assert "no system keychain here, so the token is kept in" in result.stderr
    assert stored(tmp_path)["default"]["token"] == token


def test_a_keychain_that_refuses_leaves_the_token_in_the_file(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, tmp_path: Path
) -> None:
    keychain.refuse = True
    token = accounts.create().token
    assert cli("profile", "set", "--app-url", APP_URL, "--token", "-", input=token + "\n").exit_code == 0
    assert stored(tmp_path)["default"]["token"] == token
    assert cli("auth", "check").exit_code == 0


def test_one_command_moves_a_profiles_token_and_leaves_no_copy_behind(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, tmp_path: Path
) -> None:
    token = accounts.create().token
    cli("profile", "set", "--app-url", APP_URL, "--token", "-", "--insecure-storage", input=token + "\n")
    moved = cli("profile", "set", "--token-store", "keychain")
    assert moved.exit_code == 0, moved.output
    assert token not in config_file(tmp_path).read_text() and list(keychain.entries.values()) == [token]
    back = cli("profile", "set", "--insecure-storage")
    assert back.exit_code == 0 and stored(tmp_path)["default"]["token"] == token and keychain.entries == {}
    empty = cli("profile", "set", "--profile", "other", "--token-store", "keychain")
    assert empty.exit_code == 3 and "holds no token to move" in empty.stderr


def test_a_rotation_saved_to_the_profile_stays_in_the_keychain(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    login(cli, accounts.create().token)
    result = cli("settings", "personal", "tokens", "rotate", "self", "--save")
    assert result.exit_code == 0, result.output
    (successor,) = keychain.entries.values()
    assert api.get("/me", successor).status == 200
    assert "oi_pat_" not in config_file(tmp_path).read_text()


def test_a_keychain_that_lost_the_token_is_said_plainly(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts
) -> None:
    login(cli, accounts.create().token)
    keychain.entries.clear()  # another tool removed it
    result = cli("auth", "check")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "no token" in result.stderr.lower()


def test_a_keychain_failing_its_own_way_never_loses_a_rotated_token(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, api: Api, tmp_path: Path
) -> None:
    """Windows' backend lets pywintypes.error through (over SSH: no logon session): the rotated
    token, whose predecessor stops at once, goes to the file, and oi says so."""
    login(cli, accounts.create().token)
    keychain.fail_with = OSError(1312, "A specified logon session does not exist")
    result = cli("settings", "personal", "tokens", "rotate", "self", "--save")
    assert result.exit_code == 0, result.output
    assert "the system keychain refused the new token; it is kept in" in result.stderr
    assert api.get("/me", stored(tmp_path)["default"]["token"]).status == 200


def test_a_move_the_keychain_will_not_finish_says_what_is_left(
    cli: Cli, keychain: MemoryKeychain, accounts: Accounts, tmp_path: Path
) -> None:
    login(cli, accounts.create().token)
    keychain.keep_on_delete = True
    moved = cli("profile", "set", "--token-store", "file")
    assert moved.exit_code == 0 and stored(tmp_path)["default"]["token_store"] == "file"
    assert "remove the keychain entry 'oi:" in moved.stderr and "by hand" in moved.stderr
