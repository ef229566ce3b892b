"""The one DynamoDB table: how every store reads and writes it.

One way to do each thing: a conditional write is a :class:`Write` whose failed condition raises
its own typed error (alone with :meth:`Table.write`, or with others in :meth:`Table.transact`),
carrying the item as it was, so that nobody reads again to learn why; a list is one page of
:meth:`Table.query`; batches retry what DynamoDB leaves unprocessed, backing off. Throttling,
timeouts and DynamoDB-side failures are :class:`Unavailable`. The layout is in storage.keys.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.storage.errors import ConcurrentChange, StoreConflict, Unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef
else:
    DynamoDBClient = Any
    TransactWriteItemTypeDef = Any

Item = dict[str, Any]

INDEX = "gsi1"
# Errors that mean "try again later": Unavailable, answered with 503 rather than 500.
_TRANSIENT_ERRORS = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
})
_CONDITION_FAILED = "ConditionalCheckFailedException"
# BatchWriteItem under throttling: what is left unprocessed is sent again after these pauses.
_BACKOFF_SECONDS = (0.05, 0.1, 0.2, 0.4)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class Write:
    """One conditional write (``{"Put" | "Update" | "Delete" | "ConditionCheck": params}``), the
    error its failed condition raises, and how to decode the item it found for that error."""

    operation: dict[str, Any]
    on_condition_failed: type[StoreConflict] = StoreConflict
    decode: Callable[[Item], object] | None = None

    @classmethod
    def new_item(cls, table: str, item: Item, on_condition_failed: type[StoreConflict] = StoreConflict) -> Write:
        """A Put of an item that must not exist yet."""
        return cls({"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                   on_condition_failed)

    def failed(self, found: Item | None) -> StoreConflict:
        """The typed error for a failed condition, with the item as it was (decoded) if asked."""
        return self.on_condition_failed(self.decode(found) if self.decode and found else None)

    def params(self) -> dict[str, Any]:
        """The operation's parameters, asking for the item back on a failed condition if wanted."""
        params = dict(next(iter(self.operation.values())))
        if self.decode is not None:
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return params


@dataclass(frozen=True)
class Table:
    """A client and the table's name: what every aggregate's store works with."""

    client: DynamoDBClient
    name: str

    def transact(self, writes: list[Write]) -> None:
        """Run writes as one transaction; a failed condition raises that write's typed error."""
        try:
            with dynamodb_errors():
                operations = [cast("TransactWriteItemTypeDef", {kind: write.params()})
                              for write in writes for kind in write.operation]
                self.client.transact_write_items(TransactItems=operations)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            for write, reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise write.failed(cast("Item | None", reason.get("Item"))) from error
                if reason.get("Code") == "TransactionConflict":
                    raise ConcurrentChange() from error
            raise Unavailable("TransactionCanceledException") from error

    def write(self, write: Write, *, returning: str = "NONE") -> Item | None:
        """Run one conditional Put, Update or Delete; the item's attributes as ``returning`` asks
        (``ALL_OLD``, ``ALL_NEW``), and the write's typed error if its condition failed."""
        kind = next(iter(write.operation))
        call = {"Put": self.client.put_item, "Update": self.client.update_item,
                "Delete": self.client.delete_item}[kind]
        try:
            with dynamodb_errors():
                response = call(**write.params(), ReturnValues=returning)  # type: ignore[operator]
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            raise write.failed(cast("Item | None", error.response.get("Item"))) from error
        return cast("Item | None", response.get("Attributes"))

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
                raise Unavailable("UnprocessedKeys")
            found += response["Responses"].get(self.name, [])
        return found

    def write_batch(self, requests: list[Any]) -> None:
        """Puts and deletes of distinct items (a key already gone is no error), 25 per round trip
        (BatchWriteItem's limit), backing off and retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(requests), 25):
            pending = requests[start:start + 25]
            for pause in (*_BACKOFF_SECONDS, None):
                with dynamodb_errors():
                    response = self.client.batch_write_item(RequestItems={self.name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                if pause is None:
                    raise Unavailable("UnprocessedItems")
                time.sleep(pause)

    def query(self, params: Mapping[str, Any], *, limit: int | None = None, start_key: Item | None = None,
              consistent: bool = True) -> tuple[list[Item], Item | None]:
        """One page of a Query (strongly consistent unless told otherwise or it reads the index,
        which cannot be) and the key to continue from (None: no more)."""
        request: dict[str, Any] = {"TableName": self.name, **params}
        if consistent and request.get("IndexName") is None:
            request["ConsistentRead"] = True
        if limit is not None:
            request["Limit"] = limit
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        with dynamodb_errors():
            response = self.client.query(**request)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def query_all(self, params: Mapping[str, Any], *, consistent: bool = True) -> Iterator[Item]:
        """Every item a Query finds, page after page (off the request path only)."""
        start_key: Item | None = None
        while True:
            items, start_key = self.query(params, start_key=start_key, consistent=consistent)
            yield from items
            if start_key is None:
                return


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


@contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Turn throttling, timeouts and DynamoDB-side failures into Unavailable."""
    try:
        yield
    except ClientError as error:
        if error_code(error) in _TRANSIENT_ERRORS:
            raise Unavailable(error_code(error)) from error
        raise
    except BotoCoreError as error:
        raise Unavailable(type(error).__name__) from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def marshal(fields: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values (an item, a key, expression values) from plain str, int, bool
    and bytes values; None values are left out."""
    return {name: _SERIALIZER.serialize(value) for name, value in fields.items() if value is not None}


def unmarshal(item: Item) -> dict[str, Any]:
    """Plain values from a DynamoDB item (bytes for binary, int for numbers)."""
    plain = {}
    for name, value in item.items():
        found = _DESERIALIZER.deserialize(value)
        plain[name] = bytes(found) if "B" in value else int(found) if "N" in value else found
    return plain
