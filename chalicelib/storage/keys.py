"""The table's layout: every item's key, spelled once.

``pk``/``sk`` strings, ``ttl`` epoch seconds for TTL, a sparse global index ``gsi1`` on
``gsi1pk``/``gsi1sk`` for the admin lists, and a sparse, keys-only one, ``expiry``, on
``expiresOn``/``sk`` for the expiry notices:

    USER#<user id>      PROFILE            a user                    gsi1: USER / <user id>
    USER#<user id>      TOKEN#<token id>   a PAT or agent run token of that user (digest only)
                                           expiry: <day> / TOKEN#<id> for a PAT that expires that
                                           UTC day (not rotated or deleted): expiry notices
    USER#<user id>      COMPROMISED#<id>   that token was revoked as leaked: what it made dies too
    USER#<user id>      EVENT#<event id>   an entry of that user's security log (90 days)
    EMAIL#<email>       EMAIL              reserves an email for exactly one user
    INVITE#<invite id>  INVITE             an invite                 gsi1: INVITE / <id> while pending
    META                ADMINS             how many active admins there are (never below one)
    META                TOKEN_POLICY       the instance's token policy
    SWEEP#<user id>     SWEEP              revoked tokens of that user await deletion   gsi1: SWEEP / <user id>

Keeping tokens in their user's partition lets one strongly consistent Query list them newest
first (ids are ULIDs), and lets the authorizer fetch a token, the PAT that minted it, their user
and the policy in one BatchGetItem.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.storage.table import INDEX, Item, marshal

PROFILE = "PROFILE"
TOKEN = "TOKEN#"
EVENT = "EVENT#"
COMPROMISED = "COMPROMISED#"
USER_INDEX_KEY = "USER"
INVITE_INDEX_KEY = "INVITE"
SWEEP_INDEX_KEY = "SWEEP"
EXPIRY_INDEX = "expiry"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_key(user_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": PROFILE})


def email_key(email: str) -> Item:
    return marshal({"pk": f"EMAIL#{email}", "sk": "EMAIL"})


def token_key(user_id: str, token_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": f"{TOKEN}{token_id}"})


def event_key(user_id: str, event_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": f"{EVENT}{event_id}"})


def invite_key(invite_id: str) -> Item:
    return marshal({"pk": f"INVITE#{invite_id}", "sk": "INVITE"})


def compromised_key(user_id: str, token_id: str) -> Item:
    """Marks a token revoked for cause (a leak report), so that what it made dies with it."""
    return marshal({"pk": user_pk(user_id), "sk": f"{COMPROMISED}{token_id}"})


def sweep_key(user_id: str) -> Item:
    return marshal({"pk": f"SWEEP#{user_id}", "sk": "SWEEP"})


def expiring_on(day: date) -> dict[str, Any]:
    """A Query of the expiry index: the keys of the PATs that expire on ``day`` (UTC)."""
    return {"IndexName": EXPIRY_INDEX, "KeyConditionExpression": "expiresOn = :day",
            "ExpressionAttributeValues": marshal({":day": day.isoformat()})}


def index_page(partition: str, *, only: str | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Query of one partition of the sparse index, newest first (``only``: a filter on it)."""
    params: dict[str, Any] = {
        "IndexName": INDEX, "KeyConditionExpression": "gsi1pk = :partition", "ScanIndexForward": False,
        "ExpressionAttributeValues": marshal({":partition": partition, **(values or {})}),
    }
    if only:
        params["FilterExpression"] = only
    return params


def index_key(partition: str, sort: str, key: Item) -> Item:
    """Where a page of the sparse index resumes: an item's table key and its index key."""
    return {**key, **marshal({"gsi1pk": partition, "gsi1sk": sort})}


ADMIN_COUNT_KEY = marshal({"pk": "META", "sk": "ADMINS"})
POLICY_KEY = marshal({"pk": "META", "sk": "TOKEN_POLICY"})
