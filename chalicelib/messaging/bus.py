"""The event bus: events of source ``openindex.auth`` on EventBridge's default bus, for other
OpenIndex services (the mail service) to act on. Never a token's value: ids, names and times."""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
else:
    EventBridgeClient = Any

log = logging.getLogger(__name__)

SOURCE = "openindex.auth"
BUS_NAME = "default"
_BATCH = 10  # PutEvents' limit of entries per call
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@dataclass(frozen=True)
class BusEvent:
    """One event for the bus: its detail-type, its detail (JSON), and when it happened."""

    detail_type: str
    detail: dict[str, Any]
    time: datetime


class EventBus(Protocol):
    """Where events go: EventBridge deployed, a file under ``make run``."""

    def publish(self, events: Sequence[BusEvent]) -> list[BusEvent]:
        """Send the events; those the bus did not accept (the caller may try them again)."""


class EventBridgeBus:
    """EventBridge's default bus of the function's account and region."""

    def __init__(self, client: EventBridgeClient) -> None:
        self._client = client

    @classmethod
    def connect(cls) -> EventBridgeBus:
        """A bus with a new client; region and credentials come from boto3's environment."""
        return cls(boto3.client("events", config=_CLIENT_CONFIG))

    def publish(self, events: Sequence[BusEvent]) -> list[BusEvent]:
        refused: list[BusEvent] = []
        for start in range(0, len(events), _BATCH):
            batch = list(events[start:start + _BATCH])
            try:
                response = self._client.put_events(Entries=[{
                    "Source": SOURCE, "DetailType": event.detail_type, "Detail": json.dumps(event.detail),
                    "Time": event.time, "EventBusName": BUS_NAME,
                } for event in batch])
            except (BotoCoreError, ClientError) as error:
                log.warning("the event bus refused %d events: %s", len(batch), error)
                refused += batch
                continue
            # Entries answer in the order sent; a refused one carries an ErrorCode (a throttle, say).
            refused += [event for event, entry in zip(batch, response["Entries"], strict=True) if "ErrorCode" in entry]
        return refused
