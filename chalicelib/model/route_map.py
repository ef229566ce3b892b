"""The route map: what a token needs for each route of every OpenIndex API, in one place.

A request is found by its method and path, in this order: an explicit entry (this service's own
routes, and the exceptions to the convention), then the convention of the resource family whose
prefix the path starts with (``GET``/``HEAD`` read, any other method writes), then the human-only
``/settings/…``. A request that matches nothing is not in the map: it is refused, never allowed by
default. So is any path written other than plainly (an empty, ``.`` or ``..`` segment, a
percent-encoded or unusual character): a backend that resolves or decodes it could serve another
route than the one the map judged. Public entries (the UI's pages, the invite claim, the leak
report, health) need no token at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import InsufficientScope
from chalicelib.model.caller import Caller
from chalicelib.model.families import FAMILIES, Access, Family
from chalicelib.model.grants import needed
from chalicelib.model.kinds import Scope
from chalicelib.model.requirements import (
    ANY_TOKEN,
    HUMAN_ADMIN,
    HUMAN_READ_WRITE,
    RUN_TOKEN_MINTER,
    Requirement,
)
from chalicelib.model.used import family_use, preset_use

FAMILY_MEMBER = Requirement(Scope.READ_WRITE, people_only=False)


def _requirement(family: Family) -> Requirement:
    """What a family's route asks of a token besides its grant (admin families: a person's)."""
    return HUMAN_ADMIN if family.admin else FAMILY_MEMBER


# A person's own settings: a person's read_write or admin token, never an agent's or a read-only one.
HUMAN_ONLY_PREFIX = "/settings"


@dataclass(frozen=True)
class Need:
    """What a route needs: a token meeting ``requirement`` (None: no token, a public route),
    and the family and access it is counted under, when it has one."""

    requirement: Requirement | None
    family: str | None = None
    access: Access | None = None

    @property
    def is_public(self) -> bool:
        return self.requirement is None

    @property
    def use(self) -> str | None:
        """How an allowed request is recorded among what its token used (chalicelib.model.used):
        a family's route by its family and access, a route only an unnarrowed token may call
        by its scope; None for any other (``GET /me``: every token may call it)."""
        if self.family is not None and self.access is not None:
            return family_use(self.family, self.access)
        if self.requirement is not None and self.requirement.people_only:
            return preset_use(self.requirement.scope)
        return None

    def check(self, caller: Caller) -> None:
        """Raise InsufficientScope unless the caller's token meets this need: a family's route by
        the token's grant (and, for an admin family, a person's token), any other by its
        requirement."""
        assert self.requirement is not None  # a public route needs no check
        if self.family is None or self.access is None:
            self.requirement.check(caller)
            return
        wanted = needed(self.family, self.access)
        if self.requirement.people_only and not caller.kind.spec.held_by_person:
            raise InsufficientScope("Workflow agent run tokens cannot be used here; use a human-owned personal "
                                    "access token.", required_scope=wanted)
        if not caller.grant.allows(self.family, self.access):
            words = self.family.replace("_", " ")
            raise InsufficientScope(f"This route needs permission to {self.access.value} {words} ({wanted}); "
                                    "this token's grant does not include it.", required_scope=wanted)


PUBLIC = Need(None)

_READS = frozenset({"GET", "HEAD"})
_METHODS = _READS | {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A plain segment: RFC 3986's unreserved characters and the sub-delimiters no server strips (no
# "%", "\\" or ";"), never "." or "..", and no "*" (a wildcard in the IAM policy an authorizer
# returns for the route: the policy would allow other routes too).
_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()+,=:@-]+")


def _mine(requirement: Requirement, *routes: tuple[str, str]) -> dict[tuple[str, str], Need]:
    return {route: Need(requirement) for route in routes}


# This service's own routes (method, path template), and the exceptions to the convention.
ROUTES: dict[tuple[str, str], Need] = {
    **_mine(ANY_TOKEN, ("GET", "/me")),
    **_mine(HUMAN_READ_WRITE,
            ("GET", "/me/security-events"),
            ("POST", "/me/pats"), ("GET", "/me/pats"), ("DELETE", "/me/pats/{token_id}"),
            ("PATCH", "/me/pats/{token_id}"), ("POST", "/me/pats/{token_id}/rotate"), ("POST", "/me/pats/revoke-all"),
            ("GET", "/me/agent-run-tokens"), ("DELETE", "/me/agent-run-tokens/{run_id}")),
    # A person's read_write PAT mints a run token; neither a run token nor an admin token may.
    **_mine(RUN_TOKEN_MINTER, ("POST", "/workflows/agent-run-tokens")),
    **_mine(HUMAN_ADMIN,
            ("POST", "/admin/invites"), ("GET", "/admin/invites"), ("DELETE", "/admin/invites/{invite_id}"),
            ("GET", "/admin/users"), ("GET", "/admin/users/{user_id}"), ("PATCH", "/admin/users/{user_id}"),
            ("GET", "/admin/users/{user_id}/pats"), ("DELETE", "/admin/users/{user_id}/pats/{token_id}"),
            ("POST", "/admin/users/{user_id}/pats/revoke-all"),
            ("GET", "/admin/users/{user_id}/agent-run-tokens"),
            ("DELETE", "/admin/users/{user_id}/agent-run-tokens/{run_id}"),
            ("POST", "/admin/users/{user_id}/access-links"),
            ("GET", "/admin/settings/token-policy"), ("PUT", "/admin/settings/token-policy"),
            ("GET", "/admin/settings/token-policy/impact")),
    # A POST that only reads: it sends the token in the body, as RFC 7662 has it.
    ("POST", "/auth/introspect"): Need(HUMAN_ADMIN, "token_introspection", Access.READ),
    **{route: PUBLIC for route in (
        ("GET", "/health"), ("POST", "/auth/invites/claim"), ("POST", "/credentials/revoke"),
        ("POST", "/auth/token-check"),
        # the web UI: pages (the ones under /settings too: a page holds no data, its script
        # calls the API with the tab's token) and their assets
        ("GET", "/"), ("GET", "/sign-in"), ("GET", "/invite"), ("GET", "/settings/personal/tokens"),
        ("GET", "/settings/admin/users"), ("GET", "/settings/admin/users/{user_id}"),
        ("GET", "/settings/admin/invites"), ("GET", "/settings/admin/token-policy"),
        ("GET", "/assets/{name}"), ("GET", "/favicon.ico"),
    )},
}


def _by_shape(routes: dict[tuple[str, str], Need]) -> dict[tuple[str, int], list[tuple[list[str], Need]]]:
    """The explicit entries by method and number of segments, in the map's order: a request is
    matched against the few that could fit it, on every request the authorizer judges."""
    shapes: dict[tuple[str, int], list[tuple[list[str], Need]]] = {}
    for (method, template), found in routes.items():
        shapes.setdefault((method, template.count("/")), []).append((template.split("/")[1:], found))
    return shapes


_BY_SHAPE = _by_shape(ROUTES)


def need(method: str, path: str) -> Need | None:
    """What a request with ``method`` to the concrete ``path`` needs; None when the map has no
    such route, or the path is not written plainly (it is refused, whatever the token)."""
    return _need(method, path, public=True)


def guarded_need(method: str, path: str) -> Need | None:
    """What the authorizer asks of a request: :func:`need`, the public entries left out. A public
    route carries no authorizer, so an authorizer asked about a public path guards another
    API's route there (a page of this service's UI is a public path; another service's
    ``/settings/…`` is a person's), judged by the convention."""
    return _need(method, path, public=False)


