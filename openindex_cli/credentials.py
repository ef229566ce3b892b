"""`oi credentials scan`: OpenIndex tokens left in files, found by their exact shape and checksum
(so placeholders and typos are not), said by where they are, never by their value; with
--report, sent to the service, which revokes every live one at once."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

import openindex_secrets
from openindex_cli.api import api_path
from openindex_cli.commands import Context, HelpGroup, request_options
from openindex_cli.errors import EXIT_REFUSED
from openindex_cli.output import emit_json, printable

REPORT_BATCH = 1000  # POST /credentials/revoke takes at most this many strings
LARGEST_FILE = 10 * 1024 * 1024  # larger files are data, not where a token is pasted
SKIPPED_DIRECTORIES = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"}


@click.group(cls=HelpGroup, short_help="Leaked credentials: find tokens in files, report them.")
def credentials() -> None:
    """Leaked credentials: find OpenIndex tokens in files, and report them to be revoked."""


@credentials.command("scan", short_help="Find OpenIndex tokens in files; --report revokes them.")
@request_options
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--report", is_flag=True,
              help="send the tokens found to the service (POST /credentials/revoke): each live one is revoked at once")
def credentials_scan(context: Context, profile: str | None, as_json: bool, paths: tuple[Path, ...],
                     report: bool) -> None:
    """Look through files (folders recursively; .git, .venv and node_modules skipped, and files
    that are binary or over 10 MB) for OpenIndex tokens: a personal access token, agent run
    token or invite whose checksum matches. Each is said as PATH:LINE:COLUMN and its kind, never
    its value. Exit 1 when any is found (a commit hook can stop on it), 0 when none is.

    With --report the tokens found are sent to the service of the profile's app URL, which
    revokes every live one and tells its owner; the answer never says which were live. Remove
    them from the files too: a revoked token is harmless, but it still looks like a leak.

    \b
    Examples:
      oi credentials scan .
      oi credentials scan config/ .env --report
    """
    found = [(path, token) for path in _files(paths) for token in _tokens_in(path)]
    if not as_json:  # first: a report that fails must not lose where they are
        for path, token in found:
            click.echo(printable(f"{path}:{token.line}:{token.column}: an OpenIndex {token.kind}"))
    if report and found:
        api = context.api(context.settings(profile))
        values = sorted({token.value for _, token in found})
        for start in range(0, len(values), REPORT_BATCH):
            batch = values[start:start + REPORT_BATCH]
            api.call("POST", api_path("credentials", "revoke"), body={"credentials": batch}, authenticated=False)
    if as_json:
        emit_json({"found": [{"path": str(path), "line": token.line, "column": token.column, "kind": token.kind}
                             for path, token in found], "reported": report and bool(found)})
    else:
        click.echo(_summary(len(found), report), err=True)
    if found:
        click.get_current_context().exit(EXIT_REFUSED)


def _summary(count: int, reported: bool) -> str:
    if count == 0:
        return "No OpenIndex tokens found."
    said = "1 OpenIndex token" if count == 1 else f"{count} OpenIndex tokens"
    if reported:
        return f"{said} found and reported: every live one is revoked now. Remove them from the files too."
    return f"{said} found. Revoke them (oi credentials scan --report …, or delete them where they were made), " \
           "then remove them from the files."


def _files(paths: tuple[Path, ...]) -> Iterator[Path]:
    """The files under ``paths``, in order, skipping version control and dependency folders, and
    links (one could lead out of the tree: to the scanner's own config file, say)."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for found in sorted(path.rglob("*")):
            if (found.is_file() and not found.is_symlink()
                    and not SKIPPED_DIRECTORIES.intersection(found.relative_to(path).parts)):
                yield found


def _tokens_in(path: Path) -> list[openindex_secrets.Found]:
    """The tokens in a text file; none in a binary, unreadable or very large one."""
    try:
        if path.stat().st_size > LARGEST_FILE:
            return []
        data = path.read_bytes()
    except OSError:
        return []
    if b"\0" in data:
        return []
    return list(openindex_secrets.find(data.decode("utf-8", errors="replace")))
