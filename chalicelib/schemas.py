"""Request models: every body and query string is validated here before the domain sees it.

app.py imports this module lazily (pydantic is slow to import and the authorizer never needs it).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.agent_runs import DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS
from chalicelib.errors import InvalidRequest
from chalicelib.models import Role, Scope, UserStatus

Model = TypeVar("Model", bound=BaseModel)

# Bidirectional overrides and isolates can make a name display as something else ("Trojan Source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable_and_trimmed(value: str) -> str:
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS for char in value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value.strip()


# 1-100 characters as sent, not blank, no control characters; surrounding spaces are trimmed.
# (Checked as sent, then trimmed, so that openapi.yaml can state the same rule.)
DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_printable_and_trimmed),
]


class _Body(BaseModel):
    # strict: "1" is not a number and 1 is not a string; forbid: a typo'd field is an error.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Query(BaseModel):
    # Query values arrive as strings, so they are parsed leniently ("20" is the number 20).
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreatePatRequest(_Body):
    """Body of ``POST /me/pats``."""

    name: DisplayName
    scope: Scope
    expires_at: AwareDatetime | None = Field(default=None, alias="expiresAt")


class CreateInviteRequest(_Body):
    """Body of ``POST /admin/invites``."""

    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    role: Role = Role.MEMBER
    expires_at: AwareDatetime | None = Field(default=None, alias="expiresAt")


class ClaimInviteRequest(_Body):
    """Body of ``POST /auth/invites/claim``."""

    token: str = Field(min_length=1, max_length=256)


class UpdateUserRequest(_Body):
    """Body of ``PATCH /admin/users/{id}``: a new status, a new role, or both."""

    status: UserStatus | None = None
    role: Role | None = None

    @field_validator("status", "role", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("null", "must not be null (leave the field out instead)")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateUserRequest:
        if self.status is None and self.role is None:
            raise PydanticCustomError("nothing_to_change", "give status, role or both")
        return self


class CreateRunTokenRequest(_Body):
    """Body of ``POST /workflows/agent-run-tokens``."""

    agent_id: DisplayName = Field(alias="agentId")
    stage: DisplayName | None = None
    expires_in_seconds: int = Field(
        default=DEFAULT_LIFETIME_SECONDS, ge=60, le=MAX_LIFETIME_SECONDS, alias="expiresInSeconds"
    )


class PageQuery(_Query):
    """Query of a paginated list: ``limit`` and the ``cursor`` from the previous page."""

    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=64)


def parse_body(model: type[Model], raw_body: bytes | None) -> Model:
    """The validated body, or InvalidRequest (400) saying what is wrong with it."""
    if not raw_body:
        raise InvalidRequest("Invalid request: the request body must be a JSON object.")
    try:
        return model.model_validate_json(raw_body)
    except ValidationError as error:
        raise InvalidRequest(_describe(error)) from None


def parse_query(model: type[Model], params: Mapping[str, str] | None) -> Model:
    """The validated query string, or InvalidRequest (400)."""
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as error:
        raise InvalidRequest(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    """One readable sentence per problem; never echoes the rejected value."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in item["loc"])
        if item["type"] == "json_invalid":
            problems.append("the request body is not valid JSON")
        elif not field:
            problems.append("the request body must be a JSON object")
        elif item["type"] == "extra_forbidden":
            problems.append(f"{field}: unknown field")
        elif item["type"] == "missing":
            problems.append(f"{field}: required")
        else:
            problems.append(f"{field}: {item['msg']}")
    return "Invalid request: " + "; ".join(problems[:5]) + "."
