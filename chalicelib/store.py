"""DynamoDB storage: the only module that knows the table, its keys and boto3.

Layout of the single table (``pk``/``sk`` strings, ``ttl`` epoch seconds for TTL, and a sparse
global index ``gsi1`` on ``gsi1pk``/``gsi1sk`` for the admin lists):

    USER#<user id>      PROFILE            a user                    gsi1: USER / <user id>
    USER#<user id>      TOKEN#<token id>   a PAT or agent run token of that user (digest only)
    EMAIL#<email>       EMAIL              reserves an email for exactly one user
    INVITE#<invite id>  INVITE             an invite                 gsi1: INVITE / <id> while pending
    META                ADMINS             how many active admins there are (never below one)

Keeping tokens in their user's partition lets one strongly consistent Query list them newest
first (ids are ULIDs), and lets the authorizer fetch a token, the PAT that minted it and their
user in one BatchGetItem.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import StorageUnavailable
from chalicelib.models import (
    Invite,
    InviteStatus,
    Role,
    Scope,
    TokenKind,
    TokenRecord,
    User,
    UserStatus,
)
from chalicelib.timeutil import from_iso, to_epoch, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

log = logging.getLogger(__name__)

Item = dict[str, dict[str, Any]]

# Errors that mean "try again later", answered with 503 rather than 500.
_TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
})

# An authorizer waits on this client, so it fails fast instead of botocore's 60 s default.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
)


class Store:
    """Reads and writes users and tokens in one DynamoDB table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @classmethod
    def connect(cls, table_name: str) -> Store:
        """A store with a new client; endpoint, region and credentials come from boto3's env."""
        return cls(boto3.client("dynamodb", config=_CLIENT_CONFIG), table_name)

    @classmethod
    def from_environment(cls) -> Store:
        """A store for the table named by ``TABLE_NAME``, as the Lambdas are configured."""
        return cls.connect(os.environ["TABLE_NAME"])

    # Users

    def create_user(self, user: User) -> None:
        """Store a new user, reserving its email; ConditionFailed("email") when it is taken."""
        self._transact(self._new_user_writes(user))

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        with _dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key=_user_key(user_id), ConsistentRead=True
            )
        item = response.get("Item")
        return _user_from_item(item) if item else None

    def email_taken(self, email: str) -> bool:
        """True when a user already holds this (normalized) email."""
        with _dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key=_email_key(email), ConsistentRead=True
            )
        return "Item" in response

    def change_user(self, before: User, after: User) -> None:
        """Write ``after``'s role and status if the user is still ``before``.

        ConditionFailed("user") when someone changed the user meanwhile, and
        ConditionFailed("admins") when the change would leave no active admin: the admin
        count and the user are written in one transaction, so two admins demoting each other
        at once cannot both succeed.
        """
        writes = [("user", {"Update": {
            "TableName": self._table,
            "Key": _user_key(before.id),
            "UpdateExpression": "SET #role = :role, #status = :status",
            "ConditionExpression": "#role = :was_role AND #status = :was_status",
            "ExpressionAttributeNames": {"#role": "role", "#status": "status"},
            "ExpressionAttributeValues": {
                ":role": {"S": after.role.value},
                ":status": {"S": after.status.value},
                ":was_role": {"S": before.role.value},
                ":was_status": {"S": before.status.value},
            },
        }})]
        delta = int(after.is_active_admin) - int(before.is_active_admin)
        if delta:
            writes.append(self._admin_count_write(delta))
        self._transact(writes)

    def list_users(self, limit: int, start_after: str | None) -> tuple[list[User], str | None]:
        """One page of all users, newest first, from the sparse index (no Scan)."""
        items, next_cursor = self._query_index(_USER_INDEX_KEY, limit, start_after, _user_key)
        return [_user_from_item(item) for item in items], next_cursor

    # Invites

    def put_invite(self, invite: Invite) -> None:
        """Store a new pending invite."""
        with _dynamodb_errors():
            self._client.put_item(
                TableName=self._table,
                Item=_invite_item(invite),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get_invite(self, invite_id: str) -> Invite | None:
        """The invite, in any state, or None."""
        with _dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key=_invite_key(invite_id), ConsistentRead=True
            )
        item = response.get("Item")
        return _invite_from_item(item) if item else None

    def list_pending_invites(
        self, limit: int, start_after: str | None, now: datetime
    ) -> tuple[list[Invite], str | None]:
        """One page of pending, unexpired invites, newest first."""
        items, next_cursor = self._query_index(
            _INVITE_INDEX_KEY, limit, start_after, _invite_key,
            filter_expression="expiresAt > :now",
            filter_values={":now": {"S": to_iso(now)}},
        )
        return [_invite_from_item(item) for item in items], next_cursor

    def revoke_invite(self, invite_id: str, now: datetime) -> bool:
        """Revoke a pending, unexpired invite; False when there is none."""
        try:
            with _dynamodb_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=_invite_key(invite_id),
                    **_close_invite(InviteStatus.REVOKED, now),
                )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def claim_invite(self, invite: Invite, user: User, token: TokenRecord, now: datetime) -> None:
        """Mark the invite claimed and create its user and first token, all or nothing.

        ConditionFailed("invite") when the invite is no longer pending (another claim won the
        race, or it was revoked or expired), ConditionFailed("email") when the email has an
        account by now.
        """
        claim = {"Update": {
            "TableName": self._table,
            "Key": _invite_key(invite.id),
            **_close_invite(InviteStatus.CLAIMED, now, closed_by=user.id),
        }}
        self._transact([
            ("invite", claim),
            *self._new_user_writes(user),
            ("token", {"Put": {
                "TableName": self._table,
                "Item": _token_item(token),
                "ConditionExpression": "attribute_not_exists(pk)",
            }}),
        ])

    # Tokens

    def load_credential(
        self, user_id: str, token_ids: Sequence[str]
    ) -> tuple[User | None, dict[str, TokenRecord]]:
        """A user and some of their tokens in one strongly consistent round trip."""
        keys = [_user_key(user_id)] + [_token_key(user_id, token_id) for token_id in token_ids]
        with _dynamodb_errors():
            response = self._client.batch_get_item(
                RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
            )
        if response.get("UnprocessedKeys"):
            # BatchGetItem reports throttling this way instead of raising.
            raise StorageUnavailable()
        user = None
        tokens = {}
        for item in response["Responses"].get(self._table, []):
            if item["sk"]["S"] == _PROFILE:
                user = _user_from_item(item)
            else:
                token = _token_from_item(item)
                tokens[token.id] = token
        return user, tokens

    def put_token(self, token: TokenRecord) -> None:
        """Store a new token record."""
        with _dynamodb_errors():
            self._client.put_item(
                TableName=self._table,
                Item=_token_item(token),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def list_tokens(
        self, user_id: str, id_prefix: str, limit: int, start_after: str | None, now: datetime
    ) -> tuple[list[TokenRecord], str | None]:
        """One page of a user's unexpired tokens of one type, newest first, and the next cursor.

        One Query per page; expired tokens are filtered out, so a page may hold fewer than
        ``limit`` items while a next cursor is still returned.
        """
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :type)",
            "FilterExpression": "attribute_not_exists(#ttl) OR #ttl > :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": {
                ":pk": {"S": _user_pk(user_id)},
                ":type": {"S": f"{_TOKEN}{id_prefix}_"},
                ":now": {"N": str(to_epoch(now))},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit,
        }
        if start_after is not None:
            params["ExclusiveStartKey"] = _token_key(user_id, start_after)
        with _dynamodb_errors():
            response = self._client.query(**params)
        tokens = [_token_from_item(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        next_cursor = last_key["sk"]["S"].removeprefix(_TOKEN) if last_key else None
        return tokens, next_cursor

    def delete_token(self, user_id: str, token_id: str, now: datetime) -> bool:
        """Delete an unexpired token of this user; False when there is none."""
        try:
            with _dynamodb_errors():
                self._client.delete_item(
                    TableName=self._table,
                    Key=_token_key(user_id, token_id),
                    ConditionExpression="attribute_exists(pk) AND "
                    "(attribute_not_exists(#ttl) OR #ttl > :now)",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={":now": {"N": str(to_epoch(now))}},
                )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def touch_token(self, user_id: str, token_id: str, now: datetime, stale_before: datetime) -> None:
        """Record a use of the token unless one was recorded since ``stale_before``.

        Best effort: a failure here must not refuse a request that was already authorized.
        """
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_token_key(user_id, token_id),
                UpdateExpression="SET lastUsedAt = :now",
                # attribute_exists keeps a concurrently deleted token from being recreated.
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(lastUsedAt) OR lastUsedAt < :stale)",
                ExpressionAttributeValues={
                    ":now": {"S": to_iso(now)},
                    ":stale": {"S": to_iso(stale_before)},
                },
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                log.warning("could not record last use of token %s: %s", token_id, _code(error))
        except BotoCoreError as error:
            log.warning("could not record last use of token %s: %s", token_id, error)


    def _new_user_writes(self, user: User) -> list[tuple[str, dict[str, Any]]]:
        writes = [
            ("user", {"Put": {
                "TableName": self._table,
                "Item": _user_item(user),
                "ConditionExpression": "attribute_not_exists(pk)",
            }}),
            ("email", {"Put": {
                "TableName": self._table,
                "Item": {**_email_key(user.email), "userId": {"S": user.id}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }}),
        ]
        if user.is_active_admin:
            writes.append(self._admin_count_write(+1))
        return writes

    def _admin_count_write(self, delta: int) -> tuple[str, dict[str, Any]]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _ADMIN_COUNT_KEY,
            "UpdateExpression": "ADD activeAdmins :delta",
            "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
        }
        if delta < 0:
            update["ConditionExpression"] = "activeAdmins > :one"
            update["ExpressionAttributeValues"][":one"] = {"N": "1"}
        return ("admins", {"Update": update})

    def _transact(self, writes: list[tuple[str, dict[str, Any]]]) -> None:
        """Run named writes as one transaction; ConditionFailed names the part that failed."""
        try:
            with _dynamodb_errors():
                self._client.transact_write_items(TransactItems=[write for _, write in writes])
        except ClientError as error:
            if _code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            for (name, _), reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise ConditionFailed(name) from error
                if reason.get("Code") == "TransactionConflict":
                    raise ConditionFailed(name, concurrent=True) from error
            raise StorageUnavailable() from error

    def _query_index(
        self,
        partition: str,
        limit: int,
        start_after: str | None,
        key_of: Any,
        filter_expression: str | None = None,
        filter_values: dict[str, Any] | None = None,
    ) -> tuple[list[Item], str | None]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": _INDEX,
            "KeyConditionExpression": "gsi1pk = :partition",
            "ExpressionAttributeValues": {":partition": {"S": partition}, **(filter_values or {})},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filter_expression:
            params["FilterExpression"] = filter_expression
        if start_after is not None:
            params["ExclusiveStartKey"] = {
                **key_of(start_after),
                "gsi1pk": {"S": partition},
                "gsi1sk": {"S": start_after},
            }
        with _dynamodb_errors():
            response = self._client.query(**params)
        last_key = response.get("LastEvaluatedKey")
        return response.get("Items", []), last_key["gsi1sk"]["S"] if last_key else None


class ConditionFailed(Exception):
    """A conditional write found its item in another state; ``part`` names which write.

    ``concurrent`` means another transaction held the item, so its state is unknown: re-read.
    """

    def __init__(self, part: str, concurrent: bool = False) -> None:
        super().__init__(part)
        self.part = part
        self.concurrent = concurrent


_PROFILE = "PROFILE"
_TOKEN = "TOKEN#"
_INDEX = "gsi1"
_USER_INDEX_KEY = "USER"
_INVITE_INDEX_KEY = "INVITE"
_ADMIN_COUNT_KEY = {"pk": {"S": "META"}, "sk": {"S": "ADMINS"}}
# Claimed, revoked and expired invites stay this long (answering 409/410, not 404), then TTL reaps them.
INVITE_RETENTION = timedelta(days=30)


@contextmanager
def _dynamodb_errors() -> Iterator[None]:
    """Turn throttling, timeouts and DynamoDB-side failures into StorageUnavailable."""
    try:
        yield
    except ClientError as error:
        if _code(error) in _TRANSIENT_ERRORS:
            raise StorageUnavailable() from error
        raise
    except BotoCoreError as error:
        raise StorageUnavailable() from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _user_key(user_id: str) -> Item:
    return {"pk": {"S": _user_pk(user_id)}, "sk": {"S": _PROFILE}}


def _email_key(email: str) -> Item:
    return {"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"}}


