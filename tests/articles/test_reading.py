"""The reading experience's server side: the source link, the breadcrumb, the filter form's pickers and their choices.

(What the browser shows of them: tests/articles/test_reading_browser.py.)
"""

from __future__ import annotations

import re

import pytest

from articles.content_version import content_state
from articles.models import ArticleByline, Author
from newsroom import operations
from tests.factories import chain, html, publish

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("front_matter, shown", [
    ({"source_url": "https://www.cls.cn/detail/1"}, "https://www.cls.cn/detail/1"),
    ({"link": "http://finance.example.com/a.html"}, "http://finance.example.com/a.html"),
    ({"source": "财联社"}, ""),  # a name, not an address
    ({"source_url": "javascript:alert(1)"}, ""),
    ({"original_url": "//cdn.example.com/x"}, ""),
    ({}, ""),
])
def test_the_source_link_comes_from_the_front_matter(client, front_matter, shown):
    article = publish("原文链接", extra_front_matter=front_matter)
    assert article.source_link == shown
    page = html(client.get(article.get_absolute_url()))
    if shown:
        assert f'<a href="{shown}" rel="nofollow noopener noreferrer external">' in page
    else:
        assert "原文链接：" not in page


def test_the_headline_crumb_is_marked_to_be_left_out_on_phones(client):
    article = publish("一条很长的新闻标题", categories=[chain("金融", "券商")])
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html(client.get(article.get_absolute_url())), re.S).group(0)
    assert '<li class="crumb-headline"><span aria-current="page">一条很长的新闻标题</span></li>' in crumbs
    assert crumbs.count("crumb-headline") == 1


def test_the_filter_form_offers_a_category_picker_and_embeds_no_tag_or_author_name(client):
    publish("公开", categories=[chain("金融", "财联社")], tags=["券商"], author="甲社")
    publish("草稿", categories=[chain("机密")], tags=["未公开标签"], author="未公开作者", status="draft")
    publish("另一篇", categories=[chain("科技")], tags=["芯片"], author="乙社")
    page = html(client.get("/?category=金融/财联社"))
    select = re.search(r'<select name="category">(.*?)</select>', page, re.S).group(1)
    assert '<option value="金融/财联社" selected>金融 › 财联社</option>' in select
    assert '<option value="金融">金融</option>' in select and "机密" not in select
    # The datalists are empty in the (cached) page: static/js/filters.js fills them from the endpoint.
    assert '<datalist id="filter-tags"></datalist>' in page and '<datalist id="filter-authors"></datalist>' in page
    assert 'list="filter-tags"' in page and 'list="filter-authors"' in page
    assert 'data-choices="/filters/choices/"' in page and "/static/js/filters.js" in page
    elsewhere = html(client.get("/category/科技/"))  # a listing whose cards name neither 甲社 nor 券商
    assert "甲社" not in elsewhere and "券商" not in elsewhere
    # What a picker sends, or a slug typed, filters the listing.
    assert ">公开</a>" in html(client.get("/?tag=券商&author=甲社"))


def test_the_filter_choices_are_the_public_tags_and_authors(client):
    publish("公开", tags=["券商", "A股"], author="甲社")
    publish("草稿", tags=["未公开标签"], author="未公开作者", status="draft")
    response = client.get("/filters/choices/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {"tags": [["a股", "A股"], ["券商", "券商"]], "authors": [["甲社", "甲社"]]}
    assert {"tags", "authors"} <= set(response["xkey"].split())
    assert client.post("/filters/choices/").status_code == 405


def test_a_reporter_whose_only_article_is_unpublished_leaves_the_choices_at_once(client, admin_user):
    kept = publish("公开", author="甲社")
    embargoed = publish("将撤回", author="乙社")
    ArticleByline.objects.create(article=embargoed, author=Author.objects.create(name="记者丙"))
    assert client.get("/filters/choices/").json()["authors"] == [["乙社", "乙社"], ["甲社", "甲社"], ["记者丙", "记者丙"]]
    assert client.get("/filters/choices/")["X-Cache"] == "hit"

    operations.unpublish([embargoed], admin_user)

    content_state()  # (the process learns what the write changed: content_keys)
    response = client.get("/filters/choices/")
    assert response["X-Cache"] == "miss" and response.json()["authors"] == [["甲社", "甲社"]]
    assert kept.author.name == "甲社"
