"""The audit trail: one JSON line per token and account event, with ids, actor and outcome.

Never a secret: events carry ids (``pat_…``, ``usr_…``), never a token value or digest. Lines go
to standard output, which Lambda sends to CloudWatch Logs (and `chalice local` to the terminal).
The standard library is enough here; a logging framework would cost the authorizer cold start.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"

LOGGER_NAME = "openindex.audit"


class JsonLines(logging.Formatter):
    """Formats a record's ``audit`` dict as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(getattr(record, "audit", {"message": record.getMessage()}), sort_keys=True)


class _StandardOutput(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time (Lambda, chalice local, tests)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - logging must never break a request
            self.handleError(record)


_logger = logging.getLogger(LOGGER_NAME)
_handler = _StandardOutput()
_handler.setFormatter(JsonLines())
_logger.addHandler(_handler)
_logger.setLevel(logging.INFO)
_logger.propagate = False


def record(event: str, outcome: str, actor: str, **details: Any) -> None:
    """Log one audit event; ``details`` are ids and reasons, never secrets (None is dropped)."""
    entry = {
        "audit": event,
        "outcome": outcome,
        "actor": actor,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        **{key: value for key, value in details.items() if value is not None},
    }
    _logger.info(event, extra={"audit": entry})
