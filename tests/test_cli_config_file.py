"""The config file stays private: a file others can read is warned about, a symlinked one is
written through to its target, an unwritable one is one line."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openindex_cli import config as cli_config

from .conftest import APP_URL, Accounts, Cli, config_file, login, one_line, stored


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
