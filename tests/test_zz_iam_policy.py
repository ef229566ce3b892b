"""Runs last (see conftest): each function's policy allows exactly the DynamoDB actions its calls needed."""
from __future__ import annotations

import json

import pytest

from .conftest import IAM_ACTIONS_USED, ROOT

POLICY_FILES = {"handler": "policy-{stage}.json", "authorizer": "policy-authorizer-{stage}.json"}


@pytest.mark.parametrize("function", sorted(POLICY_FILES))
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_policy_allows_exactly_the_dynamodb_actions_its_function_uses(stage: str, function: str) -> None:
    used = IAM_ACTIONS_USED[function]
    if len(IAM_ACTIONS_USED["handler"]) < 3:
        pytest.skip("run the whole suite: the calls of every other test are what this checks")
    name = POLICY_FILES[function].format(stage=stage)
    policy = json.loads((ROOT / ".chalice" / name).read_text())
    allowed = {action for statement in policy["Statement"] for action in statement["Action"]
               if statement["Effect"] == "Allow"}
    assert used <= allowed, f"missing from {name}: {sorted(used - allowed)}"
    unused = {a for a in allowed if a.startswith("dynamodb:")} - used
    assert not unused, f"{name} grants DynamoDB actions no code of the {function} uses: {sorted(unused)}"
