"""Every record <-> item codec, in one place: a new field is one line here (and one in the model).

Attribute names are the API's camelCase; times are RFC 3339 text in UTC (they compare as time
does), ``ttl`` epoch seconds for DynamoDB's TTL (never trusted for expiry: the readers decide).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.model.accounts import Role, User, UserStatus
from chalicelib.model.addresses import AllowedIps
from chalicelib.model.events import RETENTION, EventType, SecurityEvent
from chalicelib.model.expiry_notices import is_announceable, utc_day
from chalicelib.model.grants import Grant
from chalicelib.model.invites import Invite, InviteStatus
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.token_policy import TokenPolicy
from chalicelib.model.tokens import TokenRecord
from chalicelib.model.used import Used
from chalicelib.storage.keys import (
    INVITE_INDEX_KEY,
    POLICY_KEY,
    PROFILE,
    TOKEN,
    USER_INDEX_KEY,
    compromised_key,
    event_key,
    invite_key,
    token_key,
    user_key,
)
from chalicelib.storage.table import Item, marshal, unmarshal
from chalicelib.timeutil import from_iso, to_epoch, to_iso

# Claimed, revoked and expired invites stay this long (answering 409/410, not 404), then TTL reaps them.
INVITE_RETENTION = timedelta(days=30)
# On a token's item, when it last caused each repeatable security event: ``told_<event type>``.
_TOLD = "told_"


def is_policy(item: Item) -> bool:
    return bool(item["pk"] == POLICY_KEY["pk"] and item["sk"] == POLICY_KEY["sk"])


def is_profile(item: Item) -> bool:
    return bool(item["sk"]["S"] == PROFILE)


def is_token(item: Item) -> bool:
    return bool(item["sk"]["S"].startswith(TOKEN))


def told_attribute(event_type: EventType) -> str:
    """The token item's attribute that says when it last caused an event of this type."""
    return f"{_TOLD}{event_type.value}"


def policy_item(policy: TokenPolicy, *, updated_by: str, now: datetime) -> Item:
    return {**POLICY_KEY, **marshal({**policy.to_fields(), "updatedBy": updated_by, "updatedAt": to_iso(now)})}


def policy_from_item(item: Item) -> TokenPolicy:
    return TokenPolicy.from_fields(unmarshal(item))


def token_item(token: TokenRecord) -> Item:
    return {**token_key(token.user_id, token.id), **marshal({
        "expiresOn": expiry_day(token),
        "id": token.id,
        "userId": token.user_id,
        "name": token.name,
        "scope": token.scope.value,
        "kind": token.kind.value,
        "digest": token.digest,
        "createdAt": to_iso(token.created_at),
        "expiresAt": to_iso(token.expires_at) if token.expires_at else None,
        "ttl": to_epoch(token.expires_at) if token.expires_at else None,
        "lastUsedAt": to_iso(token.last_used_at) if token.last_used_at else None,
        "lastUsedIp": token.last_used_ip,
        "lastUsedUserAgent": token.last_used_user_agent,
        "rotatedTo": token.rotated_to,
        "expiresBeforeRotation": _before_rotation(token),
        "rotatedFrom": token.rotated_from,
        "successorRevoked": True if token.successor_revoked else None,
        "notAfter": to_iso(token.not_after) if token.not_after else None,
        "agentId": token.agent_id,
        "stage": token.stage,
        "parentId": token.parent_id,
        "permissions": token.permissions.to_text() if token.permissions is not None else None,
        "usedPermissions": set(token.used.uses) or None,  # a string set, which ADD grows (never empty)
        "usedSince": to_iso(token.used.since) if token.used.since else None,
        "allowedIps": token.allowed_ips.to_text() or None,
        "createdByUserId": token.created_by_user_id,
        "createdByTokenId": token.created_by_token_id,
        "createdViaInviteId": token.created_via_invite_id,
        "lineageIssuedAt": token.lineage_issued_ms,
        "revocationsSeen": token.revocations_seen[0] if token.revocations_seen else None,
        "adminRevocationsSeen": token.revocations_seen[1] if token.revocations_seen else None,
        **{f"{_TOLD}{name}": to_iso(at) for name, at in token.told.items()},
    })}


def expiry_day(token: TokenRecord) -> str | None:
    """The token's key in the expiry index (its expiry's UTC day), or None when it is not indexed:
    every write that changes a PAT's expiry, rotates it or deletes it keeps this (TokenStore)."""
    if not is_announceable(token) or token.expires_at is None:
        return None
    return utc_day(token.expires_at).isoformat()


def token_from_item(item: Item) -> TokenRecord:
    fields = unmarshal(item)
    return TokenRecord(
        id=fields["id"],
        user_id=fields["userId"],
        name=fields["name"],
        scope=Scope(fields["scope"]),
        kind=TokenKind(fields["kind"]),
        digest=fields["digest"],
        created_at=from_iso(fields["createdAt"]),
        expires_at=from_iso(fields["expiresAt"]) if "expiresAt" in fields else None,
        lifetime_expires_at=_lifetime_expiry(fields),
        last_used_at=from_iso(fields["lastUsedAt"]) if "lastUsedAt" in fields else None,
        last_used_ip=fields.get("lastUsedIp"),
        last_used_user_agent=fields.get("lastUsedUserAgent"),
        rotated_to=fields.get("rotatedTo"),
        rotated_from=fields.get("rotatedFrom"),
        successor_revoked=bool(fields.get("successorRevoked")),
        deleted_at=from_iso(fields["deletedAt"]) if "deletedAt" in fields else None,
        not_after=from_iso(fields["notAfter"]) if "notAfter" in fields else None,
        told={name.removeprefix(_TOLD): from_iso(value) for name, value in fields.items()
              if name.startswith(_TOLD)},
        agent_id=fields.get("agentId"),
        stage=fields.get("stage"),
        parent_id=fields.get("parentId"),
        permissions=Grant.from_text(fields["permissions"]) if "permissions" in fields else None,
        allowed_ips=AllowedIps.from_text(fields.get("allowedIps", "")),
        used=Used.of(fields.get("usedPermissions", ()),
                     from_iso(fields["usedSince"]) if "usedSince" in fields else None),
        created_by_user_id=fields.get("createdByUserId"),
        created_by_token_id=fields.get("createdByTokenId"),
        created_via_invite_id=fields.get("createdViaInviteId"),
        lineage_issued_ms=fields.get("lineageIssuedAt"),
        revocations_seen=((fields["revocationsSeen"], fields["adminRevocationsSeen"])
                          if "revocationsSeen" in fields else None),
    )


