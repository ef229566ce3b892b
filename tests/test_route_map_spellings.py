"""The route map and the ways a method or path can be written: whatever API Gateway passes in a
``methodArn`` (the concrete path, as sent), ``need()`` never gives a weaker answer than the route
it names. A path written other than plainly (an empty, ``.`` or ``..`` segment, percent-encoding,
``\\``, ``;``) is refused; one trailing slash is the route without it, as API Gateway routes it;
an unknown or non-ASCII method is refused. Many of these came from an attacker's pass over the map.
"""
from __future__ import annotations

import itertools

import pytest
from chalice.app import Chalice

import app as app_module
from chalicelib.api import routing
from chalicelib.model import route_map
from chalicelib.model.requirements import HUMAN_ADMIN, HUMAN_READ_WRITE, RUN_TOKEN_MINTER, Requirement
from chalicelib.model.route_map import FAMILIES, FAMILY_MEMBER, ROUTES, Need


def _at_least(found: Need | None, expected: Requirement | None) -> bool:
    """Whether ``found`` is no weaker than a route needing ``expected`` (None: refused)."""
    if found is None:
        return True
    if expected is None:
        return True
    got = found.requirement
    if got is None:
        return False
    return (got.scope.covers(expected.scope)
            and got.people_only >= expected.people_only
            and got.refuses_admin_tokens >= expected.refuses_admin_tokens)


def _bind(path: str, methods: list[str]) -> Chalice:
    router = routing.Router()
    router.route(path, methods=methods)(lambda **_: {})
    target = Chalice(app_name="attack")
    routing.include(target, [router], authorizer=app_module.bearer_token,
                    providers=routing.Providers(store=app_module.get_store, clock=app_module.utcnow,
                                                settings=app_module.settings))
    return target


@pytest.mark.parametrize("path", [
    "/workflows/agent-run-tokens/",      # trailing slash: API Gateway REST routes it to the resource
    "/workflows/agent-run-tokens//",
    "/workflows//agent-run-tokens",      # empty segment
    "/workflows/./agent-run-tokens",     # dot segment
    "/workflows/agent-run-tokens/.",
    "/workflows/x/../agent-run-tokens",
    "/workflows/%61gent-run-tokens",     # percent-encoded unreserved character
    "/workflows/agent%2Drun-tokens",
    "/workflows/agent-run-tokens%2F",
    "/workflows/agent-run-tokens;x",     # matrix parameter (Tomcat/Spring strip it)
])
def test_no_spelling_of_the_run_token_minting_route_is_weaker_than_the_route(path: str) -> None:
    """Were a spelling to miss the exact entry and fall to the ``workflows`` family, a run token
    could mint run tokens, and an admin PAT one, at the gateway."""
    found = route_map.need("POST", path)
    assert _at_least(found, RUN_TOKEN_MINTER), (path, found)


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/work-items/../admin/users", HUMAN_ADMIN),
    ("DELETE", "/work-items/../../admin/users/usr_1/pats/pat_1", HUMAN_ADMIN),
    ("PATCH", "/queues/q_1/../../admin/users/usr_1", HUMAN_ADMIN),
    ("PUT", "/conversations/../admin/settings/token-policy", HUMAN_ADMIN),
    ("GET", "/work-items/%2e%2e/admin/users", HUMAN_ADMIN),
    ("GET", "/work-items/%2E%2E/admin/users", HUMAN_ADMIN),
    ("GET", "/work-items/..%2Fadmin%2Fusers", HUMAN_ADMIN),
    ("GET", "/work-items/..%2fadmin%2fusers", HUMAN_ADMIN),
    ("GET", "/work-items/..%5Cadmin%5Cusers", HUMAN_ADMIN),
    ("GET", "/work-items/..\\admin\\users", HUMAN_ADMIN),
    ("GET", "/work-items/..;/admin/users", HUMAN_ADMIN),
    ("GET", "/work-items/%252e%252e/admin/users", HUMAN_ADMIN),    # double-encoded
    ("PUT", "/queues/../settings/notifications", HUMAN_READ_WRITE),  # human-only, run token gets in
    ("POST", "/domains/../me/pats", HUMAN_READ_WRITE),
])
def test_a_dot_segment_or_an_encoded_separator_under_a_family_is_refused(
    method: str, path: str, expected: Requirement
) -> None:
    """A family holds paths starting with its prefix: ``..`` (raw, encoded, after ``;``) would let
    a path under a read_write family name an admin or human-only route that a backend resolving
    dot segments or decoding separators then serves."""
    found = route_map.need(method, path)
    assert _at_least(found, expected), (method, path, found)


