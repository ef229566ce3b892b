"""Where `oi` keeps its profiles, and how the environment overrides them.

Profiles live in ``$OPENINDEX_CONFIG``, else ``$XDG_CONFIG_HOME/openindex/config.toml``, else
``~/.config/openindex/config.toml``. A profile's token is kept in the system keychain when there
is one (the file then says only ``token_store = "keychain"``: see secret_store), else in the file.
The file may hold tokens, so it is only ever written whole, atomically (a new file then a
rename), with mode 0600; when it is a symlink, its target is the file rewritten (the link stays,
and no copy of an old token is left behind in the target).
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
import tomli_w

from openindex_cli import secret_store
from openindex_cli.errors import EXIT_CONFIG, CliError

DEFAULT_PROFILE = "default"
ENV_CONFIG = "OPENINDEX_CONFIG"
ENV_PROFILE = "OPENINDEX_PROFILE"
ENV_TOKEN = "OPENINDEX_TOKEN"
ENV_APP_URL = "OPENINDEX_APP_URL"
FIELDS = ("app_url", "token", "agent_id", "token_store")
FLAGS = ("insecure",)  # true or false in the file
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

Profile = dict[str, str | bool]
Profiles = dict[str, Profile]


@dataclass(frozen=True)
class Settings:
    """What a command uses: the profile's values with the environment's overrides applied."""

    profile: str
    path: Path
    app_url: str | None
    app_url_source: str | None
    token: str | None
    token_source: str | None
    agent_id: str | None
    insecure: bool = False
    # Where the profile keeps its token (secret_store.KEYCHAIN or FILE), None when it has none.
    token_store: str | None = None

    @property
    def token_label(self) -> str:
        """Where the token in force came from, as messages name it."""
        return ENV_TOKEN if self.token_source == ENV_TOKEN else f"profile '{self.profile}'"

    @property
    def token_fix(self) -> str:
        """How to replace the token in force, wherever it came from."""
        if self.token_source == ENV_TOKEN:
            return f"Set {ENV_TOKEN} to a valid token, or unset it to use profile '{self.profile}'."
        return f"Store a valid one with `oi profile set{self.profile_option} --token -`."

    @property
    def successor_fix(self) -> str:
        """How to put a rotated token's successor where the token in force came from."""
        if self.token_source == ENV_TOKEN:
            return f"Set {ENV_TOKEN} to its successor."
        return f"Store its successor with `oi profile set{self.profile_option} --token -`."

    @property
    def rotate_advice(self) -> str:
        """How to replace the token in force before it expires, wherever it came from."""
        if self.token_source == ENV_TOKEN:
            return f"rotate it with `oi settings personal tokens rotate self` and set {ENV_TOKEN} to the new token"
        return f"rotate it with `oi settings personal tokens rotate self --save{self.profile_option}`"

    @property
    def profile_option(self) -> str:
        """`` --profile NAME`` for commands to suggest, empty for the default profile."""
        return "" if self.profile == DEFAULT_PROFILE else f" --profile {self.profile}"


def config_path(environ: Mapping[str, str]) -> Path:
    """The config file this environment points at."""
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "openindex" / "config.toml"


def check_profile_name(name: str) -> str:
    """A profile name is letters, digits, '-' and '_'."""
    if not _PROFILE_NAME.fullmatch(name):
        raise CliError(f"profile name {name!r} must be 1-64 letters, digits, '-' or '_'", EXIT_CONFIG)
    return name


def load(path: Path) -> Profiles:
    """Every profile in the file (none when it does not exist yet)."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CliError(f"cannot read {path}: {error}", EXIT_CONFIG) from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise CliError(f"{path} is not an oi config file ([profiles.NAME] tables)", EXIT_CONFIG)
    return {name: _profile(path, name, values) for name, values in profiles.items()}


def _profile(path: Path, name: str, values: dict[str, object]) -> Profile:
    """The fields oi knows: text as text, flags only as true or false."""
    profile: Profile = {key: str(value) for key, value in values.items() if key in FIELDS}
    for flag in FLAGS:
        value = values.get(flag)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise CliError(f"{path}: {flag} in profile '{name}' must be true or false", EXIT_CONFIG)
        profile[flag] = value
    return profile


def text(profile: Profile, key: str) -> str | None:
    """A text field of a profile, or None."""
    value = profile.get(key)
    return value if isinstance(value, str) else None


def stored_profile(path: Path, name: str) -> Profile:
    """One profile as the file holds it (no environment overrides); empty when absent."""
    return load(path).get(name, {})


def is_shared(path: Path) -> bool:
    """True when others than the owner may read or write the file."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except FileNotFoundError:
        return False


def token_store(profile: Profile) -> str | None:
    """Where a stored profile keeps its token (the keychain, or the file), None when it has none."""
    if text(profile, "token_store") == secret_store.KEYCHAIN:
        return secret_store.KEYCHAIN
    return secret_store.FILE if text(profile, "token") else None


def stored_token(path: Path, name: str, profile: Profile) -> str | None:
    """A stored profile's token, from wherever it is kept."""
    if token_store(profile) != secret_store.KEYCHAIN:
        return text(profile, "token")
    try:
        return secret_store.read(path, name)
    except secret_store.KeychainError as error:
        raise CliError(f"cannot read the token of profile '{name}': {error}", EXIT_CONFIG) from None


