"""``make bench``: what the authorizer costs, measured against the unavoidable floor.

Absolute times drift on shared machines, so every figure is a ratio of two measurements taken
side by side, alternating, in one run; the median of the per-pair ratios is reported. Prints
one table and writes it as JSON under bench/results/. Never part of `make test` (only the
request counts are, in tests/test_request_budget.py).
"""
from __future__ import annotations

import argparse
import compileall
import json
import logging
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT_DIR / "bench" / "results"
TABLE = "openindex-auth-bench"
# The issues' targets. "warm authorization" is measured against one bare GetItem, but an
# authorization reads three items (the token, its user, so that deactivation needs no token
# rewrite, and the token policy); the rows "vs its BatchGetItem" show what the code itself adds,
# and issue 22 holds the least-privilege one (a grant family by family, IP ranges) to 1.10.
LEAST_PRIVILEGE = "warm authorization, grant and IP ranges, vs its BatchGetItem"
TARGETS = {"cold import": 1.15, "first authorization": 1.15, "warm authorization": 1.10,
           LEAST_PRIVILEGE: 1.10, "authorize at 100,000 tokens": 1.10, "list first page at 10,000 tokens": 1.10}
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/me"
# Another API's family route, which a grant family by family is judged on.
FAMILY_ARN = "arn:aws:execute-api:us-east-1:123456789012:other99/api/GET/work-items/wi_1"
# Ranges as an office and a VPN would give them: the address is judged against each.
RANGES = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "203.0.113.0/24", "127.0.0.0/8"]


def median_ratio(measure_a: Callable[[], float], measure_b: Callable[[], float], pairs: int) -> dict[str, float]:
    """Alternate a and b ``pairs`` times; the median of a/b and the medians of each (ms)."""
    a_times, b_times, ratios = [], [], []
    for index in range(pairs):
        if index % 2:  # alternate the order too, so neither side always runs second
            b, a = measure_b(), measure_a()
        else:
            a, b = measure_a(), measure_b()
        a_times.append(a)
        b_times.append(b)
        ratios.append(a / b)
    return {"ratio": round(statistics.median(ratios), 3),
            "ms": round(statistics.median(a_times) * 1000, 2),
            "floorMs": round(statistics.median(b_times) * 1000, 2)}


def timed_process(code: str, env: dict[str, str], cwd: Path = PROJECT_DIR) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True)
    return time.perf_counter() - started