def _token_key(user_id: str, token_id: str) -> Item:
    return {"pk": {"S": _user_pk(user_id)}, "sk": {"S": f"{_TOKEN}{token_id}"}}


def _user_item(user: User) -> Item:
    return {
        **_user_key(user.id),
        "gsi1pk": {"S": _USER_INDEX_KEY},
        "gsi1sk": {"S": user.id},
        "id": {"S": user.id},
        "email": {"S": user.email},
        "role": {"S": user.role.value},
        "status": {"S": user.status.value},
        "createdAt": {"S": to_iso(user.created_at)},
    }


def _user_from_item(item: Item) -> User:
    return User(
        id=item["id"]["S"],
        email=item["email"]["S"],
        role=Role(item["role"]["S"]),
        status=UserStatus(item["status"]["S"]),
        created_at=from_iso(item["createdAt"]["S"]),
    )


def _token_item(token: TokenRecord) -> Item:
    item: Item = {
        **_token_key(token.user_id, token.id),
        "id": {"S": token.id},
        "userId": {"S": token.user_id},
        "name": {"S": token.name},
        "scope": {"S": token.scope.value},
        "kind": {"S": token.kind.value},
        "digest": {"B": token.digest},
        "createdAt": {"S": to_iso(token.created_at)},
    }
    if token.expires_at is not None:
        item["expiresAt"] = {"S": to_iso(token.expires_at)}
        item["ttl"] = {"N": str(to_epoch(token.expires_at))}
    if token.last_used_at is not None:
        item["lastUsedAt"] = {"S": to_iso(token.last_used_at)}
    for name, value in (("agentId", token.agent_id), ("stage", token.stage), ("parentId", token.parent_id)):
        if value is not None:
            item[name] = {"S": value}
    return item


