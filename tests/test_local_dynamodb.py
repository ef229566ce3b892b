"""`make run`'s embedded DynamoDB (moto's server on loopback) answers boto3 on this machine and
nothing a web page can send: no request with an Origin, no other Host, no CORS grant."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from openindex_ops.local_stack import LOOPBACK, serve_moto
from openindex_ops.local_state import WriteWatch
from openindex_ops.table import create_table

TABLE = "openindex-auth-local-guard"
ITEM = {"pk": {"S": "USER#usr_attacker"}, "sk": {"S": "TOKEN#pat_attacker"}}
# What a page's fetch() sends to write an item, and its CORS preflight.
PAGE_HEADERS = {"Origin": "https://evil.example", "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0"}


class Served:
    """The local DynamoDB as `make run` serves it, and what has been written through it."""

    def __init__(self, port: int, writes: WriteWatch) -> None:
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.writes = writes

    def client(self, origin: str | None = None) -> Any:
        """boto3's client; with ``origin``, one that adds an ``Origin`` header as a browser would."""
        client = boto3.client("dynamodb", endpoint_url=self.url)
        if origin is not None:
            client.meta.events.register(
                "before-sign.dynamodb.*", lambda request, **_: request.headers.__setitem__("Origin", origin))
        return client


@pytest.fixture
def served() -> Iterator[Served]:
    writes = WriteWatch(DomainDispatcherApplication(create_backend_app))
    server = serve_moto(writes)
    client = boto3.client("dynamodb", endpoint_url=f"http://{LOOPBACK}:{server.server_port}")
    create_table(client, TABLE)
    writes.take()
    try:
        yield Served(server.server_port, writes)
    finally:
        client.delete_table(TableName=TABLE)
        server.shutdown()


def test_boto3_reads_and_writes_the_local_table(served: Served) -> None:
    client = served.client()
    client.put_item(TableName=TABLE, Item=ITEM)
    assert client.get_item(TableName=TABLE, Key=ITEM, ConsistentRead=True)["Item"] == ITEM
    assert served.writes.take()


def test_a_cors_preflight_from_a_web_page_is_refused_without_any_cors_grant(served: Served) -> None:
    answer = httpx.options(served.url + "/", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target"})
    assert answer.status_code == 403
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


def test_a_request_with_an_origin_is_refused_and_writes_nothing(served: Served) -> None:
    answer = httpx.post(served.url + "/", headers=PAGE_HEADERS,
                        content=b'{"TableName":"%s","Item":{"pk":{"S":"x"},"sk":{"S":"y"}}}' % TABLE.encode())
    assert answer.status_code == 403
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    with pytest.raises(ClientError) as refused:
        served.client(origin="http://127.0.0.1:8000").put_item(TableName=TABLE, Item=ITEM)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "Item" not in served.client().get_item(TableName=TABLE, Key=ITEM, ConsistentRead=True)
    assert not served.writes.take()


def test_a_dns_rebound_host_is_refused(served: Served) -> None:
    # A page on evil.example whose name now resolves to 127.0.0.1 is same-origin to itself: no
    # Origin on its GETs, but its Host is its own name.
    for host in (f"evil.example:{served.port}", "evil.example", f"localhost:{served.port}"):
        answer = httpx.post(served.url + "/", headers={
            "Host": host, "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0"}, content=b"{}")
        assert answer.status_code == 403, host


def test_only_posts_reach_moto_not_its_pages_and_switches(served: Served) -> None:
    for path in ("/moto-api/data.json", "/moto-api/", "/moto-api/recorder/start-recording"):
        assert httpx.get(served.url + path).status_code == 403, path