def lambda_like_copies(scratch: Path) -> tuple[Path, Path]:
    """The app's sources as Lambda sees them from a read-only package: one copy without any
    .pyc (compiled on every cold start) and one with the unchecked-hash .pyc `make package` ships."""
    bare, shipped = scratch / "bare", scratch / "shipped"
    for copy in (bare, shipped):
        shutil.copytree(PROJECT_DIR / "chalicelib", copy / "chalicelib",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(PROJECT_DIR / "app.py", copy / "app.py")
    compileall.compile_dir(shipped, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return bare, shipped


def per_call(function: Callable[[], Any], calls: int) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - started) / calls
    return measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=30, help="alternating pairs per ratio")
    parser.add_argument("--large", type=int, default=100_000, help="tokens in the large table")
    parser.add_argument("--skip-package", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON report goes")
    args = parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    logging.getLogger("openindex.audit").setLevel(logging.WARNING)  # the setup's audit lines
    # Both sides import from bytecode: site-packages ships .pyc, so compile the project's too
    # (this machine sets PYTHONDONTWRITEBYTECODE, which would leave ours compiling every run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "chalicelib"], cwd=PROJECT_DIR, check=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": TABLE,
           "APP_URL": "http://127.0.0.1:8000"}
    os.environ.update(env)

    import app as app_module
    from chalicelib.model.addresses import AllowedIps
    from chalicelib.model.grants import Grant, Permission
    from chalicelib.model.kinds import Scope, TokenKind
    from chalicelib.model.tokens import new_token
    from chalicelib.services import users
    from chalicelib.storage import Store
    from chalicelib.timeutil import utcnow
    from openindex_ops.table import create_table

    client = boto3.client("dynamodb")
    create_table(client, TABLE)
    # The store's own client: the warm floor below must go through the very same one.
    store_client = boto3.client("dynamodb")
    store = Store(store_client, TABLE)
    now = utcnow()
    admin, issued = users.bootstrap_admin(store, email="bench@example.com", now=now)
    header = f"Bearer {issued.value}"
    event = {"type": "REQUEST", "methodArn": ARN, "headers": {"Authorization": header},
             "requestContext": {"identity": {"sourceIp": "127.0.0.1"}}}
    app_module.get_store = lambda: store  # type: ignore[assignment]
    assert app_module.bearer_token(event, {})["context"]["verdict"] == "allow"  # records lastUsedAt
    profile_key = {"pk": {"S": f"USER#{admin.id}"}, "sk": {"S": "PROFILE"}}
    rows: dict[str, dict[str, Any]] = {}

    # 1. cold import of what both Lambdas load, against chalice + boto3 alone
    rows["cold import"] = median_ratio(lambda: timed_process("import app", env),
                                       lambda: timed_process("import chalice, boto3", env), args.pairs)

    # 1b. the same as Lambda imports it: sources without bytecode, then with the bytecode shipped
    no_bytecode_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        bare, shipped = lambda_like_copies(Path(scratch))
        for label, where in (("cold import, no bytecode (as Lambda without .pyc)", bare),
                             ("cold import, bytecode shipped (make package)", shipped)):
            rows[label] = median_ratio(
                lambda where=where: timed_process("import app", no_bytecode_env, where),  # type: ignore[misc]
                lambda where=where: timed_process("import chalice, boto3", no_bytecode_env, where),  # type: ignore[misc]
                args.pairs,
            )

    # 2. a fresh process: import, client, one authorization; floor: import, client, one GetItem
    first_auth = (f"import app\nanswer = app.bearer_token({event!r}, {{}})\n"
                  "assert answer['context']['verdict'] == 'allow'")
    floor = (f"import chalice, boto3\nboto3.client('dynamodb').get_item(TableName={TABLE!r}, "
             f"Key={profile_key!r}, ConsistentRead=True)")
    rows["first authorization"] = median_ratio(lambda: timed_process(first_auth, env),
                                               lambda: timed_process(floor, env), args.pairs)

    # 3. warm: one authorization against one bare GetItem through the same client and server
    same_client = store_client
    rows["warm authorization"] = median_ratio(
        per_call(lambda: app_module.bearer_token(event, {}), 20),
        per_call(lambda: same_client.get_item(TableName=TABLE, Key=profile_key, ConsistentRead=True), 20),
        args.pairs,
    )

    # 3b. the same, against the floor of this design: one BatchGetItem of the same two items
    token_key = {"pk": {"S": f"USER#{admin.id}"}, "sk": {"S": f"TOKEN#{issued.record.id}"}}
    rows["warm authorization vs its BatchGetItem"] = median_ratio(
        per_call(lambda: app_module.bearer_token(event, {}), 20),
        per_call(lambda: same_client.batch_get_item(
            RequestItems={TABLE: {"Keys": [profile_key, token_key], "ConsistentRead": True}}), 20),
        args.pairs,
    )

    # 3c. least privilege: a PAT given a grant family by family and IP ranges, on a family's
    # route, against the BatchGetItem of the same three keys (the token, its user, the policy)
    narrow = new_token(TokenKind.PAT, user_id=admin.id, name="bench least privilege", scope=Scope.READ_WRITE,
                       expires_at=None, now=now, permissions=Grant.of({"work_items": Permission.READ,
                                                                      "queues": Permission.WRITE}),
                       allowed_ips=AllowedIps.parse(RANGES))
    store.tokens.put(narrow.record)
    narrow_event = {"type": "REQUEST", "methodArn": FAMILY_ARN, "headers": {"Authorization": f"Bearer {narrow.value}"},
                    "requestContext": {"identity": {"sourceIp": "127.0.0.1"}}}
    assert app_module.bearer_token(narrow_event, {})["context"]["verdict"] == "allow"  # records its first use
    narrow_key = {"pk": {"S": f"USER#{admin.id}"}, "sk": {"S": f"TOKEN#{narrow.record.id}"}}
    policy_key = {"pk": {"S": "META"}, "sk": {"S": "TOKEN_POLICY"}}
    rows[LEAST_PRIVILEGE] = median_ratio(
        per_call(lambda: app_module.bearer_token(narrow_event, {}), 20),
        per_call(lambda: same_client.batch_get_item(
            RequestItems={TABLE: {"Keys": [narrow_key, profile_key, policy_key], "ConsistentRead": True}}), 20),
        args.pairs,
    )

    # 4. DynamoDB requests per operation (the suite asserts the same table)
    from openindex_ops.request_budget import REQUEST_BUDGET, WRITES
    counted = count_requests(app_module, store, same_client, issued.value, now)
    for name, calls in counted.items():
        assert calls == REQUEST_BUDGET[name], (name, calls)

    # 5. scale: authorization and first page against table and partition size
    rows.update(scale(store, same_client, args.large, now, args.pairs))

    # 6. deployment package
    package_bytes = None if args.skip_package else package_size(env)

    # 7. local end to end through chalice local
    server.stop()
    e2e = local_end_to_end()

    report = {"date": date.today().isoformat(), "python": sys.version.split()[0], "rows": rows,
              "targets": TARGETS, "requestsPerOperation": {k: {"calls": v, "writes": len(WRITES & set(v))}
                                                          for k, v in counted.items()},
              "deploymentZipBytes": package_bytes, "localEndToEnd": e2e}
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = unused_path(args.results_dir, str(report["date"]))
    path.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten to {path}")
    return 0


