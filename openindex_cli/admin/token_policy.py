"""`oi admin token-policy`: show the instance's token policy, preview what a change would block,
and change it. A change reads the policy in force and replaces only what the flags name (the API
takes the whole policy), after showing its impact and asking."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from openindex_cli.api import Api, api_path
from openindex_cli.commands import Context, HelpGroup, confirm_at_terminal, request_options
from openindex_cli.errors import EXIT_USAGE, CliError
from openindex_cli.output import emit_json, table
from openindex_cli.wording import when

POLICY_KEYS = ("maxLifetimeDays", "requireExpiry", "adminMaxLifetimeDays", "runTokenMaxSeconds",
               "refuseReadWritePreset")
IMPACT_KEYS = ("tokensBlocked", "usersAffected", "sample")
SAMPLE_SHOWN = 5  # rows of the impact's sample in the table; --json has all the server sent
NONE = "none"
UNSET = ""  # a flag not given: the policy in force keeps that field
_LABELS = {
    "maxLifetimeDays": "max lifetime (days):",
    "requireExpiry": "require expiry:",
    "adminMaxLifetimeDays": "admin max lifetime (days):",
    "runTokenMaxSeconds": "run token max (seconds):",
    "refuseReadWritePreset": "refuse read_write preset:",
}


def _days(_: click.Context, param: click.Parameter, value: str | None) -> int | None | str:
    """N or none (no limit), or UNSET when the flag is not given. The range is the server's rule
    (its 400 message)."""
    if value is None:
        return UNSET
    if value.strip().lower() == NONE:
        return None
    try:
        return int(value)
    except ValueError:
        raise CliError(f"--{str(param.name).replace('_', '-')}: {value!r} is not a number of days or none",
                       EXIT_USAGE) from None


def policy_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The flags of a proposed policy, shared by `set` and `impact`."""

    @click.option("--max-lifetime-days", callback=_days, metavar="N|none",
                  help="the longest lifetime of any personal access token, in days; none: no limit")
    @click.option("--require-expiry/--no-require-expiry", default=None,
                  help="whether every personal access token must expire")
    @click.option("--admin-max-lifetime-days", callback=_days, metavar="N|none",
                  help="the longest lifetime of an admin-scope token, in days; none: no limit")
    @click.option("--refuse-read-write-preset/--allow-read-write-preset", default=None,
                  help="whether new tokens may take the broad read_write preset (refused: they take read, admin, "
                       "or --permission family by family; tokens made before keep working)")
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


@click.group("token-policy", cls=HelpGroup, short_help="The token policy: lifetimes and presets.")
def token_policy() -> None:
    """The instance's token policy: limits on token lifetimes and presets."""


@token_policy.command("show", short_help="Show the token policy in force.")
@request_options
def policy_show(context: Context, profile: str | None, as_json: bool) -> None:
    """Show the token policy in force (the defaults until an admin sets one).

    \b
    Examples:
      oi admin token-policy show
      oi admin token-policy show --json
    """
    policy = _current(context.api(context.settings(profile)))
    if as_json:
        emit_json(policy)
        return
    width = max(len(_LABELS[key]) for key in POLICY_KEYS)
    for key in POLICY_KEYS:  # a list of settings: no header row
        click.echo(f"{_LABELS[key]:<{width}}  {_shown(policy[key])}")


@token_policy.command("impact", short_help="What a change would block, without making it.")
@request_options
@policy_options
def policy_impact(context: Context, profile: str | None, as_json: bool, max_lifetime_days: int | None | str,
                  require_expiry: bool | None, admin_max_lifetime_days: int | None | str,
                  refuse_read_write_preset: bool | None) -> None:
    """What the policy in force, changed by the flags given, would block among the live personal
    access tokens of active users: how many, whose, and why. Nothing is changed.

    \b
    Examples:
      oi admin token-policy impact --max-lifetime-days 90
      oi admin token-policy impact --require-expiry --json
      oi admin token-policy impact --refuse-read-write-preset
    """
    api = context.api(context.settings(profile))
    proposed = {**_current(api), **_given(max_lifetime_days, require_expiry, admin_max_lifetime_days,
                                          refuse_read_write_preset=refuse_read_write_preset)}
    found = _impact(api, proposed)
    if as_json:
        emit_json(found)
        return
    _show_impact(found)


