"""What the API's responses depend on: ETag, Last-Modified, cached data and content keys.

Every API answer knows what it shows, as a public page does (articles.content_keys):
the article list shows `home` (every published article), an article `a:<id>`, the
category tree `categories`, the tag and author lists `tags` and `authors` (their
counts). Its data is cached under its URL with those keys and the content
generation and time it was computed at, and served while none of its keys
changed since — so an edit of one article leaves the other articles' answers
and the category tree alone. The ETag names that computation, so a client
revalidating with If-None-Match or If-Modified-Since gets a 304 while nothing
it shows changed. The keys are sent as `xkey` and `Surrogate-Key` headers.

The state (`articles.content_version.content_state`) is read once per request:
one small indexed query, memoised per process for at most a second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router

from articles import content_keys, content_version
from articles.content_version import ContentState
from articles.models import ContentKey


EMPTY = "empty"  # the token before anything was ever written


def _http_request(request):
    return getattr(request, "_request", request)  # DRF's Request wraps Django's


def state_of(request) -> ContentState | None:
    """The content state, read once per request however often it is asked for."""
    http_request = _http_request(request)
    if not hasattr(http_request, "_api_content_state"):
        http_request._api_content_state = content_version.content_state()
    return http_request._api_content_state


def show(request, *keys: str) -> None:
    """Say what the answer to `request` shows (the views do, before they answer)."""
    _http_request(request)._api_content_keys = tuple(keys)


def keys_of(request) -> tuple[str, ...]:
    return getattr(_http_request(request), "_api_content_keys", ())


def cache_key(request) -> str:
    """Where the data of the answer to `request` is cached: its full URL (the host is in its links)."""
    return "api:v1:" + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]


def _fresh_entry(request) -> dict | None:
    """The cached data of this answer, if none of its keys changed since (looked up once per request)."""
    http_request = _http_request(request)
    if not hasattr(http_request, "_api_entry"):
        entry = None
        if state_of(request) is not None and keys_of(request):
            stored = cache.get(cache_key(request))
            if isinstance(stored, dict) and stored.get("keys") == keys_of(request):
                connection = connections[router.db_for_read(ContentKey)]
                if content_keys.is_fresh(stored["keys"], stored["generation"], stored["rendered_at"], connection):
                    entry = stored
        http_request._api_entry = entry
    return http_request._api_entry


def _stamp(request) -> str:
    entry = _fresh_entry(request)
    if entry is not None:
        return f"{entry['generation']}.{int(entry['rendered_at'] * 1_000_000)}"
    state = state_of(request)
    if state is None:
        return EMPTY
    return f"{state.generation}.{int(state.read_at * 1_000_000)}"  # what will be computed now


def response_etag(request, *args, **kwargs) -> str:
    """The ETag of the answer to `request`: the computation it comes from, and the full URL."""
    seed = f"{_stamp(request)}|{' '.join(keys_of(request))}|{request.build_absolute_uri()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def response_last_modified(request, *args, **kwargs) -> dt.datetime | None:
    entry = _fresh_entry(request)
    if entry is not None:
        return entry["last_modified"]
    state = state_of(request)
    return state.last_modified if state else None


def cached_data(request, compute: Callable[[], Any]) -> Any:
    """The answer's data from the cache while its keys are unchanged, or computed and cached."""
    entry = _fresh_entry(request)
    if entry is not None:
        return entry["data"]
    data = compute()
    state = state_of(request)
    if state is not None and keys_of(request):
        cache.set(cache_key(request), {
            "data": data, "keys": keys_of(request), "generation": state.generation,
            "rendered_at": state.read_at, "last_modified": state.last_modified,
        }, settings.NEWSPORTAL_API_CACHE_SECONDS)
    return data
