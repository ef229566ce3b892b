"""The token format: prefix, 160-bit secret, locator ids, CRC32 checksum."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chalicelib.model import ids, token_format
from chalicelib.model.kinds import KINDS, TokenKind

NOW = datetime(2026, 11, 24, tzinfo=UTC)
PAT = TokenKind.PAT.spec


def mint_pat() -> tuple[token_format.MintedToken, tuple[str, str]]:
    locator = (ids.new_id(ids.USER, NOW), ids.new_id(PAT.id_prefix, NOW))
    return token_format.mint(PAT, user_id=locator[0], token_id=locator[1]), locator


def test_minted_token_has_the_documented_shape() -> None:
    minted, _ = mint_pat()
    assert re.fullmatch(r"oi_pat_[0-9A-Za-z]+", minted.value)
    assert len(minted.value) == len("oi_pat_") + token_format.body_width(PAT) + 6


def test_parse_returns_the_ids_and_digest_of_a_minted_token() -> None:
    minted, locator = mint_pat()
    parsed = token_format.parse(minted.value)
    assert parsed is not None
    assert (parsed.kind, parsed.user_id, parsed.token_id, parsed.parent_id) == (PAT, *locator, None)
    assert parsed.digest == minted.digest == token_format.digest(minted.value)
    assert minted.digest != minted.value.encode()


def test_tokens_of_one_user_share_no_visible_prefix() -> None:
    user = ids.new_id(ids.USER, NOW)
    first = token_format.mint(PAT, user_id=user, token_id=ids.new_id(PAT.id_prefix, NOW)).value
    second = token_format.mint(PAT, user_id=user, token_id=ids.new_id(PAT.id_prefix, NOW)).value
    assert first[len("oi_pat_") : len("oi_pat_") + 6] != second[len("oi_pat_") : len("oi_pat_") + 6]


def test_every_single_character_change_is_caught_by_the_checksum() -> None:
    minted, _ = mint_pat()
    value = minted.value
    for position in range(len("oi_pat_"), len(value)):
        replacement = "A" if value[position] != "A" else "B"
        tampered = value[:position] + replacement + value[position + 1 :]
        assert token_format.parse(tampered) is None, position


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1],
        lambda v: v + "A",
        lambda v: v.replace("oi_pat_", "oi_xyz_"),
        lambda v: v.replace("oi_pat_", "oi_PAT_"),
        lambda v: v.replace("oi_pat_", "pat_"),
        lambda v: v[:20] + "-" + v[21:],
        lambda v: " " + v,
        lambda v: v.upper(),
        lambda v: "",
    ],
    ids=["truncated", "extended", "unknown type", "upper type", "no oi", "dash", "space", "upper", "empty"],
)
def test_malformed_tokens_are_refused_without_a_lookup(mangle) -> None:
    minted, _ = mint_pat()
    assert token_format.parse(mangle(minted.value)) is None


def test_a_body_larger_than_its_bytes_is_refused_even_with_a_valid_checksum() -> None:
    body = "z" * token_format.body_width(PAT)
    head = PAT.token_prefix + body
    forged = head + token_format._checksum(head)
    assert token_format.parse(forged) is None


def test_secrets_do_not_repeat() -> None:
    values = {mint_pat()[0].value for _ in range(200)}
    assert len(values) == 200


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_every_kind_round_trips_the_ids_it_declares(kind: TokenKind) -> None:
    spec = kind.spec
    given = {field: ids.new_id(prefix, NOW) for field, prefix in spec.carries}
    minted = token_format.mint(spec, **given)
    assert minted.value.startswith(spec.token_prefix)
    parsed = token_format.parse(minted.value)
    assert parsed is not None and parsed.kind is spec
    assert {field: getattr(parsed, field) for field in given} == given


def test_a_token_carries_exactly_the_ids_of_its_kind() -> None:
    with pytest.raises(ValueError, match="carries exactly"):
        token_format.mint(PAT, token_id=ids.new_id(PAT.id_prefix, NOW))
    with pytest.raises(ValueError, match="carries exactly"):
        token_format.mint(PAT, user_id=ids.new_id(ids.USER, NOW), token_id=ids.new_id(PAT.id_prefix, NOW),
                          parent_id=ids.new_id(PAT.id_prefix, NOW))
