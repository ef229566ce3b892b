"""The addresses a PAT may be used from: up to ten IP ranges (CIDR, IPv4 or IPv6), none meaning
any. Judged against the address API Gateway served (its request context), never a header the
client wrote; a run token is held to its PAT's ranges as well as its own."""
from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

MAX_RANGES = 10
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AllowedIps:
    """IP ranges, in the order given, each written canonically (``10.0.0.0/8``); none: any address."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> AllowedIps:
        """Ranges as a client writes them: ``10.0.0.0/8``, ``2001:db8::/32``, or one address
        (``203.0.113.7``, a /32 or /128). Host bits are cleared (``10.1.2.3/8`` is ``10.0.0.0/8``);
        duplicates are dropped. ValueError, saying which, for anything else or more than ten."""
        networks: list[Network] = []
        for position, text in enumerate(texts, start=1):
            network = _network(text)
            if network is None:
                raise ValueError(f"range {position} is not an IPv4 or IPv6 address or CIDR range "
                                 "(such as 203.0.113.0/24 or 2001:db8::/32)")
            if network not in networks:
                networks.append(network)
        if len(networks) > MAX_RANGES:
            raise ValueError(f"at most {MAX_RANGES} ranges")
        return cls(tuple(networks))

    @classmethod
    def from_text(cls, text: str) -> AllowedIps:
        """The ranges as stored and carried: ``10.0.0.0/8,2001:db8::/32`` (empty: any address)."""
        return _from_text(text)

    def to_text(self) -> str:
        return ",".join(self.as_list())

    def as_list(self) -> list[str]:
        return [str(network) for network in self.networks]

    @property
    def any(self) -> bool:
        return not self.networks

    def allows(self, address: str | None) -> bool:
        """Whether a request from ``address`` may use the token (no address, or one that is not an
        IP address, is allowed only where any address is). An IPv4 address written as IPv6
        (``::ffff:203.0.113.7``) is judged as IPv4."""
        if self.any:
            return True
        found = _address(address)
        return found is not None and any(found in network for network in self.networks)

    def within(self, other: AllowedIps) -> bool:
        """Whether every address these ranges allow, ``other`` allows too (a token never makes one
        that works from more places than itself)."""
        if other.any:
            return True
        return not self.any and all(
            any(mine.version == theirs.version and mine.subnet_of(theirs)  # type: ignore[arg-type]
                for theirs in other.networks)
            for mine in self.networks)

    def in_words(self) -> str:
        return ", ".join(self.as_list()) or "any address"


def _address(text: str | None) -> Address | None:
    try:
        found = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _network(text: str) -> Network | None:
    """A range as a client writes it, or None. Never one with an IPv6 zone (``fe80::1%eth0``): a
    zone names a link, not a range, and may hold any character, a comma included."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _from_text(text: str) -> AllowedIps:
    """AllowedIps.from_text, parsed once per text: the authorizer reads a token's ranges on every
    request, and a warm Lambda sees the same few tokens again and again."""
    return AllowedIps(tuple(ipaddress.ip_network(part) for part in text.split(",") if part))
