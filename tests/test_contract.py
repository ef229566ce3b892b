"""openapi.yaml is the contract: it lists exactly the routes the app registers, and Schemathesis
finds nothing wrong when it runs the spec against the live local stack."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import app as app_module
from chalicelib.web.routes import is_web_route

from .conftest import ROOT

pytestmark = pytest.mark.e2e

SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _spec_routes() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _api_entries() -> list[tuple[str, str, Any]]:
    """(path, method, entry) of every API route: the web UI's pages and assets (chalicelib.web)
    are HTML for browsers, not part of the JSON API the spec describes."""
    return [
        (path, method, entry)
        for path, methods in app_module.app.routes.items()
        for method, entry in methods.items()
        if not is_web_route(entry)
    ]


def _app_routes() -> set[tuple[str, str]]:
    renamed = {"{token_id}": "{tokenId}", "{user_id}": "{userId}", "{invite_id}": "{inviteId}"}
    routes = set()
    for path, method, _ in _api_entries():
        for old, new in renamed.items():
            path = path.replace(old, new)
        routes.add((method, path))
    return routes


def test_the_spec_describes_exactly_the_registered_routes() -> None:
    assert _spec_routes() == _app_routes()


def test_the_spec_marks_exactly_the_public_routes_as_needing_no_token() -> None:
    public = {
        (method.upper(), path)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == []
    }
    assert public == {(method, path) for path, method, entry in _api_entries() if entry.authorizer is None}


def test_schemathesis_finds_nothing_against_the_live_stack(tmp_path: Path) -> None:
    """Every check (no 5xx, responses match the spec, ignored_auth, use_after_free, ...),
    a few examples per operation; `make fuzz` runs the same with many more."""
    result = subprocess.run(
        [sys.executable, "-m", "openindex_ops.fuzz", "--max-examples", "10", "--seed", "1",
         "--report-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    counts = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert counts is not None, summary
    generated, passed = map(int, counts.groups())
    assert generated == passed > 100


def test_spectral_finds_nothing_in_the_contract() -> None:
    """Spectral's OpenAPI rules and the OWASP API Security ruleset (.spectral.yaml turns off, by
    name and with why, the rules that do not fit this API): not a warning left."""
    spectral = ROOT / "node_modules" / ".bin" / "spectral"
    assert spectral.exists(), "make test installs it (npm ci)"
    linted = subprocess.run([str(spectral), "lint", "openapi.yaml", "--fail-severity=warn", "--format=text"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_fuzz_run_fails_when_its_own_admin_token_did_not_survive() -> None:
    """A run whose token was narrowed or deleted on the way tested nothing after that: it fails."""
    import httpx

    from openindex_ops import fuzz
    from openindex_ops.local_stack import spawned

    with spawned() as (base_url, token):
        assert fuzz.survived(base_url, token) is None
        sent = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{base_url}/me", headers=sent).json()
        narrowed = httpx.patch(f"{base_url}/me/pats/{me['token']['id']}", headers=sent, json={"scope": "read_write"})
        assert narrowed.status_code == 200, narrowed.text
        assert fuzz.survived(base_url, token) == "its user is now admin and its token read_write"
        assert httpx.delete(f"{base_url}/me/pats/{me['token']['id']}", headers=sent).status_code == 204
        assert fuzz.survived(base_url, token) == "GET /me answered 401"
