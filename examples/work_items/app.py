"""An OpenIndex service behind the OpenIndex authorizer: work items, and nothing about tokens.

This app holds no authorization code. API Gateway runs the OpenIndex authorizer before any
route here: a request with a missing, invalid, revoked or expired token, or a grant that does
not cover the route, is refused at the gateway and never reaches this code. What arrives was
allowed, and says who is calling in the authorizer's context (``userId``, ``tokenId``,
``scope``, ``kind``, ``agentId``). docs/integrate.md of OpenIndex Auth explains the attachment.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from chalice.app import Chalice, CustomAuthorizer, Request, Response

app = Chalice(app_name="openindex-work-items")

# The exported OpenIndex authorizer, never cached. Packaged, the merge template puts in its ARN
# (Fn::ImportValue openindex-auth-<stage>-authorizer-arn) and makes it a REQUEST authorizer;
# make run attaches OpenIndex Auth's own.
openindex = CustomAuthorizer(
    "openindex", header="Authorization", ttl_seconds=0,
    authorizer_uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/openindex-authorizer/invocations",
)
MAX_TITLE = 200
FIELDS = ("id", "title", "createdBy", "createdAt", "createdWith")
# Every work item in one partition, sorted by id: the list is a Query, never a Scan.
PARTITION = "WORK_ITEMS"


def table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["WORK_ITEMS_TABLE"])


def caller() -> dict[str, str]:
    """Who is calling, as the authorizer said: the only identity this service knows."""
    return dict(app.current_request.context["authorizer"])  # type: ignore[union-attr]


def error(status: int, code: str, message: str) -> Response:
    """An error in the OpenIndex API's shape."""
    return Response(body={"error": {"code": code, "message": message}}, status_code=status)


def title_or_error() -> str | Response:
    """The title the request sends, or the 400 that says what to send."""
    try:
        body = json.loads(app.current_request.raw_body or b"null")  # type: ignore[union-attr]
    except ValueError:
        body = None
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        return error(400, "invalid_request", f'Send {{"title": "…"}}, 1 to {MAX_TITLE} characters.')
    return title.strip()


def key(item_id: str) -> dict[str, str]:
    return {"pk": PARTITION, "id": item_id}


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """A work item as the API answers it (without its partition)."""
    return {field: item[field] for field in FIELDS}


def missing() -> Response:
    return error(404, "not_found", "No such work item.")


def changed(change: Callable[[], dict[str, Any]]) -> dict[str, Any] | Response:
    """The item as ``change`` (a write conditional on the item's existence) left it, or the 404."""
    try:
        return change()
    except ClientError as failure:
        if failure.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return missing()
        raise


@app.middleware("http")
def openindex_headers(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """What every OpenIndex API answers with: never cached (bodies may be private), never
    sniffed, and when the caller's token stops working (``stopsAt``: empty when it never does),
    so clients warn before it breaks."""
    response: Response = get_response(event)
    response.headers.update({"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    stops_at = (event.context.get("authorizer") or {}).get("stopsAt")
    if stops_at:
        response.headers["OpenIndex-Token-Expires"] = stops_at
    return response


@app.route("/work-items", methods=["GET"], authorizer=openindex)
def list_work_items() -> dict[str, Any]:
    items = table().query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": PARTITION},
                          Limit=100).get("Items", [])
    return {"items": sorted((shown(item) for item in items), key=lambda item: item["createdAt"])}


@app.route("/work-items", methods=["POST"], authorizer=openindex)
def create_work_item() -> Response:
    title = title_or_error()
    if isinstance(title, Response):
        return title
    who = caller()
    item = {"id": f"wi_{uuid.uuid4().hex}", "title": title, "createdBy": who["userId"],
            "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "createdWith": who["tokenId"]}
    table().put_item(Item={"pk": PARTITION, **item})
    return Response(body=item, status_code=201, headers={"Location": f"/work-items/{item['id']}"})


@app.route("/work-items/{item_id}", methods=["GET"], authorizer=openindex)
def get_work_item(item_id: str) -> Any:
    item = table().get_item(Key=key(item_id)).get("Item")
    return shown(item) if item else missing()


@app.route("/work-items/{item_id}", methods=["PATCH"], authorizer=openindex)
def update_work_item(item_id: str) -> Any:
    title = title_or_error()
    if isinstance(title, Response):
        return title
    item = changed(lambda: table().update_item(
        Key=key(item_id), UpdateExpression="SET title = :title", ConditionExpression="attribute_exists(id)",
        ExpressionAttributeValues={":title": title}, ReturnValues="ALL_NEW")["Attributes"])
    return shown(item) if isinstance(item, dict) else item


@app.route("/work-items/{item_id}", methods=["DELETE"], authorizer=openindex)
def delete_work_item(item_id: str) -> Response:
    gone = changed(lambda: table().delete_item(Key=key(item_id), ConditionExpression="attribute_exists(id)"))
    return gone if isinstance(gone, Response) else Response(body="", status_code=204)
