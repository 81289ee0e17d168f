"""Precise invalidation: each page knows what it shows, each write changes only what it touches.

Checked through HTTP: pages are fetched (and cached), an article is edited the
way the newsroom edits it (the admin's form and actions, the operations), and
`X-Cache` plus the queries of the next fetch tell which pages were rebuilt.
The keys a page shows are also in its `xkey` and `Surrogate-Key` headers.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import content_keys
from articles.content_version import content_state
from articles.models import Article, ContentKey
from newsroom import operations
from tests.factories import change_form, change_url, chain, post, publish

pytestmark = pytest.mark.django_db


def fetch(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def keys_of(response) -> set[str]:
    return set(response["xkey"].split())


def served(client, url: str):
    """The page and the queries it took, after this process has learned what changed.

    (The process learns it once per change, at its next content-state read,
    whichever page that is for: `content_state()` here.)
    """
    content_state()
    with CaptureQueriesContext(connection) as queries:
        response = fetch(client, url)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def newsroom():
    """Two unrelated articles (their own category, tag, author and day), an older one, and
    one between them in time (so that B's page does not link to A as its neighbour)."""
    day = timezone.now() - dt.timedelta(days=3)
    a = publish("甲文章", day, categories=[chain("金融", "证券")], tags=["券商"], author="甲社")
    b = publish("乙文章", day - dt.timedelta(days=40), categories=[chain("科技")], tags=["芯片"], author="乙社")
    old = publish("旧文章", day - dt.timedelta(days=400), categories=[chain("体育")], tags=["足球"], author="丙社")
    publish("中间的文章", day - dt.timedelta(days=20), categories=[chain("体育")], tags=["足球"], author="丙社")
    return a, b, old


def test_pages_say_what_they_show(client, newsroom):
    a, b, _old = newsroom
    page = fetch(client, a.get_absolute_url())
    keys = keys_of(page)
    finance, securities = chain("金融"), chain("金融", "证券")
    assert {f"a:{a.pk}", f"c:{finance.pk}", f"c:{securities.pk}", f"t:{a.tags.get().pk}",
            f"p:{a.author_id}", f"rel:channel:{securities.pk}", f"rel:tag:{a.tags.get().pk}"} <= keys
    previous = Article.objects.get(title="中间的文章")
    assert {f"a:{previous.pk}", f"nb:{a.pk}"} <= keys  # its previous article's title and link
    assert page["Surrogate-Key"] == page["xkey"]
    assert fetch(client, a.get_absolute_url())["xkey"] == page["xkey"]  # a hit carries them too

    # The listing, and the categories and outlets its cards print.
    names = {f"c:{c.pk}" for art in Article.objects.all() for c in art.category_trail} | {
        f"p:{pk}" for pk in Article.objects.values_list("author_id", flat=True)}
    assert keys_of(fetch(client, "/")) == {"home", "hot", "nav", "wire", *names}  # its list, blocks, 热门, channel bar
    assert keys_of(fetch(client, "/feed/")) == {"feed", *names}  # the items' categories and authors
    assert "names" in keys_of(fetch(client, "/?tag=券商"))  # a filter names a tag by its slug
    assert keys_of(fetch(client, f"/category/金融/"))  >= {f"channel:{finance.pk}", f"c:{finance.pk}"}
    assert f"tag:{a.tags.get().pk}" in keys_of(fetch(client, "/tag/券商/"))
    assert f"author:{a.author_id}" in keys_of(fetch(client, a.author.get_absolute_url()))
    day = timezone.localtime(a.published_at)
    assert f"archive:{day:%Y-%m-%d}" in keys_of(fetch(client, f"/archive/{day:%Y/%m/%d}/"))
    assert f"archive:{day:%Y-%m}" in keys_of(fetch(client, f"/archive/{day:%Y/%m}/"))
    assert f"feed:channel:{finance.pk}" in keys_of(fetch(client, "/feed/category/金融/"))
    assert keys_of(fetch(client, "/sitemap.xml")) == {"sitemap"}
    assert keys_of(fetch(client, f"/sitemap-{a.published_date.year}.xml")) == {f"sitemap:{a.published_date.year}"}
    assert keys_of(fetch(client, "/search/?q=甲文章")) == {"search", "nav", f"c:{finance.pk}", f"c:{securities.pk}",
                                                          f"p:{a.author_id}"}  # A's card
    missing = client.get("/tag/没有这个标签/")
    assert missing.status_code == 404


def test_editing_an_article_in_the_admin_refreshes_its_pages_and_nothing_else(client, admin_client, newsroom):
    a, b, old = newsroom
    day = timezone.localtime(a.published_at)
    stale = ["/", a.get_absolute_url(), "/category/金融/", "/category/金融/证券/", "/tag/券商/",
             a.author.get_absolute_url(), f"/archive/{day:%Y/%m/%d}/", f"/archive/{day:%Y/%m}/",
             f"/archive/{day:%Y}/", "/feed/", "/feed/category/金融/", "/feed/tag/券商/", "/sitemap.xml",
             f"/sitemap-{a.published_date.year}.xml", "/search/?q=文章"]
    fresh = [b.get_absolute_url(), "/category/科技/", "/tag/芯片/", b.author.get_absolute_url(),
             "/feed/category/科技/", "/feed/tag/芯片/", old.get_absolute_url()]
    for url in stale + fresh:
        fetch(client, url)
        assert fetch(client, url)["X-Cache"] == "hit", url

    response = admin_client.post(change_url(a), change_form(
        a, title="甲文章（更正）", tags="券商", author=a.author_id,
        **{"articlecategory_set-0-category": chain("金融", "证券").pk}))
    assert response.status_code == 302, response.content[:2000]
    a.refresh_from_db()
    assert a.title == "甲文章（更正）"

    for url in stale:
        page, _ = served(client, url)
        assert page["X-Cache"] == "miss", url
    assert "甲文章（更正）" in fetch(client, a.get_absolute_url()).content.decode()
    assert "甲文章（更正）" in fetch(client, "/").content.decode()
    for url in fresh:
        page, queries = served(client, url)
        assert page["X-Cache"] == "hit", url
        # The content state only: the stored page was not rebuilt.
        assert len(queries) == 1 and "articles_contentversion" in queries[0], (url, queries)


def test_publishing_refreshes_the_listings_but_not_other_articles(client, admin_client, newsroom):
    a, b, old = newsroom
    draft = publish("新闻快讯", timezone.now() - dt.timedelta(minutes=5), status=Article.Status.DRAFT,
                    categories=[chain("金融")], tags=["券商"])
    for url in ("/", "/category/金融/", b.get_absolute_url(), old.get_absolute_url(), "/category/科技/"):
        fetch(client, url)
    response = admin_client.post("/admin/articles/article/", {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    assert "新闻快讯" in fetch(client, "/").content.decode()
    assert "新闻快讯" in fetch(client, "/category/金融/").content.decode()
    for url in (b.get_absolute_url(), old.get_absolute_url(), "/category/科技/"):
        assert served(client, url)[0]["X-Cache"] == "hit", url
    # The newest article before it links to it now ("next"): its page was refreshed.
    page = fetch(client, a.get_absolute_url())
    assert "新闻快讯" in page.content.decode()


def test_moving_an_article_refreshes_the_old_and_the_new_category(client, admin_client, newsroom):
    a, b, _old = newsroom
    for url in ("/category/金融/证券/", "/category/科技/", a.get_absolute_url()):
        fetch(client, url)
    operations.move_to_category(Article.objects.filter(pk=a.pk), chain("科技"), _superuser())
    assert client.get("/category/金融/证券/").status_code == 404  # no article there any more
    assert "甲文章" in fetch(client, "/category/科技/").content.decode()


def _superuser():
    from django.contrib.auth.models import User

    return User.objects.filter(is_superuser=True).first()


def test_writes_nobody_described_refresh_everything(client, newsroom):
    """A bulk UPDATE (or the importer's raw INSERTs) cannot say which articles it changed: every page goes."""
    a, b, _old = newsroom
    fetch(client, b.get_absolute_url())
    Article.objects.filter(pk=a.pk).update(title="批量改的标题")
    assert served(client, b.get_absolute_url())[0]["X-Cache"] == "miss"
    assert ContentKey.objects.get(key="*").generation == content_state().generation


def test_a_scheduled_article_refreshes_its_pages_when_its_time_comes(client, admin_client, newsroom):
    a, b, _old = newsroom
    due = timezone.now() + dt.timedelta(hours=1)
    scheduled = publish("定时快讯", status=Article.Status.DRAFT, categories=[chain("金融")])
    scheduled.published_at = due
    scheduled.status = Article.Status.PUBLISHED
    operations.save_as_edit(scheduled, _superuser(), fields=["status", "published_at"])
    for url in ("/", "/category/金融/", b.get_absolute_url()):
        assert "定时快讯" not in fetch(client, url).content.decode()
        assert fetch(client, url)["X-Cache"] == "hit"
    with mock.patch("django.utils.timezone.now", return_value=due + dt.timedelta(seconds=1)):
        home, _ = served(client, "/")
        assert home["X-Cache"] == "miss" and "定时快讯" in home.content.decode()
        assert "定时快讯" in fetch(client, "/category/金融/").content.decode()
        assert served(client, b.get_absolute_url())[0]["X-Cache"] == "hit"


def test_keys_changed_is_sent_after_the_commit_with_the_keys(client, newsroom, django_capture_on_commit_callbacks):
    a, _b, _old = newsroom
    sent = []

    def receiver(sender, keys, **kwargs):
        sent.append(keys)

    content_keys.keys_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            a.title = "标题改了"
            operations.save_as_edit(a, _superuser(), fields=["title"])
            assert sent == []  # not before the commit
    finally:
        content_keys.keys_changed.disconnect(receiver)
    assert len(sent) == 1
    assert {f"a:{a.pk}", "home", "feed", f"tag:{a.tags.get().pk}"} <= sent[0] and "*" not in sent[0]


def test_a_failing_purge_receiver_neither_undoes_the_save_nor_stops_the_others(
        client, admin_client, newsroom, django_capture_on_commit_callbacks, caplog):
    a, _b, _old = newsroom
    sent = []

    def broken(sender, keys, **kwargs):
        raise ConnectionError("the purge queue is down")

    def working(sender, keys, **kwargs):
        sent.append(keys)

    content_keys.keys_changed.connect(broken)
    content_keys.keys_changed.connect(working)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post("/admin/articles/article/", {
                "action": "unpublish", "_selected_action": [a.pk]})
    finally:
        content_keys.keys_changed.disconnect(broken)
        content_keys.keys_changed.disconnect(working)
    assert response.status_code == 302
    assert Article.objects.get(pk=a.pk).status == Article.Status.DRAFT
    assert any(f"a:{a.pk}" in keys and "home" in keys for keys in sent)
    assert "keys_changed receiver" in caplog.text and "the purge queue is down" in caplog.text
    assert client.get(a.get_absolute_url()).status_code == 404


def test_a_process_that_started_later_asks_the_database(client, admin_client, newsroom):
    """Pages in a shared cache (Redis) were rendered before this process looked: it checks their keys in the database."""
    a, b, _old = newsroom
    fetch(client, a.get_absolute_url())
    fetch(client, b.get_absolute_url())
    a.title = "另一台服务器改的"
    operations.save_as_edit(a, _superuser(), fields=["title"])
    content_keys.forget()  # a new process: it knows nothing of what changed before it started
    content_state()
    page, queries = served(client, b.get_absolute_url())
    assert page["X-Cache"] == "hit" and any("articles_contentkey" in sql for sql in queries)
    # Found current, it is judged from memory from then on: the content state only, the same ETag.
    again, queries = served(client, b.get_absolute_url())
    assert again["X-Cache"] == "hit" and len(queries) == 1 and again["ETag"] == page["ETag"]
    page = fetch(client, a.get_absolute_url())
    assert page["X-Cache"] == "miss" and "另一台服务器改的" in page.content.decode()


def test_an_edit_in_place_keeps_the_pages_of_articles_that_share_its_tag(client, newsroom):
    """B shares A's tag: a new title of A (not linked from B) leaves B's page; A's tag page changes.
    Publishing another article with that tag may change B's related articles: B's page goes then."""
    a, _b, _old = newsroom
    when = a.published_at - dt.timedelta(days=100)
    sibling = publish("同标签的文章", when, tags=["券商", "银行"], author="丁社")
    for i in range(6):  # closer to it than A (two shared tags): its related articles
        publish(f"更相关的文章{i}", when - dt.timedelta(days=i + 1), tags=["券商", "银行"])
    sibling_page = fetch(client, sibling.get_absolute_url())
    assert f"a:{a.pk}" not in keys_of(sibling_page)  # A is not among its links
    fetch(client, "/tag/券商/")

    a.title = "甲文章的新标题"
    operations.save_as_edit(a, _superuser(), fields=["title"])
    assert served(client, sibling.get_absolute_url())[0]["X-Cache"] == "hit"
    assert "甲文章的新标题" in served(client, "/tag/券商/")[0].content.decode()

    newcomer = publish("新来的同标签文章", status=Article.Status.DRAFT, tags=["券商", "银行"])
    operations.publish([newcomer], _superuser())
    page, _ = served(client, sibling.get_absolute_url())
    assert page["X-Cache"] == "miss" and "新来的同标签文章" in page.content.decode()  # now among its related


def test_api_answers_change_with_what_they_show(client, newsroom):
    """The API's answers carry their keys; a title edit of A changes A's answer and the article
    list, not B's answer nor the category tree (a 304 for a client that has them)."""
    a, b, _old = newsroom
    urls = {name: f"/api/v1/{path}" for name, path in (
        ("a", f"articles/{a.pk}/"), ("b", f"articles/{b.pk}/"), ("list", "articles/"), ("tree", "categories/"))}
    first = {name: fetch(client, url) for name, url in urls.items()}
    assert keys_of(first["a"]) == {f"a:{a.pk}", "names"} and keys_of(first["list"]) == {"home", "names"}
    assert keys_of(first["tree"]) == {"categories"} and first["tree"]["Surrogate-Key"] == "categories"

    a.title = "甲文章（API）"
    operations.save_as_edit(a, _superuser(), fields=["title"])
    content_state()
    for name in ("b", "tree"):
        assert client.get(urls[name], HTTP_IF_NONE_MATCH=first[name]["ETag"]).status_code == 304, name
    for name in ("a", "list"):
        changed = client.get(urls[name], HTTP_IF_NONE_MATCH=first[name]["ETag"])
        assert changed.status_code == 200 and "甲文章（API）" in changed.content.decode(), name

    # A publication changes the counts: the category tree's answer too.
    publish_now = publish("新文章", status=Article.Status.DRAFT, categories=[chain("科技")])
    operations.publish([publish_now], _superuser())
    assert client.get(urls["tree"], HTTP_IF_NONE_MATCH=first["tree"]["ETag"]).status_code == 200


def test_an_import_refreshes_only_the_pages_of_its_articles_however_many(client, newsroom, run_import, write_post):
    """An import batch says which articles it writes: a small one and a 200-article one alike
    refresh their pages only, and the large one's keys cost a few queries, not a few per article."""
    _a, b, _old = newsroom
    for url in ("/", b.get_absolute_url(), "/category/科技/"):
        fetch(client, url)
    flash = write_post("flash/one.md", post(title="'快讯：央行降准'", date="Sat, 30 Apr 2022 01:33:09 GMT",
                                            categories="[金融]"))
    assert run_import(flash.parent, "--workers", "0").exit_code == 0
    assert "快讯：央行降准" in fetch(client, "/").content.decode()
    assert "快讯：央行降准" in fetch(client, "/category/金融/").content.decode()
    for url in (b.get_absolute_url(), "/category/科技/"):
        assert served(client, url)[0]["X-Cache"] == "hit", url

    for i in range(200):
        write_post(f"many/{i}.md", post(title=f"'批量{i}'", date=f"Sun, {1 + i % 28:02d} May 2022 01:33:09 GMT",
                                        categories="[金融]", tags=f"[批量标签{i % 7}]"))
    start = content_state().generation
    statements = []

    def note(execute, sql, params, many, context):  # the importer empties Django's query log as it goes
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        assert run_import(flash.parent.parent / "many", "--workers", "0").exit_code == 0
    changed = set(ContentKey.objects.filter(generation__gt=start).values_list("key", flat=True))
    assert changed and "*" not in changed  # described, not "everything"
    batch = Article.objects.filter(title__startswith="批量")
    assert batch.count() == 200
    assert {f"a:{pk}" for pk in batch.values_list("pk", flat=True)} <= changed
    assert {"archive:2022-05-01", "archive:2022-05-28", f"channel:{chain('金融').pk}"} <= changed
    # The neighbours of all of them in one query per batch (before and after), not two per article.
    assert 1 <= sum("(o.published_at, o.id) <" in sql for sql in statements) <= 4
    for url in (b.get_absolute_url(), "/category/科技/"):
        assert served(client, url)[0]["X-Cache"] == "hit", url
    assert served(client, "/")[0]["X-Cache"] == "miss"
    assert "批量27" in fetch(client, "/archive/2022/05/28/").content.decode()