@pytest.mark.parametrize("path", [
    "/settings/admin/users/..",
    "/settings/admin/users/.",
    "/settings/admin/users/%2e%2e",
    "/settings/admin/users/..%2F..%2Fpersonal%2Fsecrets",
    "/settings/admin/users/..%2F..%2F..%2Fadmin%2Fusers",
    "/settings/admin/users/..;",
])
def test_a_public_placeholder_takes_only_a_plain_segment(path: str) -> None:
    """``GET /settings/admin/users/{user_id}`` is a public page: its placeholder never takes ``..``,
    ``.`` or an encoded path, which resolved would be human-only or admin routes."""
    found = route_map.need("GET", path)
    assert found is None or not found.is_public, (path, found)


@pytest.mark.parametrize(("path", "methods"), [
    ("/settings/admin/users/export", ["GET"]),        # a data route, bound as a public page
    ("/settings/admin/users/{proxy+}", ["GET"]),      # a greedy variable: all of it, public
    ("/assets/{proxy+}", ["GET"]),
])
def test_include_binds_only_templates_the_map_lists_exactly(path: str, methods: list[str]) -> None:
    """A router's template is looked up as written: a literal under a public placeholder, or a
    greedy ``{proxy+}``, is not in the map and fails at import, never bound public."""
    with pytest.raises(routing.NotInRouteMap):
        _bind(path, methods)


def test_a_non_ascii_method_is_not_folded_into_a_real_one() -> None:
    """``str.upper()`` follows Unicode: ``"poſt"`` (long s) would be looked up as ``POST``."""
    assert route_map.need("po\u017ft", "/me/pats") is None
    assert route_map.need("po\u017ft", "/workflows/agent-run-tokens") is None


def test_the_explicit_entries_are_exactly_this_apps_routes_plus_the_ui() -> None:
    """Every (method, path) of ``app.app.routes`` is an explicit entry with the same
    template, and every explicit entry is a route of this app (API or UI)."""
    bound = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert bound == set(ROUTES)


def test_no_family_catches_one_of_this_apps_routes_with_a_weaker_need() -> None:
    """An explicit entry always wins for its own template; where a family also holds the path,
    the family's need is not weaker than the entry's, but for the public UI pages and the minting
    route (which wins over its family by design)."""
    for (method, template), found in ROUTES.items():
        assert route_map.entry(method, template) is found
        for family in FAMILIES:
            if family.holds(template) and found.requirement is not None:
                if (method, template) == ("POST", "/workflows/agent-run-tokens"):
                    continue
                family_need = Need(HUMAN_ADMIN if family.admin else FAMILY_MEMBER)
                assert _at_least(family_need, found.requirement), (method, template)


def test_no_concrete_path_matches_two_explicit_entries_with_different_needs() -> None:
    """Among explicit entries of one method, no two templates of one length are compatible
    segment by segment (equal literals, or a placeholder against anything) with different needs:
    the first-match order never decides between two answers."""
    def compatible(a: str, b: str) -> bool:
        left, right = a.split("/"), b.split("/")
        return len(left) == len(right) and all(
            x == y or x.startswith("{") or y.startswith("{") for x, y in zip(left, right, strict=True))
    for ((m1, t1), n1), ((m2, t2), n2) in itertools.combinations(ROUTES.items(), 2):
        if m1 == m2 and compatible(t1, t2):
            assert n1 == n2, ((m1, t1), (m2, t2))


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/users-export"), ("GET", "/admin/usersx"), ("GET", "/settingsx"),
    ("GET", "/settings-admin"), ("GET", "/work-items-archive"), ("POST", "/queuesx/1"),
    ("GET", "/admin/invitesx"), ("GET", "/admin/email-templates"), ("GET", "/admin/settingsx"),
])
def test_a_prefix_sharing_only_its_start_is_not_held_by_the_family(method: str, path: str) -> None:
    """A family holds its prefix and ``prefix/…`` only."""
    assert route_map.need(method, path) is None


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/Admin/users"), ("GET", "/ADMIN/USERS"), ("GET", "/WORK-ITEMS"), ("GET", "/Me"),
    ("POST", "/ME/PATS"), ("GET", "/Settings/x"), ("GET", "/%61dmin/users"), ("GET", "/admin/%75sers"),
    ("GET", "//admin/users"), ("GET", "/admin//users"), ("GET", "/me//"), ("POST", "/me/pats//"),
    ("GET", "/\u0430dmin/users"), ("GET", "/admin/users\u200b"), ("GET", "/\uff41dmin/users"),
    ("GET", "admin/users"), ("GET", ""), ("GET", "//"), ("GET", "/."), ("GET", "/%2e"),
    ("GET", "/me?x=1"), ("GET", "/me#x"), ("GET", "/health?x"), ("GET", "/me/pats//rotate"),
    ("GET", "/assets/"), ("GET", "/assets/a//"), ("POST", "/auth/invites/claim//"),
])
def test_other_spellings_outside_a_family_are_refused(method: str, path: str) -> None:
    """Case, percent-encoded letters, doubled or trailing slashes, look-alikes, a query or
    fragment, a path without its leading slash: outside a family prefix each is None (refused)."""
    assert route_map.need(method, path) is None


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/users//", "/admin/users/.", "/admin/users/%2e%2e",
                                  "/admin/invites/x/../..", "/admin/settings/token-policy/",
                                  "/admin/users/usr_1/pats/revoke-all/"])
