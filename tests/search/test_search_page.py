"""/search/ over HTTP: Chinese queries, ranking, highlighting, paging, visibility."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from tests.factories import SEEDS, html, publish

pytestmark = pytest.mark.django_db


def result_titles(page: str) -> list[str]:
    return [re.sub(r"</?mark>", "", t) for t in re.findall(r'<h2><a href="[^"]+">(.*?)</a></h2>', page)]


def test_two_character_words_find_the_seeds(client, run_import):
    run_import(SEEDS)
    page = html(client.get("/search/?q=券商"))
    assert len(result_titles(page)) == 2
    assert "<mark>券商</mark>" in page
    assert "找到 2 篇相关文章" in page


def test_longer_phrase_finds_the_right_seed(client, run_import):
    run_import(SEEDS)
    titles = result_titles(html(client.get("/search/?q=火山引擎")))
    # The article about 火山引擎 (15 mentions) above the one naming it once.
    assert len(titles) == 2 and titles[0].startswith("涨停有因")


def test_results_are_ranked_and_paginated(client):
    base = timezone.now() - dt.timedelta(days=1)
    publish("腾讯发布财报：腾讯净利增长", base, body="<p>" + "腾讯" * 30 + "</p>")
    for i in range(25):
        publish(f"市场综述{i}", base - dt.timedelta(hours=i + 1), body=f"<p>其中提到腾讯一次。第{i}篇</p>")
    first = html(client.get("/search/?q=腾讯"))
    assert result_titles(first)[0] == "腾讯发布财报：腾讯净利增长"
    assert len(result_titles(first)) == 20 and "找到 26 篇相关文章" in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=" in next_link
    assert len(result_titles(html(client.get("/search/" + next_link)))) == 6
    assert client.get("/search/?q=腾讯&page=3").status_code == 404
    assert client.get("/search/?q=腾讯&page=x").status_code == 404


def test_search_takes_the_listing_filters(client):
    publish("券商甲", tags=["甲"])
    publish("券商乙", tags=["乙"])
    assert result_titles(html(client.get("/search/?q=券商&tag=甲"))) == ["券商甲"]
    assert result_titles(html(client.get("/search/?q=券商&date_from=bad"))) == []


def test_drafts_and_scheduled_are_never_found(client):
    publish("可见的券商新闻")
    publish("草稿券商", status=Article.Status.DRAFT)
    publish("定时券商", timezone.now() + dt.timedelta(days=1))
    assert result_titles(html(client.get("/search/?q=券商"))) == ["可见的券商新闻"]


@pytest.mark.parametrize("query", ['"', "*", "券商 OR", "NEAR(", ")", "a" * 10_000, "券\x00商", "\u202e券商",
                                   "<script>alert(1)</script>", "%", "''", ""])
def test_odd_queries_never_fail(client, query):
    publish("券商新闻")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_search_uses_the_index_not_like(client):
    publish("券商新闻")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/search/?q=券商")
    assert not any(" LIKE " in q["sql"].upper() for q in ctx.captured_queries)


@pytest.mark.corpus
def test_corpus_search(client, run_import, corpus_dir):
    run_import(corpus_dir)
    page = html(client.get("/search/?q=券商"))
    titles = [t.replace("&quot;", '"') for t in result_titles(page)]
    expected = Article.objects.filter(Q(title__contains="券商") | Q(body__contains="券商"))
    assert len(titles) == expected.count() >= 4
    for title in titles:
        article = Article.objects.get(title=title)
        assert "券商" in article.title or "券商" in article.body


def test_a_huge_body_costs_a_results_page_no_more_than_a_normal_one(client):
    """Each result's snippet is made from a bounded start of its body, cut in the database:
    the multi-megabyte bodies never reach Python, and highlighting sees a bounded text."""
    from unittest import mock

    from search import highlighting

    paragraph = "<p>" + "长篇报道的正文内容" * 100 + "</p>"
    huge = "<p>开头提到券商。</p>" + paragraph * (5_000_000 // len(paragraph.encode()))
    assert len(huge.encode()) > 4_000_000
    for i in range(3):
        publish(f"超长文章{i}", body=huge)
    highlighted = []
    real_highlight = highlighting.highlight

    def spy(text, query, max_chars=None):
        highlighted.append(len(text))
        return real_highlight(text, query, max_chars)

    with mock.patch.object(highlighting, "highlight", spy), CaptureQueriesContext(connection) as queries:
        page = html(client.get("/search/?q=券商"))
    assert len(result_titles(page)) == 3
    assert page.count("开头提到<mark>券商</mark>") == 3  # the hit near the start is still marked
    assert highlighted and max(highlighted) <= 20_000  # highlighting.SNIPPET_SOURCE_CHARS
    loads = [q["sql"] for q in queries.captured_queries if "超长文章" not in q["sql"] and '"body"' in q["sql"]]
    assert loads and all(re.search(r'SUBSTR(ING)?\("articles_article"\."body"', sql, re.I) for sql in loads), loads
