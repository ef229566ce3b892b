"""DynamoDB storage: the only module that knows the table, its keys and boto3.

Layout of the single table (``pk``/``sk`` strings, ``ttl`` epoch seconds for TTL):

    USER#<user id>   PROFILE              the user
    USER#<user id>   TOKEN#<token id>     a token of that user (digest only, never the value)
    EMAIL#<email>    EMAIL                reserves an email for exactly one user

Keeping tokens in their user's partition lets one strongly consistent Query list them newest
first (ids are ULIDs), and lets the authorizer fetch a token and its user in one BatchGetItem.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Conflict, StorageUnavailable
from chalicelib.models import Role, Scope, TokenKind, TokenRecord, User, UserStatus
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
        """Store a new user, reserving its email; Conflict when the email is taken."""
        try:
            with _dynamodb_errors():
                self._client.transact_write_items(TransactItems=[
                    {"Put": {
                        "TableName": self._table,
                        "Item": _user_item(user),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }},
                    {"Put": {
                        "TableName": self._table,
                        "Item": {**_email_key(user.email), "userId": {"S": user.id}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }},
                ])
        except ClientError as error:
            if _code(error) == "TransactionCanceledException":
                raise Conflict("An account with this email already exists.") from error
            raise

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        with _dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key=_user_key(user_id), ConsistentRead=True
            )
        item = response.get("Item")
        return _user_from_item(item) if item else None

    def save_user(self, user: User) -> None:
        """Overwrite an existing user's role and status (the email and id never change)."""
        with _dynamodb_errors():
            self._client.update_item(
                TableName=self._table,
                Key=_user_key(user.id),
                UpdateExpression="SET #role = :role, #status = :status",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#role": "role", "#status": "status"},
                ExpressionAttributeValues={
                    ":role": {"S": user.role.value},
                    ":status": {"S": user.status.value},
                },
            )

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


_PROFILE = "PROFILE"
_TOKEN = "TOKEN#"


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
    )
