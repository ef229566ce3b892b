"""Tokens in the table, kept in their user's partition, and the authorizer's one read."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.model import ids
from chalicelib.model.accounts import User
from chalicelib.model.events import EventType, SecurityEvent
from chalicelib.model.kinds import BEARER_KINDS, Scope, TokenKind
from chalicelib.model.token_policy import DEFAULT_POLICY, TokenPolicy
from chalicelib.model.tokens import Creator, TokenRecord
from chalicelib.storage.errors import CreatorRevoked, NarrowingLost, RotationLost, StoreConflict, Unavailable
from chalicelib.storage.items import (
    compromised_item,
    event_item,
    expiry_day,
    is_policy,
    is_profile,
    policy_from_item,
    token_from_item,
    token_item,
    told_attribute,
    user_from_item,
)
from chalicelib.storage.keys import (
    POLICY_KEY,
    PROFILE,
    TOKEN,
    expiring_on,
    token_key,
    user_key,
    user_pk,
)
from chalicelib.storage.table import Item, Table, Write, marshal
from chalicelib.storage.user_checks import user_allows
from chalicelib.timeutil import to_epoch, to_iso

log = logging.getLogger(__name__)

_BEARER_ID_PREFIXES = tuple(TokenKind(kind).spec.id_prefix for kind in sorted(BEARER_KINDS))

# Live means not yet expired by ``expiresAt`` (ISO text, so it compares as time does); ``ttl``
# may lie later, as for a rotated token kept for REUSE_WATCH after its window.
_UNEXPIRED = "attribute_not_exists(expiresAt) OR expiresAt > :now"
# A deleted token's item stays, marked, for DELETED_WATCH: a leak report that names it later still
# reaches what it made (a thief could otherwise delete a stolen token before it is reported).
_STANDING = "attribute_exists(pk) AND attribute_not_exists(deletedAt)"
# When learning what a token uses began (its first learned use).
_SINCE = "usedSince = if_not_exists(usedSince, :now)"
REUSE_WATCH = timedelta(days=30)
# A token revoked as leaked stays marked longer than any invite or link it made can live.
COMPROMISE_WATCH = timedelta(days=31)
DELETED_WATCH = timedelta(days=31)


class TokenStore:
    """Reads and writes PATs and agent run tokens."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def load_credential(
        self, user_id: str, token_ids: Sequence[str]
    ) -> tuple[User | None, dict[str, TokenRecord], TokenPolicy]:
        """A user, some of their tokens and the token policy in one strongly consistent round trip."""
        keys = [user_key(user_id), POLICY_KEY] + [token_key(user_id, token_id) for token_id in token_ids]
        user = None
        policy = DEFAULT_POLICY
        tokens = {}
        for item in self._table.get_batch(keys):
            if is_policy(item):
                policy = policy_from_item(item)
            elif is_profile(item):
                user = user_from_item(item)
            else:
                token = token_from_item(item)
                tokens[token.id] = token
        return user, tokens, policy

    def add_to_expiry_index(self, token: TokenRecord) -> bool:
        """Put a PAT stored before the expiry index into it, while it is as read; whether it was
        (for the operator's one-off migration, openindex_ops/expiry_index.py)."""
        day = expiry_day(token)
        if day is None or token.expires_at is None:
            return False
        try:
            self._table.write(Write({"Update": {
                "TableName": self._table.name, "Key": token_key(token.user_id, token.id),
                "UpdateExpression": "SET expiresOn = :day",
                "ConditionExpression": f"{_STANDING} AND attribute_not_exists(expiresOn) "
                                       "AND attribute_not_exists(rotatedTo) AND expiresAt = :seen",
                "ExpressionAttributeValues": marshal({":day": day, ":seen": to_iso(token.expires_at)}),
            }}))
        except StoreConflict:
            return False  # changed since it was read: whatever changed it placed it
        return True

    def expiring(self, days: Sequence[date]) -> tuple[list[TokenRecord], dict[str, User], TokenPolicy]:
        """The PATs that expire on these UTC days (not rotated or deleted), their users and the
        token policy: one Query of the expiry index per day (and page), never a Scan, then one
        strongly consistent read of it all per 100 keys (the index holds keys only, and may
        lag a write by a moment: the tokens are read as they are)."""
        keys = [{"pk": item["pk"], "sk": item["sk"]} for day in days
                for item in self._table.query_all(expiring_on(day), consistent=False)]
        if not keys:
            return [], {}, DEFAULT_POLICY
        users = {key["pk"]["S"]: {"pk": key["pk"], **marshal({"sk": PROFILE})} for key in keys}
        tokens: list[TokenRecord] = []
        owners: dict[str, User] = {}
        policy = DEFAULT_POLICY
        for item in self._table.get_batch([POLICY_KEY, *users.values(), *keys]):
            if is_policy(item):
                policy = policy_from_item(item)
            elif is_profile(item):
                user = user_from_item(item)
                owners[user.id] = user
            else:
                tokens.append(token_from_item(item))
        return tokens, owners, policy

    def get_many(self, user_id: str, token_ids: Sequence[str]) -> dict[str, TokenRecord]:
        """Some of a user's tokens, by id, in one strongly consistent round trip (at most 100)."""
        if not token_ids:
            return {}
        items = self._table.get_batch([token_key(user_id, token_id) for token_id in token_ids])
        return {token.id: token for token in map(token_from_item, items)}

    def put(self, token: TokenRecord) -> None:
        """Store a new token record (operator tools and invite claims: no creating token)."""
        self._table.write(Write.new_item(self._table.name, token_item(token)))

    def put_created_by(self, token: TokenRecord, *, creator: Creator, now: datetime) -> None:
        """Store a token made by another of the same user's tokens, if that creator is still live.

        The authorizer allowed the creator a moment ago, but a revoke-all, deactivation,
        demotion or delete can land between it and this write; the same transaction checks
        the user's state and cut-offs against the creator, and that the creator is still as the
        authorizer saw it (not deleted, expired or rotated away meanwhile: the new token's
        lifetime was capped by that expiry), so no revoked token leaves a live one behind.
        CreatorRevoked otherwise.
        """
        self._table.transact([
            self._user_still_allows(token.user_id, [(creator.lineage_issued_ms, creator.scope)]),
            self._unchanged(token.user_id, creator, now),
            Write.new_item(self._table.name, token_item(token)),
        ])

    def rotate(self, old: TokenRecord, successor: TokenRecord, *, window_end: datetime, now: datetime,
               creator: Creator) -> None:
        """Store ``successor`` and cut ``old`` short to ``window_end``, both or neither.

        ``old`` must still be live and not yet rotated (RotationLost otherwise, so two
        concurrent rotations make one successor); the creating token and the user are checked
        as in :meth:`put_created_by`. The old item is kept for REUSE_WATCH after its window
        so that a late use is recognised as use after rotation.
        """
        rotating_itself = creator.token_id == old.id
        as_read, read_values = _as_read(old)
        survivors = [(old.line_issued_ms, old.scope)]
        if not rotating_itself:
            survivors.append((creator.lineage_issued_ms, creator.scope))
        writes = [
            self._user_still_allows(old.user_id, survivors),
            Write({"Update": {
                "TableName": self._table.name, "Key": token_key(old.user_id, old.id),
                # out of the expiry index: its successor is the token to announce
                "UpdateExpression": "SET expiresAt = :end, #ttl = :ttl, rotatedTo = :successor, "
                                    "expiresBeforeRotation = :before REMOVE expiresOn",
                # as read: the successor is made with its grant and lifetime (a narrowing since wins)
                "ConditionExpression": f"{_STANDING} AND attribute_not_exists(rotatedTo) AND ({_UNEXPIRED}) "
                                       f"AND {as_read}",
                "ExpressionAttributeNames": {"#ttl": "ttl", "#scope": "scope", "#permissions": "permissions"},
                "ExpressionAttributeValues": marshal({
                    ":end": to_iso(window_end), ":ttl": to_epoch(window_end + REUSE_WATCH),
                    ":successor": successor.id, ":now": to_iso(now), **read_values,
                    # ("" for none: the policy judges a token in its window by the lifetime it was made with)
                    ":before": to_iso(old.expires_at) if old.expires_at else "",
                }),
            }}, RotationLost, decode=token_from_item),
            Write.new_item(self._table.name, token_item(successor)),
        ]
        if not rotating_itself:
            writes.append(self._unchanged(old.user_id, creator, now))
        self._table.transact(writes)

    def narrow(self, old: TokenRecord, narrowed: TokenRecord, *, told: SecurityEvent, now: datetime) -> None:
        """Give ``old`` the scope, grant and expiry of ``narrowed``, and store the event telling its
        owner, both or neither; only while the token is as ``old`` was read (live, not rotated,
        with that scope, grant and expiry: two narrowings at once never leave the wider one) and
        its user's cut-offs do not refuse it (a narrowing never revives a token a demotion or
        revoke-all revoked meanwhile). NarrowingLost otherwise, with the item as it is."""
        as_read, values = _as_read(old)
        values.update({":now": to_iso(now), ":new_scope": narrowed.scope.value})
        changes = ["#scope = :new_scope"]
        removals = ["#permissions"] if narrowed.permissions is None else []  # a preset's grant is its scope's
        if narrowed.permissions is not None:
            changes.append("#permissions = :permissions")
            values[":permissions"] = narrowed.permissions.to_text()
        if narrowed.expires_at != old.expires_at and narrowed.expires_at is not None:
            changes += ["expiresAt = :expires", "#ttl = :ttl"]
            values.update({":expires": to_iso(narrowed.expires_at), ":ttl": to_epoch(narrowed.expires_at)})
            if (day := expiry_day(narrowed)) is not None:  # announced by its new expiry day
                changes.append("expiresOn = :expires_on")
                values[":expires_on"] = day
            # a notice given of the old expiry is not one of the new: its notices are given afresh
            removals.append(told_attribute(EventType.TOKEN_EXPIRING))
        if narrowed.not_after != old.not_after and narrowed.not_after is not None:
            changes.append("notAfter = :not_after")  # what it rotates into may not outlive it either
            values[":not_after"] = to_iso(narrowed.not_after)
        removal = f" REMOVE {', '.join(removals)}" if removals else ""
        names = {"#scope": "scope", "#permissions": "permissions", **({"#ttl": "ttl"} if ":ttl" in values else {})}
        self._table.transact([
            self._user_still_allows(old.user_id, [(old.line_issued_ms, old.scope)]),
            Write({"Update": {
                "TableName": self._table.name, "Key": token_key(old.user_id, old.id),
                "UpdateExpression": "SET " + ", ".join(changes) + removal,
                "ConditionExpression": f"{_STANDING} AND attribute_not_exists(rotatedTo) AND ({_UNEXPIRED}) "
                                       f"AND {as_read}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": marshal(values),
            }}, NarrowingLost, decode=token_from_item),
            Write({"Put": {"TableName": self._table.name, "Item": event_item(told)}}),
        ])

    def end_windows(
        self, user_id: str, token_id: str, successor_id: str, at: datetime, *, successor_revoked: bool = False
    ) -> None:
        """Cut the grace window of ``token_id``, rotated to ``successor_id``, short to ``at``, and
        those of the tokens before it in its rotation chain, so that no token works longer than
        its successor. Best effort and only ever shorter: the walk stops at a window that already
        ends by ``at`` (those before it end earlier still) or at a token already gone.
        ``successor_revoked``: the chain's end was revoked, so a late use is not told "use the
        new token" (``successorRevoked`` on each token cut)."""
        revoked = ", successorRevoked = :yes" if successor_revoked else ""
        predecessor: str | None = token_id
        while predecessor is not None:
            try:
                cut = self._table.write(Write({"Update": {
                    "TableName": self._table.name,
                    "Key": token_key(user_id, predecessor),
                    "UpdateExpression": f"SET expiresAt = :end, #ttl = :ttl{revoked}",
                    "ConditionExpression": f"{_STANDING} AND rotatedTo = :successor AND expiresAt > :end",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": marshal({":end": to_iso(at), ":ttl": to_epoch(at + REUSE_WATCH),
                                                          ":successor": successor_id,
                                                          ":yes": True if successor_revoked else None}),
                }}), returning="ALL_NEW")
            except StoreConflict:
                return
            except Unavailable:  # the change it follows is done: a failure here must not undo its answer
                log.warning("could not end the grace window of token %s", predecessor)
                return
            successor_id, predecessor = predecessor, token_from_item(cut).rotated_from if cut else None

    def _user_still_allows(self, user_id: str, lines: Sequence[tuple[int, Scope]]) -> Write:
        """A check that the user is active and no cut-off (revoke-all, demotion) refuses tokens of
        these (lineage, scope)."""
        return user_allows(self._table, user_id, lines, CreatorRevoked)

    def _unchanged(self, user_id: str, creator: Creator, now: datetime) -> Write:
        """A check that the creating token still exists, unexpired, with the expiry it had."""
        unchanged = ("attribute_not_exists(expiresAt)" if creator.expires_at is None
                     else "expiresAt = :seen AND expiresAt > :now")
        condition = f"{_STANDING} AND {unchanged}"
        check: dict[str, Any] = {"TableName": self._table.name, "Key": token_key(user_id, creator.token_id),
                                 "ConditionExpression": condition}
        if creator.expires_at is not None:
            check["ExpressionAttributeValues"] = marshal({":seen": to_iso(creator.expires_at), ":now": to_iso(now)})
        return Write({"ConditionCheck": check}, CreatorRevoked)

    def page(
        self, owner: User, id_prefix: str, limit: int, start_after: str | None, now: datetime,
        with_rotated_away: bool = False,
    ) -> tuple[list[TokenRecord], str | None]:
        """One page of a user's live tokens of one kind, newest first, and the next cursor.

        One Query per page. Tokens the owner's revoke-all cut-off refuses are outside the key
        range, so they are never read; expired ones (but rotated-away ones, when asked) and
        admin tokens a demotion revoked are
        filtered out, so a page may hold fewer than ``limit`` items while a next cursor is
        still returned.
        """
        first = (f"{TOKEN}{ids.first_id_after(id_prefix, owner.tokens_revoked_at_ms)}"
                 if owner.tokens_revoked_at_ms is not None else f"{TOKEN}{id_prefix}_")
        # ``with_rotated_away``: also tokens whose rotation window ended (kept REUSE_WATCH), so
        # a list can show them as rotated rather than let them vanish.
        live = f"{_UNEXPIRED} OR attribute_exists(rotatedTo)" if with_rotated_away else _UNEXPIRED
        live = f"attribute_not_exists(deletedAt) AND ({live})"
        values: dict[str, object] = {":pk": user_pk(owner.id), ":first": first, ":last": f"{TOKEN}{id_prefix}_~",
                                     ":now": to_iso(now)}
        names: dict[str, str] = {}
        if owner.tokens_revoked_at_ms is not None:  # made through a revoked token while the cut-off was set
            live = f"({live}) AND NOT (lineageIssuedAt <= :cut)"
            values[":cut"] = owner.tokens_revoked_at_ms
        if owner.revocations != (0, 0):  # from a re-access link, and a revocation since
            live = (f"({live}) AND NOT (revocationsSeen < :revocations) "
                    "AND NOT (#scope = :admin AND adminRevocationsSeen < :admin_revocations)")
            names["#scope"] = "scope"
            values.update({":revocations": owner.revocations[0], ":admin_revocations": owner.revocations[1],
                           ":admin": Scope.ADMIN.value})
        if owner.admin_tokens_revoked_at_ms is not None:
            # (a filter may not name a key attribute: the token's id is also in ``id``)
            live = f"({live}) AND NOT (#scope = :admin AND (#id < :admin_boundary OR lineageIssuedAt <= :admin_cut))"
            names.update({"#scope": "scope", "#id": "id"})
            values.update({":admin": Scope.ADMIN.value, ":admin_cut": owner.admin_tokens_revoked_at_ms,
                           ":admin_boundary": ids.first_id_after(id_prefix, owner.admin_tokens_revoked_at_ms)})
        params: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "FilterExpression": live,
            **({"ExpressionAttributeNames": names} if names else {}),
            "ExpressionAttributeValues": marshal(values),
            "ScanIndexForward": False,
        }
        if start_after is not None and f"{TOKEN}{start_after}" < first:
            return [], None  # a cursor from before a revoke-all: the rest of the list is revoked
        start_key = token_key(owner.id, start_after) if start_after is not None else None
        items, last_key = self._table.query(params, limit=limit, start_key=start_key)
        return [token_from_item(item) for item in items], last_key["sk"]["S"].removeprefix(TOKEN) if last_key else None

    def delete_revoked(self, user: User) -> int:
        """Delete every token item the user's cut-offs refuse; how many. For the sweeper, off
        the request path: it reads the user's tokens of each kind, keys only."""
        doomed: list[Item] = []
        for prefix in _BEARER_ID_PREFIXES:
            doomed += self._revoked_keys(user, prefix)
        self._table.write_batch([{"DeleteRequest": {"Key": key}} for key in doomed])
        return len(doomed)

    def _revoked_keys(self, user: User, prefix: str) -> list[Item]:
        """Keys of the user's tokens of one kind that a cut-off refuses: issued before it, or made
        through a token issued before it (their lineage)."""
        revoked: list[str] = []
        values: dict[str, object] = {":pk": user_pk(user.id), ":kind": f"{TOKEN}{prefix}_"}
        names = {"#id": "id"}
        if user.tokens_revoked_at_ms is not None:
            revoked.append("#id < :boundary OR lineageIssuedAt <= :cut")
            values.update({":boundary": ids.first_id_after(prefix, user.tokens_revoked_at_ms),
                           ":cut": user.tokens_revoked_at_ms})
        if user.admin_tokens_revoked_at_ms is not None:
            revoked.append("#scope = :admin AND (#id < :admin_boundary OR lineageIssuedAt <= :admin_cut)")
            names["#scope"] = "scope"
            values.update({":admin": Scope.ADMIN.value, ":admin_cut": user.admin_tokens_revoked_at_ms,
                           ":admin_boundary": ids.first_id_after(prefix, user.admin_tokens_revoked_at_ms)})
        if user.revocations != (0, 0):
            revoked.append("revocationsSeen < :revocations OR "
                           "(#scope = :admin AND adminRevocationsSeen < :admin_revocations)")
            names["#scope"] = "scope"
            values.update({":revocations": user.revocations[0], ":admin_revocations": user.revocations[1],
                           ":admin": Scope.ADMIN.value})
        if not revoked:
            return []
        # Eventually consistent, at half the cost: a key a read misses is swept on the sweeper's next run.
        return list(self._table.query_all({
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :kind)",
            "FilterExpression": " OR ".join(f"({clause})" for clause in revoked),
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": marshal(values),
        }, consistent=False))

    def account(self, user_id: str) -> tuple[User | None, list[TokenRecord]]:
        """A user and every token item of theirs, live or not, in one paged, strongly consistent
        Query of their partition (the profile and the tokens sort together): for revoking what a
        leaked token made, off the hot path."""
        user: User | None = None
        tokens: list[TokenRecord] = []
        for item in self._table.query_all({
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :profile AND :last",
            "ExpressionAttributeValues": marshal({":pk": user_pk(user_id), ":profile": PROFILE, ":last": f"{TOKEN}~"}),
        }):
            if is_profile(item):
                user = user_from_item(item)
            else:
                tokens.append(token_from_item(item))
        return user, tokens

    def revoke_compromised(
        self, tokens: Sequence[TokenRecord], *, marked: Sequence[TokenRecord], now: datetime
    ) -> None:
        """Delete ``tokens``, revoked for cause, and mark every token of ``marked`` compromised for
        COMPROMISE_WATCH, so that a pending invite or link one of them made dies with it (25
        items per round trip)."""
        self._table.write_batch(
            [{"DeleteRequest": {"Key": token_key(token.user_id, token.id)}} for token in tokens]
            + [{"PutRequest": {"Item": compromised_item(token.user_id, token.id, now, now + COMPROMISE_WATCH)}}
               for token in marked])

    def delete(self, user_id: str, token_id: str, now: datetime) -> TokenRecord | None:
        """Delete an unexpired token of this user, or one rotated away (the lists show those, kept
        to recognise a late use); the token deleted, or None when there is none.

        The item stays as a tombstone (``deletedAt``, everything but its use, for DELETED_WATCH):
        no reader takes it for a token, but a leak report that names it still finds what it made."""
        try:
            deleted = self._table.write(Write({"Update": {
                "TableName": self._table.name,
                "Key": token_key(user_id, token_id),
                "UpdateExpression": "SET deletedAt = :now, #ttl = :ttl REMOVE expiresOn",
                "ConditionExpression": f"{_STANDING} AND ({_UNEXPIRED} OR attribute_exists(rotatedTo))",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": marshal({":now": to_iso(now), ":ttl": to_epoch(now + DELETED_WATCH)}),
            }}), returning="ALL_OLD")
        except StoreConflict:
            return None
        return token_from_item(deleted) if deleted else None

    def record_use(
        self, user_id: str, token_id: str, at: datetime, ip: str | None, user_agent: str | None,
        stale_before: datetime, recent_before: datetime, learned: str | None = None,
    ) -> None:
        """Record a use of the token unless one was recorded since ``recent_before``, or one from
        the same address since ``stale_before`` (concurrent requests then write once).
        ``learned``: a use the token had not been seen to make, added to its ``usedPermissions``
        on the same write, which then lands whatever the recent uses (a string set: concurrent
        additions all land).

        Best effort: a failure here must not refuse a request that was already authorized.
        """
        place = {":ip": ip, ":agent": user_agent} if ip else {}
        values: dict[str, object] = {":now": to_iso(at), ":stale": to_iso(stale_before),
                                     ":recent": to_iso(recent_before), **place}
        changes = ["lastUsedAt = :now"]
        removals = []
        # without an address (a request seen without its context) the last one stays; with one, its
        # user agent goes with it, or none
        for attribute, placeholder in (("lastUsedIp", ":ip"), ("lastUsedUserAgent", ":agent")) if place else ():
            if values.get(placeholder) is not None:
                changes.append(f"{attribute} = {placeholder}")
            else:
                removals.append(attribute)
        same_place = " AND lastUsedIp = :ip" if place else ""
        fresh = f" AND NOT (lastUsedAt >= :recent OR (lastUsedAt >= :stale{same_place}))"
        update = "SET " + ", ".join(changes) + (" REMOVE " + ", ".join(removals) if removals else "")
        if learned is not None:
            update, fresh = update.replace("SET ", f"SET {_SINCE}, ", 1) + " ADD usedPermissions :learned", ""
            values = {":now": values[":now"], ":learned": {learned}, **place}
        try:
            self._table.write(Write({"Update": {
                "TableName": self._table.name,
                "Key": token_key(user_id, token_id),
                "UpdateExpression": update,
                # attribute_exists keeps a concurrently deleted token from being recreated.
                "ConditionExpression": f"{_STANDING}{fresh}",
                "ExpressionAttributeValues": marshal(values),
            }}))
        except StoreConflict:
            pass  # recorded from this address since, or the token is gone
        except (Unavailable, ClientError) as error:
            log.warning("could not record last use of token %s: %s", token_id, error)

    def learn_use(self, user_id: str, token_id: str, learned: str, at: datetime) -> None:
        """Add ``learned`` to what the PAT ``token_id`` was seen to use (one of its run tokens
        used it). Best effort, as :meth:`record_use`."""
        try:
            self._table.write(Write({"Update": {
                "TableName": self._table.name,
                "Key": token_key(user_id, token_id),
                "UpdateExpression": f"SET {_SINCE} ADD usedPermissions :learned",
                "ConditionExpression": _STANDING,
                "ExpressionAttributeValues": marshal({":now": to_iso(at), ":learned": {learned}}),
            }}))
        except StoreConflict:
            pass  # the token is gone
        except (Unavailable, ClientError) as error:
            log.warning("could not record what token %s used: %s", token_id, error)


def _as_read(token: TokenRecord) -> tuple[str, dict[str, object]]:
    """A condition that the token's item still has the scope, grant and expiry ``token`` was read
    with (``#scope`` and ``#permissions`` name those attributes), and its values: what a write
    derived from them (a narrowing, a rotation's successor) must hold to, so none undoes another."""
    conditions = ["#scope = :read_scope"]
    values: dict[str, object] = {":read_scope": token.scope.value}
    if token.permissions is not None:
        conditions.append("#permissions = :read_permissions")
        values[":read_permissions"] = token.permissions.to_text()
    else:
        conditions.append("attribute_not_exists(#permissions)")
    if token.expires_at is not None:
        conditions.append("expiresAt = :read_expires")
        values[":read_expires"] = to_iso(token.expires_at)
    else:
        conditions.append("attribute_not_exists(expiresAt)")
    return " AND ".join(conditions), values
