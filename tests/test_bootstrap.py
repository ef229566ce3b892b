"""openindex-bootstrap: the first admin's PAT, or an admin invite, printed once."""
from __future__ import annotations

import pytest

from chalicelib.access import token_format
from chalicelib.accounts import invites
from chalicelib.storage import Store
from openindex_ops import bootstrap

from .conftest import TABLE, FrozenClock


def printed(capsys: pytest.CaptureFixture[str], name: str) -> str:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"{name}=")]
    assert len(lines) == 1
    return lines[0].partition("=")[2]


def test_bootstrap_creates_an_admin_and_prints_an_admin_token(
    store: Store, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    assert bootstrap.main(["--email", "Root@Example.com", "--table", TABLE]) == 0
    token = printed(capsys, "OPENINDEX_ADMIN_TOKEN")
    parsed = token_format.parse(token)
    user, found = store.tokens.load_credential(parsed.user_id, [parsed.token_id])
    assert (user.email, user.role.value) == ("root@example.com", "admin")
    assert found[parsed.token_id].scope.value == "admin"


def test_bootstrap_refuses_an_email_that_has_an_account(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap.main(["--email", "root@example.com", "--table", TABLE]) == 0
    capsys.readouterr()
    assert bootstrap.main(["--email", "root@example.com", "--table", TABLE]) == 1
    captured = capsys.readouterr()
    assert "OPENINDEX_ADMIN_TOKEN" not in captured.out
    assert "already exists" in captured.err


def test_bootstrap_can_print_an_admin_invite_instead(
    store: Store, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    argv = ["--email", "root@example.com", "--table", TABLE, "--invite", "--app-url", "https://x.test"]
    assert bootstrap.main(argv) == 0
    invite_token = printed(capsys, "OPENINDEX_ADMIN_INVITE")
    user, first_token = invites.claim_invite(store, invite_token, now=clock.now())
    assert user.role.value == "admin" and first_token.record.scope.value == "admin"


def test_bootstrap_needs_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(SystemExit):
        bootstrap.main(["--email", "root@example.com"])
