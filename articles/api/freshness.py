"""What the API's responses depend on: ETag, Last-Modified and cache keys.

Every API response is a function of the request's URL and the content state
(`content_state`). The views hand the state to Django's conditional-view
machinery (`django.views.decorators.http.condition`), so a client revalidating
with If-None-Match or If-Modified-Since gets a 304 while nothing changed, and
list data is cached under a key that includes the state, so a change makes
new keys at once and old entries simply expire.

The state is the site's content version (`articles.cache.content_state`):
it changes inside every transaction that writes articles, categories, tags,
authors or their links, and when a scheduled publication time passes — one
small indexed query per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from .. import cache as site_cache


@dataclass(frozen=True)
class ContentState:
    token: str  # changes whenever any response may change
    last_modified: dt.datetime | None


def content_state() -> ContentState:
    """The current content state (see the module docstring)."""
    state = site_cache.content_state()
    if state is None:  # nothing was ever written
        return ContentState(token="empty", last_modified=None)
    return ContentState(token=state.version, last_modified=state.last_modified)


def state_of(request) -> ContentState:
    """The content state, read once per request however often it is asked for."""
    http_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    state = getattr(http_request, "_api_content_state", None)
    if state is None:
        state = http_request._api_content_state = content_state()
    return state


def response_etag(request, *args, **kwargs) -> str:
    """The ETag of the response to `request`: the state, and the full URL (its host is in the links)."""
    seed = f"{state_of(request).token}|{request.build_absolute_uri()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def response_last_modified(request, *args, **kwargs) -> dt.datetime | None:
    return state_of(request).last_modified


def cache_key(request) -> str:
    """A cache key for the data of the response to `request`: it changes with its ETag."""
    return "api:v1:" + response_etag(request)
