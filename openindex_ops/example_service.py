"""The example OpenIndex service (examples/work_items/) as make run and the tests serve it: its
app loaded from its own directory (it is a project of its own, not a module of this one), and
its table created in the embedded DynamoDB."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from chalice.app import Chalice

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = PROJECT_DIR / "examples" / "work_items"
TABLE_VARIABLE = "WORK_ITEMS_TABLE"
LOCAL_TABLE = "openindex-work-items-local"
# The example table's keys, here and in its package's template.
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "id", "AttributeType": "S"}]
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}]
# The paths the example serves, under the same address as this service's in make run.
PREFIX = "/work-items"


def load_app() -> Chalice:
    """The example's Chalice app, imported from its file under a name of its own."""
    spec = importlib.util.spec_from_file_location("openindex_work_items", EXAMPLE_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app: Chalice = module.app
    return app


def create_table(client: Any, name: str = LOCAL_TABLE) -> None:
    """The example's table: one partition of work items, sorted by id (listed by a Query)."""
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=ATTRIBUTES, KeySchema=KEYS)
