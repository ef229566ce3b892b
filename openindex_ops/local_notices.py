"""``make expiry-notices`` (``openindex-expiry-notices``): the daily expiry notices, run now against
the table of the running ``make run``, with its event bus a file.

Deployed, a scheduled function runs them every day at 09:00 UTC and puts each ``Token Expiring``
event on EventBridge's default bus. Locally there is no EventBridge: each event is appended to
``<state folder>/events.jsonl`` (mode 0600), one JSON object per line, in the envelope a rule's
target receives; the owners' security events go to the table as deployed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from chalicelib.messaging.bus import SOURCE, BusEvent
from chalicelib.services.expiry_notices import NoticesNotDelivered, announce_expiring_tokens
from chalicelib.storage import Store
from chalicelib.storage.errors import Unavailable
from chalicelib.timeutil import to_iso, utcnow
from openindex_ops import local_state
from openindex_ops.local_state import StateDir

EVENTS_FILE = "events.jsonl"
DEFAULT_STATE_DIR = Path(".local")
_ACCOUNT = "000000000000"  # what moto and the local stack call the account
_REGION = "us-east-1"


class FileBus:
    """The local event bus: every event appended to a file, as EventBridge would deliver it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, events: Sequence[BusEvent]) -> list[BusEvent]:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as handle:
            for event in events:
                handle.write(json.dumps({
                    "version": "0", "id": str(uuid.uuid4()), "detail-type": event.detail_type, "source": SOURCE,
                    "account": _ACCOUNT, "time": to_iso(event.time), "region": _REGION, "resources": [],
                    "detail": event.detail,
                }) + "\n")
        return []


DESCRIPTION = """Run the daily expiry notices now, against the table of the make run that uses the state
folder: each PAT that still works and whose notice fell due (a week before the UTC day it expires,
and the day before) is told to its owner (a token_expiring security event), and its Token Expiring
event is appended to events.jsonl in that folder, as EventBridge would deliver it. Deployed, a
scheduled function does this every day at 09:00 UTC."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openindex-expiry-notices", description=DESCRIPTION)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help="the state folder of the running make run (default: .local)")
    args = parser.parse_args(argv)
    state = StateDir(args.state_dir)
    endpoint = state.running_endpoint()
    if endpoint is None:
        print(f"openindex-expiry-notices: no make run is using {local_state.display(state.path)}; "
              f"{_start_advice(args.state_dir)}", file=sys.stderr)
        return 1
    local_state.use_local_dynamodb(endpoint)
    bus = FileBus(state.path / EVENTS_FILE)
    where = local_state.display(bus.path)
    try:
        given = announce_expiring_tokens(Store.connect(local_state.local_table_name()), bus, utcnow())
    except Unavailable:
        print("openindex-expiry-notices: the local DynamoDB did not answer; is make run still running?",
              file=sys.stderr)
        return 1
    except OSError as error:  # each round's bus events are written before its owners are told
        print(f"openindex-expiry-notices: cannot write {where} ({error.strerror}); the notices not yet written "
              "there were not given: run it again once it can be written", file=sys.stderr)
        return 1
    except NoticesNotDelivered as error:
        print(f"openindex-expiry-notices: {error}, because another write held their token; run it again",
              file=sys.stderr)
        return 1
    if not given:
        print(f"no notice is due (no PAT that still works expires within a week with a notice not yet "
              f"given): nothing written to {where}")
    for notice in given:
        print(f"told {notice.token.user_id} that \"{notice.token.name}\" ({notice.token.id}) expires "
              f"{notice.expires_at:%Y-%m-%d %H:%M} UTC (the {notice.days_before}-day notice)")
    if given:
        print(f"{len(given)} Token Expiring events appended to {where}; each owner's security log has the notice")
    return 0


def _start_advice(state_dir: Path) -> str:
    """How to start the stack this would run against."""
    if state_dir == DEFAULT_STATE_DIR:
        return ("start it (make run), then run this in another shell; if make run uses another folder, "
                "give it here too: make expiry-notices STATE_DIR=<that folder>")
    return f"start it (make run STATE_DIR={state_dir}), then run this in another shell"


if __name__ == "__main__":
    sys.exit(main())
