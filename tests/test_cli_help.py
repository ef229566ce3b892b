"""`oi --version` and help: the version of the installed distribution, a bare group's help, and
every command's help shown whole, with examples."""
from __future__ import annotations

from importlib import metadata

import click
import pytest

from openindex_cli.main import oi

from .conftest import Cli


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
        # (a usage line ends in "..." for arguments that repeat: click never cuts it)
        assert not [line for line in lines if line.rstrip().endswith("...") and "[ARGS]..." not in line
                    and not line.startswith("Usage:")], path
        if not isinstance(command, click.Group):
            examples = lines[lines.index("  Examples:") + 1:] if "  Examples:" in lines else []
            assert len([line for line in examples if line.strip().startswith("oi ")]) >= 2, path


REVOKE_ALL = ("settings", "personal", "tokens", "revoke-all")
RUN_LIST = ("settings", "personal", "run-tokens", "list")
RUN_DELETE = ("settings", "personal", "run-tokens", "delete")


def test_the_new_commands_exist_with_examples(cli: Cli) -> None:
    from openindex_cli.main import oi

    paths = {path for path, _ in every_command(oi)}
    assert {("settings", "personal", "tokens", "revoke-all"), ("settings", "personal", "run-tokens", "list"),
            ("settings", "personal", "run-tokens", "delete")} <= paths
    for args in (REVOKE_ALL, RUN_LIST, RUN_DELETE):
        shown = cli(*args, "--help").stdout
        assert "Examples:" in shown and f"oi {' '.join(args)}" in shown
    assert "re-access link" in cli("invites", "claim", "--help").stdout
