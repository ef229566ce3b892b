"""Runs last (see conftest): across the whole session, no token value appeared in a log line, a
stored item, or any response but the one that created it."""
from __future__ import annotations

import pytest

from .conftest import SECRETS


def test_no_token_value_leaked_anywhere_during_the_session() -> None:
    if len(SECRETS.minted) < 50:
        pytest.skip("run the whole suite: the tokens and responses of every other test are what this checks")
    assert SECRETS.leaks == []
    assert SECRETS.places_checked > len(SECRETS.minted)
    print(f"secret watch: {len(SECRETS.minted)} tokens minted, {SECRETS.places_checked} log lines, "
          f"stored tables and responses checked, {len(SECRETS.leaks)} leaks")
