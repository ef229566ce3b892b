"""The route map: one registry of what a token needs for every route of every OpenIndex API."""
from __future__ import annotations

import pytest
from chalice.app import Chalice

import app as app_module
from chalicelib.api import routing
from chalicelib.model import route_map
from chalicelib.model.families import Access
from chalicelib.model.requirements import HUMAN_ADMIN, HUMAN_READ_WRITE, RUN_TOKEN_MINTER
from chalicelib.model.route_map import FAMILY_MEMBER, Need


def test_every_route_of_this_service_is_in_the_map_and_public_exactly_when_it_has_no_authorizer() -> None:
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            found = route_map.entry(method, path)
            assert found is not None, (method, path)
            assert (entry.authorizer is None) == found.is_public, (method, path)
            if not found.is_public:
                assert app_module.NEEDS[(path, method)] is found


@pytest.mark.parametrize(("method", "path", "family", "access"), [
    ("GET", "/work-items", "work_items", Access.READ),
    ("HEAD", "/work-items/wi_1", "work_items", Access.READ),
    ("POST", "/work-items", "work_items", Access.WRITE),
    ("DELETE", "/queues/q_1/items/2", "queues", Access.WRITE),
    ("PATCH", "/domains/d_1", "domains", Access.WRITE),
    ("GET", "/workflows/wf_1/runs", "workflows", Access.READ),
    ("PUT", "/calendar-sources/c_1", "calendar_sources", Access.WRITE),
    ("GET", "/conversations", "conversations", Access.READ),
])
def test_a_read_write_family_reads_on_get_and_head_and_writes_otherwise(
    method: str, path: str, family: str, access: Access
) -> None:
    assert route_map.need(method, path) == Need(FAMILY_MEMBER, family, access)


@pytest.mark.parametrize(("path", "family"), [
    ("/admin/users/usr_1/roles", "users"), ("/admin/invites/x/resend", "users"),
    ("/admin/ai-providers", "ai_providers"), ("/admin/email/domains", "email"),
    ("/admin/settings/retention", "instance_settings"),
])
def test_an_admin_family_takes_a_persons_admin_token(path: str, family: str) -> None:
    found = route_map.need("GET", path)
    assert found is not None and (found.requirement, found.family) == (HUMAN_ADMIN, family)


def test_an_explicit_entry_wins_over_its_familys_convention() -> None:
    assert route_map.need("POST", "/workflows/agent-run-tokens") == Need(RUN_TOKEN_MINTER)
    assert route_map.need("POST", "/workflows/wf_1/start") == Need(FAMILY_MEMBER, "workflows", Access.WRITE)


def test_a_persons_settings_are_human_only_and_the_ui_pages_under_them_are_public() -> None:
    assert route_map.need("PUT", "/settings/notifications") == Need(HUMAN_READ_WRITE)
    assert route_map.need("GET", "/settings/anything/else") == Need(HUMAN_READ_WRITE)
    page = route_map.need("GET", "/settings/admin/users/usr_1")
    assert page is not None and page.is_public


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", "/sign-in"), ("GET", "/health"), ("POST", "/auth/invites/claim"),
    ("POST", "/credentials/revoke"), ("GET", "/assets/app.0123456789abcdef.js"),
])
def test_public_entries_need_no_token(method: str, path: str) -> None:
    found = route_map.need(method, path)
    assert found is not None and found.is_public


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/unknown"), ("GET", "/work-itemsx"), ("GET", "/admin/other"), ("POST", "/health"),
    ("DELETE", "/me"), ("GET", "/me/pats/pat_1/extra"), ("GET", "/admin"), ("GET", "/me/pats//rotate"),
])
def test_a_route_the_map_does_not_have_is_refused_not_allowed(method: str, path: str) -> None:
    assert route_map.need(method, path) is None


def test_a_router_cannot_bind_a_route_the_map_does_not_have() -> None:
    router = routing.Router()
    router.route("/not-in-the-map", methods=["GET"])(lambda: {})
    with pytest.raises(routing.NotInRouteMap, match="/not-in-the-map"):
        routing.include(Chalice(app_name="t"), [router], authorizer=app_module.bearer_token,
                        providers=routing.Providers(store=app_module.get_store, clock=app_module.utcnow,
                                                    settings=app_module.settings))
