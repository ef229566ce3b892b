"""Request models: every body and query string is validated here before the domain sees it.

The routers import this module inside the views that need it: pydantic is slow to import, and
the authorizer never needs it (tests/test_layers.py holds that).
"""
from __future__ import annotations

import functools
import ipaddress
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.errors import InvalidRequest
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.addresses import MAX_RANGES, AllowedIps
from chalicelib.model.families import FAMILIES
from chalicelib.model.grants import Grant, Permission
from chalicelib.model.kinds import Scope
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import (
    LEFT_OUT,
    MAX_GRACE_SECONDS,
    RUN_TOKEN_DEFAULT_SECONDS,
    RUN_TOKEN_MAX_SECONDS,
)

Model = TypeVar("Model", bound=BaseModel)

# Characters that are invisible or change how the text around them displays: controls (Cc),
# format characters (Cf: zero-width spaces and joiners, direction marks and overrides, the
# byte-order mark, tag characters), line and paragraph separators, surrogates and unassigned
# code points. A name holding one can look like another name ("Trojan Source", homograph lists).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
# Letters and symbols that render as blank space (Hangul fillers, the braille blank).
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible_and_trimmed(value: str) -> str:
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in value):
        raise PydanticCustomError(
            "invisible_characters",
            "must not contain control, format or invisible characters (such as zero-width spaces "
            "or direction marks)",
        )
    if all(char.isspace() or char in _FILLERS for char in value):
        raise PydanticCustomError("blank", "must contain a visible character")
    return value.strip()


# RFC 3339 date-time with a time zone (Z or ±hh:mm); no epoch numbers, no bare dates.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> datetime:
    """Parsed here, not by pydantic, which would also take epoch numbers and numeric strings.
    Fractions of a second are dropped: times are kept to the second, and a rule checked on a
    finer time than the one stored could pass a token that is already dead when stored."""
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper()).replace(microsecond=0)
        except ValueError:
            pass
    raise PydanticCustomError(
        "rfc3339", "must be an RFC 3339 date-time with a time zone, such as 2027-01-31T00:00:00Z"
    )


def _plain_integer_text(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,9}", value):
        raise PydanticCustomError("plain_integer", "must be a whole number written with digits only")
    return value


def _whole_number(value: object) -> object:
    """``531.0`` as 531: JSON Schema, which openapi.yaml is written in, counts a number with a zero
    fraction as an integer, so a client that writes one is answered as if it wrote 531. Any other
    number (``531.5``, ``true``) is left to the strict integer check, which refuses it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a body: strict, but a number with a zero fraction counts (see _whole_number).
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]

# 1-100 characters as sent, not blank, no control characters; surrounding spaces are trimmed.
# (Checked as sent, then trimmed, so that openapi.yaml can state the same rule.)
DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_visible_and_trimmed),
]

# An instant sent by a client: RFC 3339 text with a time zone, nothing pydantic would also take.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]

def _family(families: tuple[str, ...], which: str, name: str) -> str:
    """``name``, a resource family among ``families`` (a 400 naming them otherwise)."""
    if name not in families:
        raise PydanticCustomError("family", "{which} are {families}", {"which": which, "families": ", ".join(families)})
    return name


# Any resource family of the route map; one an agent run token may be given (never an admin one).
AnyFamily = Annotated[str, AfterValidator(functools.partial(
    _family, tuple(family.name for family in FAMILIES), "the resource families"))]
RunFamily = Annotated[str, AfterValidator(functools.partial(
    _family, tuple(family.name for family in FAMILIES if not family.admin), "a run token's families"))]


class _Body(BaseModel):
    # strict: "1" is not a number and 1 is not a string; forbid: a typo'd field is an error.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def given(self, field: str) -> Any:
        """The field's value, or LEFT_OUT when the client left it out (not the same as null)."""
        return getattr(self, field) if field in self.model_fields_set else LEFT_OUT


class _Query(BaseModel):
    # Query values arrive as strings, so they are parsed leniently ("20" is the number 20).
    model_config = ConfigDict(extra="forbid", frozen=True)


