"""The API's rate limit for anonymous clients (that is, every client)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.throttling import AnonRateThrottle

from articles.client_ip import from_trusted_proxy


class AnonymousRateThrottle(AnonRateThrottle):
    """DRF's per-address limit, with its rate read from settings at each request.

    DRF's own classes read DEFAULT_THROTTLE_RATES once, at import; reading
    NEWSPORTAL_API_ANON_RATE here lets a deployment (or a test) change it.
    The counters live in the "throttle" cache, which every worker shares
    (files on one machine, or Redis across machines: see the settings), not
    in DRF's default, the per-process local-memory cache.
    """

    @property
    def cache(self) -> BaseCache:
        return caches["throttle"]

    def get_rate(self) -> str | None:
        return settings.NEWSPORTAL_API_ANON_RATE

    def get_ident(self, request) -> str:
        """DRF's (X-Forwarded-For by NEWSPORTAL_API_NUM_PROXIES), but only from a trusted proxy's
        address (articles.client_ip): a client reaching an app server directly is its own address."""
        if not from_trusted_proxy(request):
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)