def save_profile(path: Path, name: str, changes: Mapping[str, str | bool], *, store: str | None = None) -> str | None:
    """Set some fields of one profile, keeping every other field and profile. A token goes to
    ``store`` (None: where the profile keeps its token, else the keychain), or to the file when
    the keychain is missing or refuses; where it went is returned (None when no token was set)."""
    profiles = load(path)
    current = profiles.get(name, {})
    profile: Profile = {**current, **changes}
    where = None
    if "token" in changes:
        wanted = store or token_store(current) or secret_store.KEYCHAIN
        where = _keep_token(path, name, str(changes["token"]), wanted, profile)
    profiles[name] = profile
    try:
        _write_private(path.resolve(), {"profiles": profiles})
    except OSError as error:
        raise CliError(f"cannot write {path}: {error}", EXIT_CONFIG) from None
    if where == secret_store.FILE and token_store(current) == secret_store.KEYCHAIN:
        _forget_quietly(path, name)  # moved to the file: no second copy left in the keychain
    return where


def say_if_keychain_refused(path: Path, kept_in: str | None, where: str | None) -> None:
    """After a new token was saved to a profile that kept its token in ``kept_in`` (None: none yet,
    so the keychain by default): say so when the keychain, there and wanted, refused it."""
    wanted = kept_in or secret_store.KEYCHAIN
    if where == secret_store.FILE and wanted == secret_store.KEYCHAIN and secret_store.available():
        click.echo(f"oi: the system keychain refused the new token; it is kept in {path} (mode 0600)", err=True)


def _keep_token(path: Path, name: str, token: str, wanted: str, profile: Profile) -> str:
    """Keep ``token`` where ``wanted`` says if it can, recording where in ``profile``."""
    if wanted == secret_store.KEYCHAIN and secret_store.available():
        try:
            secret_store.keep(path, name, token)
        except secret_store.KeychainError:
            pass  # the file, below; the caller says so
        else:
            profile.pop("token", None)
            profile["token_store"] = secret_store.KEYCHAIN
            return secret_store.KEYCHAIN
    profile["token"] = token
    profile["token_store"] = secret_store.FILE
    return secret_store.FILE


def _forget_quietly(path: Path, name: str) -> None:
    """Remove a moved token from the keychain; if the keychain refuses, say which entry is left."""
    try:
        secret_store.forget(path, name)
    except secret_store.KeychainError as error:
        click.echo(f"oi: warning: the token of profile '{name}' is now in {path}, but {error}: remove the "
                   f"keychain entry {secret_store.service(path)!r} (user {name!r}) by hand", err=True)


def check_writable(path: Path) -> None:
    """Refuse now what ``save_profile`` would fail on later: a directory where no new file can be
    made (a read-only mount, say). Not a guarantee, only the common failure caught early."""
    directory = path.resolve().parent
    if directory.is_dir() and not os.access(directory, os.W_OK | os.X_OK):
        raise CliError(f"cannot write {path}: {directory} is not writable", EXIT_CONFIG)


def _write_private(target: Path, document: dict[str, object]) -> None:
    """Replace ``target`` (a symlink already resolved) with ``document``, atomically, mode 0600."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".config-", suffix=".tmp")
    try:
        # mkstemp creates the file with mode 0600: the token is never readable by others.
        with os.fdopen(descriptor, "wb") as handle:
            tomli_w.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve(profile: str | None, environ: Mapping[str, str], must_exist: bool = True) -> Settings:
    """The settings in force: OPENINDEX_TOKEN and OPENINDEX_APP_URL win over the profile.

    A profile named with --profile or OPENINDEX_PROFILE must exist (unless ``must_exist`` is
    False, for commands that create it), so a typo is not silently an empty profile.
    """
    name, chosen_by = selected_profile(profile, environ)
    path = config_path(environ)
    profiles = load(path)
    if must_exist and chosen_by and name not in profiles:
        raise CliError(f"profile '{name}' (from {chosen_by}) does not exist in {path}; `oi profile list` "
                       f"shows the profiles, `oi profile set --profile {name} ...` creates it", EXIT_CONFIG)
    stored = profiles.get(name, {})
    app_url, app_url_source = _pick(environ.get(ENV_APP_URL), ENV_APP_URL, text(stored, "app_url"))
    # (the keychain is asked only when the environment does not give the token)
    from_profile = None if environ.get(ENV_TOKEN) else stored_token(path, name, stored)
    token, token_source = _pick(environ.get(ENV_TOKEN), ENV_TOKEN, from_profile)
    return Settings(
        profile=name,
        path=path,
        app_url=app_url,
        app_url_source=app_url_source,
        token=token,
        token_source=token_source,
        agent_id=text(stored, "agent_id"),
        insecure=stored.get("insecure") is True,
        token_store=token_store(stored) if token_source == "profile" else None,
    )


def selected_profile(profile: str | None, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The profile's name, and what named it (None for the implicit 'default')."""
    if profile is not None:
        return check_profile_name(profile), "--profile"
    if environ.get(ENV_PROFILE):
        return check_profile_name(environ[ENV_PROFILE]), ENV_PROFILE
    return DEFAULT_PROFILE, None


def _pick(from_env: str | None, env_name: str, from_profile: str | None) -> tuple[str | None, str | None]:
    if from_env:
        return from_env, env_name
    if from_profile:
        return from_profile, "profile"
    return None, None