def _token_from_item(item: Item) -> TokenRecord:
    return TokenRecord(
        id=item["id"]["S"],
        user_id=item["userId"]["S"],
        name=item["name"]["S"],
        scope=Scope(item["scope"]["S"]),
        kind=TokenKind(item["kind"]["S"]),
        digest=bytes(item["digest"]["B"]),
        created_at=from_iso(item["createdAt"]["S"]),
        expires_at=from_iso(item["expiresAt"]["S"]) if "expiresAt" in item else None,
        last_used_at=from_iso(item["lastUsedAt"]["S"]) if "lastUsedAt" in item else None,
        agent_id=item["agentId"]["S"] if "agentId" in item else None,
        stage=item["stage"]["S"] if "stage" in item else None,
        parent_id=item["parentId"]["S"] if "parentId" in item else None,
    )


def _invite_key(invite_id: str) -> Item:
    return {"pk": {"S": f"INVITE#{invite_id}"}, "sk": {"S": "INVITE"}}


def _invite_item(invite: Invite) -> Item:
    return {
        **_invite_key(invite.id),
        "gsi1pk": {"S": _INVITE_INDEX_KEY},
        "gsi1sk": {"S": invite.id},
        "id": {"S": invite.id},
        "email": {"S": invite.email},
        "role": {"S": invite.role.value},
        "status": {"S": invite.status.value},
        "digest": {"B": invite.digest},
        "createdBy": {"S": invite.created_by},
        "createdAt": {"S": to_iso(invite.created_at)},
        "expiresAt": {"S": to_iso(invite.expires_at)},
        "ttl": {"N": str(to_epoch(invite.expires_at + INVITE_RETENTION))},
    }


def _invite_from_item(item: Item) -> Invite:
    return Invite(
        id=item["id"]["S"],
        email=item["email"]["S"],
        role=Role(item["role"]["S"]),
        status=InviteStatus(item["status"]["S"]),
        digest=bytes(item["digest"]["B"]),
        created_by=item["createdBy"]["S"],
        created_at=from_iso(item["createdAt"]["S"]),
        expires_at=from_iso(item["expiresAt"]["S"]),
    )


def _close_invite(status: InviteStatus, now: datetime, closed_by: str = "") -> dict[str, Any]:
    """UpdateItem arguments moving a pending, unexpired invite to ``status``, out of the index."""
    return {
        "UpdateExpression": "SET #status = :status, closedAt = :now, closedBy = :by "
        "REMOVE gsi1pk, gsi1sk",
        "ConditionExpression": "#status = :pending AND expiresAt > :now",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":status": {"S": status.value},
            ":pending": {"S": InviteStatus.PENDING.value},
            ":now": {"S": to_iso(now)},
            ":by": {"S": closed_by},
        },
    }
