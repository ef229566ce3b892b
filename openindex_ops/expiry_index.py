"""``python -m openindex_ops.expiry_index``: put the PATs stored before expiry notices into the
expiry index, so that they are announced too (``make index-expiring STAGE=…``, once per stage,
after the first deploy that has the notices; ``make run`` does it when it restores its state).

A Scan, on purpose: an operator's one-off migration, as the local state's dump is; the service
never scans. Each token is written only while it is as it was read, so it is safe to run while
the service runs, and again.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.model.kinds import TokenKind
from chalicelib.storage import Store
from chalicelib.storage.errors import Unavailable
from chalicelib.storage.items import token_from_item

_UNINDEXED_PATS = ("begins_with(sk, :pats) AND attribute_exists(expiresAt) AND attribute_not_exists(expiresOn) "
                   "AND attribute_not_exists(rotatedTo) AND attribute_not_exists(deletedAt)")


def index_expiring_pats(client: Any, table: str) -> int:
    """Index every PAT of ``table`` that expires and is not yet in the index; how many were."""
    store = Store(client, table)
    indexed = 0
    for page in client.get_paginator("scan").paginate(
        TableName=table, FilterExpression=_UNINDEXED_PATS,
        ExpressionAttributeValues={":pats": {"S": f"TOKEN#{TokenKind.PAT.spec.id_prefix}_"}},
    ):
        indexed += sum(store.tokens.add_to_expiry_index(token_from_item(item)) for item in page["Items"])
    return indexed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.expiry_index", description=__doc__)
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="table name (default: $TABLE_NAME)")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("set TABLE_NAME or pass --table")
    try:
        indexed = index_expiring_pats(boto3.client("dynamodb"), args.table)
    except (Unavailable, BotoCoreError, ClientError) as error:
        print(f"expiry-index: DynamoDB refused or could not be reached ({error}); nothing is lost, run it again",
              file=sys.stderr)
        return 1
    print(f"{indexed} personal access tokens put into the expiry index of {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
