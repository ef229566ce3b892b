"""The token format: prefix, 160-bit secret, locator ids, CRC32 checksum."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chalicelib import ids, token_codec

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def mint_pat() -> tuple[token_codec.MintedToken, tuple[str, str]]:
    locator = (ids.new_id(ids.USER, NOW), ids.new_id(ids.PAT, NOW))
    return token_codec.mint(token_codec.PAT, locator), locator


def test_minted_token_has_the_documented_shape() -> None:
    minted, _ = mint_pat()
    assert re.fullmatch(r"oi_pat_[0-9A-Za-z]+", minted.value)
    assert len(minted.value) == len("oi_pat_") + token_codec.PAT.body_width + 6


def test_parse_returns_the_ids_and_digest_of_a_minted_token() -> None:
    minted, locator = mint_pat()
    parsed = token_codec.parse(minted.value)
    assert parsed is not None
    assert parsed.ids == locator
    assert parsed.digest == minted.digest == token_codec.digest(minted.value)
    assert minted.digest != minted.value.encode()


def test_tokens_of_one_user_share_no_visible_prefix() -> None:
    user = ids.new_id(ids.USER, NOW)
    first = token_codec.mint(token_codec.PAT, (user, ids.new_id(ids.PAT, NOW))).value
    second = token_codec.mint(token_codec.PAT, (user, ids.new_id(ids.PAT, NOW))).value
    assert first[len("oi_pat_") : len("oi_pat_") + 6] != second[len("oi_pat_") : len("oi_pat_") + 6]


def test_every_single_character_change_is_caught_by_the_checksum() -> None:
    minted, _ = mint_pat()
    value = minted.value
    for position in range(len("oi_pat_"), len(value)):
        replacement = "A" if value[position] != "A" else "B"
        tampered = value[:position] + replacement + value[position + 1 :]
        assert token_codec.parse(tampered) is None, position


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
    assert token_codec.parse(mangle(minted.value)) is None


def test_a_body_larger_than_its_bytes_is_refused_even_with_a_valid_checksum() -> None:
    body = "z" * token_codec.PAT.body_width
    head = token_codec.PAT.prefix + body
    forged = head + token_codec._checksum(head)
    assert token_codec.parse(forged) is None


def test_secrets_do_not_repeat() -> None:
    values = {mint_pat()[0].value for _ in range(200)}
    assert len(values) == 200
