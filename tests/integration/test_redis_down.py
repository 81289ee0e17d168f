"""Redis is a cache, not a dependency (#20): pages, feeds, the API and the 热门 beacon are served
uncached when the Redis of CACHE_URL is stopped or hung, with one logged warning
(newsportal.cache.TolerantRedisCache, the backend settings.cache_from_url gives a redis:// URL)."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches

from newsportal.settings import cache_from_url
from tests.factories import publish

pytestmark = pytest.mark.django_db

PAGES = ["/", "/feed/", "/feed/atom/", "/api/v1/articles/", "/hot/", "/sitemap.xml"]


def use_redis(settings, url: str) -> None:
    """Every cache the app has (pages, 热门 counters, API throttle) on this Redis, as production sets them."""
    backend = {**cache_from_url(url), "KEY_PREFIX": "test"}
    settings.CACHES = {"default": backend, "throttle": dict(backend), "hot": dict(backend)}
    settings.NEWSPORTAL_API_ANON_RATE = "1000/min"  # the throttle asks the cache too


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "newsportal.cache" and r.levelno == logging.WARNING]


@pytest.mark.slow  # a redis-server process
def test_a_stopped_redis_serves_every_page_uncached_with_one_warning(client, redis_server, settings, caplog):
    use_redis(settings, redis_server.url)
    article = publish("缓存停了也能读")
    assert client.get("/")["X-Cache"] == "miss"
    assert client.get("/")["X-Cache"] == "hit"  # Redis works: cached

    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="newsportal.cache")
    for url in PAGES + [article.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "缓存停了也能读" in client.get("/").content.decode()
    beacon = client.post(f"/hit/{article.pk}/", HTTP_USER_AGENT="Mozilla/5.0")
    assert beacon.status_code == 204  # the read is not counted, the reader sees no error
    messages = warnings_of(caplog)
    assert len(messages) == 1 and "cache unavailable" in messages[0]  # once per interval, not per call
    assert "ConnectionError" in messages[0]
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


def test_a_hung_redis_costs_one_timeout_then_is_left_alone(client, hung_redis, settings, caplog):
    use_redis(settings, hung_redis.url)
    article = publish("缓存挂住了")
    caplog.set_level(logging.WARNING, logger="newsportal.cache")
    for url in PAGES + [article.get_absolute_url()]:
        assert client.get(url).status_code == 200, url
    assert "缓存挂住了" in client.get("/").content.decode()
    messages = warnings_of(caplog)
    assert len(messages) == 1 and "TimeoutError" in messages[0]
    # Bounded by behaviour: the first call waited for the socket timeout, and every later call of
    # those requests was answered as a miss without asking the hung server again.
    assert len(hung_redis.accepted) == 1


@pytest.mark.slow  # a redis-server process
def test_a_redis_back_is_used_again(redis_server, settings, caplog):
    from newsportal import cache as tolerant

    use_redis(settings, redis_server.url)
    redis_cache = caches["default"]
    redis_cache.set("k", "v")
    tolerant._down_until[redis_cache._location] = 0.0  # as after a failure whose interval is over
    caplog.set_level(logging.WARNING, logger="newsportal.cache")
    assert redis_cache.get("k") == "v"
    assert "cache available again" in warnings_of(caplog)


def test_the_degraded_answers_are_an_empty_caches(hung_redis, settings):
    use_redis(settings, hung_redis.url)
    redis_cache = caches["default"]
    assert redis_cache.get("x", "default") == "default"
    assert redis_cache.add("x", 1) is False
    assert redis_cache.incr("x", 3) == 3
    assert redis_cache.get_many(["x", "y"]) == {}
    assert redis_cache.get_or_set("x", lambda: "computed") == "computed"
    assert redis_cache.has_key("x") is False
    redis_cache.set("x", 1)
    redis_cache.delete_many(["x"])
    with pytest.raises(Exception):
        redis_cache.ping()  # the readiness check's question is not degraded
