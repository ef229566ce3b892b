"""Tokens in the table, kept in their user's partition, and the authorizer's one read."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.access import ids
from chalicelib.access.kinds import BEARER_KINDS, Scope, TokenKind
from chalicelib.accounts.records import Role, User, UserStatus
from chalicelib.credentials.records import TokenRecord
from chalicelib.storage.errors import CreatorRevoked
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

_UNEXPIRED = "attribute_not_exists(#ttl) OR #ttl > :now"


class TokenStore:
    """Reads and writes PATs and agent run tokens."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def load_credential(self, user_id: str, token_ids: Sequence[str]) -> tuple[User | None, dict[str, TokenRecord]]:
        """A user and some of their tokens in one strongly consistent round trip."""
        keys = [user_key(user_id)] + [token_key(user_id, token_id) for token_id in token_ids]
        user = None
        tokens = {}
        for item in self._table.get_batch(keys):
            if item["sk"]["S"] == PROFILE:
                user = user_from_item(item)
            else:
                token = token_from_item(item)
                tokens[token.id] = token
        return user, tokens

    def get_many(self, user_id: str, token_ids: Sequence[str]) -> dict[str, TokenRecord]:
        """Some of a user's tokens, by id, in one strongly consistent round trip (at most 100)."""
        if not token_ids:
            return {}
        items = self._table.get_batch([token_key(user_id, token_id) for token_id in token_ids])
        return {token.id: token for token in map(token_from_item, items)}

    def put(self, token: TokenRecord) -> None:
        """Store a new token record (operator tools and invite claims: no creating token)."""
        self._table.put_new(token_item(token))

    def put_created_by(self, token: TokenRecord, *, creator_id: str, creator_scope: Scope) -> None:
        """Store a token made by another of the same user's tokens, if that creator is still live.

        The authorizer allowed the creator a moment ago, but a revoke-all, deactivation,
        demotion or delete can land between it and this write; the same transaction checks
        the user's state and cut-offs against the creator, and that the creator still exists,
        so no revoked token leaves a live one behind. CreatorRevoked otherwise.
        """
        conditions = ["#status = :active", "(attribute_not_exists(tokensRevokedAt) OR tokensRevokedAt < :creator)"]
        if creator_scope is Scope.ADMIN:
            conditions += ["#role = :admin",
                           "(attribute_not_exists(adminTokensRevokedAt) OR adminTokensRevokedAt < :creator)"]
        self._table.transact([
            Write({"ConditionCheck": {
                "TableName": self._table.name, "Key": user_key(token.user_id),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": {"#status": "status", **({"#role": "role"} if creator_scope is Scope.ADMIN
                                                                      else {})},
                "ExpressionAttributeValues": marshal({
                    ":active": UserStatus.ACTIVE.value, ":creator": ids.issued_at_ms(creator_id),
                    **({":admin": Role.ADMIN.value} if creator_scope is Scope.ADMIN else {}),
                }),
            }}, CreatorRevoked),
            Write({"ConditionCheck": {
                "TableName": self._table.name, "Key": token_key(token.user_id, creator_id),
                "ConditionExpression": "attribute_exists(pk)",
            }}, CreatorRevoked),
            Write({"Put": {"TableName": self._table.name, "Item": token_item(token),
                           "ConditionExpression": "attribute_not_exists(pk)"}}),
        ])

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
                                     ":now": to_epoch(now)}
        names = {"#ttl": "ttl"}
        if owner.admin_tokens_revoked_at_ms is not None:
            live = f"({live}) AND NOT (#scope = :admin AND sk < :admin_boundary)"
            names["#scope"] = "scope"
            values.update({":admin": Scope.ADMIN.value, ":admin_boundary":
                           f"{TOKEN}{ids.first_id_after(id_prefix, owner.admin_tokens_revoked_at_ms)}"})
        params: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": live,
            "ExpressionAttributeNames": names,
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
        for start in range(0, len(unique), 25):
            self._table.delete_batch(unique[start:start + 25])
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

    def delete(self, user_id: str, token_id: str, now: datetime) -> bool:
        """Delete an unexpired token of this user; False when there is none."""
        return conditional(lambda: self._table.client.delete_item(
            TableName=self._table.name,
            Key=token_key(user_id, token_id),
            ConditionExpression=f"attribute_exists(pk) AND ({_UNEXPIRED})",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues=marshal({":now": to_epoch(now)}),
        ))

    def touch(self, user_id: str, token_id: str, now: datetime, stale_before: datetime) -> None:
        """Record a use of the token unless one was recorded since ``stale_before``.

        Best effort: a failure here must not refuse a request that was already authorized.
        """
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=token_key(user_id, token_id),
                UpdateExpression="SET lastUsedAt = :now",
                # attribute_exists keeps a concurrently deleted token from being recreated.
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(lastUsedAt) OR lastUsedAt < :stale)",
                ExpressionAttributeValues=marshal({":now": to_iso(now), ":stale": to_iso(stale_before)}),
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
        agent_id=fields.get("agentId"),
        stage=fields.get("stage"),
        parent_id=fields.get("parentId"),
    )
