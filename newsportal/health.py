"""/healthz and /readyz, for load balancers, orchestrators and monitoring (docs/DEPLOY.md, "Health checks").

`HealthCheckMiddleware` is the first middleware: it answers these two paths before
anything reads the Host header (load balancers probe by IP address, which is not in
ALLOWED_HOSTS, and a DisallowedHost would be logged each time), before the HTTPS
redirect (they probe over plain http) and before sessions, the page cache or the
database are touched.

- `/healthz`: the process answers (liveness); touches nothing.
- `/readyz`: the database answers a query and the cache a round trip, each with
  its latency in milliseconds, as JSON. The database is required (503 without it);
  the cache is reported but does not make the server unready: Redis is a cache,
  not a dependency (newsportal.cache), and failing every app server's check
  because the shared Redis is down would take the whole site out of the load
  balancer for want of a cache it can serve without.

Both are `Cache-Control: no-store`, GET/HEAD only, and log nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Callable

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connections
from django.http import HttpRequest, HttpResponse

HEALTH_PATHS = ("/healthz", "/healthz/")
READY_PATHS = ("/readyz", "/readyz/")


def _timed(check: Callable[[], None]) -> dict:
    """Run one check; {"ok": bool, "ms": latency, "error": the exception's class when it failed}."""
    start = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure is "not reachable"; its class says which (no message: no secrets)
        return {"ok": False, "ms": round((time.perf_counter() - start) * 1000, 1), "error": type(error).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        connection.close_if_unusable_or_obsolete()
        raise


def _check_cache() -> None:
    cache = caches["default"]
    ping = getattr(cache, "ping", None)
    if ping is not None:  # Redis (newsportal.cache): asked directly, past its circuit
        ping()
        return
    if isinstance(cache, DummyCache):
        return  # caching is off (CACHE_URL=dummy://): nothing to reach
    key = f"readyz:{uuid.uuid4().hex}"  # another backend: a round trip of a key of its own
    cache.set(key, 1, 10)
    if cache.get(key) != 1:
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def readiness() -> tuple[bool, dict]:
    """Whether this server should get traffic, and what was checked."""
    checks = {"database": _timed(_check_database), "cache": _timed(_check_cache)}
    ready = checks["database"]["ok"]
    return ready, {"status": ("ready" if checks["cache"]["ok"] else "degraded") if ready else "unavailable",
                   "checks": checks}


def _answer(status: int, body: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    # Not logged by django.request as a 4xx/5xx: a probe every few seconds would fill the log
    # (the 503's reason is in its body, and the database's own failure is logged where it is used).
    response._has_been_logged = True
    return response


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before host validation and everything else (the first middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in HEALTH_PATHS and path not in READY_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _answer(405, b"", "text/plain")
            response["Allow"] = "GET, HEAD"
            return response
        if path in HEALTH_PATHS:
            return _answer(200, b"ok\n", "text/plain; charset=utf-8")
        ready, report = readiness()
        return _answer(200 if ready else 503, json.dumps(report).encode(), "application/json")
