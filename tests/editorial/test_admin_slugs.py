"""A new article's slug from the admin follows articles.slugs (signs and decimals spelled out)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import Article
from tests.factories import add_form, change_form

pytestmark = pytest.mark.django_db


def test_the_add_page_does_not_fill_the_slug_in_the_browser(editor):
    page = editor.get(reverse("admin:articles_article_add")).content.decode()
    assert 'name="slug"' in page
    assert "prepopulated" not in page.split('name="slug"')[0].rsplit("<div", 1)[-1]
    assert '"dependency_list": ["title"]' not in page and "&quot;dependency_list&quot;" not in page


def test_a_slug_left_empty_is_made_from_the_title(editor):
    response = editor.post(reverse("admin:articles_article_add"), add_form("沪指涨0.23% 创业板指跌-1.5%"))
    assert response.status_code == 302
    assert Article.objects.get().slug == "沪指涨0-23-pct-创业板指跌-minus-1-5-pct"


def test_emptying_the_slug_of_an_article_makes_a_new_one(editor):
    editor.post(reverse("admin:articles_article_add"), add_form("沪指涨0.23%", slug="沪指涨023"))
    article = Article.objects.get()
    assert article.slug == "沪指涨023"
    response = editor.post(reverse("admin:articles_article_change", args=[article.pk]), change_form(article, slug=""))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.slug == "沪指涨0-23-pct"