def unused_path(directory: Path, date: str) -> Path:
    """``bench-<date>.json``, or ``b``, ``c``… after the date: a second run the same day never
    overwrites the first."""
    for suffix in ("", *"bcdefghijklmnopqrstuvwxyz"):
        path = directory / f"bench-{date}{suffix}.json"
        if not path.exists():
            return path
    raise SystemExit(f"26 bench results for {date} already in {directory}")


def count_requests(app_module: Any, store: Any, client: Any, token: str, now: Any) -> dict[str, list[str]]:
    """The DynamoDB calls of each operation, through the real app (botocore event hooks)."""
    from chalice.test import Client

    from chalicelib.model.accounts import Role
    from chalicelib.model.invites import operator
    from chalicelib.services import invites
    from openindex_ops.local_gateway import as_deployed

    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    os.environ.setdefault("APP_URL", "http://127.0.0.1:8000")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    invite = invites.create_invite(store, email="claimer@example.com", role=Role.MEMBER, expires_at=None,
                                   maker=operator("bench"), app_url="http://x", now=now)
    counted = {}
    with Client(app_module.app, stage_name="local", project_dir=str(PROJECT_DIR)) as test_client:
        http = as_deployed(test_client.http, app_module.app)
        doomed = json.loads(http.post("/me/pats", headers=auth, body=b'{"name":"d","scope":"read_write"}').body)
        for name, send in {
            "authorize a valid token": lambda: http.get("/me", headers=auth),
            "authorize a token with a bad checksum": lambda: http.get(
                "/me", headers={"Authorization": f"Bearer {token[:-1]}{'0' if token[-1] != '0' else '1'}"}),
            "create a PAT": lambda: http.post("/me/pats", headers=auth, body=b'{"name":"n","scope":"read_write"}'),
            "list one page of PATs": lambda: http.get("/me/pats?limit=1", headers=auth),
            "delete a PAT": lambda: http.delete(f"/me/pats/{doomed['id']}", headers=auth),
            "claim an invite": lambda: http.post("/auth/invites/claim", body=json.dumps(
                {"token": invite.token}).encode(), headers={"Content-Type": "application/json"}),
        }.items():
            calls.clear()
            assert send().status_code < 500
            counted[name] = list(calls)
    return counted


def scale(store: Any, client: Any, large: int, now: Any, pairs: int) -> dict[str, dict[str, Any]]:
    """Authorization in a table of 100 tokens against one of `large`, alternating; and a user's
    first page with 10 tokens against one with 10,000, in the same large table."""
    from chalicelib.model import ids, token_format
    from chalicelib.model.accounts import Role
    from chalicelib.model.kinds import Scope, TokenKind
    from chalicelib.model.tokens import TokenRecord, new_token
    from chalicelib.services import authentication, users
    from chalicelib.storage import Store
    from chalicelib.storage.items import token_item
    from openindex_ops.table import create_table

    pat_prefix = TokenKind.PAT.spec.id_prefix

    def fill(table: str, owner: str, count: int) -> None:
        """Write `count` token items for `owner` with BatchWriteItem (setup, not measured)."""
        batch = []
        for number in range(count):
            token_id = ids.new_id(pat_prefix, now + timedelta(microseconds=number))
            record = TokenRecord(id=token_id, user_id=owner, name=f"t{number}", scope=Scope.READ_WRITE,
                                 kind=TokenKind.PAT, digest=token_format.digest(token_id), created_at=now)
            batch.append({"PutRequest": {"Item": token_item(record)}})
            if len(batch) == 25 or number == count - 1:
                client.batch_write_item(RequestItems={table: batch})
                batch = []

    def holder(table_store: Any, email: str, filler: int) -> tuple[Any, str]:
        """A user with one real token and `filler` more; (the user, header)."""
        user = users.create_user(table_store, email=email, role=Role.MEMBER, now=now)
        issued = new_token(TokenKind.PAT, user_id=user.id, name="t", scope=Scope.READ_WRITE, now=now)
        table_store.tokens.put(issued.record)
        value = issued.value
        fill(table_names[id(table_store)], user.id, filler)
        return user, f"Bearer {value}"

    small_table = f"{TABLE}-small"
    create_table(client, small_table)
    small = Store(client, small_table)
    table_names = {id(small): small_table, id(store): TABLE}
    _, small_header = holder(small, "small@example.com", 100 - 2)
    started = time.perf_counter()
    _, large_header = holder(store, "large@example.com", 0)
    ten_user, _ = holder(store, "ten@example.com", 10 - 1)
    many_user, _ = holder(store, "many@example.com", 10_000 - 1)
    holder(store, "filler@example.com", max(0, large - 10_000 - 20))
    fill_seconds = time.perf_counter() - started

    def page_read(user_id: str) -> int:
        return client.query(TableName=TABLE, KeyConditionExpression="pk = :pk", Limit=50,
                            ExpressionAttributeValues={":pk": {"S": f"USER#{user_id}"}})["ScannedCount"]

    return {
        "authorize at 100,000 tokens": {
            **median_ratio(per_call(lambda: authentication.authenticate(store, large_header, now), 20),
                           per_call(lambda: authentication.authenticate(small, small_header, now), 20), pairs),
            "fillSeconds": round(fill_seconds),
        },
        "list first page at 10,000 tokens": {
            **median_ratio(per_call(lambda: store.tokens.page(many_user, pat_prefix, 50, None, now), 5),
                           per_call(lambda: store.tokens.page(ten_user, pat_prefix, 50, None, now), 5), pairs),
            "itemsReadPerPage": [page_read(ten_user.id), page_read(many_user.id)],
        },
    }


