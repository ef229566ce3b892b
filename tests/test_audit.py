"""The audit trail: one JSON line per event, with ids, actor and outcome, never a secret."""
from __future__ import annotations

import json
import logging

from chalicelib import audit

from .conftest import Accounts, Api, AuditLog


def test_token_events_name_actor_ids_and_outcome(api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    owner = accounts.create()
    created = api.post("/me/pats", owner.token, body={"name": "ci", "scope": "read_write"}).body
    api.delete(f"/me/pats/{created['id']}", owner.token)
    api.delete(f"/me/pats/{created['id']}", owner.token)
    (made,) = audit_log.events("token.created")
    assert made["outcome"] == "success" and made["actor"] == owner.user.id
    assert (made["tokenId"], made["viaTokenId"], made["scope"]) == (created["id"], owner.token_id, "read_write")
    deleted, missing = audit_log.events("token.deleted")
    assert (deleted["outcome"], deleted["tokenId"]) == ("success", created["id"])
    assert (missing["outcome"], missing["reason"]) == ("failure", "not_found")
    assert all(created["token"] not in line and owner.token not in line for line in audit_log.lines)


def test_auth_failures_carry_the_reason_and_the_ids_but_not_the_token(
    api: Api, accounts: Accounts, audit_log: AuditLog
) -> None:
    owner = accounts.create()
    api.delete(f"/me/pats/{owner.token_id}", owner.token)
    api.get("/me", owner.token)
    api.get("/me", "oi_pat_garbage")
    revoked, garbage = audit_log.events("auth.failed")
    # The ids of a refused token are what the caller claims, never facts: marked as such.
    assert (revoked["reason"], revoked["claimedTokenId"]) == ("unknown_token", owner.token_id)
    assert revoked["claimedUserId"] == owner.user.id
    assert "userId" not in revoked and "tokenId" not in revoked
    assert garbage["reason"] == "malformed_token" and "claimedTokenId" not in garbage
    assert all(owner.token not in line for line in audit_log.lines)


def test_scope_escalation_and_access_denials_are_recorded(api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    member = accounts.create()
    api.post("/me/pats", member.token, body={"name": "up", "scope": "admin"})
    api.get("/admin/users", member.token)
    (escalation,) = audit_log.events("token.create")
    assert (escalation["outcome"], escalation["reason"]) == ("denied", "scope_escalation")
    (denied,) = audit_log.events("access.denied")
    assert denied["route"] == "GET /admin/users" and denied["requiredScope"] == "admin"


def test_account_events(api: Api, accounts: Accounts, audit_log: AuditLog) -> None:
    admin, member = accounts.admin(), accounts.create()
    sent = api.post("/admin/invites", admin.token, body={"email": "new@example.com"}).body
    claimed = api.post("/auth/invites/claim", body={"token": sent["token"]}).body
    api.post("/auth/invites/claim", body={"token": sent["token"]})
    api.patch(f"/admin/users/{member.user.id}", admin.token, body={"status": "deactivated"})
    api.patch(f"/admin/users/{admin.user.id}", admin.token, body={"role": "member"})
    run = accounts.run_token(api, accounts.create())
    assert audit_log.events("invite.created")[0]["inviteId"] == sent["id"]
    success, failure = audit_log.events("invite.claimed")
    assert (success["userId"], success["tokenId"]) == (claimed["user"]["id"], claimed["pat"]["id"])
    assert (failure["outcome"], failure["reason"]) == ("failure", "invite_already_claimed")
    deactivated, last_admin = audit_log.events("user.updated")
    assert (deactivated["status"], deactivated["previousStatus"], deactivated["actor"]) == (
        "deactivated", "active", admin.user.id
    )
    assert (last_admin["outcome"], last_admin["reason"]) == ("failure", "last_admin")
    minted = [e for e in audit_log.events("token.created") if e["kind"] == "agent_run"]
    assert minted[0]["tokenId"] == run["id"] and minted[0]["agentId"] == "agent-alpha"
    secrets = (sent["token"], claimed["pat"]["token"], run["token"], admin.token, member.token)
    assert not [line for line in audit_log.lines for secret in secrets if secret in line]


def test_each_event_is_one_json_line_on_standard_output(capsys) -> None:
    logger = logging.getLogger(audit.LOGGER_NAME)
    handler = audit._StandardOutput()
    handler.setFormatter(audit.JsonLines())
    logger.addHandler(handler)
    try:
        audit.record("token.deleted", audit.SUCCESS, "usr_1", tokenId="pat_1", reason=None)
    finally:
        logger.removeHandler(handler)
    (line,) = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert entry["audit"] == "token.deleted" and entry["actor"] == "usr_1" and "reason" not in entry
