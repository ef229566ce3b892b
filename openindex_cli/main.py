"""The `oi` command: its global options (--version, --profile, --insecure) and the command
groups under it.

Each group is a module of its own (admin/ a package of them); this one only puts them under `oi`.
"""
from __future__ import annotations

from importlib import metadata

import click

from openindex_cli.admin import admin
from openindex_cli.auth import auth
from openindex_cli.commands import INSECURE_HELP, PROFILE_HELP, Context, HelpGroup
from openindex_cli.credentials import credentials
from openindex_cli.invites import invites
from openindex_cli.personal import settings
from openindex_cli.profile import profile
from openindex_cli.workflows import workflows

DISTRIBUTION = "openindex-auth"  # whose installed version --version shows


def _show_version(click_context: click.Context, _: click.Parameter, value: bool) -> None:
    """--version: the installed openindex-auth distribution's version."""
    if not value or click_context.resilient_parsing:
        return
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "(unknown: not installed as a package)"
    click.echo(f"oi {version}")
    click_context.exit(0)


@click.group(cls=HelpGroup, context_settings={"max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="show the version and exit")
@click.option("--profile", "profile", default=None, metavar="NAME", help=PROFILE_HELP)
@click.option("--insecure", is_flag=True, help=INSECURE_HELP)
@click.pass_context
def oi(click_context: click.Context, profile: str | None, insecure: bool) -> None:
    """OpenIndex command line: profiles, token checks, your tokens, run tokens and security log, invites,
    and administration.

    \b
    Examples:
      echo "$OPENINDEX_ADMIN_TOKEN" | oi profile set --app-url http://127.0.0.1:8000 --token -
      oi auth check
      oi --profile work settings personal tokens list
    """
    context = click_context.ensure_object(Context)
    context.insecure = insecure
    context.profile = profile


oi.add_command(profile)
oi.add_command(auth)
oi.add_command(settings)
oi.add_command(admin)
oi.add_command(workflows)
oi.add_command(invites)
oi.add_command(credentials)


def main() -> None:
    """Console entry point."""
    oi(obj=Context(), prog_name="oi")