def package_size(env: dict[str, str]) -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "prod", out],
                       cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
        archive = Path(out) / "deployment.zip"
        with zipfile.ZipFile(archive) as opened:
            assert "app.py" in opened.namelist()
        return archive.stat().st_size


def local_end_to_end(requests: int = 300) -> dict[str, Any]:
    """GET /me (authorizer + DynamoDB) against GET /health on the same chalice local server."""
    from openindex_ops.local_stack import spawned

    with spawned() as (base_url, token), httpx.Client(base_url=base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(20):
            http.get("/me", headers=auth)
            http.get("/health")
        me: list[float] = []
        health: list[float] = []
        for index in range(requests):
            for path, bucket, headers in (("/me", me, auth), ("/health", health, {}))[:: 1 if index % 2 else -1]:
                started = time.perf_counter()
                assert http.get(path, headers=headers).status_code == 200
                bucket.append(time.perf_counter() - started)

    def summary(samples: list[float]) -> dict[str, float]:
        ordered = sorted(samples)
        return {"requestsPerSecond": round(1 / statistics.fmean(samples), 1),
                "p50Ms": round(ordered[len(ordered) // 2] * 1000, 2),
                "p99Ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2)}

    authenticated, unauthenticated = summary(me), summary(health)
    return {"GET /me": authenticated, "GET /health": unauthenticated,
            "p50Ratio": round(authenticated["p50Ms"] / unauthenticated["p50Ms"], 2)}


def print_table(report: dict[str, Any]) -> None:
    print(f"\nOpenIndex Auth benchmark, {report['date']} (Python {report['python']}); ratios are medians of pairs\n")
    print(f"{'measure':36} {'ratio':>7} {'target':>7} {'ms':>9} {'floor ms':>9}")
    for name, row in report["rows"].items():
        target = report["targets"].get(name)
        verdict = "" if target is None else ("ok" if row["ratio"] <= target else "MISSED")
        print(f"{name:36} {row['ratio']:7.3f} {target or '':>7} {row['ms']:9.2f} {row['floorMs']:9.2f}  {verdict}")
    print("\nDynamoDB requests per operation (steady state):")
    for name, counts in report["requestsPerOperation"].items():
        print(f"  {name:40} {len(counts['calls'])} ({', '.join(counts['calls']) or 'none'}), {counts['writes']} writes")
    if report["deploymentZipBytes"]:
        print(f"\ndeployment.zip (chalice package): {report['deploymentZipBytes'] / 1e6:.2f} MB")
    e2e = report["localEndToEnd"]
    print("\nchalice local, one client, keep-alive:")
    for path in ("GET /me", "GET /health"):
        row = e2e[path]
        print(f"  {path:12} {row['requestsPerSecond']:7.1f} req/s  "
              f"p50 {row['p50Ms']:.2f} ms  p99 {row['p99Ms']:.2f} ms")
    print(f"  p50 ratio (authorized / unauthenticated): {e2e['p50Ratio']}")


if __name__ == "__main__":
    sys.exit(main())
