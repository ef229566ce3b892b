"""Property-based tests (Hypothesis): no input makes the service fail, and a token authorizes
exactly when the model says it should."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from moto import mock_aws

from chalicelib.errors import InsufficientScope, InvalidToken, LastAdmin
from chalicelib.model import token_format
from chalicelib.model.accounts import Role, UserStatus
from chalicelib.model.kinds import Scope, TokenKind
from chalicelib.model.requirements import ANY_TOKEN, HUMAN_ADMIN, HUMAN_READ_WRITE, RUN_TOKEN_MINTER, Requirement
from chalicelib.services import authentication, revocation, run_tokens, users
from chalicelib.storage import Store
from openindex_ops.table import create_table

from .conftest import TABLE, Accounts, Api, FrozenClock, issue_pat

pytestmark = pytest.mark.slow

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def header_values(real_token: str) -> st.SearchStrategy[str]:
    """Arbitrary text, and near misses of a real token."""
    mutated = st.tuples(st.integers(0, len(real_token) - 1), st.characters()).map(
        lambda change: real_token[: change[0]] + change[1] + real_token[change[0] + 1 :]
    )
    candidates = st.one_of(st.text(), mutated, st.just(real_token[:-1]), st.text(alphabet="0123456789Aaz_"))
    return st.one_of(candidates, candidates.map(lambda value: f"Bearer {value}"))


@FIXTURES
@given(data=st.data())
def test_any_authorization_header_is_allowed_or_401_never_an_error(
    data: st.DataObject, api: Api, accounts: Accounts, store: Store, clock: FrozenClock
) -> None:
    owner = accounts.create()
    header = data.draw(header_values(owner.token))
    scheme, _, credentials = header.strip().partition(" ")
    allowed = scheme.lower() == "bearer" and credentials.strip() == owner.token
    try:
        authentication.authenticate(store, header, clock.now())
    except InvalidToken:
        assert not allowed
    else:
        assert allowed
    response = api.get("/me", headers={"Authorization": header})
    assert response.status == (200 if allowed else 401)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
plausible = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(json_values, st.sampled_from(values))
        for key, values in {
            "name": ["x", "", "a" * 101, "tab\t"],
            "scope": ["read_write", "admin", "root"],
            "expiresAt": ["2027-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "x"],
            "email": ["new@example.com", "bad", "user1@example.com"],
            "role": ["member", "admin"],
            "status": ["active", "deactivated"],
            "agentId": ["a", ""],
            "stage": ["s", None],
            "expiresInSeconds": [60, 86400, 0, 10**20, -1],
            "token": ["oi_inv_x", ""],
        }.items()
    },
)
bodies = st.one_of(plausible.map(json.dumps), json_values.map(json.dumps), st.binary().map(repr))
ROUTES = [
    ("POST", "/me/pats"),
    ("POST", "/workflows/agent-run-tokens"),
    ("POST", "/admin/invites"),
    ("PATCH", "/admin/users/{member}"),
    ("POST", "/auth/invites/claim"),
]


@FIXTURES
@given(route=st.sampled_from(ROUTES), body=bodies, as_admin=st.booleans())
def test_any_body_to_any_write_route_is_answered_2xx_or_4xx(
    api: Api, accounts: Accounts, route: tuple[str, str], body: str, as_admin: bool
) -> None:
    caller = accounts.admin() if as_admin else accounts.create()
    member = accounts.create()
    method, path = route
    response = api.request(method, path.format(member=member.user.id), caller.token, raw=body.encode())
    assert 200 <= response.status < 500, (response.status, response.body)
    assert isinstance(response.body, dict)


REQUIREMENTS: dict[str, Requirement] = {
    "any": ANY_TOKEN, "human_read_write": HUMAN_READ_WRITE, "human_admin": HUMAN_ADMIN, "mint": RUN_TOKEN_MINTER,
}


class TokenLifecycle(RuleBasedStateMachine):
    """Create, delete, mint run tokens, move the clock, (de)activate users, and authorize."""

    tokens = Bundle("tokens")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        self.store = Store(client, TABLE)
        self.store_client = client
        self.now = datetime(2026, 11, 24, 12, tzinfo=UTC)
        self.users = {
            name: users.create_user(self.store, email=f"{name}@example.com", role=role, now=self.now)
            for name, role in (("ada", Role.ADMIN), ("bob", Role.ADMIN), ("cy", Role.MEMBER))
        }
        self.active = dict.fromkeys(self.users, True)
        self.cut_off: dict[str, datetime] = {}  # user -> tokens issued until then are revoked for good
        self.model: dict[str, dict[str, Any]] = {}  # token value -> what the model knows of it

    def teardown(self) -> None:
        self.mock.stop()

    @rule(target=tokens, user=st.sampled_from(["ada", "bob", "cy"]), admin=st.booleans(),
          lifetime=st.none() | st.integers(1, 7200))
    def create_pat(self, user: str, admin: bool, lifetime: int | None) -> str:
        scope = Scope.ADMIN if admin and self.users[user].role is Role.ADMIN else Scope.READ_WRITE
        expires = self.now + timedelta(seconds=lifetime) if lifetime else None
        issued = issue_pat(self.store, user_id=self.users[user].id, name="t", scope=scope, expires_at=expires,
                                now=self.now)
        self.model[issued.value] = {"user": user, "scope": scope, "kind": TokenKind.PAT, "id": issued.record.id,
                                    "expires": issued.record.expires_at, "parent": None, "deleted": False,
                                    "issued": self.now}
        return issued.value

    @rule(target=tokens, parent=tokens, lifetime=st.integers(60, 86400))
    def mint_run_token(self, parent: str, lifetime: int) -> str:
        try:
            caller = authentication.authenticate(self.store, f"Bearer {parent}", self.now)
            RUN_TOKEN_MINTER.check(caller)
        except (InvalidToken, InsufficientScope):
            return parent
        issued = run_tokens.mint_run_token(self.store, caller, agent_id="agent", stage=None,
                                           lifetime_seconds=lifetime, now=self.now)
        self.model[issued.value] = {"user": self.model[parent]["user"], "scope": Scope.READ_WRITE,
                                    "kind": TokenKind.AGENT_RUN, "id": issued.record.id,
                                    "expires": _truncated(issued.record.expires_at), "parent": parent,
                                    "deleted": False, "issued": self.now}
        return issued.value

    @rule(token=tokens)
    def delete(self, token: str) -> None:
        known = self.model[token]
        if known["kind"] is not TokenKind.PAT:
            return
        owner = self.users[known["user"]].id
        try:
            revocation.delete_token(self.store, TokenKind.PAT, owner, known["id"], now=self.now, actor_id=owner)
            known["deleted"] = True
        except Exception:  # noqa: BLE001 - expired or gone: the model says why below
            assert known["deleted"] or self._expired(known)

    @rule(seconds=st.integers(1, 3600))
    def advance_clock(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(user=st.sampled_from(["ada", "bob", "cy"]), active=st.booleans())
    def set_active(self, user: str, active: bool) -> None:
        status = UserStatus.ACTIVE if active else UserStatus.DEACTIVATED
        try:
            users.update_user(self.store, self.users[user].id, status=status, role=None, actor_id="usr_test",
                              now=self.now)
            if self.active[user] and not active:
                self.cut_off[user] = self.now
            self.active[user] = active
        except LastAdmin:
            assert self.users[user].role is Role.ADMIN and not active

    @rule(token=tokens, requirement=st.sampled_from(sorted(REQUIREMENTS)))
    def authorize(self, token: str, requirement: str) -> None:
        expected_identity = self._valid(self.model[token])
        try:
            caller = authentication.authenticate(self.store, f"Bearer {token}", self.now)
        except InvalidToken:
            assert not expected_identity
            return
        assert expected_identity
        known, needed = self.model[token], REQUIREMENTS[requirement]
        covers = (known["scope"].covers(needed.scope)
                  and not (needed.people_only and known["kind"] is TokenKind.AGENT_RUN)
                  and not (needed.refuses_admin_tokens and known["scope"] is Scope.ADMIN))
        try:
            needed.check(caller)
            assert covers
        except InsufficientScope:
            assert not covers

    @invariant()
    def tokens_never_stored_in_clear(self) -> None:
        """The table holds each token's digest and never its value."""
        items = self.store_client.scan(TableName=TABLE)["Items"]  # tests only: the application never scans
        stored = repr(items)
        digests = {bytes(item["digest"]["B"]) for item in items if item["sk"]["S"].startswith("TOKEN#")}
        for token in self.model:
            assert token not in stored
        assert {token_format.digest(token) for token, known in self.model.items() if not known["deleted"]} <= digests

    def _expired(self, known: dict[str, Any]) -> bool:
        return known["expires"] is not None and self.now >= known["expires"]

    def _valid(self, known: dict[str, Any]) -> bool:
        cut_off = self.cut_off.get(known["user"])
        alive = (not known["deleted"] and not self._expired(known) and self.active[known["user"]]
                 and (cut_off is None or known["issued"] > cut_off))
        if known["parent"] is not None:
            alive = alive and self._valid(self.model[known["parent"]])
        return alive


def _truncated(moment: datetime | None) -> datetime | None:
    """Stored times keep whole seconds."""
    return moment.replace(microsecond=0) if moment else None


TestTokenLifecycle = TokenLifecycle.TestCase
TestTokenLifecycle.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
