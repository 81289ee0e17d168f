"""What the API's responses depend on: ETag, Last-Modified and cache keys.

Every API response is a function of the request's URL and the content state
(`content_state`). The views hand the state to Django's conditional-view
machinery (`django.views.decorators.http.condition`), so a client revalidating
with If-None-Match or If-Modified-Since gets a 304 while nothing changed, and
list data is cached under a key that includes the state, so a change makes
new keys at once and old entries simply expire.

The state is the site's content version (`articles.content_version.content_state`):
it changes inside every transaction that writes articles, categories, tags,
authors or their links, and when a scheduled publication time passes — one
small indexed query per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from articles import content_version
from articles.content_version import ContentState


EMPTY = "empty"  # the token before anything was ever written


def state_of(request) -> ContentState | None:
    """The content state, read once per request however often it is asked for."""
    http_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    if not hasattr(http_request, "_api_content_state"):
        http_request._api_content_state = content_version.content_state()
    return http_request._api_content_state


def response_etag(request, *args, **kwargs) -> str:
    """The ETag of the response to `request`: the state, and the full URL (its host is in the links)."""
    state = state_of(request)
    seed = f"{state.version if state else EMPTY}|{request.build_absolute_uri()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def response_last_modified(request, *args, **kwargs) -> dt.datetime | None:
    state = state_of(request)
    return state.last_modified if state else None


def cache_key(request) -> str:
    """A cache key for the data of the response to `request`: it changes with its ETag."""
    return "api:v1:" + response_etag(request)
