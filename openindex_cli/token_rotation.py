"""`oi settings personal tokens rotate`: a token replaced by a new one of the same name and
scope, the old one working on for a grace window; with self --save, straight into the profile."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import click

from openindex_cli import config, durations, expiry, shapes
from openindex_cli.api import api_path
from openindex_cli.commands import Context, expires_at_option, request_options
from openindex_cli.errors import EXIT_CONFIG, EXIT_REFUSED, EXIT_USAGE, CliError
from openindex_cli.output import emit_json, mask, printable
from openindex_cli.wording import local_time, parse_time, when_here

ROTATED_KEYS = ("id", "name", "scope", "token", "expiresAt", "createdAt")
SELF = "self"  # the token id that names the calling token
ALREADY_ROTATED = "already_rotated"  # the API's 409 code for a second rotation of one token
_ROTATE_INSTEAD = re.compile(r"; rotate pat_\w+ instead\.$")  # the 409's advice, right for an id, not for self


@click.command("rotate", short_help="Replace a token with a new one; the old one stops after --grace.")
@request_options
@click.argument("token_id", metavar="ID|self")
@click.option("--grace", default="0", metavar="DURATION",
              help=f"how long the old token keeps working: {durations.GRACE_FORMATS}, at most 1d "
                   "(default: 0, refused from the next request)")
@click.option("--expires-at", metavar="WHEN|never",
              help=f"when the new token stops working: {expiry.FORMATS}, or never "
                   "(default: a fresh lifetime as long as the old token's)")
@click.option("--save", is_flag=True,
              help="with self: store the new token in the profile in use, in place of the old one")
def tokens_rotate(context: Context, profile: str | None, as_json: bool, token_id: str, grace: str,
                  expires_at: str | None, save: bool) -> None:
    """Replace a token (ID as `tokens list` shows it, or self: the one this command uses) with a
    new one of the same name and scope. The new value is printed once; the old token keeps working
    for --grace, so whatever still holds it can be moved over.

    With self --save, the new token goes straight into the profile in use, so an agent can rotate
    its own token in one command.

    \b
    Examples:
      oi settings personal tokens rotate self --save
      oi settings personal tokens rotate pat_01jdx7k2m4c8b3n5q6r7s8t9v0 --grace 1h
      oi settings personal tokens rotate self --save --expires-at 30d --profile agent
    """
    _check_rotate_target(token_id, save)
    body: dict[str, Any] = {"graceSeconds": _grace(grace)}
    if expires_at is not None:
        never = expires_at.strip().lower() == "never"
        body["expiresAt"] = None if never else expires_at_option(expires_at, context)
    settings = context.settings(profile)
    if save:
        _check_can_save(settings)
    old_expiry: list[str] = []  # for self, the header names the rotated token: no warning, only its expiry
    api = context.api(settings, on_expiry=(lambda expires, _: old_expiry.append(expires)) if token_id == SELF else None)
    try:
        rotated = api.call("POST", api_path("me", "pats", token_id, "rotate"), body=body, expect=ROTATED_KEYS)
    except CliError as error:
        if token_id == SELF and error.code == ALREADY_ROTATED:
            raise _rotated_elsewhere(error, settings) from None
        raise
    old = _OldToken.of(rotated, token_id, body["graceSeconds"], old_expiry, context.now())
    if save:
        _save_successor(settings, rotated, old, as_json, context)
    if as_json:
        shown = {key: value for key, value in rotated.items() if not (save and key == "token")}
        emit_json({**shown, **old.as_json(), "savedToProfile": settings.profile if save else None})
        return
    echo = functools.partial(click.echo, err=not save)  # without --save, stdout holds the token alone
    echo(printable(f"Rotated token '{rotated['name']}' ({old.id}): the new one is {rotated['id']}, "
                   f"scope {rotated['scope']}, expires {when_here(rotated['expiresAt'], context.zone)}."))
    if save:
        echo(f"Saved it to profile '{settings.profile}' as {mask(rotated['token'])}.")
    else:
        click.echo(rotated["token"])
    echo(old.in_words(context.now(), context.zone))
    if not save:
        if token_id == SELF:
            echo(_still_holds_the_old_token(settings))
        echo("Copy it now: it cannot be shown again.")


def _rotated_elsewhere(error: CliError, settings: config.Settings) -> CliError:
    """`rotate self` of a token already rotated (in the web UI, or by another copy of the profile):
    rotating its successor from here would make yet another token nobody holds. What is wanted is
    the successor made then, stored where this token came from."""
    said = _ROTATE_INSTEAD.sub(".", error.message)
    return CliError(f"{said} {settings.successor_fix}", EXIT_REFUSED,
                    server_message=error.server_message, code=error.code)


def _check_rotate_target(token_id: str, save: bool) -> None:
    """A PAT id or self, and --save only with self: refused before anything is read or sent."""
    if token_id != SELF:
        if shapes.run_id_problem(token_id) is None:
            raise CliError("ID: that is an agent run token's id; run tokens are not rotated (they live a day at "
                           "most): mint a new one", EXIT_USAGE)
        problem = shapes.pat_id_problem(token_id)
        if problem is not None:
            raise CliError(f"ID: {problem}, or self for the token in use", EXIT_USAGE)
    if save and token_id != SELF:
        raise CliError("--save works only with `rotate self`: it replaces the token of the profile in use; "
                       "for another token, store the printed value where that token is used", EXIT_USAGE)


def _grace(text: str) -> int:
    """--grace as seconds; bad input is a usage error, in words."""
    try:
        return durations.grace_seconds(text)
    except durations.DurationError as error:
        raise CliError(f"--grace: {error}", EXIT_USAGE) from None


def _check_can_save(settings: config.Settings) -> None:
    """Refuse --save before rotating when the successor would have nowhere to go."""
    if settings.token_source == config.ENV_TOKEN:
        raise CliError(f"--save: the token in use comes from {config.ENV_TOKEN}, not from profile "
                       f"'{settings.profile}', so nothing was rotated; unset {config.ENV_TOKEN} to rotate the "
                       f"profile's token, or leave out --save and set {config.ENV_TOKEN} to the new token",
                       EXIT_USAGE)
    try:
        config.check_writable(settings.path)
    except CliError as error:
        raise CliError(f"--save: {error.message}, so nothing was rotated", EXIT_CONFIG) from None


@dataclass(frozen=True)
class _OldToken:
    """The rotated token: its id, and when it stops working (``exact`` False: at the latest)."""

    id: str
    grace_seconds: int
    stops: datetime
    exact: bool

    @classmethod
    def of(cls, rotated: dict[str, Any], token_id: str, grace_seconds: int, old_expiry: list[str],
           now: datetime) -> _OldToken:
        """The server's window starts at the successor's createdAt and never outlasts the old
        token's own expiry, which only self learns (the response's OpenIndex-Token-Expires names
        the calling token): for another id the end is an upper bound."""
        start = parse_time(str(rotated["createdAt"])) or now
        stops = start + timedelta(seconds=grace_seconds)
        own_expiry = parse_time(old_expiry[0]) if old_expiry else None
        if own_expiry is not None:
            stops = min(stops, own_expiry)
        return cls(str(rotated.get("rotatedFrom") or token_id), grace_seconds, stops,
                   exact=grace_seconds == 0 or token_id == SELF)

    def as_json(self) -> dict[str, str]:
        return {"oldStopsAt": expiry.as_api_time(self.stops)}

    def in_words(self, now: datetime, zone: tzinfo | None) -> str:
        if self.grace_seconds == 0 or self.stops <= now:
            return f"The old token {self.id} stops working now."
        return (f"The old token {self.id} keeps working until {local_time(self.stops, zone)} "
                f"({durations.in_words(self.stops - now)})"
                + ("." if self.exact else " at the latest (sooner if it expires before)."))


def _still_holds_the_old_token(settings: config.Settings) -> str:
    """What to do when self was rotated without --save: where the token came from holds a dead one."""
    label = settings.token_label
    if settings.token_source == config.ENV_TOKEN:
        return f"{label} still holds the old token: set it to the new one."
    return (f"{label[0].upper()}{label[1:]} still holds the old token: store the new one with "
            f"`oi profile set{settings.profile_option} --token -` (or rotate with --save next time).")


def _save_successor(settings: config.Settings, rotated: dict[str, Any], old: _OldToken, as_json: bool,
                    context: Context) -> None:
    """Store the successor in the profile in use; if that fails, the token the server made is
    printed rather than lost, with what to do, and the command fails (exit 3)."""
    try:
        where = config.save_profile(settings.path, settings.profile, {"token": rotated["token"]})
    except CliError as error:
        if as_json:
            emit_json({**rotated, **old.as_json(), "savedToProfile": None})
        else:
            click.echo(rotated["token"])
        raise CliError(f"rotated, but the new token could not be saved: {error.message}. It is printed on standard "
                       f"output, once: store it with `oi profile set{settings.profile_option} --token -` now. "
                       f"{old.in_words(context.now(), context.zone)}", EXIT_CONFIG) from None
    config.say_if_keychain_refused(settings.path, settings.token_store, where)
