"""Redis as a cache, not a dependency: a RedisCache that degrades instead of failing.

Every use of the cache (the page cache, the derived values of
articles.content_version, the 热门 counters, the API's throttle and rendered
lists) goes through Django's cache API, so this one backend is the only place
that knows Redis can be down. When a call fails (refused, reset, or no answer
within the socket timeouts that settings.cache_from_url gives), it answers as an
empty cache would: get → the default (a miss), get_many → {}, set/set_many/
delete → nothing stored, add → False (not added: the 热门 beacon then counts
nothing and starts no flush), incr → the delta, as for a counter just created
(the count is lost, the request is not), has_key/touch → False.

After a failure the backend does not touch Redis for `RETRY_SECONDS` (per
process, shared by its threads): a hung Redis costs one read timeout per process
per interval, not one per cache call (a page makes several). A warning is logged
once per interval, not once per call. `ping()` is the one call that does raise:
the readiness check (newsportal.health) wants the truth, not a degraded answer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("newsportal.cache")

RETRY_SECONDS = 5.0

_lock = threading.Lock()
_down_until: dict[str, float] = {}  # by LOCATION: the moment to try Redis again


class TolerantRedisCache(RedisCache):
    """Django's RedisCache whose failures are cache misses (see the module's docstring)."""

    def __init__(self, server: Any, params: dict) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)

    # --- the circuit ---------------------------------------------------------------

    def is_down(self) -> bool:
        """Whether a recent failure keeps this process from asking Redis for now."""
        until = _down_until.get(self._location)
        return until is not None and time.monotonic() < until

    def _failed(self, operation: str, error: Exception) -> None:
        with _lock:
            if self.is_down():
                return  # another thread noticed already, and warned
            _down_until[self._location] = time.monotonic() + RETRY_SECONDS
        logger.warning("cache unavailable (%s failed: %s: %s); serving uncached for %gs",
                       operation, type(error).__name__, error, RETRY_SECONDS)

    def _call(self, operation: str, fallback: Any, call: Callable[[], Any]) -> Any:
        if self.is_down():
            return fallback
        try:
            result = call()
        except (RedisError, OSError) as error:
            self._failed(operation, error)
            return fallback
        if self._location in _down_until:  # it answered again
            with _lock:
                if _down_until.pop(self._location, None) is not None:
                    logger.warning("cache available again")
        return result

    def ping(self) -> None:
        """Ask Redis directly, past the circuit; raises when it does not answer (the readiness check)."""
        self._cache.get_client(None).ping()

    # --- Django's cache API ------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, lambda: super(TolerantRedisCache, self).add(key, value, timeout, version))

    def get(self, key, default=None, version=None):
        return self._call("get", default, lambda: super(TolerantRedisCache, self).get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", None, lambda: super(TolerantRedisCache, self).set(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, lambda: super(TolerantRedisCache, self).touch(key, timeout, version))

    def delete(self, key, version=None):
        return self._call("delete", False, lambda: super(TolerantRedisCache, self).delete(key, version))

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, lambda: super(TolerantRedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None):
        return self._call("has_key", False, lambda: super(TolerantRedisCache, self).has_key(key, version))

    def incr(self, key, delta=1, version=None):
        return self._call("incr", delta, lambda: super(TolerantRedisCache, self).incr(key, delta, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], lambda: super(TolerantRedisCache, self).set_many(data, timeout, version))

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, lambda: super(TolerantRedisCache, self).delete_many(keys, version))

    def clear(self):
        return self._call("clear", False, lambda: super(TolerantRedisCache, self).clear())
