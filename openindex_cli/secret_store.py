"""Where a profile's token is kept: the system keychain (macOS Keychain, Windows Credential
Manager, Secret Service), through keyring, as `gh` keeps its tokens; or, on a machine without
one or when asked (--insecure-storage), the 0600 config file.

A keychain entry is named by the config file and the profile (service ``oi:<config file>``,
user the profile's name), so two config files never share a token.
"""
from __future__ import annotations

from pathlib import Path

import keyring
import keyring.errors
from keyring.backends import fail

KEYCHAIN = "keychain"
FILE = "file"


class KeychainError(Exception):
    """The keychain is missing or refused: the message says why, in words."""


def available() -> bool:
    """Whether this machine has a keychain keyring can use."""
    try:
        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except Exception:  # a broken keyring configuration is no keychain
        return False


def keep(path: Path, profile: str, token: str) -> None:
    """Put ``token`` in the keychain for this config file's ``profile``."""
    try:
        keyring.set_password(service(path), profile, token)
    except Exception as error:  # backends raise their own too (pywintypes.error, D-Bus errors)
        raise KeychainError(f"the system keychain refused it ({error})") from None


def read(path: Path, profile: str) -> str | None:
    """The token the keychain holds for ``profile``, or None when it holds none."""
    try:
        return keyring.get_password(service(path), profile)
    except Exception as error:  # backends raise their own too (pywintypes.error, D-Bus errors)
        raise KeychainError(f"the system keychain could not be read ({error})") from None


def forget(path: Path, profile: str) -> None:
    """Remove ``profile``'s token from the keychain, if it holds one."""
    try:
        keyring.delete_password(service(path), profile)
    except keyring.errors.PasswordDeleteError:
        pass  # it held none
    except Exception as error:  # backends raise their own too (pywintypes.error, D-Bus errors)
        raise KeychainError(f"the system keychain refused to remove it ({error})") from None


def service(path: Path) -> str:
    """The keychain service naming this config file's tokens."""
    return f"oi:{path.resolve()}"
