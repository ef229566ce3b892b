"""The DynamoDB table as ``infra/table.yaml`` defines it, for local runs and tests.

infra/ is the single source of the key schema: this module reads the CloudFormation template
instead of repeating it, so a local table can never drift from the deployed one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "table.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads CloudFormation's short-form tags (``!Ref``, ``!If``...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The CloudFormation template as a dict (intrinsic functions left unevaluated)."""
    with path.open() as handle:
        return yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 - safe subclass


def table_properties(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Properties of the template's one DynamoDB table."""
    resources = (template or load_template())["Resources"]
    (table,) = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    return table["Properties"]


def create_table(client: Any, table_name: str) -> None:
    """Create ``table_name`` with the template's keys, indexes and TTL, and wait until active."""
    properties = table_properties()
    params: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in properties:
        params["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    client.create_table(**params)
    client.get_waiter("table_exists").wait(TableName=table_name)
    ttl = properties["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    )
