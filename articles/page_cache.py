"""How public pages are cached: whole responses, with the keys of what they show.

`public_page` wraps a view: anonymous GET/HEAD requests are answered from the
cache, with an ETag and Last-Modified, and a 304 when the client's copy is
current. A page is keyed on what was resolved — the script name and path apart,
and only the query parameters the view reads (the others are dropped before it
runs) — and stored gzipped as well as plain, with the content keys it shows
(articles.content_keys: collected while it renders) and the generation and time
it was rendered at. A stored page is served while none of its keys changed
since; a write changes only the keys it touches, so the other pages stay
cached. The keys are also sent as `xkey` and `Surrogate-Key` headers, for a
shared cache in front (Varnish, a CDN) to purge by. `CachedPageMiddleware` answers the same hits before sessions, locale,
CSRF, auth, messages, history and axes run (they cost more than the hit).

Requests with a live session (logged-in staff; a bogus or expired `sessionid`
counts as none), non-GET requests, and responses that set cookies, use the
CSRF token, vary on Cookie or are marked private are never cached.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from importlib import import_module
from functools import wraps
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, ResolverMatch, URLResolver, get_resolver, get_urlconf
from django.utils import translation
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag

from articles.replica import public_reads

from articles import content_keys
from articles.content_version import ContentState, content_state, rendering_at
from articles.models import ContentKey

# --- the page cache ----------------------------------------------------------------


def _is_personal(request: HttpRequest) -> bool:
    """Requests that may get a page made for this one visitor (staff, logged-in users).

    Only a cookie naming a live session counts: a bogus or expired `sessionid`
    is treated like none (served from the cache), or any client could make
    every request skip the cache by sending one. Checking costs one indexed
    read, and only for requests that carry the cookie.
    """
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return False
    known = getattr(request, "_has_live_session", None)
    if known is None:
        known = request._has_live_session = bool(import_module(settings.SESSION_ENGINE).SessionStore(key).load())
    return known


def _is_shareable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code not in (200, 301, 302, 404):
        return False
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    if response.has_header("Vary") and "cookie" in response["Vary"].lower():
        return False
    cache_control = response.get("Cache-Control", "").lower()
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", "")


def only_read_params(request: HttpRequest, names: tuple[str, ...]) -> None:
    """Make `request` carry only the query parameters its view reads (`names`), in that order.

    The page is then a function of its cache key: an extra parameter (?utm_source=,
    ?x=random) neither makes a new cache entry, nor skips the cache, nor ends up in
    a link (pagination, canonical) of a page that others are served.
    """
    if not request.META.get("QUERY_STRING"):
        return  # nothing to drop: most hits (building the QueryDicts was ~10 % of a hit's time)
    kept = QueryDict(mutable=True)
    for name in names:
        values = request.GET.getlist(name)
        if values:
            kept.setlist(name, values)
    query = kept.urlencode()
    if query != request.META.get("QUERY_STRING", ""):
        kept._mutable = False
        request.GET = kept
        request.META["QUERY_STRING"] = query


def _page_key(request: HttpRequest, bucket: str, language: str) -> str:
    # What was resolved (path_info) and the prefix its links were rendered with
    # (SCRIPT_NAME), kept apart: get_full_path() joins them, so "/search" + "/"
    # (a SCRIPT_NAME a proxy or a client sent) and "" + "/search/" were one key.
    # The query string holds only the parameters the view reads (only_read_params).
    script_name = request.path[: len(request.path) - len(request.path_info)]
    variant = "|".join((request.scheme, request.get_host(), language, script_name, request.path_info,
                        request.META.get("QUERY_STRING", "")))
    return f"page:{_digest(variant)}{bucket}"


@functools.lru_cache(maxsize=4096)
def _digest(variant: str) -> str:
    # Remembered: the same few thousand pages are asked for again and again (a hit's hashing).
    return hashlib.sha256(variant.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=4096)  # one per stored page: a hit does not format it again
def _etag(generation: int, rendered_at: float, bucket: str, language: str) -> str:
    return quote_etag(f"{generation}.{int(rendered_at * 1_000_000)}{bucket}-{language}")


_STORED_HEADERS = ("Content-Type", "Location", "X-Robots-Tag", "Content-Language", "xkey", "Surrogate-Key")
# What GZipMiddleware compresses: not worth it below this size.
MIN_GZIP_BYTES = 200


def _freeze(response: HttpResponse) -> tuple:
    """The stored page: status, headers, body, and the body gzipped once (or None).

    A shared page holds no secret (no CSRF token, no cookie: `_is_shareable`), so
    unlike GZipMiddleware's per-response output it needs no random padding
    against BREACH, and one compression serves every hit.
    """
    headers = {name: response[name] for name in _STORED_HEADERS if response.has_header(name)}
    content = response.content
    gzipped = gzip.compress(content, compresslevel=6, mtime=0) if len(content) >= MIN_GZIP_BYTES else None
    if gzipped is not None and len(gzipped) >= len(content):
        gzipped = None
    return (response.status_code, headers, content, gzipped)


def _thaw(stored: tuple, request: HttpRequest) -> HttpResponse:
    """The stored page, gzipped for a client that accepts it."""
    status, headers, content, *rest = stored
    gzipped = rest[0] if rest else None  # entries stored before compression have none
    if gzipped is not None and re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response = HttpResponse(gzipped, status=status)
        # GZipMiddleware leaves an encoded response alone: say what it would have said.
        response["Content-Encoding"] = "gzip"
        add_vary(response, "Accept-Encoding")
    else:
        response = HttpResponse(content, status=status)  # GZipMiddleware adds the Vary
    for name, value in headers.items():
        response[name] = value
    return response


def public_page(view: Callable | None = None, *, time_bucket: int | None = None,
                query_params: tuple[str, ...] | None = None):
    """Serve `view` to anonymous readers from the cache, with conditional GET.

    `time_bucket` (seconds) is for pages that change with the clock as well
    as with the content (the news sitemap's 48-hour window): their version
    also changes every `time_bucket` seconds.

    `query_params` are the query parameters the view reads; by default the
    `query_params` of a class-based view's class (none otherwise). Any other
    parameter is dropped from GET and HEAD requests before the view runs, and
    the page is cached under those alone.
    """

    def decorate(view: Callable) -> Callable:
        names = tuple(query_params if query_params is not None
                      else getattr(getattr(view, "view_class", None), "query_params", ()))

        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            only_read_params(request, names)
            if _is_personal(request):  # staff: the primary, uncached, as they just saved it
                with rendering_at(content_state()):
                    return view(request, *args, **kwargs)
            with public_reads():
                # CachedPageMiddleware has read it already when it missed.
                state = getattr(request, "_content_state", None) or content_state()
                with rendering_at(state):
                    if state is None:
                        return view(request, *args, **kwargs)
                    return _respond(request, state, view, args, kwargs, time_bucket)

        cached_view.public_page = True
        cached_view.time_bucket = time_bucket
        cached_view.query_params = names
        return cached_view

    return decorate(view) if view is not None else decorate


def _bucket(time_bucket: int | None) -> str:
    return f"~{int(timezone.now().timestamp()) // time_bucket}" if time_bucket else ""


def _from_cache(request: HttpRequest, state: ContentState, bucket: str, language: str) -> HttpResponse | None:
    """A 304, or the stored page, with the public headers; None on a miss or a stale page."""
    entry = cache.get(_page_key(request, bucket, language))
    if not isinstance(entry, dict):
        return None
    keys, generation, rendered_at = entry["keys"], entry["generation"], entry["rendered_at"]
    with public_reads():
        connection = connections[router.db_for_read(ContentKey)]
        judged = content_keys.judge(keys, generation, rendered_at, connection)
    if judged is None:
        return None
    # Its ETag names what it was rendered from, however it is judged from now on.
    generation, rendered_at = entry.get("stamp", (generation, rendered_at))
    if judged != (entry["generation"], entry["rendered_at"]) and not bucket:  # checked in the database: not again
        cache.set(_page_key(request, bucket, language),
                  {**entry, "generation": judged[0], "rendered_at": judged[1], "stamp": (generation, rendered_at)},
                  _timeout(None))
    etag = _etag(generation, rendered_at, bucket, language)
    last_modified = entry["last_modified"]
    if not bucket and any(name in request.META for name in _CONDITIONAL_HEADERS):
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            _public_headers(not_modified, etag, last_modified, bucket)
            _key_headers(not_modified, keys)
            return not_modified
    response = _thaw(entry["page"], request)
    response["X-Cache"] = "hit"
    if response.status_code == 200:
        _public_headers(response, etag, last_modified, bucket)
        if response.has_header("Content-Encoding") and not bucket:
            response["ETag"] = f"W/{etag}"  # another representation of the page, as GZipMiddleware marks it
    return response


def _respond(request, state: ContentState, view, args, kwargs, time_bucket: int | None) -> HttpResponse:
    bucket, language = _bucket(time_bucket), _language(request)
    response = _from_cache(request, state, bucket, language)
    if response is None:
        with content_keys.collecting() as keys:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        if response.status_code == 404:
            keys.add("missing")  # whatever is published at this address next
        if not _is_shareable(request, response):
            return response
        _key_headers(response, keys)
        last_modified = int(state.last_modified.timestamp())  # HTTP dates have whole seconds
        entry = {"page": _freeze(response), "keys": tuple(sorted(keys)), "generation": state.generation,
                 "rendered_at": state.read_at, "last_modified": last_modified}
        cache.set(_page_key(request, bucket, language), entry, _timeout(time_bucket))
        response["X-Cache"] = "miss"
        if response.status_code == 200:
            _public_headers(response, _etag(state.generation, state.read_at, bucket, language), last_modified, bucket)
    return response


def _timeout(time_bucket: int | None) -> int:
    timeout = settings.NEWSPORTAL_PAGE_CACHE_SECONDS
    if time_bucket:  # the page changes with the clock: not kept past its bucket
        timeout = min(timeout, time_bucket)
    return max(1, timeout)


def _key_headers(response: HttpResponse, keys) -> None:
    """The keys of what the page shows, for a shared cache to purge by (Varnish xkey, a CDN's Surrogate-Key)."""
    if keys:
        value = content_keys.header_value(keys)
        response["xkey"] = value
        response["Surrogate-Key"] = value


# A hit answers a conditional request only when it is one (most are not: parsing nothing costs too).
_CONDITIONAL_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
_http_date = functools.lru_cache(maxsize=4096)(http_date)  # a stored page's Last-Modified, formatted once


def add_vary(response: HttpResponse, header: str) -> None:
    """`patch_vary_headers(response, (header,))`, without parsing when the response has no Vary yet (a hit's)."""
    if response.has_header("Vary"):
        patch_vary_headers(response, (header,))
    else:
        response["Vary"] = header


def _public_headers(response: HttpResponse, etag: str, last_modified: int, bucket: str) -> None:
    if not bucket:
        response["ETag"] = etag
        response["Last-Modified"] = _http_date(last_modified)
    # Browsers and CDNs revalidate (a cheap 304) after this many seconds; 0
    # means every time, so nobody sees a page older than the last change.
    if response.has_header("Cache-Control"):
        patch_cache_control(response, public=True, max_age=settings.NEWSPORTAL_HTTP_MAX_AGE)
    else:  # a hit: what patch_cache_control writes, without parsing and rebuilding it (every hit)
        response["Cache-Control"] = f"public, max-age={settings.NEWSPORTAL_HTTP_MAX_AGE}"


# --- hits before the rest of the middleware ---------------------------------------------


@functools.lru_cache(maxsize=4096)
def _public_match(resolver: URLResolver, path_info: str) -> ResolverMatch | None:
    """How `path_info` resolves when its view is a `public_page` one, or None (another view, or none).

    Remembered per process: resolving walks the URL patterns and their converters
    for every hit (an article page tries a dozen patterns, ~0.1 ms, a quarter of a
    hit's time in the app), and a path always resolves the same way with one
    resolver (Django makes a new one when the URLconf changes: clear_url_caches).
    Bounded, so that made-up paths cannot grow it.
    """
    try:
        match = resolver.resolve(path_info)
    except Resolver404:
        return None
    return match if getattr(match.func, "public_page", False) else None


@functools.lru_cache(maxsize=1024)
def _language_of(cookie: str | None, accept_language: str) -> str:
    """The language LocaleMiddleware picks (its cookie, else Accept-Language), for a request that
    carries these two: remembered, since readers send the same few values over and over."""
    request = HttpRequest()
    if cookie is not None:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
    if accept_language:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request)


class CachedPageMiddleware:
    """Answer anonymous readers' cache hits before the session, locale, CSRF,
    auth, messages, history and axes middleware run.

    Placed right after WhiteNoise (and GZip). For a GET or HEAD without a live session
    whose URL resolves to a `public_page` view, it works out the language as
    LocaleMiddleware would, and answers a 304 or a stored page with the
    headers the skipped middleware would have added (Vary: Accept-Language,
    Content-Language, X-Frame-Options, Content-Length). Anything else — a
    miss, staff, a POST, another URL — goes down the whole stack as before.
    Under gunicorn this was most of a cached page's cost (the middleware took
    more than the cache lookup).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._hit(request)
        return response if response is not None else self.get_response(request)

    @staticmethod
    def _hit(request: HttpRequest) -> HttpResponse | None:
        if request.method not in ("GET", "HEAD"):
            return None
        match = _public_match(get_resolver(get_urlconf()), request.path_info)
        if match is None or _is_personal(request):
            return None
        view = match.func
        only_read_params(request, view.query_params)
        with public_reads():
            state = content_state()
        if state is None:
            return None
        request._content_state = state  # a miss does not read it twice
        language = _language_of(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
                                request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        response = _from_cache(request, state, _bucket(view.time_bucket), language)
        if response is None:
            return None
        # As Django's handler sets it: what answered, for the middleware outside this one (the
        # request metrics count a hit under its view's name, newsportal.metrics).
        request.resolver_match = match
        # What LocaleMiddleware, XFrameOptionsMiddleware and CommonMiddleware add.
        add_vary(response, "Accept-Language")
        response.headers.setdefault("Content-Language", language)
        if response.get("X-Frame-Options") is None and not getattr(response, "xframe_options_exempt", False):
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