def _lifetime_expiry(fields: dict[str, Any]) -> datetime | None:
    """The expiry a token was made with: its expiry, unless a rotation cut it to a window."""
    if "expiresBeforeRotation" in fields:
        before = fields["expiresBeforeRotation"]
        return from_iso(before) if before else None
    return from_iso(fields["expiresAt"]) if "expiresAt" in fields else None


def _before_rotation(token: TokenRecord) -> str | None:
    if token.rotated_to is None:
        return None
    return to_iso(token.lifetime_expires_at) if token.lifetime_expires_at else ""


def user_item(user: User) -> Item:
    return {**user_key(user.id), **marshal({
        "gsi1pk": USER_INDEX_KEY,
        "gsi1sk": user.id,
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "status": user.status.value,
        "createdAt": to_iso(user.created_at),
        "tokensRevokedAt": user.tokens_revoked_at_ms,
        "adminTokensRevokedAt": user.admin_tokens_revoked_at_ms,
        "revocations": user.revocations[0] or None,
        "adminRevocations": user.revocations[1] or None,
    })}


def user_from_item(item: Item) -> User:
    fields = unmarshal(item)
    return User(
        id=fields["id"],
        email=fields["email"],
        role=Role(fields["role"]),
        status=UserStatus(fields["status"]),
        created_at=from_iso(fields["createdAt"]),
        tokens_revoked_at_ms=fields.get("tokensRevokedAt"),
        admin_tokens_revoked_at_ms=fields.get("adminTokensRevokedAt"),
        revocations=(fields.get("revocations", 0), fields.get("adminRevocations", 0)),
    )


def invite_item(invite: Invite) -> Item:
    return {**invite_key(invite.id), **marshal({
        "gsi1pk": INVITE_INDEX_KEY,
        "gsi1sk": invite.id,
        "id": invite.id,
        "email": invite.email,
        "role": invite.role.value,
        "status": invite.status.value,
        "digest": invite.digest,
        "createdBy": invite.created_by,
        "createdAt": to_iso(invite.created_at),
        "expiresAt": to_iso(invite.expires_at),
        "ttl": to_epoch(invite.expires_at + INVITE_RETENTION),
        "userId": invite.user_id,
        "createdByTokenId": invite.created_by_token_id,
        "createdByEmail": invite.created_by_email,
        "makerLineageIssuedAt": invite.maker_lineage_ms,
        "makerExpiresAt": to_iso(invite.maker_expires_at) if invite.maker_expires_at else None,
        "targetRevocations": invite.target_revocations[0] if invite.target_revocations else None,
        "targetAdminRevocations": invite.target_revocations[1] if invite.target_revocations else None,
    })}


def invite_from_item(item: Item) -> Invite:
    fields = unmarshal(item)
    return Invite(
        id=fields["id"],
        email=fields["email"],
        role=Role(fields["role"]),
        status=InviteStatus(fields["status"]),
        digest=fields["digest"],
        created_by=fields["createdBy"],
        created_at=from_iso(fields["createdAt"]),
        expires_at=from_iso(fields["expiresAt"]),
        user_id=fields.get("userId"),
        created_by_token_id=fields.get("createdByTokenId"),
        created_by_email=fields.get("createdByEmail"),
        maker_lineage_ms=fields.get("makerLineageIssuedAt"),
        maker_expires_at=from_iso(fields["makerExpiresAt"]) if "makerExpiresAt" in fields else None,
        target_revocations=((fields["targetRevocations"], fields["targetAdminRevocations"])
                            if "targetRevocations" in fields else None),
    )


def event_item(event: SecurityEvent) -> Item:
    return {**event_key(event.user_id, event.id), **marshal({
        "id": event.id,
        "userId": event.user_id,
        "type": event.type.value,
        "at": to_iso(event.at),
        "tokenId": event.token_id,
        "tokenName": event.token_name,
        "detail": event.detail,
        "ttl": to_epoch(event.at + RETENTION),
    })}


def event_from_item(item: Item) -> SecurityEvent:
    fields = unmarshal(item)
    return SecurityEvent(
        id=fields["id"],
        user_id=fields["userId"],
        type=EventType(fields["type"]),
        at=from_iso(fields["at"]),
        token_id=fields.get("tokenId"),
        token_name=fields.get("tokenName"),
        detail=fields["detail"],
    )


def compromised_item(user_id: str, token_id: str, now: datetime, until: datetime) -> Item:
    """The marker of a token revoked for cause, kept until ``until``."""
    return {**compromised_key(user_id, token_id), **marshal({"tokenId": token_id, "at": to_iso(now),
                                                             "ttl": to_epoch(until)})}


def compromised_token_id(item: Item) -> str:
    return str(unmarshal(item)["tokenId"])
