"""What every `oi` command shares: the run's context, the common options, lists read page by
page, and asking at a terminal before anything that cannot be undone."""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import click
import httpx

from openindex_cli import config, expiry, signals
from openindex_cli.api import Api
from openindex_cli.errors import EXIT_REFUSED, EXIT_USAGE, CliError
from openindex_cli.wording import local_time

PROFILE_HELP = "profile to use (default: $OPENINDEX_PROFILE or 'default')"
INSECURE_HELP = "allow plain http:// to a host other than this machine (tokens travel in clear)"
PAGE_KEYS = ("items", "nextCursor")
PAGE_SIZE = 100  # the API's largest page
NAME_MAX = 100  # the server's longest name, agent id or stage (DisplayName in the API)


@dataclass
class Context:
    """What commands share: the environment and, in tests, the HTTP transport to the app."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    transport: httpx.BaseTransport | None = None
    insecure: bool = False  # --insecure: plain http to any host, for this run
    profile: str | None = None  # --profile before the command (`oi --profile work auth check`)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # what durations count from
    warned_of_expiry: bool = False  # one warning per run, however many requests said so
    zone: tzinfo | None = None  # the clock times in sentences are told on (None: this machine's)

    def settings(self, profile: str | None, must_exist: bool = True) -> config.Settings:
        """The settings in force, with a warning when the file holding them is not private."""
        settings = config.resolve(profile, self.environ, must_exist)
        if config.is_shared(settings.path):
            click.echo(f"oi: warning: {settings.path} holds tokens and is readable by others; "
                       f"run chmod 600 {settings.path}", err=True)
        return settings

    def api(self, settings: config.Settings, app_url: str | None = None,
            on_expiry: Callable[[str, str | None], None] | None = None) -> Api:
        """The API for these settings; a profile's `insecure = true` covers only its own app URL.

        Each OpenIndex-Token-Expires the API sends goes to ``on_expiry``, by default the warning.
        """
        own_url = app_url is None and settings.app_url_source == "profile"
        current = click.get_current_context(silent=True)
        return Api(app_url or settings.app_url, settings.token, self.transport,
                   token_label=settings.token_label, token_fix=settings.token_fix,
                   successor_fix=settings.successor_fix,
                   insecure=self.insecure or (settings.insecure and own_url),
                   command=current.command_path if current else "oi",
                   on_expiry=on_expiry or functools.partial(self._warn_of_expiry, settings), zone=self.zone)

    def _warn_of_expiry(self, settings: config.Settings, header: str, rotated_to: str | None) -> None:
        """One line on stderr, once, when the token in force expires within seven days (or, rotated
        elsewhere, stops at the end of its grace window: then its successor is what to store).

        Run tokens are left out: they live a day at most by design and cannot be rotated.
        """
        if self.warned_of_expiry or (settings.token or "").startswith("oi_run_"):
            return
        successor = settings.successor_fix[0].lower() + settings.successor_fix[1:].rstrip(".")
        warning = signals.expiry_warning(header, self.now(), settings.token_label, settings.rotate_advice,
                                         rotated_to, successor, self.zone)
        if warning is not None:
            click.echo(warning, err=True)
            self.warned_of_expiry = True


def command_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--profile and --json, for every command."""

    @click.option("--profile", "profile", default=None, metavar="NAME", help=PROFILE_HELP)
    @click.option("--json", "as_json", is_flag=True, help="print machine-readable JSON")
    @click.pass_obj
    @functools.wraps(function)
    def wrapper(context: Context, *args: Any, **kwargs: Any) -> Any:
        kwargs["profile"] = _one_profile(context.profile, kwargs["profile"])
        return function(context, *args, **kwargs)

    return wrapper



def _one_profile(before: str | None, after: str | None) -> str | None:
    """--profile before the command (as with gh) or after it; both at once only if they agree,
    since either one silently winning could send a command to the wrong account."""
    if before is not None and after is not None and before != after:
        raise click.UsageError(f"--profile is given twice, {before!r} before the command and {after!r} after it; "
                               "give it once")
    return after if after is not None else before


