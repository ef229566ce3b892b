"""`oi admin`: users, invites and the token policy of an instance (needs an admin-scope PAT).

Each command group is a module of its own; this one only puts them under `oi admin`.
"""
from __future__ import annotations

import click

from openindex_cli.admin.invites import invites
from openindex_cli.admin.token_policy import token_policy
from openindex_cli.admin.users import users
from openindex_cli.commands import HelpGroup


@click.group(cls=HelpGroup, short_help="Users, invites and the token policy (admin token).")
def admin() -> None:
    """Administer the instance: users, invites, the token policy (needs an admin-scope PAT)."""


admin.add_command(users)
admin.add_command(invites)
admin.add_command(token_policy)
