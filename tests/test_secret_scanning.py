"""Secret scanners find OpenIndex tokens: the detect-secrets plugin, the gitleaks and trufflehog
rules, GitHub's custom pattern, `oi credentials scan` and its pre-commit hook, each on a sample
repository holding real tokens in six places and near-misses that must not be reported."""
from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import openindex_secrets
from chalicelib.model import ids, token_format
from chalicelib.model.kinds import TokenKind

from .conftest import ROOT, Cli, Recording, login, one_line

RULES = ROOT / "openindex_secrets" / "rules"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def minted(kind: TokenKind) -> str:
    spec = kind.spec
    given = {"token_id": ids.new_id(spec.id_prefix, NOW)}
    if kind is not TokenKind.INVITE:
        given["user_id"] = ids.new_id(ids.USER, NOW)
    if kind is TokenKind.AGENT_RUN:
        given["parent_id"] = ids.new_id(TokenKind.PAT.spec.id_prefix, NOW)
    return token_format.mint(spec, **given).value


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A throwaway repository: six real tokens (a Python string, an env file, Markdown prose and
    an invite link), and near-misses: a typo, a truncated token, placeholders."""
    pat, run, other_pat, invite = (minted(TokenKind.PAT), minted(TokenKind.AGENT_RUN), minted(TokenKind.PAT),
                                   minted(TokenKind.INVITE))
    second_run = minted(TokenKind.AGENT_RUN)
    typo = pat[:-1] + ("0" if pat[-1] != "0" else "1")
    truncated, placeholders = other_pat[:-5], ["oi_pat_...", "oi_pat_xxxxxxxxxxxxxxxx", "oi_run_<your token>"]
    (tmp_path / "app.py").write_text(f'TOKEN = "{pat}"\nheaders = {{"Authorization": f"Bearer {run}"}}\n'
                                     f'EXAMPLE = "{placeholders[0]}"  # replace it\nTYPO = "{typo}"\n')
    (tmp_path / ".env").write_text(f"OPENINDEX_TOKEN={other_pat}\nexport AGENT_TOKEN='{second_run}'\n"
                                   f"OLD={truncated}\n")
    (tmp_path / "NOTES.md").write_text(
        f"# Setup\n\nThe dashboard uses `{pat}` for now.\n\nInvite for Ana: "
        f"https://openindex.example/invite#token={invite}\n\nTemplate: {placeholders[1]} or {placeholders[2]}.\n")
    # escaped where a letter stands right before the token: JSON's \n, a wrapped link's %3D
    (tmp_path / "log.json").write_text(f'{{"message": "auth failed\\n{run}", "link": "https://t.example/'
                                       f'?u=https%3A%2F%2Fopenindex.example%2Finvite%23token%3D{invite}"}}\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "COMMIT_EDITMSG").write_text(f"{pat}\n")  # never looked at
    (tmp_path / "linked.txt").symlink_to(tmp_path / ".git" / "COMMIT_EDITMSG")  # a link out: never followed
    return tmp_path, [pat, run, other_pat, second_run, pat, invite, run, invite], [typo, truncated, *placeholders]


PLACES = [("app.py", 1), ("app.py", 2), (".env", 1), (".env", 2), ("NOTES.md", 3), ("NOTES.md", 5), ("log.json", 1),
          ("log.json", 1)]


def test_the_recognizer_is_the_services_token_format() -> None:
    for kind in (TokenKind.PAT, TokenKind.AGENT_RUN, TokenKind.INVITE):
        value = minted(kind)
        tag = kind.spec.token_prefix[3:-1]
        assert openindex_secrets.WIDTHS[tag] == token_format.body_width(kind.spec) + 6
        assert openindex_secrets.checksum_ok(value) and token_format.parse(value) is not None
        for broken in (value[:-1] + ("a" if value[-1] != "a" else "b"), value[:-1], value + "0"):
            assert not openindex_secrets.checksum_ok(broken) and token_format.parse(broken) is None


def test_detect_secrets_with_the_plugin_finds_all_six_and_no_near_miss(
    sample: tuple[Path, list[str], list[str]]
) -> None:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    folder, _, _ = sample
    plugin = ROOT / "openindex_secrets" / "detect_secrets_plugin.py"
    found = SecretsCollection()
    with transient_settings({"plugins_used": [{"name": "OpenIndexTokenDetector", "path": f"file://{plugin}"}]}):
        for name in ("app.py", ".env", "NOTES.md", "log.json"):
            found.scan_file(str(folder / name))
    reported = sorted((Path(filename).name, secret.line_number) for filename, secret in found
                      if secret.type == "OpenIndex Token")
    assert reported == sorted(PLACES)


@pytest.mark.parametrize("rule", ["gitleaks", "trufflehog", "github"])
def test_the_regex_rules_find_all_six_and_no_placeholder(
    rule: str, sample: tuple[Path, list[str], list[str]]
) -> None:
    """Each rule as its tool reads it (RE2: no lookaround, so Python's re runs it alike). A regex
    cannot check the checksum: a token with a typo in it is reported, and said to be."""
    folder, tokens, (typo, truncated, *placeholders) = sample
    pattern = {"gitleaks": lambda: tomllib.loads((RULES / "gitleaks.toml").read_text())["rules"][0]["regex"],
               "trufflehog": lambda: yaml.safe_load((RULES / "trufflehog.yaml").read_text())
               ["detectors"][0]["regex"]["token"],
               "github": github_pattern}[rule]()
    assert "(?<" not in pattern and "(?=" not in pattern and "(?!" not in pattern  # RE2 has no lookaround
    compiled = re.compile(pattern)
    text = "\n".join((folder / name).read_text() for name in ("app.py", ".env", "NOTES.md", "log.json"))
    matched = [match.group(1) if compiled.groups else match.group(0) for match in compiled.finditer(text)]
    assert sorted(matched) == sorted([*tokens, typo])
    assert not any(miss in matched for miss in (truncated, *placeholders))


def github_pattern() -> str:
    """The custom pattern docs/secret-scanning.md gives GitHub: its secret format, between its
    before and after expressions."""
    doc = (ROOT / "docs" / "secret-scanning.md").read_text()
    fields = {name: value.replace("\\|", "|") for name, value in  # a table cell escapes its |
              re.findall(r"^\| (Secret format|Before secret|After secret) \| `([^`]+)` \|$", doc, re.M)}
    after = fields["After secret"].replace("\\z", "\\Z")  # Python spells GitHub's end of text \Z
    return f"(?:{fields['Before secret']})({fields['Secret format']})(?:{after})"


def test_the_rules_hold_the_published_shape() -> None:
    assert tomllib.loads((RULES / "gitleaks.toml").read_text())["rules"][0]["regex"] == openindex_secrets.RE2_RULE
    trufflehog = yaml.safe_load((RULES / "trufflehog.yaml").read_text())["detectors"][0]
    assert trufflehog["regex"]["token"] == openindex_secrets.RE2_RULE
    assert github_pattern().count(openindex_secrets.SHAPE) == 1


def test_oi_credentials_scan_says_where_never_what(cli: Cli, sample: tuple[Path, list[str], list[str]]) -> None:
    folder, tokens, _ = sample
    result = cli("credentials", "scan", str(folder))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.rsplit(":", 2)[0].rsplit(":", 1)[0] for line in lines] == [
        f"{folder / name}" for name, _ in sorted(PLACES, key=lambda place: (place[0] != ".env", place))]
    assert f"{folder / 'NOTES.md'}:5:" in result.stdout and "an OpenIndex invite" in result.stdout
    assert one_line(result.stderr) == ("8 OpenIndex tokens found. Revoke them (oi credentials scan --report …, or "
                                       "delete them where they were made), then remove them from the files.")
    for token in tokens:
        assert token not in result.output
    (folder / "clean.txt").write_text("nothing here but oi_pat_... in the docs\n")
    clean = cli("credentials", "scan", str(folder / "clean.txt"))
    assert (clean.exit_code, one_line(clean.stderr)) == (0, "No OpenIndex tokens found.")
    as_json = json.loads(cli("credentials", "scan", str(folder / "NOTES.md"), "--json").stdout)
    assert as_json == {"found": [{"path": str(folder / "NOTES.md"), "line": 3, "column": 21,
                                  "kind": "personal access token"},
                                 {"path": str(folder / "NOTES.md"), "line": 5, "column": 56, "kind": "invite"}],
                       "reported": False}


def test_oi_credentials_scan_reports_them_to_be_revoked(
    cli: Cli, api: Any, accounts: Any, sent: Recording, tmp_path: Path
) -> None:
    owner = accounts.create()
    login(cli, accounts.create().token)
    checkout = tmp_path / "checkout"  # (the profile oi keeps is in tmp_path too, token and all)
    checkout.mkdir()
    (checkout / "ci.yml").write_text(f"env:\n  OPENINDEX_TOKEN: {owner.token}\n")
    sent.requests.clear()
    result = cli("credentials", "scan", str(checkout), "--report")
    assert result.exit_code == 1
    assert "1 OpenIndex token found and reported: every live one is revoked now." in one_line(result.stderr)
    assert [(request.method, request.url.path) for request in sent.requests] == [("POST", "/credentials/revoke")]
    assert "Authorization" not in sent.requests[0].headers  # anyone may report: no token of theirs is sent
    assert api.get("/me", owner.token).status == 401


def test_the_pre_commit_hook_runs_the_scan(cli: Cli, sample: tuple[Path, list[str], list[str]]) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["language"], hook["entry"]) == ("openindex-tokens", "python", "oi credentials scan")
    folder, _, _ = sample
    staged = [str(folder / name) for name in ("app.py", "NOTES.md")]  # pre-commit passes the staged files
    result = cli(*hook["entry"].split()[1:], *staged)
    assert result.exit_code == 1 and "4 OpenIndex tokens found" in result.stderr