def _address(text: str) -> str:
    """One IPv4 or IPv6 address, as written."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise PydanticCustomError("ip_address", "must be an IPv4 or IPv6 address, such as 203.0.113.7") from None
    return text


def _ranges(texts: list[str]) -> list[str]:
    """IP ranges a client wrote, checked (a 400 saying which is not one) and made canonical."""
    try:
        return AllowedIps.parse(texts).as_list()
    except ValueError as problem:
        raise PydanticCustomError("ip_range", str(problem)) from None


class CreatePatRequest(_Body):
    """Body of ``POST /me/pats``: a preset ``scope``, or ``permissions`` family by family."""

    name: DisplayName
    scope: Scope | None = None
    permissions: dict[AnyFamily, Permission] | None = None
    expires_at: Timestamp | None = Field(default=None, alias="expiresAt")
    allowed_ips: Annotated[list[Annotated[str, StringConstraints(max_length=64)]],
                           Field(max_length=MAX_RANGES), AfterValidator(_ranges)] | None = Field(
        default=None, alias="allowedIps")

    @model_validator(mode="after")
    def _one_grant(self) -> CreatePatRequest:
        if (self.scope is None) == (self.permissions is None):
            raise PydanticCustomError("one_grant", "give scope or permissions (one of them)")
        _require_some_family(self.permissions)
        return self

    def grant(self) -> Grant | None:
        """The grant asked for family by family, or None (a preset scope)."""
        return Grant.of(self.permissions) if self.permissions is not None else None

    def addresses(self) -> AllowedIps | None:
        """The IP ranges asked for, or None (left out: the calling token's)."""
        return AllowedIps.parse(self.allowed_ips) if self.allowed_ips is not None else None


class NarrowPatRequest(_Body):
    """Body of ``PATCH /me/pats/{id}``: a narrower grant (a preset ``scope``, or ``permissions``
    family by family), an earlier ``expiresAt``, or both."""

    scope: Scope | None = None
    permissions: dict[AnyFamily, Permission] | None = None
    expires_at: Timestamp | None = Field(default=None, alias="expiresAt")
    dry_run: bool = Field(default=False, alias="dryRun")

    @model_validator(mode="after")
    def _something_narrower(self) -> NarrowPatRequest:
        if self.scope is not None and self.permissions is not None:
            raise PydanticCustomError("one_grant", "give scope or permissions, not both")
        if "expires_at" in self.model_fields_set and self.expires_at is None:
            raise PydanticCustomError("expiry_kept", "narrowing cannot take an expiry away: give expiresAt a time, "
                                                     "or leave it out")
        if self.scope is None and self.permissions is None and self.expires_at is None:
            raise PydanticCustomError("nothing_to_narrow", "give scope, permissions or expiresAt: what to narrow")
        _require_some_family(self.permissions)
        return self

    def grant(self) -> Grant | None:
        """The grant asked for (by preset or family by family), or None (the token's own)."""
        if self.permissions is not None:
            return Grant.of(self.permissions)
        return Grant.of_scope(self.scope) if self.scope is not None else None


def _require_some_family(permissions: Mapping[str, Permission] | None) -> None:
    """A grant given family by family reads or writes at least one family."""
    if permissions is not None and all(permission is Permission.NONE for permission in permissions.values()):
        raise PydanticCustomError("empty_grant", "give at least one resource family read or write")


class RotatePatRequest(_Body):
    """Body of ``POST /me/pats/{id}/rotate`` (optional). ``expiresAt`` left out keeps the old
    token's lifetime length; ``null`` asks for a token that does not expire."""

    expires_at: Timestamp | None = Field(default=None, alias="expiresAt")
    grace_seconds: WholeNumber = Field(default=0, ge=0, le=MAX_GRACE_SECONDS, alias="graceSeconds")


class CreateInviteRequest(_Body):
    """Body of ``POST /admin/invites``."""

    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    role: Role = Role.MEMBER
    expires_at: Timestamp | None = Field(default=None, alias="expiresAt")


class ClaimInviteRequest(_Body):
    """Body of ``POST /auth/invites/claim``."""

    token: str = Field(min_length=1, max_length=256)


class TokenCheckRequest(_Body):
    """Body of ``POST /auth/token-check``: the token to check, sent in the body, never as a bearer."""

    token: str = Field(min_length=1, max_length=256)


class IntrospectionRequest(_Body):
    """Body of ``POST /auth/introspect`` (RFC 7662, as a form or as JSON): the token to judge, the
    kind its sender guesses it is (ignored: every kind is judged), and the address the service's
    client came from, judged against the token's allowed addresses."""

    token: str = Field(min_length=1, max_length=256)
    token_type_hint: str | None = Field(default=None, max_length=64)
    client_ip: Annotated[str, AfterValidator(_address)] | None = Field(default=None, max_length=64)


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
    expires_in_seconds: WholeNumber = Field(
        default=RUN_TOKEN_DEFAULT_SECONDS, ge=60, le=RUN_TOKEN_MAX_SECONDS, alias="expiresInSeconds"
    )
    # narrowed to what one run needs: read_write families only, at least one of them read or write
    permissions: dict[RunFamily, Permission] | None = None

    @field_validator("permissions")
    @classmethod
    def _gives_something(cls, value: dict[str, Permission] | None) -> dict[str, Permission] | None:
        if value is not None and all(permission is Permission.NONE for permission in value.values()):
            raise PydanticCustomError("empty_grant", "give at least one resource family read or write")
        return value

    def grant(self) -> Grant | None:
        """The narrowed grant asked for, or None (the minting token's)."""
        return Grant.of(self.permissions) if self.permissions is not None else None


class CreateAccessLinkRequest(_Body):
    """Body of ``POST /admin/users/{id}/access-links`` (optional)."""

    expires_at: Timestamp | None = Field(default=None, alias="expiresAt")


# http(s), a host name (no user info: "https://github.com@evil.example" names evil.example), an
# optional port, then URL characters without quotes or angle brackets: the address is shown to
# token owners in a sentence. The same pattern is in openapi.yaml.
_TOKEN_IN_TEXT = re.compile(r"oi_[a-z]+_[0-9A-Za-z]")
_WEB_ADDRESS = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][A-Za-z0-9._~:/?#\[\]!$&'()*+,;=%-]*)?")


class RevokeCredentialsRequest(_Body):
    """Body of ``POST /credentials/revoke``: strings found somewhere public, and where."""

    credentials: list[Annotated[str, StringConstraints(max_length=1000)]] = Field(min_length=1, max_length=1000)
    source: Annotated[str, StringConstraints(max_length=2048)] | None = None

    @field_validator("source")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        # Printable ASCII only: the address is shown back to token owners, in pages and terminals.
        if value is not None and not _WEB_ADDRESS.fullmatch(value):
            raise PydanticCustomError("url", "must be an http or https URL with a plain host name (no user info "
                                      "such as user@), without spaces, quotes or angle brackets")
        if value is not None and _TOKEN_IN_TEXT.search(value):
            # It is logged and shown to owners: a token in it would be a secret written in clear.
            raise PydanticCustomError("url", "must not contain a token; send tokens in credentials")
        return value


LifetimeDays = Annotated[WholeNumber, Field(ge=1, le=3650)]


class TokenPolicyRequest(_Body):
    """Body of ``PUT /admin/settings/token-policy``: the whole policy (leave nothing out)."""

    max_lifetime_days: LifetimeDays | None = Field(alias="maxLifetimeDays")
    require_expiry: bool = Field(alias="requireExpiry")
    admin_max_lifetime_days: LifetimeDays | None = Field(alias="adminMaxLifetimeDays")
    run_token_max_seconds: WholeNumber = Field(ge=60, le=86400, alias="runTokenMaxSeconds")
    refuse_read_write_preset: bool = Field(alias="refuseReadWritePreset")

    def policy(self) -> TokenPolicy:
        return TokenPolicy.from_fields(self.model_dump(by_alias=True))


def _true_or_false(value: object) -> object:
    if value not in ("true", "false"):
        raise PydanticCustomError("boolean", "must be true or false")
    return value == "true"


class ImpactQuery(_Query):
    """Query of ``GET /admin/settings/token-policy/impact``: a proposed policy (absent: no limit)."""

    max_lifetime_days: Annotated[LifetimeDays | None, BeforeValidator(_plain_integer_text)] = Field(
        default=None, alias="maxLifetimeDays")
    require_expiry: Annotated[bool, BeforeValidator(_true_or_false)] = Field(default=False, alias="requireExpiry")
    admin_max_lifetime_days: Annotated[LifetimeDays | None, BeforeValidator(_plain_integer_text)] = Field(
        default=None, alias="adminMaxLifetimeDays")
    refuse_read_write_preset: Annotated[bool, BeforeValidator(_true_or_false)] = Field(
        default=False, alias="refuseReadWritePreset")

    def policy(self) -> TokenPolicy:
        return TokenPolicy.from_fields(self.model_dump(by_alias=True))


class PageQuery(_Query):
    """Query of a paginated list: ``limit`` and the ``cursor`` from the previous page."""

    limit: Annotated[int, BeforeValidator(_plain_integer_text)] = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=64)