@token_policy.command("set", short_help="Change the token policy, after its impact and a yes.")
@request_options
@policy_options
@click.option("--run-token-max-seconds", type=int, metavar="N", help="the longest lifetime of an agent run token")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def policy_set(context: Context, profile: str | None, as_json: bool, max_lifetime_days: int | None | str,
               require_expiry: bool | None, admin_max_lifetime_days: int | None | str,
               refuse_read_write_preset: bool | None, run_token_max_seconds: int | None, yes: bool) -> None:
    """Change the flags given, keep the rest of the policy in force. First shows what changes and
    what the new policy would block (tokens made before it are refused at use, not revoked:
    relaxing it again lets them work), then asks; --yes skips the question. A policy that would
    block the token making the change is refused (the server's 409).

    \b
    Examples:
      oi admin token-policy set --max-lifetime-days 90 --require-expiry
      oi admin token-policy set --admin-max-lifetime-days none --yes
      oi admin token-policy set --refuse-read-write-preset
    """
    given = _given(max_lifetime_days, require_expiry, admin_max_lifetime_days,
                   UNSET if run_token_max_seconds is None else run_token_max_seconds,
                   refuse_read_write_preset=refuse_read_write_preset)
    if not given:
        raise click.UsageError("give at least one of --max-lifetime-days, --require-expiry/--no-require-expiry, "
                               "--admin-max-lifetime-days, --run-token-max-seconds, "
                               "--refuse-read-write-preset/--allow-read-write-preset")
    api = context.api(context.settings(profile))
    current = _current(api)
    proposed = {**current, **given}
    if proposed == current:
        if as_json:
            emit_json({"previous": current, "policy": current, "impact": None, "changed": False})
        else:
            click.echo("The token policy already says that; nothing changed.")
        return
    found = _impact(api, proposed)
    if not as_json:
        click.echo(table(("", ""), [(_LABELS[key], f"{_shown(current[key])} -> {_shown(proposed[key])}")
                                    for key in POLICY_KEYS if current[key] != proposed[key]]))
        _show_impact(found)
    confirm_at_terminal("Save this token policy?", verb="change the policy", done="changed", yes=yes)
    saved = api.call("PUT", api_path("admin", "settings", "token-policy"), body=proposed, expect=POLICY_KEYS)
    if as_json:
        emit_json({"previous": current, "policy": saved, "impact": found, "changed": True})
    else:
        click.echo("Saved the token policy.")


def _given(max_lifetime_days: int | None | str, require_expiry: bool | None, admin_max_lifetime_days: int | None | str,
           run_token_max_seconds: int | str = UNSET, *, refuse_read_write_preset: bool | None) -> dict[str, Any]:
    """The policy fields the flags set, by their API names; the others are left out."""
    fields = {"maxLifetimeDays": max_lifetime_days,
              "requireExpiry": UNSET if require_expiry is None else require_expiry,
              "adminMaxLifetimeDays": admin_max_lifetime_days, "runTokenMaxSeconds": run_token_max_seconds,
              "refuseReadWritePreset": UNSET if refuse_read_write_preset is None else refuse_read_write_preset}
    return {key: value for key, value in fields.items() if value != UNSET}


def _current(api: Api) -> dict[str, Any]:
    """The policy in force, only its fields (the whole of what PUT takes back)."""
    policy = api.call("GET", api_path("admin", "settings", "token-policy"), expect=POLICY_KEYS)
    return {key: policy[key] for key in POLICY_KEYS}


def _impact(api: Api, policy: dict[str, Any]) -> dict[str, Any]:
    """What ``policy`` would block, asked of the server; a field left out of the query means no limit."""
    params = {key: "true" if policy[key] else "false" for key in ("requireExpiry", "refuseReadWritePreset")}
    for key in ("maxLifetimeDays", "adminMaxLifetimeDays"):
        if policy[key] is not None:
            params[key] = str(policy[key])
    return dict(api.call("GET", api_path("admin", "settings", "token-policy", "impact"), params=params,
                         expect=IMPACT_KEYS))


def _show_impact(found: dict[str, Any]) -> None:
    """The counts, then a few of the tokens blocked: whose, which, and why."""
    click.echo(f"It would block {found['tokensBlocked']} token(s) of {found['usersAffected']} user(s).")
    if found.get("readWritePresetTokens"):
        click.echo(f"{found['readWritePresetTokens']} live read_write token(s) that people made themselves (not "
                   "invites' first tokens) could not be made again; they keep working.")
    sample = found["sample"][:SAMPLE_SHOWN]
    if sample:
        click.echo(table(("EMAIL", "TOKEN", "NAME", "SCOPE", "EXPIRES", "WHY"), [
            (s["email"], s["tokenId"], s["name"], s["scope"], when(s["expiresAt"]), s["reason"]) for s in sample]))
    if found["tokensBlocked"] > len(sample):
        click.echo(f"... and {found['tokensBlocked'] - len(sample)} more (--json: the first "
                   f"{len(found['sample'])}).")


def _shown(value: Any) -> str:
    """A policy value for people: no limit for null, yes or no for a flag."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
