"""The page cache: what is cached, for whom, and that no change leaves a page stale.

Every rule is checked through HTTP: a page is fetched (and cached), the content
changes by one of the ways a newsroom changes it, and the next fetch must show
the change. `X-Cache: hit|miss` tells whether the page came from the cache.
"""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from taggit.models import Tag

from articles.content_version import content_state
from articles.page_cache import public_page
from articles.models import Article, Author, Category, ContentKey, ContentVersion
from newsportal.settings import cache_from_url
from tests.factories import SEEDS, chain, publish

pytestmark = pytest.mark.django_db


def fetch(client, url: str, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response


def text(response) -> str:
    return response.content.decode()


# --- what is cached -------------------------------------------------------------------


PUBLIC_URLS = ["/", "/category/", "/category/金融/", "/tag/券商/", "/author/甲/", "/archive/", "/search/?q=券商",
               "/feed/", "/feed/atom/", "/sitemap.xml", "/sitemap-categories.xml"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_anonymous_readers_get_cached_pages(client, url):
    publish("券商晨报", categories=[chain("金融")], tags=["券商"], author="甲")
    first, second = fetch(client, url), fetch(client, url)
    assert first["X-Cache"] == "miss" and second["X-Cache"] == "hit"
    assert first.content == second.content and first["Content-Type"] == second["Content-Type"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_hits_are_answered_before_the_session_middleware_with_the_same_headers(client, url):
    """CachedPageMiddleware answers a hit before sessions, locale, CSRF and the rest run,
    and adds what they would have: the hit carries the miss's headers."""
    publish("券商晨报", categories=[chain("金融")], tags=["券商"], author="甲")
    for accept_language in ("zh-CN,zh;q=0.9", "en"):
        miss = fetch(client, url, HTTP_ACCEPT_LANGUAGE=accept_language)
        hit = fetch(client, url, HTTP_ACCEPT_LANGUAGE=accept_language)
        assert (miss["X-Cache"], hit["X-Cache"]) == ("miss", "hit")
        assert hasattr(miss.wsgi_request, "session") and not hasattr(hit.wsgi_request, "session")
        ignored = {"X-Cache", "Date", "X-Request-ID"}  # a new id for every request
        assert {k: v for k, v in hit.items() if k not in ignored} == {k: v for k, v in miss.items() if k not in ignored}
        assert hit.content == miss.content


def test_hits_keep_languages_apart(client):
    publish("券商晨报")
    chinese = fetch(client, "/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = fetch(client, "/", HTTP_ACCEPT_LANGUAGE="en")
    assert english["X-Cache"] == "miss" and chinese["Content-Language"] != english["Content-Language"]
    assert fetch(client, "/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == english["Content-Language"]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=chinese["ETag"]).status_code == 200


def test_logged_in_staff_are_never_served_or_stored(client, admin_client):
    publish("券商晨报")
    staff = fetch(admin_client, "/")
    assert "X-Cache" not in staff
    assert fetch(client, "/")["X-Cache"] == "miss"  # the staff visit stored nothing
    assert "X-Cache" not in fetch(admin_client, "/")


def test_responses_with_cookies_or_private_are_not_stored():
    calls = []

    @public_page
    def sets_cookie(request):
        calls.append(1)
        response = HttpResponse("hello")
        response.set_cookie("seen", "1")
        return response

    publish("任一文章")  # a content version exists
    factory = RequestFactory()
    sets_cookie(factory.get("/x/"))
    sets_cookie(factory.get("/x/"))
    assert len(calls) == 2


@pytest.mark.parametrize("url, extra", [
    ("/", "utm_source=wechat&from=timeline&isappinstalled=0"),
    ("/search/?q=券商", "y=2&cachebust=123"),
    ("/category/金融/", "x=1"),
    ("/feed/", "format=atom"),
])
def test_parameters_the_view_does_not_read_neither_skip_nor_split_the_cache(client, url, extra):
    """Keyed on the parameters a view reads: anything else is a hit on the same entry."""
    publish("券商晨报", categories=[chain("金融")])
    first = fetch(client, url)
    joiner = "&" if "?" in url else "?"
    again = fetch(client, f"{url}{joiner}{extra}")
    assert (first["X-Cache"], again["X-Cache"]) == ("miss", "hit") and again.content == first.content


def test_a_parameter_the_view_reads_still_makes_its_own_page(client):
    publish("券商晨报")
    publish("腾讯财报")
    assert "晨报" in text(fetch(client, "/search/?q=券商"))
    other = fetch(client, "/search/?q=腾讯&junk=1")
    assert other["X-Cache"] == "miss" and "财报" in text(other) and "晨报" not in text(other)


def test_an_extra_parameter_never_reaches_a_cached_pages_links(client):
    _grow(25, "页")
    page = text(fetch(client, "/?evil=injected"))
    assert 'rel="next"' in page and "evil" not in page and "injected" not in page
    assert fetch(client, "/")["X-Cache"] == "hit"


def test_a_bogus_or_expired_session_cookie_is_served_like_none(client, admin_client):
    publish("券商晨报")
    assert fetch(client, "/")["X-Cache"] == "miss"
    client.cookies["sessionid"] = "bogus0session0cookie0that0names0nothing"
    assert fetch(client, "/")["X-Cache"] == "hit"
    assert fetch(client, "/archive/")["X-Cache"] == "miss"  # a miss with it is stored for everyone
    del client.cookies["sessionid"]
    assert fetch(client, "/archive/")["X-Cache"] == "hit"
    # A real session stays personal; once it has ended, its cookie is like any other bogus one.
    assert "X-Cache" not in fetch(admin_client, "/")
    from django.contrib.sessions.models import Session

    Session.objects.all().update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert fetch(admin_client, "/")["X-Cache"] == "hit"


def test_a_script_name_cannot_poison_another_urls_page(client):
    """gunicorn takes SCRIPT_NAME from a header (from --forwarded-allow-ips): /search/?q=券商
    then resolves as "/" under the prefix /search. Pages are keyed on what was resolved."""
    publish("券商晨报")
    poisoned = client.get("/", {"q": "券商"}, SCRIPT_NAME="/search")
    assert poisoned.status_code == 200 and poisoned.wsgi_request.path == "/search/"  # as get_full_path() saw it
    search = client.get("/search/", {"q": "券商"})
    assert search["X-Cache"] == "miss" and "搜索“券商”" in text(search)
    home = fetch(client, "/")
    assert home["X-Cache"] == "miss" and 'href="/search/20' not in text(home)
    assert client.get("/search/", {"q": "券商"})["X-Cache"] == "hit"


def test_post_is_never_cached(client):
    publish("券商晨报")
    assert client.post("/").status_code == 405


# --- invalidation: every way content changes -----------------------------------------------


def test_article_save_shows_at_once(client):
    article = publish("旧标题")
    assert "旧标题" in text(fetch(client, "/"))
    article.title = "新标题"
    article.save()
    page = fetch(client, "/")
    assert page["X-Cache"] == "miss" and "新标题" in text(page) and "旧标题" not in text(page)


def test_admin_bulk_publish_action(client, admin_client):
    draft = publish("草稿待发", status=Article.Status.DRAFT)
    assert "草稿待发" not in text(fetch(client, "/"))
    response = admin_client.post("/admin/articles/article/", {
        "action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    assert "草稿待发" in text(fetch(client, "/"))


def test_queryset_update_and_raw_sql_invalidate(client):
    article = publish("原来的标题")
    fetch(client, article.get_absolute_url())
    Article.objects.filter(pk=article.pk).update(title="更新的标题")  # no signals, no save()
    assert "更新的标题" in text(fetch(client, article.get_absolute_url()))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET title = %s WHERE id = %s", ["原始SQL标题", article.pk])
    assert "原始SQL标题" in text(fetch(client, article.get_absolute_url()))


def test_delete_removes_from_every_page(client):
    publish("留下的", tags=["券商"])  # the tag keeps a published article, and so its page
    article = publish("将被删除", tags=["券商"])
    for url in ("/", "/tag/券商/", "/feed/"):
        assert "将被删除" in text(fetch(client, url))
    article.delete()
    for url in ("/", "/tag/券商/", "/feed/"):
        assert "将被删除" not in text(fetch(client, url))
    assert client.get(article.get_absolute_url()).status_code == 404


def test_category_rename_and_author_rename(client):
    article = publish("某文章", categories=[chain("金融", "券商")], author="记者甲")
    assert "券商" in text(fetch(client, article.get_absolute_url()))
    category = Category.objects.get(name="券商")
    category.name = "证券公司"
    category.save()
    author = Author.objects.get(name="记者甲")
    author.name = "记者乙"
    author.save()
    page = text(fetch(client, article.get_absolute_url()))
    assert "证券公司" in page and "记者乙" in page and "记者甲" not in page


def test_tag_merge_shows_on_the_kept_tag(client, admin_client):
    article = publish("合并标签的文章", tags=["etf基金"])
    publish("另一篇", tags=["ETF", "x"])
    publish("第三篇", tags=["ETF"])
    assert client.get("/tag/etf基金/").status_code == 200
    fetch(client, "/tag/etf/")
    ids = list(Tag.objects.filter(name__in=["etf基金", "ETF"]).values_list("pk", flat=True))
    assert admin_client.post("/admin/taggit/tag/", {"action": "merge", "_selected_action": ids}).status_code == 302
    assert "合并标签的文章" in text(fetch(client, "/tag/etf/"))
    assert client.get("/tag/etf基金/").status_code == 404
    assert "/tag/etf/" in text(fetch(client, article.get_absolute_url()))


def test_import_shows_new_articles(client, run_import):
    assert "华林证券" not in text(fetch(client, "/"))
    assert run_import(SEEDS).exit_code == 0
    assert "华林证券" in text(fetch(client, "/"))


def test_scheduled_article_appears_when_its_time_comes(client):
    publish("已发布")
    due = timezone.now() + dt.timedelta(hours=1)
    publish("定时发布", due)
    assert "定时发布" not in text(fetch(client, "/"))
    assert fetch(client, "/")["X-Cache"] == "hit"
    later = due + dt.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        page = fetch(client, "/")
        assert page["X-Cache"] == "miss" and "定时发布" in text(page)
        assert "定时发布" in text(fetch(client, "/feed/"))


def test_rolled_back_write_keeps_the_version(client):
    publish("某文章")
    before = content_state().version
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("回滚的文章")
        raise RuntimeError("roll back")
    assert content_state().version == before
    assert fetch(client, "/")["X-Cache"] == "miss"
    assert fetch(client, "/")["X-Cache"] == "hit"


def test_generation_never_goes_back_after_the_row_is_lost(client):
    publish("某文章")
    old = ContentVersion.objects.get().generation
    ContentVersion.objects.all().delete()  # a flushed or restored table
    publish("另一篇")
    assert ContentVersion.objects.get().generation > old


@pytest.mark.django_db(transaction=True)
def test_a_process_reuses_the_version_it_read_for_at_most_the_memo_time(client, settings, monkeypatch):
    """Outside transactions a process reuses the version it read for
    NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS (capped at 1 s): a change made by
    another process shows that much later at most; its own writes and a
    scheduled publication falling due show at once."""
    from django.db.models import F

    from articles import content_version

    clock = [1000.0]
    monkeypatch.setattr(content_version, "_clock", lambda: clock[0])
    settings.NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS = 0.5
    publish("第一篇")
    etag = fetch(client, "/")["ETag"]

    def another_process_writes() -> None:  # the version row and a key change; this process is not told
        ContentVersion.objects.update(generation=F("generation") + 1)
        ContentKey.objects.update_or_create(key="*", defaults={"generation": ContentVersion.objects.get().generation})

    another_process_writes()
    clock[0] += 0.4
    assert fetch(client, "/")["ETag"] == etag  # remembered: at most 0.5 s old
    clock[0] += 0.2
    newer = fetch(client, "/")["ETag"]
    assert newer != etag  # read again

    publish("第二篇")  # a write in this process: seen at once
    page = fetch(client, "/")
    assert page["ETag"] != newer and "第二篇" in text(page)

    settings.NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS = 60  # capped at MAX_MEMO_SECONDS
    etag = fetch(client, "/")["ETag"]
    another_process_writes()
    clock[0] += content_version.MAX_MEMO_SECONDS + 0.01
    assert fetch(client, "/")["ETag"] != etag

    due = timezone.now() + dt.timedelta(hours=1)
    publish("定时发布", due)
    assert "定时发布" not in text(fetch(client, "/"))
    with mock.patch("django.utils.timezone.now", return_value=due + dt.timedelta(seconds=1)):
        assert "定时发布" in text(fetch(client, "/"))  # no clock advance needed


def test_inside_a_transaction_the_version_is_always_read(client, settings):
    settings.NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS = 1
    publish("第一篇")
    before = content_state()
    ContentVersion.objects.update(generation=ContentVersion.objects.get().generation + 1)
    assert content_state().version != before.version


# --- conditional GET -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/feed/", "/sitemap.xml", "/archive/"])
def test_conditional_get_answers_304_until_something_changes(client, url):
    article = publish("某文章")
    first = fetch(client, url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert "public" in first["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    article.title = "改过的标题"
    article.save()
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_not_found_is_not_given_an_etag(client):
    publish("某文章")
    response = client.get("/tag/没有/")
    assert response.status_code == 404 and "ETag" not in response


# --- query budget and pages by key ----------------------------------------------------------


def _grow(n: int, prefix: str) -> None:
    deep = chain("金融", "财联社", "深度")
    for i in range(n):
        publish(f"{prefix}券商{i}", timezone.now() - dt.timedelta(minutes=i + 1), categories=[deep],
                tags=["券商", f"{prefix}{i}"], author="甲")


def _no_read(sql: str) -> bool:
    statement = sql.lstrip().upper()
    return statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")) or (
        "SET_CONFIG('ENABLE_SEQSCAN'" in statement)


@pytest.mark.slow
@pytest.mark.parametrize("url", [
    "/", "/?page=2", "/category/", "/category/金融/", "/category/金融/财联社/深度/", "/tag/券商/", "/author/甲/",
    "/archive/", "/archive/{y}/", "/archive/{y}/{m}/", "/archive/{y}/{m}/{d}/", "/search/?q=券商", "/feed/",
    "/sitemap.xml", "/sitemap-{y}.xml", "{article}",
])
def test_every_public_page_runs_the_same_few_queries_at_any_size(client, url, django_assert_num_queries):
    """At most 10 queries, and exactly as many with 25 articles as with 75 (the bench checks 100,000)."""
    from django.core.cache import cache

    _grow(25, "少")
    now = timezone.localtime()
    article = Article.objects.published().order_by("published_at")[3]
    url = url.format(y=now.year, m=f"{now.month:02d}", d=f"{now.day:02d}", article=article.get_absolute_url())

    def count() -> int:
        cache.clear()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # The process learns what the writes changed once per change, not per page (articles.content_keys).
        content_state()

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code in (200, 302)
        # Reads of data: PostgreSQL's search wraps its query in a savepoint with a planner
        # setting (search.backends.postgres), statements that read nothing.
        return sum(1 for query in captured.captured_queries if not _no_read(query["sql"]))

    small = count()
    _grow(50, "多")
    assert count() == small <= 10


def test_pages_by_key_walk_the_whole_listing(client):
    base = timezone.now() - dt.timedelta(days=1)
    same_time = base - dt.timedelta(hours=1)
    for i in range(45):
        # Five share one publication time: the id breaks the tie, nothing is skipped or repeated.
        publish(f"文章{i:02d}", same_time if 20 <= i < 25 else base - dt.timedelta(minutes=i))
    seen, url = [], "/"
    while url:
        page = text(fetch(client, url))
        seen += [t for t in (f"文章{i:02d}" for i in range(45)) if t in page]
        match = re.search(r'rel="next" href="([^"]+)"', page)
        url = "/" + match.group(1).replace("&amp;", "&") if match else None
    assert sorted(seen) == [f"文章{i:02d}" for i in range(45)] and len(seen) == 45
    # Back from the last page (the five older ones, 20-24) to the one before it (25-44).
    last = text(fetch(client, "/?page=3", follow=True))
    assert "文章20" in last and "文章24" in last and "文章44" not in last
    previous = re.search(r'rel="prev" href="([^"]+)"', last).group(1).replace("&amp;", "&")
    page2 = text(fetch(client, "/" + previous))
    assert "文章25" in page2 and "文章44" in page2 and "文章19" not in page2 and "文章20" not in page2


def test_old_page_numbers_redirect_to_the_same_articles(client):
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(45):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i))
    response = client.get("/?page=2&author=")
    assert response.status_code == 302 and "before=" in response["Location"] and "page=" not in response["Location"]
    page2 = text(fetch(client, response["Location"]))
    assert "文章20" in page2 and "文章39" in page2 and "文章19" not in page2
    assert client.get("/?page=1").status_code == 200


def test_newer_than_the_newest_goes_to_the_first_page(client):
    article = publish("唯一")
    from articles.pagination import Key

    response = client.get(f"/?after={Key(article.published_at, article.pk - 1)}")
    assert response.status_code == 302 and response["Location"] == "/"


def test_tag_links_carry_the_publication_time_however_they_are_made(client):
    article = publish("有标签", tags=["券商"])
    article.tags.add("腾讯")
    later = article.published_at - dt.timedelta(days=3)
    article.published_at = later
    article.save()
    assert set(article.tagged_items.values_list("published_at", flat=True)) == {later}
    assert "有标签" in text(fetch(client, "/tag/腾讯/"))


# --- the cache backend from the environment ---------------------------------------------------


def test_cache_url_choices():
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    redis = cache_from_url("redis://127.0.0.1:6379/1")
    assert redis["BACKEND"] == "newsportal.cache.TolerantRedisCache"  # a Redis that is down is a miss
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert 0 < redis["OPTIONS"]["socket_connect_timeout"] <= 1 and 0 < redis["OPTIONS"]["socket_timeout"] <= 1
    assert cache_from_url("dummy://")["BACKEND"].endswith("DummyCache")
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        cache_from_url("memcached://x")


def test_pages_cached_in_a_real_redis(client, redis_url, settings):
    from django.core.cache import caches

    settings.CACHES = {"default": {**cache_from_url(redis_url), "KEY_PREFIX": "test"}}
    article = publish("Redis里的文章")
    assert fetch(client, "/")["X-Cache"] == "miss"
    assert fetch(client, "/")["X-Cache"] == "hit"
    import redis

    assert any(b"page:" in key for key in redis.Redis.from_url(redis_url).keys("*"))
    article.title = "Redis里改过的文章"
    article.save()
    page = fetch(client, "/")
    assert page["X-Cache"] == "miss" and "Redis里改过的文章" in text(page)
    caches["default"].clear()
