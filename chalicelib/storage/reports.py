"""What a leak report names, read whatever its kind: tokens and invites in one batch."""
from __future__ import annotations

from collections.abc import Sequence

from chalicelib.model.invites import Invite
from chalicelib.model.tokens import TokenRecord
from chalicelib.storage.items import invite_from_item, is_token, token_from_item
from chalicelib.storage.keys import invite_key, token_key
from chalicelib.storage.table import Table


class ReportStore:
    """Reads the credentials a report names: one key per credential, 100 keys per round trip."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def find(
        self, tokens: Sequence[tuple[str, str]], invite_ids: Sequence[str]
    ) -> tuple[dict[str, TokenRecord], dict[str, Invite]]:
        """The stored tokens among (user id, token id) and the stored invites among ``invite_ids``,
        by id; names given twice are read once (DynamoDB refuses a batch that names a key twice)."""
        keys = [token_key(user_id, token_id) for user_id, token_id in dict.fromkeys(tokens)]
        keys += [invite_key(invite_id) for invite_id in dict.fromkeys(invite_ids)]
        found_tokens: dict[str, TokenRecord] = {}
        found_invites: dict[str, Invite] = {}
        for item in self._table.get_batch(keys):
            if is_token(item):
                token = token_from_item(item)
                found_tokens[token.id] = token
            else:
                invite = invite_from_item(item)
                found_invites[invite.id] = invite
        return found_tokens, found_invites
