"""Public ids: typed, lowercase ULIDs that sort by creation time."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from chalicelib.model import ids
from chalicelib.model.kinds import TokenKind

NOW = datetime(2026, 11, 24, tzinfo=UTC)
PAT_PREFIX = TokenKind.PAT.spec.id_prefix


def test_ids_sort_by_creation_time() -> None:
    earlier = ids.new_id(PAT_PREFIX, NOW)
    later = ids.new_id(PAT_PREFIX, NOW + timedelta(milliseconds=1))
    assert earlier < later
    assert earlier.startswith("pat_01") and earlier == earlier.lower()


def test_normalize_accepts_either_case_and_returns_the_canonical_form() -> None:
    token_id = ids.new_id(PAT_PREFIX, NOW)
    assert ids.normalize(PAT_PREFIX, token_id.upper().replace("PAT_", "pat_")) == token_id


@pytest.mark.parametrize(
    "text", ["", "pat_", "pat", "usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "pat_xyz", "pat_" + "Z" * 26,
             "pat_01jdx7k2m3n4p5q6r7s8t9v0wx/../x", "pat_01JDX7K2M3N4P5Q6R7S8T9V0W!"]
)
def test_normalize_refuses_anything_else(text: str) -> None:
    assert ids.normalize(PAT_PREFIX, text) is None


def test_the_text_of_an_id_is_python_ulids_text_of_its_bytes() -> None:
    for _ in range(500):
        generated = ULID.from_bytes(os.urandom(ids.ID_BYTES))
        text = ids.from_bytes(PAT_PREFIX, generated.bytes)
        assert text == f"{PAT_PREFIX}_{str(generated).lower()}"
        assert ids.to_bytes(text) == generated.bytes
        assert ids.normalize(PAT_PREFIX, text.upper().replace("PAT_", "pat_")) == text
