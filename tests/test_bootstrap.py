"""openindex-bootstrap: the first admin's PAT, or an admin invite, printed once."""
from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from chalicelib.model import token_format
from chalicelib.model.accounts import Role
from chalicelib.services import invites, users
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
    user, found, _ = store.tokens.load_credential(parsed.user_id, [parsed.token_id])
    assert (user.email, user.role.value) == ("root@example.com", "admin")
    assert found[parsed.token_id].scope.value == "admin"


def test_bootstrap_for_an_existing_admin_prints_a_re_access_link_instead_of_failing(
    store: Store, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    assert bootstrap.main(["--email", "root@example.com", "--table", TABLE]) == 0
    first = printed(capsys, "OPENINDEX_ADMIN_TOKEN")
    argv = ["--email", "Root@example.com", "--table", TABLE, "--app-url", "https://x.test"]
    assert bootstrap.main(argv) == 0
    link = printed(capsys, "OPENINDEX_ADMIN_ACCESS_LINK")
    user, token = invites.claim_invite(store, link, now=clock.now())
    assert user.email == "root@example.com" and token.record.scope.value == "admin"
    assert token.value != first


def test_bootstrap_refuses_an_email_held_by_someone_who_is_not_an_admin(
    store: Store, capsys: pytest.CaptureFixture[str], clock: FrozenClock
) -> None:
    users.create_user(store, email="member@example.com", role=Role.MEMBER, now=clock.now())
    assert bootstrap.main(["--email", "member@example.com", "--table", TABLE, "--app-url", "https://x.test"]) == 1
    captured = capsys.readouterr()
    assert "OPENINDEX_ADMIN" not in captured.out and "not an active admin" in captured.err


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


def test_bootstrap_says_an_outage_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                               aws_access_key_id="x", aws_secret_access_key="x",
                               config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}))
    monkeypatch.setattr(bootstrap.Store, "connect", classmethod(lambda cls, table: Store(unreachable, table)))
    assert bootstrap.main(["--email", "first@example.com", "--table", "t"]) == 1
    assert capsys.readouterr().err.strip() == (
        "openindex-bootstrap: The service is briefly unavailable; retry the request.")
