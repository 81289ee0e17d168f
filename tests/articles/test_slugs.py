"""Slugs keep what the signs of a number mean (articles.slugs), and old addresses still redirect."""

from __future__ import annotations

import pytest

from articles.models import Article, ArticleRedirect
from articles.slugs import unicode_slug
from tests.factories import publish


@pytest.mark.parametrize(("title", "slug"), [
    ("0.23%! 华夏合肥高新REIT刷新公众配售比例纪录", "0-23-pct-华夏合肥高新reit刷新公众配售比例纪录"),
    ("+183%！刚刚，中国经济一季度成绩单公布", "plus-183-pct-刚刚中国经济一季度成绩单公布"),
    ("-21%！最刺耳经济衰退警报", "minus-21-pct-最刺耳经济衰退警报"),
    ("美元指数−0.3%", "美元指数-minus-0-3-pct"),
    ("纳指跌-1.2%", "纳指跌-minus-1-2-pct"),
    ("净利润增长12.5%至3.2亿元", "净利润增长12-5-pct-至3-2亿元"),
    ("涨幅５％", "涨幅5-pct"),  # full-width signs and digits read as their ASCII forms
    ("不良率3‰", "不良率3-permille"),
    ("C++ 入门", "c-plus-plus-入门"),
])
def test_signs_and_decimals_are_spelled_out(title, slug):
    assert unicode_slug(title, "article") == slug


@pytest.mark.parametrize(("title", "slug"), [
    ("2022-06-11 收盘", "2022-06-11-收盘"),  # a hyphen between numbers is not a minus
    ("A-B 测试", "a-b-测试"),
    ("COVID-19 疫情", "covid-19-疫情"),
    ("Version 1.2.3 发布", "version-1-2-3-发布"),
    ("!!!", "article"),
])
def test_hyphens_and_empty_titles(title, slug):
    assert unicode_slug(title, "article") == slug


@pytest.mark.django_db
def test_a_new_article_gets_a_slug_that_keeps_its_figures():
    assert publish("沪指涨0.23%").slug == "沪指涨0-23-pct"


@pytest.mark.django_db
def test_a_stored_slug_stays_when_the_title_changes():
    article = Article.objects.create(title="旧标题", body="<p>正文</p>", slug="沪指涨023",
                                     status=Article.Status.PUBLISHED, published_at=publish("x").published_at)
    article.title = "沪指涨0.23%"
    article.save()
    article.refresh_from_db()
    assert article.slug == "沪指涨023"


@pytest.mark.django_db
def test_regenerating_a_slug_redirects_the_old_address(client):
    article = publish("沪指涨0.23%", slug="沪指涨023")
    old_url = article.get_absolute_url()
    article.slug = ""  # an editor clears the slug: asks for a new one
    article.save()
    assert article.slug == "沪指涨0-23-pct"
    assert ArticleRedirect.objects.filter(slug="沪指涨023").exists()
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"].endswith(article.get_absolute_url())
