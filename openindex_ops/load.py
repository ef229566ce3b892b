"""``python -m openindex_ops.load`` (`make load`): a bounded load run against the local stack.

N clients, for a fixed time, each in a loop: create a PAT, use it, list, and delete every other
one (checking the deleted one is refused at once). Then every token created and not deleted
must still be listed and still work: none may go missing. Loopback only; it stops by itself.
Prints the requests, errors, throughput and p50/p99 latencies, and writes them as JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from openindex_ops.local_stack import spawned

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    """Latencies per operation, unexpected answers, and the tokens that must survive."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, http: httpx.Client, operation: str, expected: int, method: str, url: str,
              **request: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = http.request(method, url, **request)
        except httpx.HTTPError as error:
            with self.lock:
                self.errors.append(f"{operation}: {type(error).__name__}")
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[operation].append(elapsed)
            if response.status_code != expected:
                self.errors.append(f"{operation}: HTTP {response.status_code}")
        return response


def client_loop(base_url: str, admin_token: str, deadline: float, tally: Tally, number: int) -> None:
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        round_number = 0
        while time.monotonic() < deadline:
            round_number += 1
            body = {"name": f"load-{number}-{round_number}", "scope": "read_write"}
            created = tally.timed(http, "create", 201, "POST", "/me/pats", json=body, headers=admin)
            if created is None or created.status_code != 201:
                continue
            token = created.json()
            own = {"Authorization": f"Bearer {token['token']}"}
            tally.timed(http, "use", 200, "GET", "/me", headers=own)
            tally.timed(http, "list", 200, "GET", "/me/pats", params={"limit": "5"}, headers=admin)
            if round_number % 2:
                tally.timed(http, "delete", 204, "DELETE", f"/me/pats/{token['id']}", headers=admin)
                tally.timed(http, "use deleted", 401, "GET", "/me", headers=own)
            else:
                with tally.lock:
                    tally.kept[token["id"]] = token["token"]


def missing_tokens(base_url: str, admin_token: str, kept: dict[str, str]) -> list[str]:
    """Kept tokens that are no longer listed or no longer work."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    listed: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=30) as http:
        params = {"limit": "100"}
        while True:
            page = http.get("/me/pats", params=params, headers=admin).json()
            listed |= {item["id"] for item in page["items"]}
            if not page["nextCursor"]:
                break
            params["cursor"] = page["nextCursor"]
        broken = [token_id for token_id, value in kept.items()
                  if http.get("/me", headers={"Authorization": f"Bearer {value}"}).status_code != 200]
    return sorted(set(kept) - listed) + broken


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openindex_ops.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--output", default=str(PROJECT_DIR / "build" / "load.json"))
    args = parser.parse_args(argv)
    tally = Tally()
    with spawned() as (base_url, token):
        deadline = time.monotonic() + args.seconds
        started = time.monotonic()
        threads = [threading.Thread(target=client_loop, args=(base_url, token, deadline, tally, n))
                   for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        missing = missing_tokens(base_url, token, tally.kept)
    every = [latency for samples in tally.latencies.values() for latency in samples]
    report = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(every) + len(tally.errors),
        "errors": len(tally.errors),
        "errorKinds": sorted(set(tally.errors)),
        "requestsPerSecond": round(len(every) / elapsed, 1),
        "p50Ms": round(percentile(every, 0.50), 1),
        "p99Ms": round(percentile(every, 0.99), 1),
        "byOperation": {op: {"requests": len(s), "p50Ms": round(percentile(s, 0.5), 1),
                             "p99Ms": round(percentile(s, 0.99), 1), "meanMs": round(statistics.fmean(s) * 1000, 1)}
                        for op, s in sorted(tally.latencies.items())},
        "tokensKept": len(tally.kept),
        "tokensMissing": missing,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if not tally.errors and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
