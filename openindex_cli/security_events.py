"""`oi settings personal security-events`: what happened to your tokens, in the server's words."""
from __future__ import annotations

from typing import Any

import click

from openindex_cli.api import api_path
from openindex_cli.commands import PAGE_KEYS, Context, every_page, request_options
from openindex_cli.output import emit_json, table
from openindex_cli.wording import for_people, when

DEFAULT_LIMIT = 50  # the server's own page size
# What the API's event types mean, for a person (the web UI's words); an unknown type is shown as
# the API names it, and --json keeps the API's names.
EVENT_WORDS = {
    "token_leak_revoked": "Revoked: found leaked",
    "token_used_after_rotation": "Used after rotation",
    "rotation_replayed": "Rotation replayed",
    "token_revoked_by_admin": "Revoked by an admin",
    "tokens_revoked_all": "All tokens revoked",
    "token_blocked_by_policy": "Blocked by the token policy",
    "access_link_created": "Re-access link created",
    "token_narrowed": "Token narrowed",
    "token_used_from_another_address": "Used from another address",
    "token_expiring": "Expires soon",
}


@click.command("security-events", short_help="What happened to your tokens, newest first.")
@request_options
@click.option("--limit", type=click.IntRange(1, 100), default=DEFAULT_LIMIT, show_default=True,
              help="how many events to show (one page)")
@click.option("--all", "every", is_flag=True, help="every event of the last 90 days, page after page")
def security_events(context: Context, profile: str | None, as_json: bool, limit: int, every: bool) -> None:
    """Your security log (the last 90 days, newest first): tokens revoked by an admin or as leaked,
    revoke-all, tokens used after a rotation or blocked by the token policy, re-access links made
    for you, tokens that expire within a week (told 7 days ahead and again the day before).

    \b
    Examples:
      oi settings personal security-events
      oi settings personal security-events --all --json
    """
    api = context.api(context.settings(profile))
    path = api_path("me", "security-events")
    if every:
        page: dict[str, Any] = {"items": every_page(api, path), "nextCursor": None}
    else:
        page = api.call("GET", path, params={"limit": str(limit)}, expect=PAGE_KEYS)
    if as_json:
        emit_json({"items": page["items"], "nextCursor": page["nextCursor"]})
        return
    rows = [(when(event["at"]), EVENT_WORDS.get(str(event["type"]), str(event["type"])), _token(event),
             for_people(str(event["detail"]), context.zone)) for event in page["items"]]
    click.echo(table(("WHEN", "EVENT", "TOKEN", "DETAIL"), rows))
    if page["nextCursor"]:
        click.echo(f"oi: more events than these {len(rows)}; --all shows every one", err=True)


def _token(event: dict[str, Any]) -> str:
    """The token an event is about, by name and id; '-' for an event about the account."""
    name, token_id = event.get("tokenName"), event.get("tokenId")
    if name and token_id:
        return f"{name} ({token_id})"
    return str(name or token_id or "-")
