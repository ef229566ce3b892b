"""`oi profile`: store and show connection profiles (app URL, token, agent id), tokens masked."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from openindex_cli import config, secret_store, shapes
from openindex_cli.commands import Context, HelpGroup, command_options
from openindex_cli.errors import EXIT_CONFIG, EXIT_USAGE, CliError
from openindex_cli.output import emit_json, mask, table

ARGV_TOKEN_WARNING = (
    "oi: warning: a token on the command line can end up in your shell history and process "
    "list; prefer `--token -` (reads standard input) or the OPENINDEX_TOKEN variable"
)


@click.group(cls=HelpGroup)
def profile() -> None:
    """Store and show connection profiles."""


@profile.command("set", short_help="Set fields of a profile, creating it if needed.")
@command_options
@click.option("--app-url", help="base URL of the OpenIndex API")
@click.option("--token", help="personal access token, or '-' to read it from standard input")
@click.option("--agent-id", help="workflow agent id to act as")
@click.option("--insecure/--no-insecure", "insecure", default=None,
              help="allow plain http:// to this profile's app URL, or no longer")
@click.option("--token-store", type=click.Choice([secret_store.KEYCHAIN, secret_store.FILE]),
              help="where the token is kept: the system keychain (the default where there is one) or the 0600 "
                   "config file; without --token, moves the profile's token there")
@click.option("--insecure-storage", is_flag=True, help="keep the token in the 0600 config file (--token-store file)")
def profile_set(context: Context, profile: str | None, as_json: bool, app_url: str | None,
                token: str | None, agent_id: str | None, insecure: bool | None, token_store: str | None,
                insecure_storage: bool) -> None:
    """Set fields of a profile, keeping the others; the profile is created if needed. A token is
    kept in the system keychain where there is one (macOS Keychain, Windows Credential Manager,
    Secret Service), the config file only naming it; else, or with --insecure-storage, in the
    config file (mode 0600).

    \b
    Examples:
      echo "$OPENINDEX_ADMIN_TOKEN" | oi profile set --app-url http://127.0.0.1:8000 --token -
      oi profile set --profile work --app-url https://openindex.example.com
      oi profile set --profile lab --insecure     # allow http:// to the lab's app URL
      oi profile set --token-store keychain       # move the profile's token into the keychain
    """
    if insecure_storage:
        if token_store == secret_store.KEYCHAIN:
            raise click.UsageError("--insecure-storage keeps the token in the file: give it or --token-store, not both")
        token_store = secret_store.FILE
    settings = context.settings(profile, must_exist=False)
    if token == "-":
        token = sys.stdin.readline().strip()
        if not token:
            raise CliError("no token on standard input", EXIT_CONFIG)
    elif token is not None:
        click.echo(ARGV_TOKEN_WARNING, err=True)
    if token is not None:
        _check_new_token(token)
    given: tuple[tuple[str, str | bool | None], ...] = (
        ("app_url", app_url), ("token", token), ("agent_id", agent_id), ("insecure", insecure))
    changes = {key: value for key, value in given if value is not None}
    moving = token_store is not None and token is None
    if moving:
        stored = config.stored_profile(settings.path, settings.profile)
        held = config.stored_token(settings.path, settings.profile, stored)
        if not held:
            raise CliError(f"profile '{settings.profile}' holds no token to move; store one with "
                           f"`oi profile set{settings.profile_option} --token -`", EXIT_CONFIG)
        changes["token"] = held
    if not changes:
        raise click.UsageError("give at least one of --app-url, --token, --agent-id, --insecure/--no-insecure, "
                               "--token-store")
    where = config.save_profile(settings.path, settings.profile, changes, store=token_store or
                                (secret_store.KEYCHAIN if token is not None else None))
    if moving and where != token_store:
        raise CliError(f"no system keychain here: the token of profile '{settings.profile}' stays in "
                       f"{settings.path} (mode 0600)", EXIT_CONFIG)
    updated = sorted(key for key in changes if not (moving and key == "token"))
    if as_json:
        emit_json({"profile": settings.profile, "configFile": str(settings.path), "updated": updated,
                   "tokenStore": where})
        return
    if updated:
        click.echo(f"Saved {', '.join(updated)} to profile '{settings.profile}' ({settings.path}).")
    if where is not None:
        click.echo(_where_in_words(where, settings.path, asked=token_store), err=True)


@profile.command("show", short_help="Show a profile, the token masked.")
@command_options
def profile_show(context: Context, profile: str | None, as_json: bool) -> None:
    """Show a profile: app URL, agent id, the token (masked) and where each comes from.

    \b
    Examples:
      oi profile show
      oi profile show --profile work --json
    """
    settings = context.settings(profile)
    shown = {
        "profile": settings.profile,
        "configFile": str(settings.path),
        "appUrl": settings.app_url,
        "appUrlSource": settings.app_url_source,
        "agentId": settings.agent_id,
        "token": mask(settings.token) if settings.token else None,
        "tokenSource": settings.token_source,
        "tokenStore": settings.token_store,
        "insecure": settings.insecure,
    }
    if as_json:
        emit_json(shown)
        return
    rows = [
        ("profile:", f"{settings.profile} ({settings.path})"),
        ("app URL:", _with_source(settings.app_url, settings.app_url_source)),
        ("agent id:", settings.agent_id or "(not set)"),
        ("token:", _with_source(mask(settings.token) if settings.token else None, settings.token_source)
         + _kept_in(settings.token_store, settings.path)),
    ]
    if settings.insecure:
        rows.append(("insecure:", "yes: plain http:// allowed to the profile's app URL"))
    click.echo(table(("", ""), rows))


@profile.command("list", short_help="List the profiles, tokens masked.")
@command_options
def profile_list(context: Context, profile: str | None, as_json: bool) -> None:
    """List the profiles in the config file: app URL and token (masked).

    \b
    Examples:
      oi profile list
      oi profile list --json
    """
    settings = context.settings(profile, must_exist=False)
    profiles = sorted(config.load(settings.path).items())
    if as_json:
        emit_json({"configFile": str(settings.path), "inUse": settings.profile, "profiles": [
            {"name": name, "appUrl": config.text(values, "app_url"), "token": _masked(settings.path, name, values),
             "tokenStore": config.token_store(values), "agentId": config.text(values, "agent_id"),
             "insecure": values.get("insecure") is True}
            for name, values in profiles]})
        return
    if not profiles:
        click.echo(f"oi: no profiles in {settings.path}; create one with `oi profile set`", err=True)
        return
    click.echo(table(("PROFILE", "APP URL", "TOKEN", "KEPT IN"), [
        (name + (" (in use)" if name == settings.profile else ""),
         config.text(values, "app_url") or "(not set)", _masked(settings.path, name, values) or "(not set)",
         config.token_store(values) or "-")
        for name, values in profiles]))


def _where_in_words(where: str, path: Path, asked: str | None) -> str:
    """Where the token was kept, and why there when the keychain was wanted."""
    if where == secret_store.KEYCHAIN:
        return f"oi: the token is kept in the system keychain; {path} only names it."
    if asked == secret_store.FILE:
        return f"oi: the token is kept in {path} (mode 0600), as asked."
    return (f"oi: no system keychain here, so the token is kept in {path} (mode 0600); on a desktop, "
            "`oi profile set --token-store keychain` moves it.")


def _kept_in(store: str | None, path: Path) -> str:
    """Where a profile's token is kept, as `profile show` says it."""
    if store == secret_store.KEYCHAIN:
        return ", kept in the system keychain"
    return f", kept in {path} (mode 0600)" if store == secret_store.FILE else ""


def _masked(path: Path, name: str, values: config.Profile) -> str | None:
    """A stored profile's token, masked; None when it has none."""
    token = config.stored_token(path, name, values)
    return mask(token) if token else None


def _check_new_token(token: str) -> None:
    """Only a token's shape is stored, so a placeholder fails here, not at the next command."""
    problem = shapes.token_problem(token)
    if problem is not None:
        raise CliError(shapes.not_a_token("the value of --token", problem), EXIT_USAGE)


def _with_source(value: str | None, source: str | None) -> str:
    return f"{value} (from {source})" if value else "(not set)"