def parse_body(model: type[Model], raw_body: str | bytes | None) -> Model:
    """The validated body, or InvalidRequest (400) saying what is wrong with it; a field sent twice
    is refused (a parser that takes the last one and a proxy that takes the first one would judge
    different requests)."""
    if not raw_body:
        raise InvalidRequest("Invalid request: the request body must be a JSON object.")
    try:
        json.loads(raw_body, object_pairs_hook=_each_key_once)
    except _KeyRepeated:
        raise InvalidRequest("Invalid request: each field may be sent once.") from None
    except (ValueError, RecursionError):
        pass  # not JSON, or nested beyond what Python parses: pydantic says so below, in its words
    try:
        return model.model_validate_json(raw_body)
    except ValidationError as error:
        raise InvalidRequest(_describe(error)) from None


class _KeyRepeated(Exception):
    """A JSON object holds a key twice."""


def _each_key_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _KeyRepeated()
    return found


def parse_form(model: type[Model], raw_body: str | bytes | None) -> Model:
    """The validated body of an HTML form (``application/x-www-form-urlencoded``, as RFC 7662's
    clients send it), each parameter at most once; InvalidRequest (400) otherwise."""
    try:
        text = raw_body.decode() if isinstance(raw_body, bytes) else raw_body or ""
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("Invalid request: the body is not a form (name=value pairs joined by &, "
                             "percent-encoded UTF-8).") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidRequest("Invalid request: each parameter may be sent once.")
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise InvalidRequest(_describe(error)) from None


