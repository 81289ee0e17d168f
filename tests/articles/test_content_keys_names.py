"""Precise invalidation of category, tag and author writes, and of article deletes.

A rename, a merge or a delete in the admin refreshes the pages that print the
row (its own pages and feeds, its articles' pages, the listings whose cards
name it) and nothing else: the other pages stay cache hits, served with the
content state's query only. With the old behaviour (such writes recorded `*`,
everything) every "untouched" page below would have been rebuilt.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles.content_version import content_state
from articles.models import Article, ArticleByline, Author, Category
from newsroom import operations
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db


def fetch(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def served(client, url: str, status: int = 200):
    """The page and the queries it took, once this process has learned what changed."""
    content_state()
    with CaptureQueriesContext(connection) as queries:
        response = fetch(client, url, status)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def newsroom():
    """Four articles, each with its own category, tag, author and day, but for `old` and `middle`,
    which share 体育, 足球 and 丙社. In time: old, b, middle, a (b's neighbours: old and middle)."""
    day = timezone.now() - dt.timedelta(days=3)
    a = publish("甲文章", day, categories=[chain("金融", "证券")], tags=["券商"], author="甲社")
    b = publish("乙文章", day - dt.timedelta(days=40), categories=[chain("科技")], tags=["芯片"], author="乙社")
    old = publish("旧文章", day - dt.timedelta(days=400), categories=[chain("体育")], tags=["足球"], author="丙社")
    middle = publish("中间的文章", day - dt.timedelta(days=20), categories=[chain("体育")], tags=["足球"],
                     author="丙社")
    return a, b, old, middle


def cache_all(client, urls: list[str]) -> None:
    for url in urls:
        fetch(client, url)
        assert fetch(client, url)["X-Cache"] == "hit", url


def assert_refreshed(client, urls: list[str], text: str | None = None) -> None:
    for url in urls:
        page, _ = served(client, url)
        assert page["X-Cache"] == "miss", url
        if text is not None:
            assert text in page.content.decode(), url


def assert_kept(client, urls: list[str]) -> None:
    for url in urls:
        page, queries = served(client, url)
        assert page["X-Cache"] == "hit", url
        # The content state only: the stored page was not rebuilt.
        assert len(queries) == 1 and "articles_contentversion" in queries[0], (url, queries)


def admin_post(admin_client, url: str, **changes) -> None:
    """Post the admin's change form of a row as it is, with `changes`."""
    form_page = admin_client.get(url)
    assert form_page.status_code == 200, url
    form = form_page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        data[name] = "" if value is None else getattr(value, "pk", value)
    for inline in form_page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{name}": value for name, value in management.initial.items()})
        data[f"{management.prefix}-TOTAL_FORMS"] = management.initial["INITIAL_FORMS"]
    data.update(changes)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:3000]


def admin_delete(admin_client, model_url_name: str, pk: int) -> None:
    response = admin_client.post(reverse(f"admin:{model_url_name}_delete", args=[pk]), {"post": "yes"})
    assert response.status_code == 302, response.content[:3000]


def urls_of(a: Article, b: Article) -> dict[str, str]:
    day_a, day_b = timezone.localtime(a.published_at), timezone.localtime(b.published_at)
    return {"a": a.get_absolute_url(), "b": b.get_absolute_url(),
            "a_day": f"/archive/{day_a:%Y/%m/%d}/", "b_day": f"/archive/{day_b:%Y/%m/%d}/",
            "a_author": a.author.get_absolute_url(), "b_author": b.author.get_absolute_url()}


def test_renaming_a_category_refreshes_the_pages_that_print_it(client, admin_client, newsroom):
    """A subcategory: the channel bar (top-level categories, on every page) does not print it."""
    a, b, old, _middle = newsroom
    u = urls_of(a, b)
    stale = [u["a"], "/", "/category/", "/category/金融/", "/category/金融/证券/", "/feed/", "/feed/category/金融/",
             "/tag/券商/", u["a_author"], u["a_day"], "/search/?q=甲文章"]
    kept = [u["b"], old.get_absolute_url(), "/category/科技/", "/tag/芯片/", u["b_author"], "/feed/tag/芯片/",
            u["b_day"], "/archive/"]
    cache_all(client, stale + kept)

    securities = chain("金融", "证券")
    admin_post(admin_client, reverse("admin:articles_category_change", args=[securities.pk]), name="证券业")
    assert Category.objects.get(pk=securities.pk).name == "证券业"

    assert_refreshed(client, stale, "证券业")  # its address keeps its slug
    assert_kept(client, kept)


def test_renaming_a_channel_refreshes_every_page_with_the_channel_bar(client, admin_client, newsroom):
    """A top-level category is in the channel bar (`nav`) in every page's header."""
    a, b, old, _middle = newsroom
    u = urls_of(a, b)
    pages = [u["a"], old.get_absolute_url(), "/tag/券商/", u["a_author"], "/category/体育/"]
    cache_all(client, pages)

    admin_post(admin_client, reverse("admin:articles_category_change", args=[chain("科技").pk]), name="科创")

    assert_refreshed(client, pages, "科创")


def test_moving_a_category_under_another_refreshes_it_and_its_subtree(client, admin_client, newsroom):
    """Its path changes: its old address answers 404, the new one serves, its article links there."""
    a, b, _old, _middle = newsroom
    kept = [b.get_absolute_url(), "/category/科技/", "/tag/芯片/"]
    cache_all(client, ["/category/金融/证券/", a.get_absolute_url(), *kept])
    securities, sports = chain("金融", "证券"), chain("体育")
    admin_post(admin_client, reverse("admin:articles_category_change", args=[securities.pk]), parent=sports.pk)

    assert served(client, "/category/金融/证券/", 404)[0].status_code == 404
    assert "甲文章" in fetch(client, "/category/体育/证券/").content.decode()
    moved = chain("体育", "证券").get_absolute_url()
    assert moved in fetch(client, a.get_absolute_url()).content.decode()
    assert_kept(client, kept)


def test_renaming_a_tag_leaves_the_listings_whose_cards_do_not_print_tags(client, admin_client, newsroom):
    a, b, _old, _middle = newsroom
    u = urls_of(a, b)
    stale = [u["a"], "/tag/券商/", "/feed/tag/券商/"]
    kept = ["/", "/category/金融/", u["a_author"], u["b"], "/tag/芯片/", "/feed/"]
    cache_all(client, stale + kept)
    api = fetch(client, f"/api/v1/articles/{a.pk}/")

    tag = Tag.objects.get(name="券商")
    admin_post(admin_client, reverse("admin:taggit_tag_change", args=[tag.pk]), name="证券公司")

    assert_refreshed(client, stale, "证券公司")
    assert_kept(client, kept)
    content_state()
    renamed = client.get(f"/api/v1/articles/{a.pk}/", HTTP_IF_NONE_MATCH=api["ETag"])
    assert renamed.status_code == 200 and "证券公司" in renamed.content.decode()


def test_renaming_an_author_refreshes_the_listings_whose_cards_name_it(client, admin_client, newsroom):
    a, b, old, _middle = newsroom
    u = urls_of(a, b)
    stale = [u["a"], u["a_author"], "/", "/category/金融/", "/feed/", "/tag/券商/"]
    kept = [u["b"], "/tag/芯片/", "/category/科技/", old.get_absolute_url(), u["b_author"]]
    cache_all(client, stale + kept)

    admin_post(admin_client, reverse("admin:articles_author_change", args=[a.author_id]), name="甲通讯社")

    assert_refreshed(client, stale, "甲通讯社")
    assert_kept(client, kept)


def test_merging_tags_refreshes_both_sides_and_their_articles_only(client, admin_client, newsroom):
    a, b, _old, _middle = newsroom
    u = urls_of(a, b)
    kept = [u["b"], "/tag/芯片/", "/category/科技/", u["b_author"]]
    cache_all(client, [u["a"], "/tag/券商/", "/tag/足球/", *kept])
    merged = Tag.objects.filter(name__in=["券商", "足球"])
    response = admin_client.post(reverse("admin:taggit_tag_changelist"), {
        "action": "merge", "_selected_action": [tag.pk for tag in merged]})
    assert response.status_code == 302

    assert served(client, "/tag/券商/", 404)[0].status_code == 404
    assert_refreshed(client, [u["a"], "/tag/足球/"], "甲文章")
    assert_kept(client, kept)


def test_merging_authors_refreshes_both_sides_and_their_articles_only(client, admin_client, newsroom):
    a, b, old, _middle = newsroom
    u = urls_of(a, b)
    kept = [u["b"], "/tag/芯片/", "/category/科技/", u["b_author"]]
    kept_author_page = old.author.get_absolute_url()
    cache_all(client, [u["a"], u["a_author"], kept_author_page, *kept])
    result = operations.merge_authors(Author.objects.filter(name__in=["甲社", "丙社"]), None)
    assert result.kept.name == "丙社"

    assert served(client, u["a_author"], 404)[0].status_code == 404
    assert_refreshed(client, [u["a"], kept_author_page], "丙社")
    assert "甲文章" in fetch(client, kept_author_page).content.decode()
    assert_kept(client, kept)


def test_deleting_a_category_refreshes_its_articles_and_the_listings_naming_it(client, admin_client, newsroom):
    a, b, old, _middle = newsroom
    u = urls_of(a, b)
    kept = [u["b"], old.get_absolute_url(), "/category/科技/", "/tag/芯片/", u["b_author"]]
    cache_all(client, [u["a"], "/category/金融/证券/", "/category/金融/", "/", *kept])

    admin_delete(admin_client, "articles_category", chain("金融", "证券").pk)

    assert served(client, "/category/金融/证券/", 404)[0].status_code == 404
    assert_refreshed(client, [u["a"], "/category/金融/", "/"])
    assert "证券" not in fetch(client, u["a"]).content.decode()
    assert_kept(client, kept)


def test_deleting_a_tag_leaves_the_listings(client, admin_client, newsroom):
    a, b, _old, _middle = newsroom
    u = urls_of(a, b)
    kept = [u["a"], "/", "/category/科技/", u["b_author"], "/tag/券商/"]
    cache_all(client, [u["b"], "/tag/芯片/", *kept])

    admin_delete(admin_client, "taggit_tag", Tag.objects.get(name="芯片").pk)

    assert served(client, "/tag/芯片/", 404)[0].status_code == 404
    assert_refreshed(client, [u["b"]])
    assert "芯片" not in fetch(client, u["b"]).content.decode()
    assert_kept(client, kept)


def test_deleting_an_author_refreshes_the_pages_naming_it(client, admin_client, newsroom):
    a, b, _old, _middle = newsroom
    u = urls_of(a, b)
    kept = [u["a"], "/tag/券商/", "/category/金融/", u["a_author"]]
    cache_all(client, [u["b"], "/", u["b_author"], *kept])

    admin_delete(admin_client, "articles_author", b.author_id)

    assert served(client, u["b_author"], 404)[0].status_code == 404
    assert_refreshed(client, [u["b"], "/"])
    assert "乙社" not in fetch(client, "/").content.decode()
    assert_kept(client, kept)


def test_deleting_an_article_refreshes_its_listings_and_neighbours_only(client, admin_client, newsroom):
    """`middle` (体育 keeps `old`, so the channel bar stays): its neighbours are b and a."""
    a, b, old, middle = newsroom
    u = urls_of(a, b)
    kept = ["/category/金融/", "/tag/券商/", "/category/科技/", "/tag/芯片/", u["b_author"]]
    cache_all(client, [middle.get_absolute_url(), "/", "/category/体育/", u["a"], u["b"], *kept])

    admin_delete(admin_client, "articles_article", middle.pk)

    assert served(client, middle.get_absolute_url(), 404)[0].status_code == 404
    assert_refreshed(client, ["/", "/category/体育/", u["a"], u["b"]])
    assert "中间的文章" not in fetch(client, u["b"]).content.decode()  # no longer its neighbour
    assert_kept(client, kept)


def test_an_edit_in_place_keeps_the_derived_counts(client, newsroom):
    """A title edit refreshes A's channel page and the sitemap index, but the category counts and
    the archive's months they show are not counted again: nothing they depend on changed."""
    a, _b, _old, _middle = newsroom
    cache_all(client, ["/category/金融/", "/sitemap.xml"])
    a.title = "甲文章（改）"
    operations.save_as_edit(a, None, fields=["title"])

    page, queries = served(client, "/category/金融/")
    assert page["X-Cache"] == "miss" and "甲文章（改）" in page.content.decode()
    assert not [sql for sql in queries if "GROUP BY" in sql and "articles_articlecategory" in sql], queries
    sitemap, queries = served(client, "/sitemap.xml")
    assert sitemap["X-Cache"] == "miss"
    assert not [sql for sql in queries if "GROUP BY" in sql and '"published_date"' in sql], queries

    # A publication changes them: counted again.
    fresh = publish("新文章", status=Article.Status.DRAFT, categories=[chain("金融")])
    operations.publish([fresh], None)
    page, queries = served(client, "/category/金融/")
    assert [sql for sql in queries if "GROUP BY" in sql and "articles_articlecategory" in sql]


def test_detecting_bylines_again_refreshes_only_the_articles_it_changes(client, newsroom):
    a, b, _old, _middle = newsroom
    Article.objects.filter(pk=a.pk).update(body="<p>本报讯（记者 张三）两市成交放量。</p>")
    ArticleByline.objects.filter(article=a).delete()
    u = urls_of(a, b)
    kept = [u["b"], "/tag/芯片/", "/category/科技/"]
    cache_all(client, [u["a"], *kept])

    report = operations.settle_bylines(Article.objects.filter(pk__in=[a.pk, b.pk]), None, discard_corrections=True)
    assert report.changed == 1

    assert_refreshed(client, [u["a"]], "张三")
    assert_kept(client, kept)


def test_an_old_address_added_refreshes_only_the_cached_404s(client, newsroom):
    """A LegacyURL turns a 404 into a redirect (articles.legacy_urls, after the page cache):
    only cached 404s (`missing`) can go stale, every other page stays a hit."""
    a, b, _old, _middle = newsroom
    from articles.models import LegacyURL

    kept = [b.get_absolute_url(), reverse("articles:home")]
    cache_all(client, kept)
    fetch(client, "/2014/06/14/old-post/", 404)

    LegacyURL.objects.create(path="/2014/06/14/old-post/", article=a)

    moved = client.get("/2014/06/14/old-post/")
    assert moved.status_code == 301 and moved["Location"] == a.get_absolute_url()
    assert_kept(client, kept)
