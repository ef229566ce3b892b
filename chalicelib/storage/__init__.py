"""Storage: the only package that knows DynamoDB. One store per aggregate over one table."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from chalicelib.storage.events import EventStore
from chalicelib.storage.invites import InviteStore
from chalicelib.storage.reports import ReportStore
from chalicelib.storage.table import Table
from chalicelib.storage.token_policy import PolicyStore
from chalicelib.storage.tokens import TokenStore
from chalicelib.storage.users import UserStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

# An authorizer waits on this client, so it fails fast instead of botocore's 60 s default.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
)


class Store:
    """Users, invites, tokens and security events in one DynamoDB table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        table = Table(client, table_name)
        self.users = UserStore(table)
        self.invites = InviteStore(table)
        self.tokens = TokenStore(table)
        self.events = EventStore(table)
        self.policy = PolicyStore(table)
        self.reports = ReportStore(table)

    @classmethod
    def connect(cls, table_name: str) -> Store:
        """A store with a new client; endpoint, region and credentials come from boto3's env."""
        return cls(boto3.client("dynamodb", config=_CLIENT_CONFIG), table_name)
