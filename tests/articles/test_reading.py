"""The reading experience's server side: the source link, the breadcrumb, the filter form's pickers.

(What the browser shows of them: tests/articles/test_reading_browser.py.)
"""

from __future__ import annotations

import re

import pytest

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


def test_the_filter_form_offers_pickers_of_public_names(client):
    publish("公开", categories=[chain("金融", "财联社")], tags=["券商"], author="甲社")
    publish("草稿", categories=[chain("机密")], tags=["未公开标签"], author="未公开作者", status="draft")
    page = html(client.get("/?category=金融/财联社"))
    select = re.search(r'<select name="category">(.*?)</select>', page, re.S).group(1)
    assert '<option value="金融/财联社" selected>金融 › 财联社</option>' in select
    assert '<option value="金融">金融</option>' in select and "机密" not in select
    tags = re.search(r'<datalist id="filter-tags">(.*?)</datalist>', page, re.S).group(1)
    authors = re.search(r'<datalist id="filter-authors">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="券商">' in tags and "未公开" not in tags
    assert '<option value="甲社">' in authors and "未公开" not in authors
    assert 'list="filter-tags"' in page and 'list="filter-authors"' in page
    # What a picker sends filters the listing.
    assert ">公开</a>" in html(client.get("/?tag=券商&author=甲社"))
