"""``openindex-bootstrap``: create the first admin and print their admin token, once.

The token is printed to standard output (never logged) as ``OPENINDEX_ADMIN_TOKEN=...`` so a
script can capture it; store it in a secrets manager, it cannot be shown again.
"""
from __future__ import annotations

import argparse
import os
import sys

from chalicelib.errors import Conflict
from chalicelib.store import Store
from chalicelib.timeutil import utcnow
from chalicelib.users import bootstrap_admin


def main(argv: list[str] | None = None) -> int:
    """Create the first admin in the table named by --table or TABLE_NAME."""
    parser = argparse.ArgumentParser(prog="openindex-bootstrap", description=__doc__)
    parser.add_argument("--email", required=True, help="the first admin's email address")
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME"),
                        help="table name (default: $TABLE_NAME)")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("set TABLE_NAME or pass --table")
    try:
        user, token = bootstrap_admin(Store.connect(args.table), args.email, utcnow())
    except Conflict as error:
        print(f"openindex-bootstrap: {error.message}", file=sys.stderr)
        return 1
    print(f"created admin {user.email} ({user.id}) in {args.table}", file=sys.stderr)
    print(f"OPENINDEX_ADMIN_TOKEN={token.value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
