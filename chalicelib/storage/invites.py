"""Invites in the table: pending ones in the sparse index, closed ones kept a while for clear answers."""
from __future__ import annotations

from datetime import datetime

from chalicelib.model import ids
from chalicelib.model.accounts import User, UserStatus
from chalicelib.model.invites import Invite, InviteStatus
from chalicelib.model.kinds import Scope
from chalicelib.model.token_policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.model.tokens import TokenRecord
from chalicelib.storage.errors import CreatorRevoked, InviteNotPending, StoreConflict, UserChanged
from chalicelib.storage.items import (
    compromised_token_id,
    invite_from_item,
    invite_item,
    is_policy,
    is_profile,
    policy_from_item,
    token_item,
    user_from_item,
)
from chalicelib.storage.keys import (
    INVITE_INDEX_KEY,
    POLICY_KEY,
    compromised_key,
    index_key,
    index_page,
    invite_key,
    user_key,
)
from chalicelib.storage.table import Condition, Table, Write, marshal
from chalicelib.storage.user_checks import cut_offs_spare, new_user_writes, revocations_unchanged
from chalicelib.timeutil import to_iso


class InviteStore:
    """Reads and writes invites, and claims them."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, invite: Invite, told: Write | None = None) -> None:
        """Store a new pending invite (and ``told``, its user's security event, with it). A
        re-access link is stored only if its user is still active with the revocation counts it
        recorded (UserChanged otherwise): a link and a revocation never pass each other."""
        writes = [Write.new_item(self._table.name, invite_item(invite))]
        if invite.user_id is not None and invite.target_revocations is not None:
            still = Condition(["#status = :active"], {"#status": "status"}, {":active": UserStatus.ACTIVE.value})
            still &= revocations_unchanged(invite.target_revocations)
            writes.append(Write({"ConditionCheck": {"TableName": self._table.name, "Key": user_key(invite.user_id),
                                                    **still.params()}}, UserChanged))
        if told is not None:
            writes.append(told)
        if len(writes) == 1:
            self._table.write(writes[0])
        else:
            self._table.transact(writes)

    def get(self, invite_id: str) -> Invite | None:
        """The invite, in any state, or None."""
        item = self._table.get(invite_key(invite_id))
        return invite_from_item(item) if item else None

    def get_with_policy(self, invite_id: str) -> tuple[Invite | None, TokenPolicy]:
        """The invite in any state (or None) and the token policy its claim must follow, in one
        round trip."""
        invite = None
        policy = DEFAULT_POLICY
        for item in self._table.get_batch([invite_key(invite_id), POLICY_KEY]):
            if is_policy(item):
                policy = policy_from_item(item)
            else:
                invite = invite_from_item(item)
        return invite, policy

    def list_pending(self, limit: int, start_after: str | None, now: datetime) -> tuple[list[Invite], str | None]:
        """One page of pending, unexpired invites, newest first."""
        start = index_key(INVITE_INDEX_KEY, start_after, invite_key(start_after)) if start_after else None
        items, last_key = self._table.query(
            index_page(INVITE_INDEX_KEY, only="expiresAt > :now", values={":now": to_iso(now)}),
            limit=limit, start_key=start)
        return [invite_from_item(item) for item in items], last_key["gsi1sk"]["S"] if last_key else None

    def revoke(self, invite_id: str, now: datetime) -> bool:
        """Revoke a pending, unexpired invite; False when there is none."""
        try:
            self._table.write(self._close(invite_id, InviteStatus.REVOKED, now))
        except StoreConflict:
            return False
        return True

    def claim_access_link(self, invite: Invite, user: User, token: TokenRecord, now: datetime) -> None:
        """Mark a re-access link claimed and give its user a new PAT, all or nothing.

        InviteNotPending as for an invite; UserChanged when the user is no longer active with
        the role the token's scope was chosen for, or a cut-off since reaches the link;
        CreatorRevoked when the token that made the link was revoked for cause since.
        """
        # Still active, with the role the scope was chosen for, and no cut-off since the link.
        target = Condition(["#status = :active", "#role = :role"], {"#status": "status", "#role": "role"},
                           {":active": UserStatus.ACTIVE.value, ":role": user.role.value})
        target &= cut_offs_spare([(ids.issued_at_ms(invite.id), user.role.highest_scope)], tag="link")
        if invite.target_revocations is not None:  # and no revocation since, whatever the clocks
            target &= revocations_unchanged(invite.target_revocations, tag="link")
        maker_checks = self._maker_checks(invite)
        if invite.is_self_link and maker_checks:  # one item may be named once in a transaction
            target &= _maker_cut_offs(invite)
            maker_checks = maker_checks[1:]
        self._table.transact([
            self._close(invite.id, InviteStatus.CLAIMED, now, closed_by=user.id),
            Write({"ConditionCheck": {"TableName": self._table.name, "Key": user_key(user.id), **target.params()}},
                  UserChanged),
            *maker_checks,
            Write.new_item(self._table.name, token_item(token)),
        ])

    def claim(self, invite: Invite, user: User, token: TokenRecord, now: datetime) -> None:
        """Mark the invite claimed and create its user and first token, all or nothing.

        InviteNotPending when the invite is no longer pending (another claim won the race, or
        it was revoked or expired), EmailTaken when the email has an account by now,
        CreatorRevoked when the token that made the invite was revoked for cause since.
        """
        self._table.transact([
            self._close(invite.id, InviteStatus.CLAIMED, now, closed_by=user.id),
            *self._maker_checks(invite),
            *new_user_writes(self._table, user),
            Write.new_item(self._table.name, token_item(token)),
        ])

    def _close(self, invite_id: str, status: InviteStatus, now: datetime, closed_by: str = "") -> Write:
        """Move a pending, unexpired invite to ``status``, out of the index (InviteNotPending,
        with the invite as it is, otherwise)."""
        return Write({"Update": {
            "TableName": self._table.name, "Key": invite_key(invite_id),
            "UpdateExpression": "SET #status = :status, closedAt = :now, closedBy = :by REMOVE gsi1pk, gsi1sk",
            "ConditionExpression": "#status = :pending AND expiresAt > :now",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": marshal({
                ":status": status.value, ":pending": InviteStatus.PENDING.value, ":now": to_iso(now), ":by": closed_by,
            }),
        }}, InviteNotPending, decode=invite_from_item)

    def _maker_checks(self, invite: Invite) -> list[Write]:
        """Checks that the token that made the invite was not revoked for cause since: no cut-off
        of its user reaches its lineage, and it was not revoked as leaked. Nothing to check for
        one made by an operator tool. Costs no read: the claim's transaction does it."""
        if invite.maker_lineage is None:
            return []
        checks = [Write({"ConditionCheck": {"TableName": self._table.name, "Key": user_key(invite.created_by),
                                            **_maker_cut_offs(invite).params()}}, CreatorRevoked)]
        if invite.created_by_token_id is not None:  # (not known for an invite stored before makers were)
            checks.append(Write({"ConditionCheck": {
                "TableName": self._table.name, "Key": compromised_key(invite.created_by, invite.created_by_token_id),
                "ConditionExpression": "attribute_not_exists(pk)"}}, CreatorRevoked))
        return checks

    def makers_of(self, invites: list[Invite]) -> tuple[dict[str, User], set[str]]:
        """The users who made these invites, and which of the making tokens were revoked as
        leaked: one round trip per 100 keys."""
        made = [invite for invite in invites if invite.maker_lineage is not None]
        keys = [user_key(user_id) for user_id in dict.fromkeys(invite.created_by for invite in made)]
        keys += [compromised_key(invite.created_by, invite.created_by_token_id)
                 for invite in {invite.created_by_token_id: invite for invite in made}.values()
                 if invite.created_by_token_id is not None]
        users: dict[str, User] = {}
        compromised: set[str] = set()
        for item in self._table.get_batch(keys) if keys else []:
            if is_profile(item):
                user = user_from_item(item)
                users[user.id] = user
            else:
                compromised.add(compromised_token_id(item))
        return users, compromised


def _maker_cut_offs(invite: Invite) -> Condition:
    """On the maker's user item: no cut-off reaches the making token's lineage (invites and links
    are made with admin authority, so a demotion reaches them too)."""
    return cut_offs_spare([(invite.maker_lineage or 0, Scope.ADMIN)], tag="maker")

