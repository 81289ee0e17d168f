"""热门: the reading beacon, the counters' flush to the database, the hot lists (articles.hot).

Reads are sent through HTTP as a browser's beacon would (POST /hit/<id>/); the
flush is run as the beacon of a later minute runs it (`flush_hits` with a later
time: an epoch is flushed once it is closed). `X-Cache: hit|miss` tells whether
a page came from the page cache.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone

from articles import hot
from articles.models import Article, ArticleHits
from tests.factories import publish

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def beacon(client, article_id: int, address: str = "203.0.113.7", agent: str = BROWSER):
    return client.post(f"/hit/{article_id}/", REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def flush_later(minutes: int = 2) -> int:
    """Flush as a beacon of a later minute would (the epochs counted so far are closed then)."""
    return hot.flush_hits(time.time() + minutes * 60)


def reads() -> dict[int, int]:
    return {row.article_id: row.count for row in ArticleHits.objects.all()}


def hot_titles(html: str) -> list[str]:
    block = re.search(r'<ol class="hot-list[^"]*">(.*?)</ol>', html, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', block.group(1)) if block else []


# --- the beacon -------------------------------------------------------------------------


def test_a_read_of_a_published_article_is_counted_and_flushed_to_the_database(client):
    article = publish("央行下调存款准备金率")
    response = beacon(client, article.pk)
    assert response.status_code == 204
    assert not ArticleHits.objects.exists()  # counted in the cache, not written per read
    assert flush_later() == 1
    assert reads() == {article.pk: 1}


def test_the_beacon_sets_no_cookie_and_is_never_cached(client):
    article = publish("北向资金净流入")
    for address in ("203.0.113.1", "203.0.113.2"):
        response = beacon(client, article.pk, address)
        assert response.status_code == 204
        assert not response.cookies and "Set-Cookie" not in response
        assert response["Cache-Control"] == "no-store" and "X-Cache" not in response
    flush_later()
    assert reads() == {article.pk: 2}  # the second POST reached the view too


def test_the_beacon_takes_only_post(client):
    article = publish("人民币中间价")
    assert client.get(f"/hit/{article.pk}/").status_code == 405
    flush_later()
    assert reads() == {}


@pytest.mark.parametrize("agent", ["", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                                   "Mozilla/5.0 (compatible; Baiduspider/2.0)", "curl/8.5.0",
                                   "python-requests/2.32", "Mozilla/5.0 HeadlessChrome/120.0"])
def test_bots_are_not_counted(client, agent):
    article = publish("沪深两市成交额")
    assert beacon(client, article.pk, agent=agent).status_code == 204
    flush_later()
    assert reads() == {}


def test_drafts_scheduled_and_unknown_articles_are_not_counted(client):
    draft = publish("草稿", status=Article.Status.DRAFT)
    scheduled = publish("定时发布", when=timezone.now() + dt.timedelta(hours=2))
    for pk in (draft.pk, scheduled.pk, 999_999, 10**20):  # (the last: beyond any integer column)
        assert beacon(client, pk).status_code == 204
    flush_later()
    assert reads() == {}


def test_one_read_per_address_and_article_in_the_window(client, settings):
    first, second = publish("第一篇"), publish("第二篇")
    for _ in range(3):
        beacon(client, first.pk, "203.0.113.9")
    beacon(client, second.pk, "203.0.113.9")
    beacon(client, first.pk, "198.51.100.4")
    flush_later()
    assert reads() == {first.pk: 2, second.pk: 1}
    settings.NEWSPORTAL_HOT_DEDUPE_SECONDS = 0  # every read counts
    for _ in range(3):
        beacon(client, second.pk, "203.0.113.9")
    flush_later(4)
    assert reads() == {first.pk: 2, second.pk: 4}


def test_an_article_page_sends_the_beacon_and_a_preview_does_not(client, admin_client):
    article = publish("新闻联播要点")
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'data-hit="/hit/{article.pk}/"' in page and "/static/js/hit.js" in page
    preview = admin_client.get(f"/preview/{article.pk}/").content.decode()
    assert "data-hit" not in preview and "hit.js" not in preview


# --- the flush --------------------------------------------------------------------------


def test_the_flush_adds_each_closed_minute_once(client, settings):
    settings.NEWSPORTAL_HOT_DEDUPE_SECONDS = 0
    articles = [publish(f"快讯{n}") for n in range(5)]
    now = time.time()
    for n, article in enumerate(articles):
        for _ in range(n + 1):
            hot.add_hit(article.pk, now)
    hot.add_hit(articles[0].pk, now + 60)  # the next minute: still open at now + 60
    assert hot.flush_hits(now + 60) == 15
    assert reads() == {article.pk: n + 1 for n, article in enumerate(articles)}
    assert hot.flush_hits(now + 60) == 0  # flushed minutes are not added again
    assert hot.flush_hits(now + 120) == 1
    assert reads()[articles[0].pk] == 2


def test_reads_of_different_hours_are_kept_apart():
    article = publish("港股收评")
    hour = 3600 * (int(time.time()) // 3600)
    hot.add_hit(article.pk, hour - 30)  # the last minute of the previous hour
    hot.add_hit(article.pk, hour + 30)
    hot.flush_hits(hour + 180)
    rows = sorted(ArticleHits.objects.values_list("hour", "count"))
    assert [count for _hour, count in rows] == [1, 1]
    assert rows[1][0] - rows[0][0] == dt.timedelta(hours=1)


def test_counts_of_an_article_unpublished_before_the_flush_are_dropped():
    article = publish("撤回的稿件")
    hot.add_hit(article.pk, time.time())
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    flush_later()
    assert reads() == {}


# --- the hot lists ----------------------------------------------------------------------


def hours_ago(hours: int) -> dt.datetime:
    now = timezone.now().astimezone(dt.timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours)


def test_the_hot_page_lists_the_most_read_of_the_last_24_hours(client):
    a, b, c = publish("读者最多"), publish("读者第二"), publish("读者第三")
    old = publish("昨天以前很热")
    draft = publish("草稿很热", status=Article.Status.DRAFT)
    ArticleHits.objects.bulk_create([
        ArticleHits(article=a, hour=hours_ago(0), count=30), ArticleHits(article=a, hour=hours_ago(23), count=20),
        ArticleHits(article=b, hour=hours_ago(2), count=40),
        ArticleHits(article=c, hour=hours_ago(5), count=5),
        ArticleHits(article=old, hour=hours_ago(25), count=500),  # outside the 24 hours
        ArticleHits(article=draft, hour=hours_ago(1), count=900),  # not published
    ])
    response = client.get("/hot/")
    assert response.status_code == 200
    assert hot_titles(response.content.decode()) == ["读者最多", "读者第二", "读者第三"]


def test_the_home_page_has_the_hot_block_when_there_are_reads(client):
    assert "hot-heading" not in client.get("/").content.decode()
    article = publish("首页热门")
    ArticleHits.objects.create(article=article, hour=hours_ago(0), count=3)
    hot.refresh_hot(force=True)
    page = client.get("/").content.decode()
    assert "hot-heading" in page and hot_titles(page) == ["首页热门"]


def test_a_flush_changes_only_the_hot_pages_and_at_most_every_few_minutes(client, settings):
    article, other = publish("被读的文章"), publish("另一篇")
    for url in ("/", "/hot/", article.get_absolute_url(), other.get_absolute_url(), "/archive/"):
        client.get(url)
        assert client.get(url)["X-Cache"] == "hit"
    beacon(client, article.pk)
    assert flush_later() == 1
    home = client.get("/")
    assert home["X-Cache"] == "miss" and hot_titles(home.content.decode()) == ["被读的文章"]
    assert client.get("/hot/")["X-Cache"] == "miss"
    for url in (article.get_absolute_url(), other.get_absolute_url(), "/archive/"):
        assert client.get(url)["X-Cache"] == "hit", url
    # More reads within NEWSPORTAL_HOT_REFRESH_SECONDS: written, but the hot pages stay cached.
    beacon(client, other.pk)
    assert flush_later(4) == 1
    assert reads() == {article.pk: 1, other.pk: 1}
    assert client.get("/")["X-Cache"] == "hit"


def test_the_hot_page_is_one_of_the_public_pages_checked():
    from tests.page_types import public_page_paths

    assert public_page_paths("<p>正文</p>")["hot"] == "/hot/"


# --- a shared cache: Redis ----------------------------------------------------------------


@pytest.mark.slow
def test_reads_counted_in_a_real_redis_are_flushed_by_the_task(client, redis_url, settings):
    from django.core.cache import caches

    from newsportal.settings import cache_from_url

    shared = {**cache_from_url(redis_url), "KEY_PREFIX": "test"}
    settings.CACHES = {**settings.CACHES, "default": shared, "hot": shared}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    try:
        assert not hot.cache_is_per_process()
        article = publish("Redis里的热门")
        for n in range(3):
            beacon(client, article.pk, f"203.0.113.{n}")
        beacon(client, article.pk, "203.0.113.0")  # the same address again
        import redis

        keys = {key.decode() for key in redis.Redis.from_url(redis_url).keys("*")}
        assert any(":hot:n:" in key for key in keys) and any(":hot:seen:" in key for key in keys)
        assert not any("203.0.113" in key for key in keys)  # addresses only hashed
        # The first beacon of a later minute enqueues the flush (the immediate backend runs it).
        hot.schedule_flush(time.time() + 120)
        assert reads() == {article.pk: 3}
    finally:
        caches["default"].clear()


@pytest.mark.slow
def test_the_database_task_worker_flushes_reads_counted_in_redis(client, redis_url, settings, run_task_worker):
    """With a shared cache the flush is a task: queued in the database, run by `db_worker`."""
    from django.core.cache import caches
    from django_tasks_db.models import DBTaskResult

    from newsportal.settings import cache_from_url

    shared = {**cache_from_url(redis_url), "KEY_PREFIX": "test"}
    settings.CACHES = {**settings.CACHES, "default": shared, "hot": shared}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    try:
        article = publish("任务里写入的热门")
        beacon(client, article.pk)
        hot.schedule_flush(time.time() + 120)  # the first beacon of a later minute
        assert DBTaskResult.objects.filter(task_path="articles.hot.flush_task").exists()
        assert reads() == {}  # not in the request: the worker writes them
        run_task_worker()
        assert reads() == {article.pk: 1}
    finally:
        caches["default"].clear()
