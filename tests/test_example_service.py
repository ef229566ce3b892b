"""The example OpenIndex service (examples/work_items/) behind the OpenIndex authorizer: it has no
checks of its own, and the authorizer alone decides who reaches it."""
from __future__ import annotations

import ast
from datetime import timedelta
from typing import Any

from chalicelib.timeutil import to_iso
from openindex_ops import example_service

from .conftest import SESSION, Accounts, Api, DynamoCalls, FrozenClock

EXAMPLE_SOURCE = example_service.EXAMPLE_DIR / "app.py"


def stored() -> list[dict[str, Any]]:
    return SESSION.client("dynamodb").scan(TableName=example_service.LOCAL_TABLE)["Items"]


def stored_titles() -> list[str]:
    return [item["title"]["S"] for item in stored()]


def test_a_read_write_pat_creates_reads_changes_and_deletes_work_items(work_items: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    created = work_items.post("/work-items", owner.token, body={"title": "Triage the inbox"})
    assert created.status == 201
    item = created.body
    assert (item["title"], item["createdBy"], item["createdWith"]) == ("Triage the inbox", owner.user.id,
                                                                      owner.token_id)
    assert created.headers["Location"] == f"/work-items/{item['id']}"
    assert work_items.get("/work-items", owner.token).body == {"items": [item]}
    assert work_items.get(f"/work-items/{item['id']}", owner.token).body == item
    renamed = work_items.patch(f"/work-items/{item['id']}", owner.token, body={"title": "Triage it all"})
    assert renamed.body == {**item, "title": "Triage it all"}
    assert work_items.delete(f"/work-items/{item['id']}", owner.token).status == 204
    assert work_items.get(f"/work-items/{item['id']}", owner.token).status == 404


def test_every_answer_carries_the_openindex_headers_and_when_the_token_stops(
    work_items: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    expiring, forever = accounts.create(expires_at=clock.now() + timedelta(days=3)), accounts.create()
    for response in (work_items.get("/work-items", expiring.token), work_items.get("/work-items/wi_x", expiring.token),
                     work_items.post("/work-items", expiring.token, body={})):
        assert response.headers["Cache-Control"] == "no-store", response.status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["OpenIndex-Token-Expires"] == to_iso(clock.now() + timedelta(days=3))
    assert "OpenIndex-Token-Expires" not in work_items.get("/work-items", forever.token).headers


def test_a_run_token_creates_and_reads_work_items_as_its_agent(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    created = work_items.post("/work-items", run["token"], body={"title": "Summarize thread"})
    assert created.status == 201 and created.body["createdBy"] == owner.user.id
    assert created.body["createdWith"] == run["id"]
    assert work_items.get(f"/work-items/{created.body['id']}", run["token"]).status == 200


def test_a_work_items_read_token_lists_but_cannot_create(api: Api, work_items: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    assert work_items.post("/work-items", owner.token, body={"title": "seeded"}).status == 201
    reader = api.post("/me/pats", owner.token, body={"name": "reader", "permissions": {"work_items": "read"}})
    assert reader.status == 201, reader.body
    assert [item["title"] for item in work_items.get("/work-items", reader.body["token"]).body["items"]] == ["seeded"]
    refused = work_items.post("/work-items", reader.body["token"], body={"title": "sneak in"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "work_items:write")
    # (a gateway's header is fixed, so the body names what is needed)
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="openindex", error="insufficient_scope"'
    assert stored_titles() == ["seeded"]


def test_a_workflows_write_token_gets_403_on_work_items(api: Api, work_items: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    workflows = api.post("/me/pats", owner.token, body={"name": "flows", "permissions": {"workflows": "write"}})
    for method, path in (("GET", "/work-items"), ("POST", "/work-items"), ("GET", "/work-items/wi_x")):
        refused = work_items.request(method, path, workflows.body["token"], body={"title": "t"})
        assert (refused.status, refused.body["error"]["requiredScope"]) == (
            403, "work_items:write" if method == "POST" else "work_items:read"), path
    assert stored() == []


def test_a_run_token_of_a_pat_narrowed_to_reading_work_items_only_reads_them(
    api: Api, work_items: Api, accounts: Accounts
) -> None:
    owner = accounts.create()
    run = accounts.run_token(api, owner)
    assert work_items.post("/work-items", run["token"], body={"title": "before"}).status == 201
    narrowed = api.patch(f"/me/pats/{owner.token_id}", owner.token, body={"permissions": {"work_items": "read"}})
    assert narrowed.status == 200, narrowed.body
    assert work_items.get("/work-items", run["token"]).status == 200
    refused = work_items.post("/work-items", run["token"], body={"title": "after"})
    assert (refused.status, refused.body["error"]["requiredScope"]) == (403, "work_items:write")
    assert stored_titles() == ["before"]


def test_authorizing_a_request_to_another_api_is_one_read_and_no_write_in_steady_state(
    work_items: Api, accounts: Accounts, dynamo_calls: DynamoCalls
) -> None:
    owner = accounts.create()
    work_items.get("/work-items", owner.token)  # the first use, and what it used, are recorded
    work_items.post("/work-items", owner.token, body={"title": "first"})
    dynamo_calls.clear()
    for _ in range(3):
        assert work_items.post("/work-items", owner.token, body={"title": "t"}).status == 201
        assert work_items.get("/work-items", owner.token).status == 200
    assert dynamo_calls.operations == ["BatchGetItem"] * 6  # the authorizer's, on this service's table


def test_an_invalid_revoked_or_expired_token_gets_401_and_creates_nothing(
    api: Api, work_items: Api, accounts: Accounts, clock: FrozenClock
) -> None:
    deleted, expiring, parent = accounts.create(), accounts.create(expires_at=clock.now() + timedelta(hours=1)), \
        accounts.create()
    run = accounts.run_token(api, parent)
    assert api.delete(f"/me/pats/{deleted.token_id}", deleted.token).status == 204
    assert api.delete(f"/me/pats/{parent.token_id}", parent.token).status == 204  # its run token dies with it
    clock.advance(hours=1)
    for token in ("oi_pat_garbage", deleted.token, expiring.token, run["token"], None):
        refused = work_items.post("/work-items", token, body={"title": "sneak in"})
        assert (refused.status, refused.error_code) == (401, "invalid_token"), token
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="openindex", error="invalid_token"'
    assert stored() == []


def test_bad_input_gets_a_clear_error_in_the_apis_shape(work_items: Api, accounts: Accounts) -> None:
    owner = accounts.create()
    for body in ({}, {"title": ""}, {"title": 5}, {"title": "x" * 201}, [1]):
        refused = work_items.post("/work-items", owner.token, body=body)
        assert (refused.status, refused.error_code) == (400, "invalid_request"), body
        assert "title" in refused.body["error"]["message"]
    assert work_items.post("/work-items", owner.token, raw=b"{nope").status == 400
    assert work_items.patch("/work-items/wi_nope", owner.token, body={"title": "t"}).error_code == "not_found"
    assert work_items.delete("/work-items/wi_nope", owner.token).error_code == "not_found"
    assert stored() == []


def test_the_example_imports_nothing_of_this_service_and_holds_no_authorization_code() -> None:
    tree = ast.parse(EXAMPLE_SOURCE.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {"__future__", "collections", "json", "os", "uuid",
                                                         "datetime", "typing", "boto3", "botocore", "chalice"}
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef) and ast.get_docstring(node) is not None}
    strings = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    # it never looks at a token, a scope or a verdict: what arrives was allowed
    for word in ("Bearer", "oi_pat_", "oi_run_", "scope", "kind", "verdict", "role"):
        assert not any(word in text for text in strings), word
    # nor at a request's headers (it sets its response's)
    read = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "headers"
            and not (isinstance(node.value, ast.Name) and node.value.id == "response")]
    assert read == []
