"""``openindex-bootstrap``: the first admin of an instance, written straight into the table.

Prints, once, either an admin PAT (``OPENINDEX_ADMIN_TOKEN=...``) for a new admin account, or
with ``--invite`` an admin invite (``OPENINDEX_ADMIN_INVITE=...`` and its link) for the person
to claim. For an email that already belongs to an active admin (the instance lost its
admin tokens), it prints a re-access link for that admin instead: table access is the root of
trust, so the instance can always be recovered. Standard output only, never a log: store the
value in a secrets manager.
"""
from __future__ import annotations

import argparse
import os
import sys

from chalicelib.errors import ServiceError, ServiceUnavailable
from chalicelib.model.accounts import Role, User, normalize_email
from chalicelib.model.invites import operator
from chalicelib.services import invites
from chalicelib.services.users import bootstrap_admin
from chalicelib.storage import Store
from chalicelib.storage.errors import Unavailable
from chalicelib.timeutil import utcnow


def main(argv: list[str] | None = None) -> int:
    """Create the first admin (or their invite) in the table named by --table or TABLE_NAME."""
    parser = argparse.ArgumentParser(prog="openindex-bootstrap", description=__doc__)
    parser.add_argument("--email", required=True, help="the first admin's email address")
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME"),
                        help="table name (default: $TABLE_NAME)")
    parser.add_argument("--invite", action="store_true",
                        help="print an admin invite to claim instead of creating the account")
    parser.add_argument("--app-url", default=os.environ.get("APP_URL"),
                        help="base of the invite link (default: $APP_URL)")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error("set TABLE_NAME or pass --table")
    if args.invite and not args.app_url:
        parser.error("--invite needs --app-url (or APP_URL)")
    store = Store.connect(args.table)
    try:
        existing = store.users.find_by_email(normalize_email(args.email))
        if existing is not None:
            return _recover(store, existing, args.app_url)
        if args.invite:
            issued = invites.create_invite(
                store, email=args.email, role=Role.ADMIN, expires_at=None, maker=operator("bootstrap"),
                app_url=args.app_url, now=utcnow(),
            )
            print(f"admin invite for {issued.invite.email}, valid until "
                  f"{issued.invite.expires_at:%Y-%m-%d %H:%M} UTC: {issued.url}", file=sys.stderr)
            print(f"OPENINDEX_ADMIN_INVITE={issued.token}", flush=True)
        else:
            user, token = bootstrap_admin(store, email=args.email, now=utcnow())
            print(f"created admin {user.email} ({user.id}) in {args.table}", file=sys.stderr)
            print(f"OPENINDEX_ADMIN_TOKEN={token.value}", flush=True)
    except Unavailable:
        print(f"openindex-bootstrap: {ServiceUnavailable.default_message}", file=sys.stderr)
        return 1
    except ServiceError as error:
        print(f"openindex-bootstrap: {error.message}", file=sys.stderr)
        return 1
    return 0


def _recover(store: Store, user: User, app_url: str | None) -> int:
    """A re-access link for an existing active admin; anyone else is refused."""
    if not user.is_active_admin:
        print(f"openindex-bootstrap: {user.email} already has an account and is not an active admin; "
              "an admin can promote or reactivate them, then send a re-access link", file=sys.stderr)
        return 1
    if not app_url:
        print(f"openindex-bootstrap: {user.email} is already an admin; pass --app-url (or APP_URL) to get "
              "a re-access link for them", file=sys.stderr)
        return 1
    issued = invites.create_access_link(store, user, expires_at=None, maker=operator("bootstrap"), app_url=app_url,
                                        now=utcnow())
    print(f"{user.email} is already an admin: re-access link, valid until "
          f"{issued.invite.expires_at:%Y-%m-%d %H:%M} UTC: {issued.url}", file=sys.stderr)
    print(f"OPENINDEX_ADMIN_ACCESS_LINK={issued.token}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
