"""The service's settings, read from the environment once per container (each stage sets them in
.chalice/config.json; `make run` and the tests set them too)."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about where it runs."""

    table_name: str
    # Where people open the web UI: invite links point here.
    app_url: str


@functools.cache
def settings() -> Settings:
    """The settings of this container; a missing variable fails the first request, loudly."""
    return Settings(table_name=os.environ["TABLE_NAME"], app_url=os.environ["APP_URL"].rstrip("/"))
