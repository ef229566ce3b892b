"""Runs last (see conftest): every DynamoDB action the suite's calls needed is in each stage's policy."""
from __future__ import annotations

import json

import pytest

from .conftest import IAM_ACTIONS_USED, ROOT


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_policy_allows_every_dynamodb_action_the_code_uses(stage: str) -> None:
    if len(IAM_ACTIONS_USED) < 3:
        pytest.skip("run the whole suite: the calls of every other test are what this checks")
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    allowed = {action for statement in policy["Statement"] for action in statement["Action"]
               if statement["Effect"] == "Allow"}
    assert IAM_ACTIONS_USED <= allowed, f"missing from policy-{stage}.json: {sorted(IAM_ACTIONS_USED - allowed)}"
    unused = {a for a in allowed if a.startswith("dynamodb:")} - IAM_ACTIONS_USED
    assert not unused, f"policy-{stage}.json grants DynamoDB actions no code uses: {sorted(unused)}"
