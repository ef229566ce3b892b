"""How many DynamoDB requests each API operation may cost, in the steady state.

One table, read by both `make bench` (which measures the counts) and the test suite (which
fails when an operation costs more): a regression in round trips fails CI.
"""
from __future__ import annotations

# operation -> the DynamoDB calls it makes, in order (the authorizer's read comes first)
REQUEST_BUDGET: dict[str, list[str]] = {
    "authorize a valid token": ["BatchGetItem"],
    "authorize a token with a bad checksum": [],
    # refused at the gateway: the authorizer's read, and the route never runs
    "refuse a route the token's scope does not cover": ["BatchGetItem"],
    "refuse a route that is not in the route map": ["BatchGetItem"],
    "refuse a revoked token": ["BatchGetItem"],
    "create a PAT": ["BatchGetItem", "TransactWriteItems"],
    "list one page of PATs": ["BatchGetItem", "Query"],
    # a delete leaves a tombstone in the token's item (UpdateItem), so a later leak report still matches
    "delete a PAT": ["BatchGetItem", "UpdateItem"],
    "an admin deletes someone's PAT": ["BatchGetItem", "UpdateItem", "PutItem"],
    "rotate a PAT": ["BatchGetItem", "BatchGetItem", "TransactWriteItems"],
    # the token, then its new grant and the owner's security event in one transaction
    "narrow a PAT": ["BatchGetItem", "BatchGetItem", "TransactWriteItems"],
    # a dry run: what it would refuse of the token's recorded uses; nothing written
    "preview a narrowing": ["BatchGetItem", "BatchGetItem"],
    "first use of a token in five minutes": ["BatchGetItem", "UpdateItem"],
    # what a PAT uses is learned the first time each use is seen (a few times in its life), on
    # the last-use write when one is due, else in a write of its own
    "a token's first use of a family, recorded recently": ["BatchGetItem", "UpdateItem"],
    # the claim's transaction also checks the invite's making token: no cut-off reached its
    # lineage and it was not reported leaked (two condition checks, no read)
    "claim an invite": ["BatchGetItem", "TransactWriteItems"],
    # one Query for the page, then the makers' users and compromise markers in one batch
    "list one page of invites": ["BatchGetItem", "Query", "BatchGetItem"],
    # the reported tokens (one key each), then the account's tokens: read, revoke what the leaked
    # one made (delete + compromise markers), read again for what it made meanwhile, tell the owner
    "report a leaked PAT": ["BatchGetItem", "Query", "BatchWriteItem", "Query", "BatchWriteItem"],
    "report strings that are not tokens": [],
    # the token's own read, as the authorizer's; a check is not a use, so nothing is written
    "check a token (token-check)": ["BatchGetItem"],
    # the asking service's authorization, then the token's own read, as the authorizer's; asking
    # about a token is not using it, so nothing is written
    "introspect a token (RFC 7662)": ["BatchGetItem", "BatchGetItem"],
    "revoke all of the caller's tokens": ["BatchGetItem", "TransactWriteItems"],
    "list one page of security events": ["BatchGetItem", "Query"],
    "read the token policy": ["BatchGetItem", "GetItem"],
    "replace the token policy": ["BatchGetItem", "PutItem"],
    # one Query for the page of users, then one per active user (the test's table has two)
    "preview a token policy's impact": ["BatchGetItem", "Query", "Query", "Query"],
    "list one page of run tokens": ["BatchGetItem", "Query", "BatchGetItem"],
    "delete a run token": ["BatchGetItem", "UpdateItem"],
    "create a re-access link": ["BatchGetItem", "GetItem", "TransactWriteItems"],
    "claim a re-access link": ["BatchGetItem", "GetItem", "TransactWriteItems"],
    # the daily run, off the request path: the expiry index's partitions of today to 7 days ahead
    # (a Query each, keys only, never a Scan: today's for a day-before notice a failed run missed),
    # those PATs, their owners and the policy in one batch per 100 keys, then one transaction per
    # notice (the token's told time and the owner's security event); plus one PutEvents per 10
    # notices, to the bus
    "announce the day's expiring tokens (one due)": ["Query"] * 8 + ["BatchGetItem", "TransactWriteItems"],
}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