def parse_query(model: type[Model], params: Mapping[str, str] | None) -> Model:
    """The validated query string, or InvalidRequest (400)."""
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as error:
        raise InvalidRequest(_describe(error)) from None


# Pydantic's wording for the limits people hit, said plainly.
_IN_WORDS = {
    "string_too_long": "at most {max_length} characters",
    "greater_than_equal": "at least {ge}",
    "less_than_equal": "at most {le}",
}


# A field name as the API writes its own (``expiresAt``, ``token_type_hint``, ``permissions.x``):
# an unknown one longer or stranger than that may be a secret pasted in the wrong place.
_PLAIN_NAME = re.compile(r"(?!oi_)[A-Za-z][A-Za-z0-9_.<> ]{0,39}")

# Fields whose keys the client chooses: a key is said as what it stands for, never repeated.
_MAPS = {"permissions": "a family"}


def _field_path(loc: tuple[int | str, ...]) -> list[str]:
    """The path to a problem, with a key of a map the client wrote said in words."""
    path: list[str] = []
    for part in loc:
        if path and path[-1] in _MAPS:
            path.append(f"<{_MAPS[path[-1]]}>")
            break
        path.append(str(part))
    return path


def _describe(error: ValidationError) -> str:
    """One readable sentence per problem; never echoes the rejected value."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(_field_path(item["loc"]))
        if item["type"] == "json_invalid":
            problems.append("the request body is not valid JSON")
        elif not field and item["type"] in ("model_type", "model_attributes_type", "dict_type"):
            problems.append("the request body must be a JSON object")
        elif not field:
            problems.append(item["msg"])
        elif item["type"] == "extra_forbidden":  # named only when it is a plain name, never a secret sent as one
            problems.append(f"{field}: unknown field" if _PLAIN_NAME.fullmatch(field) else "an unknown field")
        elif item["type"] == "missing":
            problems.append(f"{field}: required")
        elif item["type"] == "string_too_short" and item.get("ctx", {}).get("min_length") == 1:
            problems.append(f"{field}: required, and it cannot be empty")
        elif item["type"] in _IN_WORDS:
            problems.append(f"{field}: {_IN_WORDS[item['type']].format(**item.get('ctx', {}))}")
        else:
            problems.append(f"{field}: {item['msg']}")
    # Each problem is a clause of one sentence: no full stop of its own (pydantic's may have one).
    return "Invalid request: " + "; ".join(problem.rstrip(".") for problem in problems[:5]) + "."
