"""The address a request came from, for the login rate limit (django-axes).

Without a reverse proxy it is REMOTE_ADDR. Behind N trusted proxies that each
append the address they saw to X-Forwarded-For (nginx's
`$proxy_add_x_forwarded_for`, most load balancers), the client is the N-th
entry from the right: entries further left were written by the client itself
and could be anything, so they are never trusted. This is the rule of
werkzeug's ProxyFix and DRF's NUM_PROXIES; django-ipware counts hops
differently (a strict total chain length), which falls back to the proxy's own
address as soon as a client sends its own X-Forwarded-For.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NEWSPORTAL_TRUSTED_PROXIES
    if proxies < 1:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote  # not from our proxies (or misconfigured): the direct peer is all we know
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote
