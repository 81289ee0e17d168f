"""The read-only content API at /api/v1/, over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.core.wsgi import get_wsgi_application
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from articles import content_version
from articles.querysets import credited_to
from taggit.models import Tag

from articles.models import Article, ArticleCategory, Author, Category, TaggedArticle, path_prefixes
from search import query as search_query
from tests.factories import SHANGHAI, chain, production_env, publish as make, settings_in

pytestmark = pytest.mark.django_db

API = "/api/v1"
UTC = dt.timezone.utc


@pytest.fixture
def client():
    """A client that reads the API's messages in English (they are asserted word for word
    here); without Accept-Language they are in Chinese, see test_messages_follow_the_language."""
    return Client(headers={"Accept-Language": "en"})


# --- helpers ----------------------------------------------------------------------


def get(client, path: str, params: dict | None = None, status: int = 200, **meta):
    response = client.get(path, params or {}, **meta)
    assert response.status_code == status, (path, params, response.status_code, response.content[:500])
    return response


def data(client, path: str, params: dict | None = None) -> dict | list:
    return get(client, path, params).json()


def local_path(url: str) -> tuple[str, dict]:
    """A next/previous link as (path, params) for the test client."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "testserver", url
    return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}


def walk(client, path: str, params: dict | None = None) -> list[dict]:
    """Every result of a paged list, following `next` links."""
    results, page = [], data(client, path, params)
    while True:
        results += page["results"]
        if not page["next"]:
            return results
        page = data(client, *local_path(page["next"]))


def walk_back(client, path: str, params: dict) -> list[dict]:
    """Forward to the last page, then back to the first with `previous` links."""
    page = data(client, path, params)
    while page["next"]:
        page = data(client, *local_path(page["next"]))
    results = page["results"]
    while page["previous"]:
        page = data(client, *local_path(page["previous"]))
        results = page["results"] + results
    return results


def ids(client, params: dict | None = None) -> list[int]:
    return [a["id"] for a in walk(client, f"{API}/articles/", {"page_size": 100, **(params or {})})]


def published_ids(queryset=None) -> list[int]:
    queryset = Article.objects.published() if queryset is None else queryset
    return list(queryset.order_by("-published_at", "-id").values_list("id", flat=True))


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def forged_cursor(document) -> str:
    raw = json.dumps(document).encode() if not isinstance(document, bytes) else document
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture
def seeds(seeded) -> dict[str, Article]:
    """The seeds by the first four characters of their titles."""
    return {a.title[:4]: a for a in seeded}


@pytest.fixture
def newsroom(seeds):
    """The seeds, plus tagged articles and unpublished work that must never show."""
    deep = Category.objects.get(path="金融/财联社/深度")
    tech = chain("科技", "芯片")
    past = timezone.now() - dt.timedelta(days=1)
    public = make("芯片公开报道", past, categories=[tech], tags=["芯片", "半导体"], author="科技日报")
    also = make("券商公开快讯", past - dt.timedelta(hours=1), categories=[deep], tags=["券商"], author="财联社")
    secret = chain("内部", "禁发")
    hidden = [
        make("草稿秘闻甲", past, categories=[secret], tags=["机密标签"], author="神秘作者",
             status=Article.Status.DRAFT),
        make("审核秘闻乙", past, categories=[tech], tags=["机密标签", "芯片"], author="神秘作者",
             status=Article.Status.REVIEW),
        make("定时秘闻丙", timezone.now() + dt.timedelta(days=1), categories=[deep], tags=["机密标签"],
             author="神秘作者"),
    ]
    return {"public": public, "also": also, "hidden": hidden, "seeds": seeds}


# --- the article list and detail ------------------------------------------------------


def test_list_fields_of_a_seed_article(client, seeds):
    page = data(client, f"{API}/articles/")
    assert page["previous"] is None and page["next"] is None
    first, second = page["results"]
    assert first["title"].startswith("不止新总裁上任") and second["title"].startswith("涨停有因")  # newest first
    assert second == {
        "id": seeds["涨停有因"].id,
        "title": seeds["涨停有因"].title,
        "slug": seeds["涨停有因"].slug,
        "url": "http://testserver" + seeds["涨停有因"].get_absolute_url(),
        "published_at": "2022-04-30T09:33:09+08:00",
        "updated_at": seeds["涨停有因"].updated_at.astimezone(SHANGHAI).isoformat(),
        "excerpt": seeds["涨停有因"].excerpt,
        "author": {"id": seeds["涨停有因"].author_id, "name": "财联社", "slug": "财联社",
                   "url": "http://testserver" + seeds["涨停有因"].author.get_absolute_url()},
        "categories": ["金融/财联社/深度"],
        "tags": [],
        "head_image": "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg",
        "thumbnail": "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg",
    }
    assert "华林证券继续加码IT投入" in second["excerpt"]
    # The URL is the article's page on the site.
    assert "华林证券" in get(client, urlsplit(second["url"]).path).content.decode()


def test_detail_adds_the_sanitised_body(client, seeds):
    article = seeds["涨停有因"]
    detail = data(client, f"{API}/articles/{article.id}/")
    listed = data(client, f"{API}/articles/")["results"][1]
    assert {k: v for k, v in detail.items() if k not in ("body", "bylines")} == listed
    assert "华林证券继续加码IT投入" in detail["body"] and detail["body"] == article.body
    # the dateline's reporter (财联社4月29日讯（记者 黄靖斯）), apart from the outlet in `author`
    [byline] = detail["bylines"]
    assert byline["role"] == "记者" and byline["author"]["name"] == "黄靖斯"
    assert detail["author"]["name"] == "财联社"
    assert get(client, urlsplit(byline["author"]["url"]).path).status_code == 200
    # a reporter is an author of the API too: listed with their credited articles, and a filter
    reporter = Author.objects.get(name="黄靖斯")
    mine = set(Article.objects.published().filter(credited_to(reporter)).values_list("id", flat=True))
    reporters = {a["name"]: a["article_count"] for a in data(client, f"{API}/authors/")["results"]}
    assert reporters["黄靖斯"] == len(mine) and article.id in mine
    credited = data(client, f"{API}/articles/", {"author": byline["author"]["slug"]})["results"]
    assert {a["id"] for a in credited} == mine
    hostile = make("带脚本的文章", body='<p onclick="x()">正文</p><script>alert(1)</script>')
    hostile_detail = data(client, f"{API}/articles/{hostile.id}/")
    body = hostile_detail["body"]
    assert "正文" in body and "<script" not in body and "onclick" not in body
    assert hostile_detail["bylines"] == []


def test_blank_images_and_author_are_null_and_site_paths_absolute(client):
    bare = make("没有图片的文章")
    local = make("本站图片", head_image="/static/img/a.jpg", thumbnail="https://cdn.example.com/t.jpg")
    by_id = {a["id"]: a for a in data(client, f"{API}/articles/")["results"]}
    assert by_id[bare.id]["head_image"] is None and by_id[bare.id]["thumbnail"] is None
    assert by_id[bare.id]["author"] is None and by_id[bare.id]["categories"] == []
    assert by_id[local.id]["head_image"] == "http://testserver/static/img/a.jpg"
    assert by_id[local.id]["thumbnail"] == "https://cdn.example.com/t.jpg"


def test_times_are_beijing_time_with_offset(client):
    make("午夜文章", dt.datetime(2022, 4, 30, 16, 0, tzinfo=UTC))
    article = data(client, f"{API}/articles/")["results"][0]
    assert article["published_at"] == "2022-05-01T00:00:00+08:00"
    assert "/2022/05/01/" in article["url"]  # the Beijing day, as on the site


def test_categories_are_the_deepest_paths_and_tags_are_listed(client, newsroom):
    article = data(client, f"{API}/articles/{newsroom['public'].id}/")
    assert article["categories"] == ["科技/芯片"]
    assert sorted(t["name"] for t in article["tags"]) == ["半导体", "芯片"]
    assert article["author"]["name"] == "科技日报"


def test_unknown_or_huge_ids_are_404(client):
    assert get(client, f"{API}/articles/999999/", status=404).json() == {"detail": "No Article matches the given query."}
    get(client, f"{API}/articles/99999999999999999999999/", status=404)
    get(client, f"{API}/articles/abc/", status=404)


# --- nothing unpublished leaks ------------------------------------------------------


def test_drafts_reviews_and_scheduled_articles_never_show(client, newsroom):
    hidden_ids = {a.id for a in newsroom["hidden"]}
    for article in newsroom["hidden"]:
        get(client, f"{API}/articles/{article.id}/", status=404)
    assert ids(client) == published_ids()
    far_future = (timezone.now() + dt.timedelta(days=30)).isoformat()
    for params in ({"category": "金融/财联社/深度"}, {"category": "科技"}, {"tag": "芯片"},
                   {"author": "财联社"}, {"q": "秘闻"}, {"published_after": "2000-01-01"},
                   {"published_before": far_future}, {"date_to": "2100-01-01"}):
        assert not hidden_ids & set(ids(client, params)), params
    # Names only unpublished work uses are unknown, exactly like names never used.
    for params in ({"tag": "机密标签"}, {"author": "神秘作者"}, {"tag": "从未用过"}):
        assert list(get(client, f"{API}/articles/", params, status=400).json()) == list(params)
    tags = [t["name"] for t in walk(client, f"{API}/tags/")]
    authors = [a["name"] for a in walk(client, f"{API}/authors/")]
    assert "机密标签" not in tags and "神秘作者" not in authors


def test_a_scheduled_article_appears_when_its_time_comes(client, newsroom):
    scheduled = newsroom["hidden"][2]
    first = get(client, f"{API}/articles/")
    assert scheduled.id not in [a["id"] for a in first.json()["results"]]
    # Time passing, without a save (update() leaves updated_at alone).
    Article.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() - dt.timedelta(minutes=1))
    again = get(client, f"{API}/articles/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert scheduled.id in [a["id"] for a in again.json()["results"]]
    get(client, f"{API}/articles/{scheduled.id}/")


# --- filters ----------------------------------------------------------------------------


def test_category_filter_covers_the_subtree(client, newsroom):
    seeds = newsroom["seeds"]
    both_seeds = {seeds["涨停有因"].id, seeds["不止新总"].id}
    assert set(ids(client, {"category": "金融"})) == both_seeds | {newsroom["also"].id}
    assert set(ids(client, {"category": "金融/财联社/深度"})) == both_seeds | {newsroom["also"].id}
    assert ids(client, {"category": "科技"}) == [newsroom["public"].id]
    # A category holding only drafts is unknown, exactly like one that does not exist.
    assert get(client, f"{API}/articles/", {"category": "内部"}, status=400).json() == \
        get(client, f"{API}/articles/", {"category": "不存在"}, status=400).json()


def test_tag_and_author_filters(client, newsroom):
    assert ids(client, {"tag": "芯片"}) == [newsroom["public"].id]
    assert ids(client, {"tag": "券商"}) == [newsroom["also"].id]
    assert set(ids(client, {"author": "财联社"})) == {a.id for a in Article.objects.published()
                                                      .filter(author__name="财联社")}
    assert ids(client, {"author": "科技日报", "tag": "半导体"}) == [newsroom["public"].id]
    assert ids(client, {"author": "财联社", "tag": "半导体"}) == []


@pytest.mark.parametrize(("params", "included"), [
    ({"published_after": "2022-04-30T09:33:09"}, True),        # naive: Beijing time
    ({"published_after": "2022-04-30T01:33:09Z"}, True),
    ({"published_after": "2022-04-30T09:33:09+08:00"}, True),
    ({"published_after": "2022-04-30T09:33:10 08:00"}, False),    # "+" sent unencoded
    ({"published_after": "2022-04-30 01:33:09 00:00"}, True),
    ({"published_after": "2022-04-30T09:33:10"}, False),
    ({"published_after": "2022-04-30"}, True),                 # the day's Beijing midnight
    ({"published_after": "2022-05-01"}, False),
    ({"published_before": "2022-04-30T09:33:09"}, False),      # half-open: before, not at
    ({"published_before": "2022-04-30T09:33:10"}, True),
    ({"published_before": "2022-04-30T01:33:10Z"}, True),
    ({"published_before": "2022-04-30"}, False),
    ({"published_before": "2022-05-01"}, True),
    ({"published_after": "2022-04-30", "published_before": "2022-05-01"}, True),
    ({"date_from": "2022-04-30", "date_to": "2022-04-30"}, True),   # the site's day filters
    ({"date_from": "2022-05-01"}, False),
])
def test_publication_time_filters(client, seeds, params, included):
    assert (seeds["涨停有因"].id in ids(client, params)) is included


def test_time_filters_partition_the_list(client, seeds):
    middle = seeds["不止新总"].published_at.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    before, after = ids(client, {"published_before": middle}), ids(client, {"published_after": middle})
    assert sorted(before + after) == sorted(published_ids()) and not set(before) & set(after)


def test_search_is_the_sites_search_newest_first(client, newsroom):
    found = ids(client, {"q": "TikTok"})
    assert found == [newsroom["seeds"]["涨停有因"].id]
    both = ids(client, {"q": "证券"})
    assert set(both) == set(search_query.search("证券")) and both == published_ids(Article.objects.filter(id__in=both))
    assert ids(client, {"q": "益盟"}) == [newsroom["seeds"]["不止新总"].id]
    assert ids(client, {"q": "证券", "category": "科技"}) == []
    assert ids(client, {"q": "证券", "published_after": "2022-05-01"}) == [newsroom["seeds"]["不止新总"].id]
    assert ids(client, {"q": "!!!"}) == []
    assert ids(client, {"q": ""}) == published_ids()


def test_search_terms_with_non_ascii_in_links(client, seeds):
    page = data(client, f"{API}/articles/", {"q": "证券", "page_size": 1})
    path, params = local_path(page["next"])
    assert params["q"] == "证券" and params["page_size"] == "1"
    assert data(client, path, params)["results"][0]["id"] == seeds["涨停有因"].id
    # As curl sends it: UTF-8 bytes, not percent-encoded.
    raw = data(client, f"{API}/articles/?q=证券&page_size=1")
    assert local_path(raw["next"])[1]["q"] == "证券"


# --- cursor pagination ---------------------------------------------------------------


@pytest.fixture
def crowd():
    """27 articles, in groups of five that share a publication time to the microsecond."""
    base = dt.datetime(2023, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
    return [make(f"同一时刻的文章{i}", base + dt.timedelta(minutes=i // 5)) for i in range(27)]


@pytest.mark.parametrize("page_size", [1, 2, 5, 7, 100])
def test_cursor_paging_visits_every_article_once_in_order(client, crowd, page_size):
    expected = published_ids()
    forward = [a["id"] for a in walk(client, f"{API}/articles/", {"page_size": page_size})]
    assert forward == expected
    backward = [a["id"] for a in walk_back(client, f"{API}/articles/", {"page_size": page_size})]
    assert backward == expected


def test_pages_have_next_and_previous_links(client, crowd):
    first = data(client, f"{API}/articles/", {"page_size": 10})
    assert first["previous"] is None and len(first["results"]) == 10
    second = data(client, *local_path(first["next"]))
    assert second["previous"] and second["next"]
    back = data(client, *local_path(second["previous"]))
    assert back["results"] == first["results"] and back["previous"] is None
    third = data(client, *local_path(second["next"]))
    assert len(third["results"]) == 7 and third["next"] is None


def test_new_articles_do_not_shift_a_walk_in_progress(client, crowd):
    first = data(client, f"{API}/articles/", {"page_size": 10})
    make("翻页途中发布的文章")  # newer than everything: it belongs before page one
    Article.objects.filter(pk=first["results"][-1]["id"]).delete()  # gone from a page already read
    rest = walk(client, *local_path(first["next"]))
    seen = [a["id"] for a in first["results"] + rest]
    assert len(seen) == len(set(seen)) == 27
    assert [a["id"] for a in rest] == published_ids()[10:]


def test_page_size_is_capped_at_100(client, many):
    page = data(client, f"{API}/articles/", {"page_size": 1000})
    assert len(page["results"]) == 100 and page["next"]
    assert len(data(client, f"{API}/articles/", {"page_size": "9" * 40})["results"]) == 100
    assert len(data(client, f"{API}/articles/")["results"]) == 20


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", " ", "١٢", "0x10"])
def test_bad_page_size_is_a_400(client, value):
    assert list(get(client, f"{API}/articles/", {"page_size": value}, status=400).json()) == ["page_size"]


@pytest.mark.parametrize("cursor", [
    "abc", "!!!", "eyJ", forged_cursor(b"not json"), forged_cursor([1, 2]), forged_cursor({"o": "-published_at,-id", "p": [], "r": 0}),
    forged_cursor({"o": "-published_at,-id", "p": ["2022-04-30T01:33:09+00:00", 1], "r": 2}),
    forged_cursor({"o": "-published_at,-id", "p": ["2022-04-30T01:33:09", 1], "r": 0}),          # naive
    forged_cursor({"o": "-published_at,-id", "p": ["yesterday", 1], "r": 0}),
    forged_cursor({"o": "-published_at,-id", "p": ["2022-04-30T01:33:09+00:00", 2**70], "r": 0}),
    forged_cursor({"o": "-published_at,-id", "p": ["2022-04-30T01:33:09+00:00", "1"], "r": 0}),
    forged_cursor({"o": "-published_at,-id", "p": ["0001-01-01T00:00:00+08:00", 1], "r": 0}),    # year 0 in UTC
    forged_cursor({"o": "-published_at,-id", "p": [None, 1], "r": 0}),
])
def test_malformed_cursors_are_a_400(client, seeds, cursor):
    assert get(client, f"{API}/articles/", {"cursor": cursor}, status=400).json() == {"cursor": ["Invalid cursor."]}


def test_messages_follow_the_language(seeds):
    """Chinese by default (LANGUAGE_CODE), English for clients that ask for it."""
    chinese = get(Client(), f"{API}/articles/", {"cursor": "abc"}, status=400).json()
    english = get(Client(headers={"Accept-Language": "en"}), f"{API}/articles/", {"cursor": "abc"}, status=400).json()
    assert chinese == {"cursor": ["无效的游标。"]} and english == {"cursor": ["Invalid cursor."]}


def test_a_cursor_from_another_list_is_refused_not_crashed(client, newsroom):
    tag_cursor = cursor_of(data(client, f"{API}/tags/", {"page_size": 1})["next"])
    get(client, f"{API}/articles/", {"cursor": tag_cursor}, status=400)
    article_cursor = cursor_of(data(client, f"{API}/articles/", {"page_size": 1})["next"])
    get(client, f"{API}/tags/", {"cursor": article_cursor}, status=400)


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(("params", "bad"), [
    ({"catgory": "金融"}, ["catgory"]),
    ({"format": "json"}, ["format"]),
    ({"page": "2"}, ["page"]),
    ({"tag": "券商", "sort": "title", "limit": "5"}, ["limit", "sort"]),
    ({"published_after": "2022-13-01"}, ["published_after"]),
    ({"published_after": "30/04/2022"}, ["published_after"]),
    ({"published_before": "0001-01-01T00:00:00"}, ["published_before"]),   # year 0 in UTC
    ({"published_before": "9999-12-31T23:00:00-05:00"}, ["published_before"]),
    ({"date_from": "2022-02-30"}, ["date_from"]),
    ({"q": "证券\x00"}, ["q"]),
    ({"category": "金融\x00"}, ["category"]),
])
def test_bad_query_parameters_are_a_400_naming_them(client, seeds, params, bad):
    body = get(client, f"{API}/articles/", params, status=400).json()
    assert sorted(body) == bad and all(isinstance(body[name][0], str) and body[name][0] for name in bad)


def list_query_parameters(client) -> list[tuple[str, str]]:
    """(list endpoint, query parameter) for every parameter the schema documents."""
    schema = data(client, f"{API}/schema/", {"format": "json"})
    return [(path, parameter["name"]) for path, operations in schema["paths"].items() if "{" not in path
            for parameter in operations["get"].get("parameters", []) if parameter["in"] == "query"]


def test_an_empty_parameter_is_a_parameter_not_given(client, newsroom):
    """`?cursor=` as `?date_from=`: every filter and paging parameter, left empty, changes nothing."""
    parameters = list_query_parameters(client)
    assert {name for path, name in parameters if path == f"{API}/articles/"} == {
        "category", "tag", "author", "date_from", "date_to", "published_after", "published_before", "q",
        "cursor", "page_size"}
    assert {name for path, name in parameters if path == f"{API}/tags/"} == {"cursor", "page_size"}
    assert {path for path, _ in parameters} == {f"{API}/{name}/" for name in ("articles", "tags", "authors")}
    for path, name in parameters:
        assert data(client, path, {name: ""}) == data(client, path), (path, name)
    for path, name in parameters:
        if name != "page_size":  # with a next link: the empty parameter is not carried into it
            first = data(client, path, {"page_size": 1, name: ""})
            assert first == data(client, path, {"page_size": 1}) and first["next"], (path, name)


def test_unknown_parameter_message_lists_the_accepted_ones(client):
    message = get(client, f"{API}/articles/", {"sort": "x"}, status=400).json()["sort"][0]
    for name in ("category", "tag", "author", "published_after", "published_before", "q", "cursor", "page_size"):
        assert name in message
    assert "sort" in get(client, f"{API}/categories/", {"sort": "x"}, status=400).json()
    assert "page_size" in get(client, f"{API}/categories/", {"page_size": "5"}, status=400).json()
    assert "q" in get(client, f"{API}/articles/1/", {"q": "x"}, status=400).json()


# --- categories, tags and authors -------------------------------------------------


def test_category_tree_with_published_counts(client, newsroom):
    tree = data(client, f"{API}/categories/")
    by_path = {}

    def visit(nodes, parent):
        for node in nodes:
            assert node["path"] == (f"{parent}/{node['slug']}" if parent else node["slug"])
            by_path[node["path"]] = node
            visit(node["children"], node["path"])

    visit(tree, "")
    # Only categories with a published article in their subtree: 内部 holds only a draft.
    assert set(by_path) == set(Category.objects.exclude(path__startswith="内部").values_list("path", flat=True))
    assert [n["path"] for n in tree] == sorted(n["path"] for n in tree)
    assert by_path["金融"]["article_count"] == 3 and by_path["金融/财联社/深度"]["article_count"] == 3
    assert by_path["科技"]["article_count"] == 1 and by_path["科技/芯片"]["article_count"] == 1
    assert Category.objects.filter(path__startswith="内部").count() == 2
    technology = Category.objects.get(path="科技")
    assert by_path["科技"]["name"] == "科技" and by_path["科技"]["id"] == technology.id
    assert by_path["科技"]["url"] == "http://testserver" + technology.get_absolute_url()


def test_tags_with_published_counts(client, newsroom):
    tags = walk(client, f"{API}/tags/")
    assert [(t["name"], t["article_count"]) for t in tags] == [("券商", 1), ("半导体", 1), ("芯片", 1)]
    assert tags[0]["slug"] == "券商"
    assert tags[0]["url"] == "http://testserver" + reverse("articles:tag", kwargs={"slug": "券商"})
    assert [t["name"] for t in walk(client, f"{API}/tags/", {"page_size": 1})] == ["券商", "半导体", "芯片"]


def test_authors_with_published_counts(client, newsroom):
    authors = walk(client, f"{API}/authors/")
    # outlets (the front matter's author) and reporters (bylines) alike, counted by credit
    credited = {a.name: Article.objects.published().filter(credited_to(a)).count() for a in Author.objects.all()}
    assert [(a["name"], a["article_count"]) for a in authors] == sorted((n, c) for n, c in credited.items() if c)
    assert ("财联社", 3) in credited.items() and credited["黄靖斯"] >= 1
    outlet = next(a for a in authors if a["name"] == "财联社")
    assert outlet["url"] == "http://testserver" + Author.objects.get(name="财联社").get_absolute_url()
    assert [a["name"] for a in walk(client, f"{API}/authors/", {"page_size": 1})] == [a["name"] for a in authors]


def test_api_root_lists_the_endpoints(client):
    root = data(client, f"{API}/")
    assert root == {name: f"http://testserver{API}/{name}/" for name in ("articles", "categories", "tags", "authors")}


# --- query budget ---------------------------------------------------------------------


@pytest.fixture
def many():
    """105 articles, each with a category chain, two tags and an author (written in bulk)."""
    leaf = chain("市场", "A股", "盘面")
    nodes = list(Category.objects.filter(path__in=path_prefixes(leaf.path)))
    authors = [Author.objects.create(name=f"记者{i}") for i in range(4)]
    tags = [Tag.objects.create(name=f"标签{i}") for i in range(7)] + [Tag.objects.create(name=f"主题{i}") for i in range(3)]
    base = timezone.now() - dt.timedelta(days=10)
    articles = Article.objects.bulk_create([
        Article(title=f"批量文章{i}", slug=f"article-{i}", body="<p>正文</p>", status=Article.Status.PUBLISHED,
                published_at=base + dt.timedelta(minutes=i), author=authors[i % 4])
        for i in range(105)
    ])
    ArticleCategory.objects.bulk_create(
        ArticleCategory(article=a, category=c, published_at=a.published_at) for a in articles for c in nodes)
    TaggedArticle.objects.bulk_create(
        TaggedArticle(content_object=a, tag=t) for i, a in enumerate(articles) for t in (tags[i % 7], tags[7 + i % 3]))


# content version (1) + page (1) + categories (1) + tags (1)
ARTICLE_LIST_QUERIES = 4


@pytest.mark.parametrize("page_size", [1, 100])
def test_article_list_runs_a_constant_number_of_queries(client, many, django_assert_num_queries, page_size):
    with django_assert_num_queries(ARTICLE_LIST_QUERIES):
        page = data(client, f"{API}/articles/", {"page_size": page_size})
    assert len(page["results"]) == page_size and all(len(a["tags"]) == 2 for a in page["results"])
    cursor = {"cursor": cursor_of(page["next"]), "page_size": page_size}
    with django_assert_num_queries(ARTICLE_LIST_QUERIES):
        get(client, f"{API}/articles/", cursor)
    # Each filter given adds its own lookup (is the value valid?), nothing per row.
    with django_assert_num_queries(ARTICLE_LIST_QUERIES + 3):
        get(client, f"{API}/articles/", {"page_size": page_size, "category": "市场", "tag": "标签1",
                                         "author": "记者1"})


@pytest.mark.parametrize("page_size", [1, 100])
def test_tag_and_author_lists_run_a_constant_number_of_queries(client, many, django_assert_num_queries, page_size):
    for endpoint in ("tags", "authors"):
        with django_assert_num_queries(2):  # content version (1) + page (1)
            get(client, f"{API}/{endpoint}/", {"page_size": page_size})


def test_category_tree_is_one_query(client, many, django_assert_num_queries):
    # content version (1) + the tree (1) + the per-version counts (articles.views.category_counts)
    with django_assert_num_queries(5):
        get(client, f"{API}/categories/")


def test_repeated_lists_come_from_the_cache_until_content_changes(client, seeds, django_assert_num_queries):
    first = get(client, f"{API}/articles/").json()
    with django_assert_num_queries(1):  # only the content version
        assert get(client, f"{API}/articles/").json() == first
    seeds["涨停有因"].title = "改过的标题"
    seeds["涨停有因"].save()
    assert get(client, f"{API}/articles/").json()["results"][1]["title"] == "改过的标题"


# --- conditional GET ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/articles/", "/categories/", "/tags/", "/authors/", "/articles/{id}/"])
def test_conditional_get(client, newsroom, path):
    url = API + path.format(id=newsroom["public"].id)
    first = get(client, url)
    assert first["ETag"] and first["Last-Modified"] and "max-age=" in first["Cache-Control"]
    assert get(client, url, status=304, HTTP_IF_NONE_MATCH=first["ETag"]).content == b""
    assert get(client, url, status=304, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).content == b""
    newsroom["public"].title = "修改后的标题"
    newsroom["public"].save()
    changed = get(client, url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed["ETag"] != first["ETag"]


def test_last_modified_is_the_latest_change(client, seeds):
    response = get(client, f"{API}/articles/")
    # The content version's time: stamped in the transaction of the latest write,
    # at or just after the newest article's updated_at (a second may pass between).
    state = content_version.content_state()
    assert response["Last-Modified"] == http_date(state.last_modified.timestamp())
    latest = max(Article.objects.values_list("updated_at", flat=True))
    assert latest.replace(microsecond=0) <= state.last_modified <= timezone.now()


def test_deleting_or_unpublishing_changes_the_etag(client, newsroom):
    etag = get(client, f"{API}/articles/")["ETag"]
    newsroom["also"].delete()
    after_delete = get(client, f"{API}/articles/", HTTP_IF_NONE_MATCH=etag)
    assert newsroom["also"].title not in after_delete.content.decode()
    newsroom["public"].status = Article.Status.DRAFT
    newsroom["public"].save()
    after_unpublish = get(client, f"{API}/articles/", HTTP_IF_NONE_MATCH=after_delete["ETag"])
    assert newsroom["public"].title not in after_unpublish.content.decode()


def test_error_responses_carry_no_validators(client):
    response = get(client, f"{API}/articles/", {"cursor": "x"}, status=400)
    assert not response.has_header("ETag") and not response.has_header("Last-Modified")


# --- CORS and throttling ----------------------------------------------------------


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_cors_only_for_configured_origins_and_only_on_the_api(client, seeds):
    allowed = get(client, f"{API}/articles/", HTTP_ORIGIN="https://app.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "ETag" in allowed["Access-Control-Expose-Headers"]
    other = get(client, f"{API}/articles/", HTTP_ORIGIN="https://evil.example.net")
    assert not other.has_header("Access-Control-Allow-Origin")
    site = get(client, "/", HTTP_ORIGIN="https://app.example.com")
    assert not site.has_header("Access-Control-Allow-Origin")
    preflight = client.options(f"{API}/articles/", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


def test_cors_is_off_by_default(client, settings):
    """The settings of a server whose environment names no origin allow none (read in a
    process of their own: this one's may have CORS_ALLOWED_ORIGINS set), and the API then
    answers no origin."""
    default = settings_in(production_env(), "CORS_ALLOWED_ORIGINS", "CORS_ALLOW_ALL_ORIGINS")
    assert default["CORS_ALLOWED_ORIGINS"] == []
    assert not default["CORS_ALLOW_ALL_ORIGINS"]  # unset (None here): django-cors-headers' default, False
    settings.CORS_ALLOWED_ORIGINS = default["CORS_ALLOWED_ORIGINS"]
    response = get(client, f"{API}/articles/", HTTP_ORIGIN="https://app.example.com")
    assert not response.has_header("Access-Control-Allow-Origin")


@override_settings(NEWSPORTAL_API_ANON_RATE="3/min")
def test_anonymous_clients_are_throttled_with_a_clear_429(client):
    for _ in range(3):
        get(client, f"{API}/articles/")
    throttled = get(client, f"{API}/tags/", status=429)
    detail = throttled.json()["detail"]
    assert detail.startswith("Too many requests: each client address may make 3 requests per minute. Try again in ")
    assert 0 < int(throttled["Retry-After"]) <= 60
    # Another address has its own allowance; a forged X-Forwarded-For is not another address.
    client.get(f"{API}/articles/", REMOTE_ADDR="10.0.0.7")
    assert client.get(f"{API}/articles/", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get(f"{API}/articles/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429


@override_settings(NEWSPORTAL_API_ANON_RATE="2/min", NEWSPORTAL_TRUSTED_PROXY_ADDRESSES=["10.0.0.0/24"],
                   REST_FRAMEWORK={**django_settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_a_forged_forwarded_for_from_outside_the_proxies_gets_no_new_allowance(client):
    for n in range(2):
        get(client, f"{API}/articles/", REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert client.get(f"{API}/articles/", REMOTE_ADDR="203.0.113.50",
                      HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429
    # Through the proxy, each client has its own allowance.
    assert client.get(f"{API}/articles/", REMOTE_ADDR="10.0.0.2",
                      HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200


def statuses(client, path: str, requests: int) -> list[int]:
    return [client.get(path).status_code for _ in range(requests)]


def test_throttling_can_be_turned_off(client, settings):
    """The suite runs with the limit off, so a few requests prove nothing by themselves:
    first reach a low limit, then turn it off (None, which an empty NEWSPORTAL_API_ANON_RATE
    gives) and the same address, its counter still full, is refused nothing, not even past
    the production default of 120 a minute (so no fallback rate stands in for None)."""
    settings.NEWSPORTAL_API_ANON_RATE = "3/min"
    assert statuses(client, f"{API}/categories/", 4) == [200, 200, 200, 429]
    settings.NEWSPORTAL_API_ANON_RATE = None
    assert statuses(client, f"{API}/categories/", 125) == [200] * 125


# --- the schema and the docs ---------------------------------------------------------


def test_schema_describes_every_endpoint_and_filter(client):
    response = get(client, f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {f"{API}/articles/", f"{API}/articles/{{id}}/", f"{API}/categories/",
                                    f"{API}/tags/", f"{API}/authors/"}
    parameters = {p["name"] for p in schema["paths"][f"{API}/articles/"]["get"]["parameters"]}
    assert parameters == {"category", "tag", "author", "published_after", "published_before", "date_from",
                          "date_to", "q", "cursor", "page_size"}
    assert get(client, f"{API}/schema/").content.startswith(b"openapi: 3.")  # YAML by default


def test_docs_work_offline(client):
    page = get(client, f"{API}/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        get(client, asset)
    script = get(client, f"{API}/docs/", {"script": ""}).content.decode()
    assert f"{API}/schema/" in script


# --- the real corpus -------------------------------------------------------------------


@pytest.fixture
def corpus(corpus_dir, run_import):
    run_import(corpus_dir)  # a few files of the real corpus are unreadable on purpose
    assert Article.objects.published().count() > 100
    # One article unpublished and one scheduled, so the corpus has both kinds too.
    draft, scheduled = Article.objects.published()[:2]
    draft.status = Article.Status.DRAFT
    draft.save()
    # Through save(), as the admin does: it moves the links' copy of the time too.
    scheduled.published_at = timezone.now() + dt.timedelta(days=3)
    scheduled.save()
    return {"draft": draft, "scheduled": scheduled}


def check_every_filter_against_the_models(client) -> None:
    """Each category, author and time range through the API matches the published() queryset."""
    published = Article.objects.published()
    for node in Category.objects.all():
        expected = published_ids(published.filter(categories=node))
        if expected:
            assert ids(client, {"category": node.path}) == expected, node.path
        else:  # a category of unpublished work only is unknown
            get(client, f"{API}/articles/", {"category": node.path}, status=400)
    counts = {a["slug"]: a["article_count"] for a in walk(client, f"{API}/authors/")}
    for author in Author.objects.all():
        expected = published_ids(published.filter(credited_to(author)))
        assert counts.get(author.slug, 0) == len(expected)
        if expected:
            assert ids(client, {"author": author.slug}) == expected
    days = sorted(set(published.values_list("published_date", flat=True)))
    middle = days[len(days) // 2].isoformat()
    assert ids(client, {"published_before": middle}) == published_ids(published.filter(published_date__lt=middle))
    assert ids(client, {"published_after": middle}) == published_ids(published.filter(published_date__gte=middle))
    assert ids(client, {"date_from": middle, "date_to": middle}) == published_ids(published.filter(
        published_date=middle))


def test_every_filter_on_the_seeds(client, newsroom):
    check_every_filter_against_the_models(client)


@pytest.mark.slow
@pytest.mark.corpus
def test_every_endpoint_and_filter_on_the_real_corpus(client, corpus):
    hidden = {corpus["draft"].id, corpus["scheduled"].id}
    walked = ids(client)
    assert walked == published_ids() and not hidden & set(walked)
    assert [a["id"] for a in walk_back(client, f"{API}/articles/", {"page_size": 7})] == published_ids()
    for article in corpus.values():
        get(client, f"{API}/articles/{article.id}/", status=404)
    check_every_filter_against_the_models(client)

    def nodes(tree):
        for node in tree:
            yield node
            yield from nodes(node["children"])

    for node in nodes(data(client, f"{API}/categories/")):
        assert node["article_count"] == len(ids(client, {"category": node["path"]})), node["path"]
    for term in ("证券", "腾讯", "人工智能"):
        assert set(ids(client, {"q": term})) == set(search_query.search(term)), term
    sample = walked[len(walked) // 2]
    detail = data(client, f"{API}/articles/{sample}/")
    assert detail["body"] == Article.objects.get(pk=sample).body


@pytest.mark.corpus
def test_corpus_list_queries_do_not_grow_with_page_size(client, corpus, django_assert_num_queries):
    for page_size in (1, 100):
        cache.clear()
        with django_assert_num_queries(ARTICLE_LIST_QUERIES):
            get(client, f"{API}/articles/", {"page_size": page_size})


# --- the schema, checked against the running app (schemathesis) ------------------------


@pytest.fixture
def wsgi_app(settings):
    """The project's WSGI application, called in-process inside the test's transaction.

    Like Django's test client, it must not close the database connection at the
    end of each request (that would end the test's transaction).
    """
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI client's host
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(newsroom, wsgi_app, mode):
    """Requests generated from the schema: never a 5xx, and every answer is one the schema
    documents, in the shape it documents. Valid and invalid inputs, a fixed number per endpoint."""
    schema = schemathesis.openapi.from_wsgi(f"{API}/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5

    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters"):
            continue  # nothing to make invalid (the category tree takes no parameters)

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def check(case):
            # schemathesis' WSGI client asks for gzip but does not decode it (an HTTP client would).
            case.call_and_validate(headers={"Accept-Encoding": "identity"}, checks=[
                not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance,
            ])

        check()
