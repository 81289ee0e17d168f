"""A new article's slug from the admin follows articles.slugs (signs and decimals spelled out).

The admin's JavaScript fills the slug from the title by Django's rule as it is
typed (tests/editorial/test_browser_admin_csp.py); the form tells that slug from
one the editor typed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import Article
from articles.slugs import prepopulated_slug
from tests.factories import add_form, change_form

pytestmark = pytest.mark.django_db

TITLE = "沪指涨0.23% 创业板指跌-1.5%"


def test_prepopulated_slug_is_what_the_admins_javascript_makes():
    # URLify("沪指涨0.23% 创业板指跌-1.5%", 80, true) in admin/js/urlify.js
    assert prepopulated_slug(TITLE, 80) == "沪指涨023-创业板指跌-15"
    assert prepopulated_slug("A  b--c_d!", 5) == "a-b-c"


@pytest.mark.parametrize("typed", ["沪指涨023-创业板指跌-15", ""])
def test_a_slug_the_browser_filled_in_or_none_is_made_by_the_sites_rule(editor, typed):
    response = editor.post(reverse("admin:articles_article_add"), add_form(TITLE, slug=typed))
    assert response.status_code == 302
    assert Article.objects.get().slug == "沪指涨0-23-pct-创业板指跌-minus-1-5-pct"


def test_a_slug_the_editor_typed_stays(editor):
    editor.post(reverse("admin:articles_article_add"), add_form(TITLE, slug="hu-zhi-zhang"))
    assert Article.objects.get().slug == "hu-zhi-zhang"


def test_emptying_the_slug_of_an_article_makes_a_new_one(editor):
    editor.post(reverse("admin:articles_article_add"), add_form("沪指涨0.23%", slug="沪指涨023-旧"))
    article = Article.objects.get()
    assert article.slug == "沪指涨023-旧"
    old_url = article.get_absolute_url()
    response = editor.post(reverse("admin:articles_article_change", args=[article.pk]), change_form(article, slug=""))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.slug == "沪指涨0-23-pct"
    article.status = Article.Status.PUBLISHED
    article.save()
    assert editor.get(old_url).status_code == 301
