"""The address a request came from, for the login rate limit (django-axes), the 热门 dedupe
and the API's throttle.

Without a reverse proxy it is REMOTE_ADDR. Behind N trusted proxies that each
append the address they saw to X-Forwarded-For (nginx's
`$proxy_add_x_forwarded_for`, most load balancers), the client is the N-th
entry from the right: entries further left were written by the client itself
and could be anything, so they are never trusted. This is the rule of
werkzeug's ProxyFix and DRF's NUM_PROXIES; django-ipware counts hops
differently (a strict total chain length), which falls back to the proxy's own
address as soon as a client sends its own X-Forwarded-For.

X-Forwarded-For is read only when the request comes from one of the proxies
(`NEWSPORTAL_TRUSTED_PROXY_ADDRESSES`: addresses or networks, `unix` for a peer on
a Unix socket; loopback and Unix sockets by default). Anyone who reaches an app
server directly, past the proxy, is counted by their own address whatever header
they send, so they cannot pick a new address for each login attempt (#20).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

UNIX_SOCKET = "unix"  # gunicorn on a Unix socket gives an empty REMOTE_ADDR: only local users can connect


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def _parsed(listed: tuple[str, ...]) -> tuple[tuple[Network, ...], bool]:
    """A list of addresses and networks, parsed once per process for each list (a setting
    overridden in a test is another list, so it is parsed on its first use)."""
    networks = tuple(ipaddress.ip_network(item, strict=False) for item in listed if item != UNIX_SOCKET)
    return networks, UNIX_SOCKET in listed


def address_listed(address: str, listed: Iterable[str]) -> bool:
    """Whether `address` is in `listed` (addresses or networks like 10.0.0.0/24; `unix` for a peer
    on a Unix socket, whose address is empty). The one check behind the trusted proxies
    (NEWSPORTAL_TRUSTED_PROXY_ADDRESSES) and who may scrape metrics (NEWSPORTAL_METRICS_ALLOWED)."""
    networks, unix = _parsed(tuple(listed))
    if not address:
        return unix
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request's peer (REMOTE_ADDR) is one of NEWSPORTAL_TRUSTED_PROXY_ADDRESSES."""
    return address_listed(request.META.get("REMOTE_ADDR", ""), settings.NEWSPORTAL_TRUSTED_PROXY_ADDRESSES)


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NEWSPORTAL_TRUSTED_PROXIES
    if proxies < 1 or not from_trusted_proxy(request):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote  # not from our proxies (or misconfigured): the direct peer is all we know
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote
