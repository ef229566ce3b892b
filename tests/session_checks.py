"""Checks over the whole test session, run by the hooks in conftest once every test has run.

Secrets: no token value minted during the session showed up in a log line, a stored item or a
response other than the one that created it (valid for any selection of tests). IAM: each
Lambda's policy allows every DynamoDB and EventBridge action that function's calls needed; on a full run, it
also allows nothing more (a selection of tests makes fewer calls, so that half needs them all).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

POLICY_FILES = {
    "handler": "policy-{stage}.json",
    "authorizer": "policy-authorizer-{stage}.json",
    "sweeper": "policy-sweeper-{stage}.json",
    "notices": "policy-notices-{stage}.json",
}
CHECKED_SERVICES = ("dynamodb:", "events:")  # the AWS actions the code calls (logs are Lambda's own)
STAGES = ("dev", "prod")


def is_full_run(session: pytest.Session, root: Path) -> bool:
    """True when the session ran every test: no marker or keyword selection, no narrower path."""
    config = session.config
    if (config.option.markexpr or config.option.keyword or config.option.collectonly or session.testsfailed
            or session.shouldstop):
        return False
    tests = (root / "tests").resolve()
    return all(Path(arg.split("::")[0]).resolve() in (tests, root.resolve()) for arg in config.args)


def iam_problems(used: dict[str, set[str]], chalice_dir: Path, full_run: bool) -> list[str]:
    """Each function's policy against the DynamoDB actions that function used."""
    problems = []
    for function, pattern in POLICY_FILES.items():
        for stage in STAGES:
            name = pattern.format(stage=stage)
            policy = json.loads((chalice_dir / name).read_text())
            allowed = {action for statement in policy["Statement"] if statement["Effect"] == "Allow"
                       for action in statement["Action"]}
            if missing := used[function] - allowed:
                problems.append(f"{name} lacks what the {function} calls: {sorted(missing)}")
            unused = {action for action in allowed if action.startswith(CHECKED_SERVICES)} - used[function]
            if full_run and unused:
                problems.append(f"{name} grants what no code of the {function} calls: {sorted(unused)}")
    return problems