def test_a_variant_under_an_admin_prefix_still_needs_an_admin(path: str) -> None:
    """Under an admin prefix every spelling still lands in the admin family (no admin
    route has a stricter explicit entry than its family)."""
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        found = route_map.need(method, path)
        assert _at_least(found, HUMAN_ADMIN), (method, path, found)


@pytest.mark.parametrize("method", ["ANY", "*", "TRACE", "CONNECT", "PROPFIND", "", "G", "GETX"])
def test_an_unknown_method_is_refused_everywhere(method: str) -> None:
    """``ANY`` and ``*`` are not wildcards, and no family reads or writes with a method it does not know."""
    for path in ("/me", "/", "/work-items/wi_1", "/workflows/agent-run-tokens", "/admin/users"):
        assert route_map.need(method, path) is None


def test_options_writes_in_a_family_and_matches_no_entry() -> None:
    assert route_map.need("OPTIONS", "/me") is None
    found = route_map.need("OPTIONS", "/work-items/wi_1")
    assert found is not None and found.access is route_map.Access.WRITE


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/me"), ("POST", "/me/pats"), ("GET", "/assets/app.js"), ("POST", "/auth/invites/claim"),
    ("POST", "/workflows/agent-run-tokens"), ("GET", "/work-items/wi_1"), ("PUT", "/settings/x"),
    ("GET", "/settings/admin/users"),
])
def test_one_trailing_slash_is_the_route_without_it(method: str, path: str) -> None:
    """API Gateway routes ``/x/`` to the resource ``/x``: the map answers the same for both."""
    assert route_map.need(method, path + "/") == route_map.need(method, path)


def test_head_on_an_explicit_get_does_not_inherit_a_public_answer() -> None:
    """HEAD is a read in families but has no explicit entries: ``HEAD /`` is refused and
    ``HEAD /settings/admin/users`` needs a person's PAT (not the public page's nothing)."""
    assert route_map.need("HEAD", "/") is None
    assert route_map.need("HEAD", "/me") is None
    assert route_map.need("HEAD", "/settings/admin/users") == Need(HUMAN_READ_WRITE)


def test_lowercase_ascii_methods_get_the_uppercase_answer() -> None:
    """``get`` is looked up as ``GET``: never weaker than the real method."""
    assert route_map.need("get", "/admin/users") == route_map.need("GET", "/admin/users")
    assert route_map.need("post", "/workflows/agent-run-tokens") == Need(RUN_TOKEN_MINTER)


def test_an_empty_segment_never_fills_a_placeholder() -> None:
    """``{param}`` needs a non-empty segment: ``/me/pats//rotate`` and ``/assets/`` are not
    routes (API Gateway does not fill a path variable with an empty string either)."""
    assert route_map.need("POST", "/me/pats//rotate") is None
    assert route_map.need("DELETE", "/me/pats/") is None
    assert route_map.need("GET", "/settings/admin/users//") is None


def test_a_placeholder_matching_revoke_all_gives_the_same_need() -> None:
    """``{token_id}`` matches ``revoke-all`` (``DELETE /me/pats/revoke-all``), but with the
    same need as ``POST /me/pats/revoke-all``; likewise for the admin routes."""
    assert route_map.need("DELETE", "/me/pats/revoke-all") == Need(HUMAN_READ_WRITE)
    assert route_map.need("DELETE", "/admin/users/u/pats/revoke-all") == Need(HUMAN_ADMIN)
    assert route_map.need("POST", "/me/pats/revoke-all/rotate") == Need(HUMAN_READ_WRITE)


def test_a_family_member_need_is_never_given_to_an_admin_path() -> None:
    """The admin and read_write family prefixes do not overlap, and no read_write prefix is
    a prefix (at a segment boundary) of an admin one."""
    admin = [p for f in FAMILIES if f.admin for p in f.prefixes]
    member = [p for f in FAMILIES if not f.admin for p in f.prefixes]
    for a, m in itertools.product(admin, member):
        assert not (a == m or a.startswith(m + "/") or m.startswith(a + "/"))


def test_an_overlong_path_is_answered_without_a_crash() -> None:
    """1 MB paths (many segments, one huge segment): refused outside a family, admin under one."""
    assert route_map.need("GET", "/a" * 500_000) is None
    assert route_map.need("GET", "/" + "a" * 1_000_000) is None
    found = route_map.need("GET", "/admin/users/" + "x/" * 200_000)
    assert found is not None and found.requirement == HUMAN_ADMIN
