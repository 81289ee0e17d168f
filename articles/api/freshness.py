"""What the API's responses depend on: ETag, Last-Modified and cache keys.

Every API response is a function of the request's URL and the content state
(`content_state`). The views hand the state to Django's conditional-view
machinery (`django.views.decorators.http.condition`), so a client revalidating
with If-None-Match or If-Modified-Since gets a 304 while nothing changed, and
list data is cached under a key that includes the state, so a change makes
new keys at once and old entries simply expire.

The state today is read from the articles table (two aggregate queries):

* the newest ``updated_at`` of any article: every save bumps it, including
  publishing, unpublishing, rescheduling and edits;
* the newest ``published_at`` among published articles: a scheduled article
  going live changes it without any write;
* the number of articles: a deletion changes it.

Renaming a category, tag or author is not seen until the next article change
(responses are then at most NEWSPORTAL_API_CACHE_SECONDS old in caches, but a
revalidation may still answer 304). The site-wide content generation, when it
lands, replaces the body of `content_state` and closes that gap; nothing else
here needs to change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Max

from ..models import Article


@dataclass(frozen=True)
class ContentState:
    token: str  # changes whenever any response may change
    last_modified: dt.datetime | None


def content_state() -> ContentState:
    """The current content state (see the module docstring)."""
    everything = Article.objects.order_by().aggregate(changed=Max("updated_at"), total=Count("id"))
    live = Article.objects.published().order_by().aggregate(latest=Max("published_at"))["latest"]
    moments = [m for m in (everything["changed"], live) if m is not None]
    token = f"{everything['changed']}|{live}|{everything['total']}"
    return ContentState(token=hashlib.sha256(token.encode()).hexdigest()[:32],
                        last_modified=max(moments) if moments else None)


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