def request_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--profile, --json and --insecure, for commands that call the API."""

    @command_options
    @click.option("--insecure", is_flag=True, help=INSECURE_HELP)
    @functools.wraps(function)
    def wrapper(context: Context, *args: Any, insecure: bool, **kwargs: Any) -> Any:
        context.insecure = context.insecure or insecure
        return function(context, *args, **kwargs)

    return wrapper


class HelpGroup(click.Group):
    """A command group that, run without a command, shows its help and exits 0 (click exits 2)."""

    group_class = type  # its subgroups are HelpGroups too

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            click.echo(ctx.get_help())
            ctx.exit(0)
        return super().parse_args(ctx, args)



def every_page(api: Api, path: str) -> list[dict[str, Any]]:
    """Every item of a list, following nextCursor: a page may be short while more remain."""
    return listed(api, path, None)[0]


def listed(api: Api, path: str, limit: int | None) -> tuple[list[dict[str, Any]], bool]:
    """The first ``limit`` items of a list (all of them for None), following nextCursor, and
    whether more remain. One item more than shown is asked for, so "more" is never a guess."""
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while True:
        params["limit"] = str(PAGE_SIZE if limit is None else min(PAGE_SIZE, limit + 1 - len(items)))
        page = api.call("GET", path, params=params, expect=PAGE_KEYS)
        items += page["items"]
        if not page["nextCursor"] or (limit is not None and len(items) > limit):
            break
        params["cursor"] = page["nextCursor"]
    if limit is None:
        return items, False
    return items[:limit], len(items) > limit


def limit_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--limit N for a list of ``what`` ("tokens"), newest first; left out, the whole list."""
    return click.option("--limit", type=click.IntRange(min=1), metavar="N",
                        help=f"show at most N {what}, the newest (default: all)")


def say_if_more(more: bool, shown: int, what: str) -> None:
    """On standard error (so standard output stays the table): the list went on past --limit."""
    if more:
        click.echo(f"oi: more {what} than these {shown}; raise --limit or leave it out to see them all", err=True)


def expires_at_option(text: str, context: Context) -> str:
    """--expires-at as the API's RFC 3339 UTC string; bad input is a usage error, in words, and
    so is a time already past (the server would refuse it, less clearly). A date is 00:00 UTC at
    its start: when this machine's clock is not on UTC, a line on stderr says what that is here."""
    now = context.now()
    try:
        instant, is_date = expiry.moment(text, now)
    except expiry.ExpiryError as error:
        raise CliError(f"--expires-at: {error}", EXIT_USAGE) from None
    utc = local_time(instant, UTC)
    meant = f"{text.strip()} means {utc}, the start of that day" if is_date else ""
    if instant <= now:
        said = meant or f"{text.strip()} is {utc}"
        raise CliError(f"--expires-at: {said}, which has passed; give a later "
                       f"{'date' if is_date else 'time'}, or a duration such as 30d", EXIT_USAGE)
    here = local_time(instant, context.zone)
    if is_date and here[:16] != utc[:16]:
        click.echo(f"oi: {meant} ({here} on this machine's clock)", err=True)
    return expiry.as_api_time(instant)


def name_option(option: str, value: str, what: str = "a name") -> str:
    """A name (or agent id, or stage) checked before it is sent, so a missing or overlong one is
    refused in words (exit 2) rather than in the validator's terms the server answers with."""
    if not value.strip():
        raise CliError(f"{option}: {what} is required", EXIT_USAGE)
    if len(value) > NAME_MAX:
        raise CliError(f"{option}: {what} is at most {NAME_MAX} characters long; this one has {len(value)}",
                       EXIT_USAGE)
    return value


def stdin_is_terminal() -> bool:
    """True at an interactive terminal (then a prompt can hide what is typed)."""
    return sys.stdin.isatty()


def require_terminal(*, verb: str, done: str, yes: bool) -> None:
    """With no terminal to ask at and no --yes, refuse (exit 2) rather than act on whatever
    standard input holds; called before anything is read only to word the question."""
    if not yes and not stdin_is_terminal():
        raise CliError(f"not {done}: there is no terminal to ask at; add --yes to {verb} without asking",
                       EXIT_USAGE)


def confirm_at_terminal(question: str, *, verb: str, done: str, yes: bool, piped_answer: bool = False) -> None:
    """Go on after --yes, or a yes to ``question``; a no is exit 1. One helper, two documented rules
    (docs/cli.md): by default there must be a terminal to ask at, and with none and no --yes it
    refuses (exit 2) rather than act on whatever standard input holds, so an admin's script says
    --yes and means it; with ``piped_answer`` (deleting or revoking your own tokens) a y piped in
    counts, and only no answer at all (standard input closed) is refused that way."""
    if yes:
        return
    if not piped_answer:
        require_terminal(verb=verb, done=done, yes=yes)
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:
        click.echo("", err=True)  # end the question's line
        if not stdin_is_terminal():
            raise CliError(f"not {done}: there is no terminal to ask at (standard input is not one, or closed); "
                           f"add --yes to {verb} without asking", EXIT_USAGE) from None
        confirmed = False
    if not confirmed:
        raise CliError(f"not {done}", EXIT_REFUSED)
