"""Public ids: typed, lowercase ULIDs that sort by creation time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import ids

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_ids_sort_by_creation_time() -> None:
    earlier = ids.new_id(ids.PAT, NOW)
    later = ids.new_id(ids.PAT, NOW + timedelta(milliseconds=1))
    assert earlier < later
    assert earlier.startswith("pat_01") and earlier == earlier.lower()


def test_normalize_accepts_either_case_and_returns_the_canonical_form() -> None:
    token_id = ids.new_id(ids.PAT, NOW)
    assert ids.normalize(ids.PAT, token_id.upper().replace("PAT_", "pat_")) == token_id


@pytest.mark.parametrize(
    "text", ["", "pat_", "pat", "usr_01jdx7k2m3n4p5q6r7s8t9v0wx", "pat_xyz", "pat_" + "Z" * 26,
             "pat_01jdx7k2m3n4p5q6r7s8t9v0wx/../x", "pat_01JDX7K2M3N4P5Q6R7S8T9V0W!"]
)
def test_normalize_refuses_anything_else(text: str) -> None:
    assert ids.normalize(ids.PAT, text) is None
