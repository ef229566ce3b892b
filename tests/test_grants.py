"""Grants: what a token may do to each resource family (none, read, or write, which includes
read), and how the gate holds a family's route to them."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.errors import InsufficientScope
from chalicelib.model.accounts import Role
from chalicelib.model.caller import Caller
from chalicelib.model.families import Access
from chalicelib.model.grants import Grant, Permission
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.route_map import need

from .conftest import ADMIN_GRANT, READ_WRITE_GRANT


def caller(scope: Scope, kind: TokenKind = TokenKind.PAT) -> Caller:
    return Caller(user_id="usr_1", email="a@example.com", role=Role.ADMIN,
                  user_created_at=datetime(2026, 1, 1, tzinfo=UTC), token_id="pat_1", token_name="t", scope=scope,
                  kind=kind, expires_at=None)


def test_each_preset_grants_write_on_every_family_its_scope_reaches() -> None:
    assert Grant.of_scope(Scope.READ_WRITE).as_dict() == READ_WRITE_GRANT
    assert Grant.of_scope(Scope.ADMIN).as_dict() == ADMIN_GRANT


def test_write_includes_read_and_none_allows_nothing() -> None:
    grant = Grant.of({"work_items": Permission.READ, "workflows": Permission.WRITE})
    assert grant.allows("work_items", Access.READ) and not grant.allows("work_items", Access.WRITE)
    assert grant.allows("workflows", Access.READ) and grant.allows("workflows", Access.WRITE)
    assert not grant.allows("queues", Access.READ)
    assert grant.as_dict()["queues"] == "none"


def test_a_grant_as_text_names_what_it_gives_and_reads_back_the_same() -> None:
    grant = Grant.of({"work_items": Permission.READ, "workflows": Permission.WRITE})
    assert grant.to_text() == "work_items:read,workflows:write"
    assert Grant.from_text(grant.to_text()) == grant
    assert Grant.from_text("") == Grant.of({})


def test_a_grant_names_only_families_of_the_route_map() -> None:
    with pytest.raises(ValueError, match="billing"):
        Grant.of({"billing": Permission.READ})


@pytest.mark.parametrize(("scope", "kind", "method", "path", "refused_with"), [
    (Scope.READ_WRITE, TokenKind.PAT, "POST", "/work-items", None),
    (Scope.READ_WRITE, TokenKind.AGENT_RUN, "DELETE", "/conversations/c_1", None),
    (Scope.READ_WRITE, TokenKind.PAT, "GET", "/admin/ai-providers", "ai_providers:read"),
    (Scope.ADMIN, TokenKind.PAT, "PATCH", "/admin/settings/mail", None),
    (Scope.READ_WRITE, TokenKind.AGENT_RUN, "GET", "/admin/users/usr_2/sessions", "users:read"),
    (Scope.READ_WRITE, TokenKind.AGENT_RUN, "GET", "/settings/profile", "read_write"),
])
def test_the_gate_holds_a_familys_route_to_the_grant_and_names_the_permission_it_needs(
    scope: Scope, kind: TokenKind, method: str, path: str, refused_with: str | None
) -> None:
    found = need(method, path)
    assert found is not None
    if refused_with is None:
        found.check(caller(scope, kind))
        return
    with pytest.raises(InsufficientScope) as refusal:
        found.check(caller(scope, kind))
    assert refusal.value.required_scope == refused_with