def _need(method: str, path: str, public: bool) -> Need | None:
    method = method.upper() if method.isascii() else ""
    segments = _plain_segments(path)
    if method not in _METHODS or segments is None:
        return None
    for template, found in _BY_SHAPE.get((method, len(segments)), []):
        if (public or not found.is_public) and _fits(template, segments):
            return found
    path = "/" + "/".join(segments)
    for family in FAMILIES:
        if family.holds(path):
            return Need(_requirement(family), family.name, Access.READ if method in _READS else Access.WRITE)
    if path == HUMAN_ONLY_PREFIX or path.startswith(HUMAN_ONLY_PREFIX + "/"):
        return Need(HUMAN_READ_WRITE)
    return None


def entry(method: str, template: str) -> Need | None:
    """The explicit entry of a route template exactly as it is written (for binding routes: a
    template the map does not list is refused, never matched to a placeholder)."""
    return ROUTES.get((method, template))


def _plain_segments(path: str) -> list[str] | None:
    """The segments of a plainly written absolute path (one trailing slash allowed: API Gateway
    routes ``/x/`` to ``/x``), or None."""
    if path == "/":
        return [""]
    if not path.startswith("/"):
        return None
    segments = path.removesuffix("/").split("/")[1:]
    plain = all(_SEGMENT.fullmatch(segment) and segment not in (".", "..") for segment in segments)
    return segments if plain else None


def _fits(template: list[str], segments: list[str]) -> bool:
    """Whether plain ``segments`` fit a template's, a ``{name}`` standing for one whole segment."""
    return len(template) == len(segments) and all(
        part == segment or (part.startswith("{") and part.endswith("}") and segment != "")
        for part, segment in zip(template, segments, strict=True))
