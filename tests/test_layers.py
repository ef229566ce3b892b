"""What the layers promise at run time (import-linter keeps the imports themselves, in `make test`):
the authorizer's cold start loads no request models, and parsing a request loads no storage."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def loaded_after(statement: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``statement``."""
    probe = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def test_importing_the_app_loads_neither_pydantic_nor_python_ulid() -> None:
    loaded = loaded_after("import app")
    assert "app" in loaded and "chalicelib.services.authentication" in loaded
    assert not {"pydantic", "pydantic_core", "email_validator", "ulid"} & loaded


def test_parsing_a_request_loads_no_use_case_and_no_storage() -> None:
    loaded = loaded_after("import chalicelib.api.requests")
    assert "pydantic" in loaded
    assert not {name for name in loaded if name.startswith(("chalicelib.services", "chalicelib.storage", "boto3"))}
