"""The minimal public pages that exist so far: only published articles show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article, Author, Category
from tests.factories import SEEDS

pytestmark = pytest.mark.django_db


def test_home_lists_seed_articles_after_import(client, run_import):
    run_import(SEEDS)
    page = client.get("/").content.decode()
    assert "涨停有因？华林证券又有新动作" in page and "湘财证券官宣大动作" in page


def test_article_page_by_its_url(client, run_import):
    run_import(SEEDS)
    article = Article.objects.get(title__startswith="涨停有因")
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "华林证券继续加码IT投入" in html and "2022年4月30日 09:33" in html
    assert 'referrerpolicy="no-referrer"' in html


def test_drafts_and_scheduled_articles_are_not_public(client):
    past = timezone.now() - dt.timedelta(hours=1)
    draft = Article.objects.create(title="草稿文章", body="x", published_at=past)
    future = Article.objects.create(title="定时文章", body="x", status=Article.Status.PUBLISHED,
                                    published_at=timezone.now() + dt.timedelta(days=1))
    home = client.get("/").content.decode()
    assert "草稿文章" not in home and "定时文章" not in home
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(future.get_absolute_url()).status_code == 404


def test_category_and_author_pages(client, run_import):
    run_import(SEEDS)
    for url in (Category.objects.get(path="金融").get_absolute_url(),
                Category.objects.get(path="金融/财联社/深度").get_absolute_url(),
                Author.objects.get(name="财联社").get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200 and "华林证券" in response.content.decode()
    assert client.get("/category/不存在/").status_code == 404


def test_impossible_date_is_404(client):
    assert client.get("/2022/02/30/x/").status_code == 404


def test_titles_are_escaped(client):
    Article.objects.create(title="<script>alert(1)</script>标题", body="<p>x</p>",
                           status=Article.Status.PUBLISHED, published_at=timezone.now() - dt.timedelta(hours=1))
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;标题" in html
