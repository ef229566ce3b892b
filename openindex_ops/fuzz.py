"""``python -m openindex_ops.fuzz``: Schemathesis against the live local stack.

Starts `openindex-local` (moto's DynamoDB server + `chalice local`) on a free loopback port, runs
Schemathesis with every check on openapi.yaml as the bootstrap admin, then stops the stack.
`make test` runs it with a few examples per operation (tests/test_contract.py); `make fuzz`
runs it longer. Two checks are left out:
- positive_data_acceptance expects every schema-valid body to succeed, which rules that depend
  on the clock and on state (an expiry in the future, an email without an account) cannot promise;
- unsupported_method sends verbs such as TRACE, which `chalice local`'s HTTP server answers itself
  with an HTML 501 before the app runs (API Gateway answers them 403). schemathesis.toml keeps
  the coverage phase's wrong-verb requests to verbs the app itself answers (with a JSON 405).

The run's own admin token must survive it: schemathesis.toml keeps the operations that could end
it away from its user and token, and the run fails if, afterwards, the token is not still a
working admin token (every request after its end would have been a 401, testing nothing).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx

from openindex_ops.local_stack import spawned

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation")
    parser.add_argument("--seed", type=int, help="for a reproducible run")
    parser.add_argument("--report-dir", default=str(PROJECT_DIR / "build" / "fuzz"))
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    args = parser.parse_args(argv)
    with spawned() as (base_url, token):
        command = [
            str(BIN / "st"), "--config-file", str(PROJECT_DIR / "schemathesis.toml"),
            "run", str(PROJECT_DIR / "openapi.yaml"),
            "--url", base_url,
            "--header", f"Authorization: Bearer {token}",
            "--checks", "all",
            "--exclude-checks", "positive_data_acceptance,unsupported_method",
            "--phases", args.phases,
            "--max-examples", str(args.max_examples),
            "--workers", "1",
            "--generation-database", "none",
            "--report", "junit",
            "--report-dir", args.report_dir,
            "--no-color",
        ]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        code = subprocess.run(command, cwd=PROJECT_DIR, check=False).returncode
        if problem := survived(base_url, token):
            print(f"openindex-fuzz: the run's admin token did not survive it ({problem}): requests after its end "
                  "tested nothing; keep the operation that ended it away from its user and token in "
                  "schemathesis.toml", file=sys.stderr)
            return 1
        return code


def survived(base_url: str, token: str) -> str | None:
    """Why the run's token is no longer a working admin token, or None when it still is."""
    answer = httpx.get(f"{base_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if answer.status_code != 200:
        return f"GET /me answered {answer.status_code}"
    me = answer.json()
    if me.get("role") != "admin" or me.get("token", {}).get("scope") != "admin":
        return f"its user is now {me.get('role')} and its token {me.get('token', {}).get('scope')}"
    return None


if __name__ == "__main__":
    sys.exit(main())
