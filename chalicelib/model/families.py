"""The families of OpenIndex resources, by the path prefixes their routes start with: what the
route map's convention and a token's grant are both written in."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    """What a request does to a family's resources."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Family:
    """A family of OpenIndex resources: the path prefixes its routes start with, and whether it
    is instance administration (a person's admin token only)."""

    name: str
    prefixes: tuple[str, ...]
    admin: bool = False

    def holds(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)


FAMILIES = (
    Family("work_items", ("/work-items",)),
    Family("queues", ("/queues",)),
    Family("domains", ("/domains",)),
    Family("workflows", ("/workflows",)),
    Family("calendar_sources", ("/calendar-sources",)),
    Family("conversations", ("/conversations",)),
    Family("users", ("/admin/users", "/admin/invites"), admin=True),
    Family("ai_providers", ("/admin/ai-providers",), admin=True),
    Family("email", ("/admin/email",), admin=True),
    Family("instance_settings", ("/admin/settings",), admin=True),
    # Asking this service whether another token is live (POST /auth/introspect): for a service
    # outside API Gateway, given by an admin; read is what it needs.
    Family("token_introspection", ("/auth/introspect",), admin=True),
)
