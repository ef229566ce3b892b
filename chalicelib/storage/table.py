"""The one DynamoDB table: its client, keys, item marshalling, and errors made typed.

Layout (``pk``/``sk`` strings, ``ttl`` epoch seconds for TTL, and a sparse global index ``gsi1``
on ``gsi1pk``/``gsi1sk`` for the admin lists):

    USER#<user id>      PROFILE            a user                    gsi1: USER / <user id>
    USER#<user id>      TOKEN#<token id>   a PAT or agent run token of that user (digest only)
    USER#<user id>      COMPROMISED#<id>   that token was revoked as leaked: what it made dies too
    EMAIL#<email>       EMAIL              reserves an email for exactly one user
    INVITE#<invite id>  INVITE             an invite                 gsi1: INVITE / <id> while pending
    META                ADMINS             how many active admins there are (never below one)
    SWEEP#<user id>     SWEEP              revoked tokens of that user await deletion   gsi1: SWEEP / <user id>

Keeping tokens in their user's partition lets one strongly consistent Query list them newest
first (ids are ULIDs), and lets the authorizer fetch a token, the PAT that minted it and their
user in one BatchGetItem.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import ServiceUnavailable
from chalicelib.storage.errors import ConcurrentChange, StoreConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef
else:
    DynamoDBClient = Any
    TransactWriteItemTypeDef = Any

Item = dict[str, Any]

PROFILE = "PROFILE"
TOKEN = "TOKEN#"
COMPROMISED = "COMPROMISED#"
INDEX = "gsi1"
USER_INDEX_KEY = "USER"
INVITE_INDEX_KEY = "INVITE"
SWEEP_INDEX_KEY = "SWEEP"

# Errors that mean "try again later", answered with 503 rather than 500.
_TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
})
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class Table:
    """A client and the table's name: what every aggregate's store works with."""

    client: DynamoDBClient
    name: str

    def transact(self, writes: list[Write]) -> None:
        """Run writes as one transaction; a failed condition raises that write's typed error."""
        try:
            with dynamodb_errors():
                operations = [cast("TransactWriteItemTypeDef", write.operation) for write in writes]
                self.client.transact_write_items(TransactItems=operations)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            for write, reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise write.on_condition_failed() from error
                if reason.get("Code") == "TransactionConflict":
                    raise ConcurrentChange() from error
            raise ServiceUnavailable() from error

    def get(self, key: Item) -> Item | None:
        """One item, strongly consistent, or None."""
        with dynamodb_errors():
            response = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True)
        return response.get("Item")

    def get_batch(self, keys: list[Item]) -> list[Item]:
        """The items that exist among ``keys`` (distinct), strongly consistent: one round trip
        per 100 keys, BatchGetItem's limit."""
        found: list[Item] = []
        for start in range(0, len(keys), 100):
            with dynamodb_errors():
                response = self.client.batch_get_item(
                    RequestItems={self.name: {"Keys": keys[start:start + 100], "ConsistentRead": True}})
            if response.get("UnprocessedKeys"):
                # BatchGetItem reports throttling this way instead of raising.
                raise ServiceUnavailable()
            found += response["Responses"].get(self.name, [])
        return found

    def put_new(self, item: Item) -> None:
        """Store an item that must not exist yet."""
        with dynamodb_errors():
            self.client.put_item(TableName=self.name, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def delete_batch(self, keys: list[Item]) -> None:
        """Delete items (a key already gone is no error), 25 per round trip."""
        self.write_batch([{"DeleteRequest": {"Key": key}} for key in keys])

    def write_batch(self, requests: list[Any]) -> None:
        """Puts and deletes of distinct items, 25 per round trip (BatchWriteItem's limit),
        retrying what DynamoDB leaves unprocessed under throttling."""
        for start in range(0, len(requests), 25):
            pending = requests[start:start + 25]
            for _ in range(5):
                with dynamodb_errors():
                    response = self.client.batch_write_item(RequestItems={self.name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
            else:
                raise ServiceUnavailable()

    def query_index(
        self, partition: str, limit: int, start_after: str | None, key_of: Any,
        filter_expression: str | None = None, filter_values: Mapping[str, Any] | None = None,
    ) -> tuple[list[Item], str | None]:
        """One page of the sparse index's ``partition``, newest first, and the next cursor."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": INDEX,
            "KeyConditionExpression": "gsi1pk = :partition",
            "ExpressionAttributeValues": marshal({":partition": partition, **(filter_values or {})}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filter_expression:
            params["FilterExpression"] = filter_expression
        if start_after is not None:
            params["ExclusiveStartKey"] = {
                **key_of(start_after), **marshal({"gsi1pk": partition, "gsi1sk": start_after})
            }
        with dynamodb_errors():
            response = self.client.query(**params)
        last_key = response.get("LastEvaluatedKey")
        return response.get("Items", []), last_key["gsi1sk"]["S"] if last_key else None


@dataclass
class Condition:
    """A condition expression built in parts, so that checks on one item can be combined (a
    transaction may name an item only once)."""

    clauses: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def __and__(self, other: Condition) -> Condition:
        return Condition(self.clauses + other.clauses, {**self.names, **other.names}, {**self.values, **other.values})

    def params(self) -> dict[str, Any]:
        """``ConditionExpression`` and its names and values, as a write or check takes them."""
        rendered: dict[str, Any] = {"ConditionExpression": " AND ".join(self.clauses) or "attribute_exists(pk)"}
        if self.names:
            rendered["ExpressionAttributeNames"] = self.names
        if self.values:
            rendered["ExpressionAttributeValues"] = marshal(self.values)
        return rendered


@dataclass(frozen=True)
class Write:
    """One write of a transaction and the error that means its condition failed."""

    operation: dict[str, Any]
    on_condition_failed: type[StoreConflict] = StoreConflict


@contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Turn throttling, timeouts and DynamoDB-side failures into ServiceUnavailable (503)."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in _TRANSIENT_ERRORS:
            raise ServiceUnavailable() from error
        raise
    except BotoCoreError as error:
        raise ServiceUnavailable() from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def conditional(write: Any) -> bool:
    """Run a conditional single-item write; False when its condition failed."""
    try:
        with dynamodb_errors():
            write()
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def marshal(fields: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values (an item, a key, expression values) from plain str, int and
    bytes values; None values are left out."""
    return {name: _SERIALIZER.serialize(value) for name, value in fields.items() if value is not None}


def unmarshal(item: Item) -> dict[str, Any]:
    """Plain values from a DynamoDB item (bytes for binary, int for numbers)."""
    plain = {}
    for name, value in item.items():
        found = _DESERIALIZER.deserialize(value)
        plain[name] = bytes(found) if "B" in value else int(found) if "N" in value else found
    return plain


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_key(user_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": PROFILE})


def email_key(email: str) -> Item:
    return marshal({"pk": f"EMAIL#{email}", "sk": "EMAIL"})


def token_key(user_id: str, token_id: str) -> Item:
    return marshal({"pk": user_pk(user_id), "sk": f"{TOKEN}{token_id}"})


def invite_key(invite_id: str) -> Item:
    return marshal({"pk": f"INVITE#{invite_id}", "sk": "INVITE"})


def compromised_key(user_id: str, token_id: str) -> Item:
    """Marks a token revoked for cause (a leak report), so that what it made dies with it."""
    return marshal({"pk": user_pk(user_id), "sk": f"{COMPROMISED}{token_id}"})


def sweep_key(user_id: str) -> Item:
    return marshal({"pk": f"SWEEP#{user_id}", "sk": "SWEEP"})


ADMIN_COUNT_KEY = marshal({"pk": "META", "sk": "ADMINS"})
