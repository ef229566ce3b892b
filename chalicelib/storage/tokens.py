"""Tokens in the table, kept in their user's partition, and the authorizer's one read."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.access import ids
from chalicelib.access.kinds import BEARER_KINDS, Scope, TokenKind
from chalicelib.accounts.records import Role, User, UserStatus
from chalicelib.credentials.policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.credentials.records import TokenRecord
from chalicelib.errors import ServiceUnavailable
from chalicelib.storage.errors import CreatorRevoked, RotationLost
from chalicelib.storage.policy import POLICY_KEY, is_policy_item, policy_from_item
from chalicelib.storage.table import (
    PROFILE,
    TOKEN,
    Item,
    Table,
    Write,
    conditional,
    dynamodb_errors,
    error_code,
    marshal,
    token_key,
    unmarshal,
    user_key,
    user_pk,
)
from chalicelib.storage.users import user_from_item
from chalicelib.timeutil import from_iso, to_epoch, to_iso

log = logging.getLogger(__name__)

_BEARER_ID_PREFIXES = tuple(TokenKind(kind).spec.id_prefix for kind in sorted(BEARER_KINDS))

# Live means not yet expired by ``expiresAt`` (ISO text, so it compares as time does); ``ttl``
# may lie later, as for a rotated token kept for REUSE_WATCH after its window.
_UNEXPIRED = "attribute_not_exists(expiresAt) OR expiresAt > :now"
REUSE_WATCH = timedelta(days=30)


@dataclass(frozen=True)
class Creator:
    """The token making another, as the authorizer read it a moment ago."""

    token_id: str
    scope: Scope
    expires_at: datetime | None


class TokenStore:
    """Reads and writes PATs and agent run tokens."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def load_credential(
        self, user_id: str, token_ids: Sequence[str]
    ) -> tuple[User | None, dict[str, TokenRecord], TokenPolicy]:
        """A user, some of their tokens and the token policy in one strongly consistent round trip."""
        keys = [user_key(user_id), POLICY_KEY] + [token_key(user_id, token_id) for token_id in token_ids]
        user = None
        policy = DEFAULT_POLICY
        tokens = {}
        for item in self._table.get_batch(keys):
            if is_policy_item(item):
                policy = policy_from_item(item)
            elif item["sk"]["S"] == PROFILE:
                user = user_from_item(item)
            else:
                token = token_from_item(item)
                tokens[token.id] = token
        return user, tokens, policy

    def find(self, wanted: Sequence[tuple[str, str]]) -> tuple[dict[str, User], dict[str, TokenRecord]]:
        """Tokens of any users by (user id, token id), and those users: 100 keys per round trip."""
        unique = dict.fromkeys(wanted)  # DynamoDB refuses a batch that names a key twice
        keys = [user_key(user_id) for user_id in dict.fromkeys(user_id for user_id, _ in unique)]
        keys += [token_key(user_id, token_id) for user_id, token_id in unique]
        users: dict[str, User] = {}
        tokens: dict[str, TokenRecord] = {}
        for item in self._table.get_batch(keys):
            if item["sk"]["S"] == PROFILE:
                user = user_from_item(item)
                users[user.id] = user
            else:
                token = token_from_item(item)
                tokens[token.id] = token
        return users, tokens

    def delete_many(self, tokens: Sequence[TokenRecord]) -> None:
        """Delete tokens at once, 25 per round trip (a token already gone is no error)."""
        self._table.delete_batch([token_key(token.user_id, token.id) for token in tokens])

    def get_many(self, user_id: str, token_ids: Sequence[str]) -> dict[str, TokenRecord]:
        """Some of a user's tokens, by id, in one strongly consistent round trip (at most 100)."""
        if not token_ids:
            return {}
        items = self._table.get_batch([token_key(user_id, token_id) for token_id in token_ids])
        return {token.id: token for token in map(token_from_item, items)}

    def put(self, token: TokenRecord) -> None:
        """Store a new token record (operator tools and invite claims: no creating token)."""
        self._table.put_new(token_item(token))

    def put_created_by(self, token: TokenRecord, *, creator: Creator, now: datetime) -> None:
        """Store a token made by another of the same user's tokens, if that creator is still live.

        The authorizer allowed the creator a moment ago, but a revoke-all, deactivation,
        demotion or delete can land between it and this write; the same transaction checks
        the user's state and cut-offs against the creator, and that the creator is still as the
        authorizer saw it (not deleted, expired or rotated away meanwhile: the new token's
        lifetime was capped by that expiry), so no revoked token leaves a live one behind.
        CreatorRevoked otherwise.
        """
        self._table.transact([
            self._user_still_allows(token.user_id, [(creator.token_id, creator.scope)]),
            self._unchanged(token.user_id, creator, now),
            Write({"Put": {"TableName": self._table.name, "Item": token_item(token),
                           "ConditionExpression": "attribute_not_exists(pk)"}}),
        ])

    def rotate(self, old: TokenRecord, successor: TokenRecord, *, window_end: datetime, now: datetime,
               creator: Creator) -> None:
        """Store ``successor`` and cut ``old`` short to ``window_end``, both or neither.

        ``old`` must still be live and not yet rotated (RotationLost otherwise, so two
        concurrent rotations make one successor); the creating token and the user are checked
        as in :meth:`put_created_by`. The old item is kept for REUSE_WATCH after its window
        so that a late use is recognised as use after rotation.
        """
        rotating_itself = creator.token_id == old.id
        survivors = [(old.id, old.scope)] + ([] if rotating_itself else [(creator.token_id, creator.scope)])
        writes = [
            self._user_still_allows(old.user_id, survivors),
            Write({"Update": {
                "TableName": self._table.name, "Key": token_key(old.user_id, old.id),
                "UpdateExpression": "SET expiresAt = :end, #ttl = :ttl, rotatedTo = :successor",
                "ConditionExpression": f"attribute_exists(pk) AND attribute_not_exists(rotatedTo) AND ({_UNEXPIRED})",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": marshal({
                    ":end": to_iso(window_end), ":ttl": to_epoch(window_end + REUSE_WATCH),
                    ":successor": successor.id, ":now": to_iso(now),
                }),
            }}, RotationLost),
            Write({"Put": {"TableName": self._table.name, "Item": token_item(successor),
                           "ConditionExpression": "attribute_not_exists(pk)"}}),
        ]
        if not rotating_itself:
            writes.append(self._unchanged(old.user_id, creator, now))
        self._table.transact(writes)

    def end_window(self, user_id: str, token_id: str, successor_id: str, at: datetime) -> None:
        """Cut the grace window of ``token_id``, rotated to ``successor_id``, short to ``at``, so
        that a token never works longer than its successor. Best effort and only ever shorter:
        a window that already ended, or a token already gone, is left as it is."""
        try:
            conditional(lambda: self._table.client.update_item(
                TableName=self._table.name,
                Key=token_key(user_id, token_id),
                UpdateExpression="SET expiresAt = :end, #ttl = :ttl",
                ConditionExpression="attribute_exists(pk) AND rotatedTo = :successor AND expiresAt > :end",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=marshal({":end": to_iso(at), ":ttl": to_epoch(at + REUSE_WATCH),
                                                   ":successor": successor_id}),
            ))
        except ServiceUnavailable:  # the change it follows is done: a failure here must not undo its answer
            log.warning("could not end the grace window of token %s", token_id)

    def _user_still_allows(self, user_id: str, tokens: Sequence[tuple[str, Scope]]) -> Write:
        """A check that the user is active and no cut-off (revoke-all, demotion) refuses ``tokens``."""
        conditions = ["#status = :active"]
        names = {"#status": "status"}
        values: dict[str, object] = {":active": UserStatus.ACTIVE.value}
        for number, (token_id, scope) in enumerate(tokens):
            issued = f":issued{number}"
            values[issued] = ids.issued_at_ms(token_id)
            conditions.append(f"(attribute_not_exists(tokensRevokedAt) OR tokensRevokedAt < {issued})")
            if scope is Scope.ADMIN:
                names["#role"] = "role"
                values[":admin"] = Role.ADMIN.value
                conditions += ["#role = :admin",
                               f"(attribute_not_exists(adminTokensRevokedAt) OR adminTokensRevokedAt < {issued})"]
        return Write({"ConditionCheck": {
            "TableName": self._table.name, "Key": user_key(user_id),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": marshal(values),
        }}, CreatorRevoked)

    def _unchanged(self, user_id: str, creator: Creator, now: datetime) -> Write:
        """A check that the creating token still exists, unexpired, with the expiry it had."""
        unchanged = ("attribute_not_exists(expiresAt)" if creator.expires_at is None
                     else "expiresAt = :seen AND expiresAt > :now")
        condition = f"attribute_exists(pk) AND {unchanged}"
        check: dict[str, Any] = {"TableName": self._table.name, "Key": token_key(user_id, creator.token_id),
                                 "ConditionExpression": condition}
        if creator.expires_at is not None:
            check["ExpressionAttributeValues"] = marshal({":seen": to_iso(creator.expires_at), ":now": to_iso(now)})
        return Write({"ConditionCheck": check}, CreatorRevoked)

    def page(
        self, owner: User, id_prefix: str, limit: int, start_after: str | None, now: datetime
    ) -> tuple[list[TokenRecord], str | None]:
        """One page of a user's live tokens of one kind, newest first, and the next cursor.

        One Query per page. Tokens the owner's revoke-all cut-off refuses are outside the key
        range, so they are never read; expired ones and admin tokens a demotion revoked are
        filtered out, so a page may hold fewer than ``limit`` items while a next cursor is
        still returned.
        """
        first = (f"{TOKEN}{ids.first_id_after(id_prefix, owner.tokens_revoked_at_ms)}"
                 if owner.tokens_revoked_at_ms is not None else f"{TOKEN}{id_prefix}_")
        live = _UNEXPIRED
        values: dict[str, object] = {":pk": user_pk(owner.id), ":first": first, ":last": f"{TOKEN}{id_prefix}_~",
                                     ":now": to_iso(now)}
        names: dict[str, str] = {}
        if owner.admin_tokens_revoked_at_ms is not None:
            live = f"({live}) AND NOT (#scope = :admin AND sk < :admin_boundary)"
            names["#scope"] = "scope"
            values.update({":admin": Scope.ADMIN.value, ":admin_boundary":
                           f"{TOKEN}{ids.first_id_after(id_prefix, owner.admin_tokens_revoked_at_ms)}"})
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": live,
            **({"ExpressionAttributeNames": names} if names else {}),
            "ExpressionAttributeValues": marshal(values),
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit,
        }
        if start_after is not None:
            if f"{TOKEN}{start_after}" < first:
                return [], None  # a cursor from before a revoke-all: the rest of the list is revoked
            params["ExclusiveStartKey"] = token_key(owner.id, start_after)
        with dynamodb_errors():
            response = self._table.client.query(**params)
        tokens = [token_from_item(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        next_cursor = last_key["sk"]["S"].removeprefix(TOKEN) if last_key else None
        return tokens, next_cursor

    def delete_revoked(self, user: User) -> int:
        """Delete every token item the user's cut-offs refuse; how many. For the sweeper, off
        the request path: it reads only the revoked range of keys."""
        doomed: list[Item] = []
        for prefix in _BEARER_ID_PREFIXES:
            if user.tokens_revoked_at_ms is not None:
                doomed += self._keys_issued_up_to(user.id, prefix, user.tokens_revoked_at_ms)
            if user.admin_tokens_revoked_at_ms is not None:
                doomed += self._keys_issued_up_to(user.id, prefix, user.admin_tokens_revoked_at_ms, admin_only=True)
        unique = list({(key["pk"]["S"], key["sk"]["S"]): key for key in doomed}.values())
        self._table.delete_batch(unique)
        return len(unique)

    def _keys_issued_up_to(self, user_id: str, prefix: str, moment_ms: int, admin_only: bool = False) -> list[Item]:
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :boundary",
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeValues": marshal({
                ":pk": user_pk(user_id), ":first": f"{TOKEN}{prefix}_",
                ":boundary": f"{TOKEN}{ids.first_id_after(prefix, moment_ms)}",
            }),
        }
        if admin_only:
            params["FilterExpression"] = "#scope = :admin"
            params["ExpressionAttributeNames"] = {"#scope": "scope"}
            params["ExpressionAttributeValues"].update(marshal({":admin": Scope.ADMIN.value}))
        keys: list[Item] = []
        with dynamodb_errors():
            for page in self._table.client.get_paginator("query").paginate(**params):
                keys += page.get("Items", [])
        return keys

    def delete(self, user_id: str, token_id: str, now: datetime) -> TokenRecord | None:
        """Delete an unexpired token of this user; the token deleted, or None when there is none."""
        try:
            with dynamodb_errors():
                response = self._table.client.delete_item(
                    TableName=self._table.name,
                    Key=token_key(user_id, token_id),
                    ConditionExpression=f"attribute_exists(pk) AND ({_UNEXPIRED})",
                    ExpressionAttributeValues=marshal({":now": to_iso(now)}),
                    ReturnValues="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return token_from_item(response["Attributes"])

    def record_use(
        self, user_id: str, token_id: str, at: datetime, ip: str | None, user_agent: str | None,
        stale_before: datetime,
    ) -> None:
        """Record a use of the token unless one from the same address was recorded since
        ``stale_before`` (concurrent requests then write once).

        Best effort: a failure here must not refuse a request that was already authorized.
        """
        values = marshal({":now": to_iso(at), ":stale": to_iso(stale_before), ":ip": ip, ":agent": user_agent})
        changes = ["lastUsedAt = :now"]
        removals = []
        for attribute, placeholder in (("lastUsedIp", ":ip"), ("lastUsedUserAgent", ":agent")):
            if placeholder in values:
                changes.append(f"{attribute} = {placeholder}")
            else:
                removals.append(attribute)
        fresh = "lastUsedAt >= :stale" + (" AND lastUsedIp = :ip" if ":ip" in values else "")
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=token_key(user_id, token_id),
                UpdateExpression="SET " + ", ".join(changes) + (" REMOVE " + ", ".join(removals) if removals else ""),
                # attribute_exists keeps a concurrently deleted token from being recreated.
                ConditionExpression=f"attribute_exists(pk) AND NOT ({fresh})",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                log.warning("could not record last use of token %s: %s", token_id, error_code(error))
        except BotoCoreError as error:
            log.warning("could not record last use of token %s: %s", token_id, error)


def token_item(token: TokenRecord) -> Item:
    return {**token_key(token.user_id, token.id), **marshal({
        "id": token.id,
        "userId": token.user_id,
        "name": token.name,
        "scope": token.scope.value,
        "kind": token.kind.value,
        "digest": token.digest,
        "createdAt": to_iso(token.created_at),
        "expiresAt": to_iso(token.expires_at) if token.expires_at else None,
        "ttl": to_epoch(token.expires_at) if token.expires_at else None,
        "lastUsedAt": to_iso(token.last_used_at) if token.last_used_at else None,
        "lastUsedIp": token.last_used_ip,
        "lastUsedUserAgent": token.last_used_user_agent,
        "rotatedTo": token.rotated_to,
        "rotatedFrom": token.rotated_from,
        "notAfter": to_iso(token.not_after) if token.not_after else None,
        "agentId": token.agent_id,
        "stage": token.stage,
        "parentId": token.parent_id,
    })}


def token_from_item(item: Item) -> TokenRecord:
    fields = unmarshal(item)
    return TokenRecord(
        id=fields["id"],
        user_id=fields["userId"],
        name=fields["name"],
        scope=Scope(fields["scope"]),
        kind=TokenKind(fields["kind"]),
        digest=fields["digest"],
        created_at=from_iso(fields["createdAt"]),
        expires_at=from_iso(fields["expiresAt"]) if "expiresAt" in fields else None,
        last_used_at=from_iso(fields["lastUsedAt"]) if "lastUsedAt" in fields else None,
        last_used_ip=fields.get("lastUsedIp"),
        last_used_user_agent=fields.get("lastUsedUserAgent"),
        rotated_to=fields.get("rotatedTo"),
        rotated_from=fields.get("rotatedFrom"),
        not_after=from_iso(fields["notAfter"]) if "notAfter" in fields else None,
        told={name.removeprefix("told_"): from_iso(value) for name, value in fields.items()
              if name.startswith("told_")},
        agent_id=fields.get("agentId"),
        stage=fields.get("stage"),
        parent_id=fields.get("parentId"),
    )
