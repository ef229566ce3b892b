"""The errors `oi` reports: one line on stderr and an exit code a script can act on."""
from __future__ import annotations

import sys

import click

from openindex_cli.output import printable
from openindex_cli.wording import one_full_stop

EXIT_REFUSED = 1  # the server refused the request (400, 404, 409, 410), or the user said no
EXIT_USAGE = 2  # wrong command-line usage (also click's own code for it)
EXIT_CONFIG = 3  # no app URL or token, or an unreadable config file
EXIT_UNAUTHORIZED = 4  # 401: the token is missing, invalid, expired or revoked
EXIT_FORBIDDEN = 5  # 403: the token's scope or kind is not enough
EXIT_UNREACHABLE = 6  # the server did not answer
EXIT_BAD_REPLY = 7  # the server failed (5xx) or answered with something that is not our JSON


class CliError(click.ClickException):
    """A failure shown as ``oi: <message>`` on stderr, never as a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED, server_message: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a ClassVar but reads it per instance
        self.server_message = server_message  # the API's own words, for a caller that tells them differently
        self.code = code  # the API's error code (already_rotated, …), when the server answered

    def show(self, file: object = None) -> None:
        """One line; the message often carries the server's words, so control characters become ?."""
        click.echo(f"oi: {one_full_stop(printable(self.message))}", err=True, file=file or sys.stderr)  # type: ignore[arg-type]
