"""Models: visibility, sanitising on every write, slugs, the category tree."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from articles.models import Article, ArticleCategory, Category

pytestmark = pytest.mark.django_db


def make_article(**fields) -> Article:
    defaults = {"title": "券商研报", "body": "<p>正文</p>", "status": Article.Status.PUBLISHED,
                "published_at": timezone.now() - dt.timedelta(hours=1)}
    return Article.objects.create(**(defaults | fields))


# --- published() ------------------------------------------------------------


def test_published_excludes_drafts_and_scheduled():
    visible = make_article(title="已发布")
    make_article(title="草稿", status=Article.Status.DRAFT)
    make_article(title="定时", published_at=timezone.now() + dt.timedelta(days=1))
    assert list(Article.objects.published()) == [visible]


def test_scheduled_article_appears_when_its_time_comes():
    soon = make_article(published_at=timezone.now() + dt.timedelta(seconds=1))
    assert soon not in Article.objects.published()
    Article.objects.filter(pk=soon.pk).update(published_at=timezone.now() - dt.timedelta(seconds=1))
    assert soon in Article.objects.published()


def test_status_is_stored_as_plain_strings():
    make_article(status=Article.Status.DRAFT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM articles_article")
        assert cursor.fetchone()[0] == "draft"


# --- sanitising on every write path -----------------------------------------


def test_save_sanitises_the_body():
    article = make_article(body='<p>ok</p><script>alert(1)</script><img src=x onerror="alert(1)">')
    article.refresh_from_db()
    assert "<script" not in article.body and "onerror" not in article.body
    article.body = '<p onclick="x()">改</p><iframe src="https://evil.example"></iframe>'
    article.save()
    article.refresh_from_db()
    assert article.body == "<p>改</p>"


def test_bulk_create_and_bulk_update_sanitise_the_body():
    now = timezone.now()
    [article] = Article.objects.bulk_create(
        [Article(title="批量", slug="pi-liang", body="<script>x</script><p>文</p>", published_at=now)]
    )
    article.refresh_from_db()
    assert article.body == "<p>文</p>" and article.excerpt == "文"
    article.body = '<a href="javascript:alert(1)">链接</a>'
    Article.objects.bulk_update([article], ["body"])
    article.refresh_from_db()
    assert "javascript" not in article.body


def test_bulk_create_accepts_a_generator():
    now = timezone.now()
    created = Article.objects.bulk_create(
        Article(title=f"生成{i}", slug=f"sheng-cheng-{i}", body="<p>文</p>", published_at=now) for i in range(3)
    )
    assert len(created) == 3
    assert Article.objects.filter(title__startswith="生成").count() == 3


def test_excerpt_follows_the_body():
    article = make_article(body="<p>" + "腾讯" * 100 + "</p>")
    assert len(article.excerpt) == 140 and article.excerpt.endswith("…")


# --- slugs --------------------------------------------------------------------


def test_slug_from_title_unicode_and_unique_per_beijing_day():
    # 16:30 UTC on 29 April is 00:30 on 30 April in Beijing.
    moment = dt.datetime(2022, 4, 29, 16, 30, tzinfo=dt.timezone.utc)
    first = make_article(title="腾讯 发布财报", published_at=moment)
    second = make_article(title="腾讯 发布财报", published_at=moment + dt.timedelta(hours=5))
    other_day = make_article(title="腾讯 发布财报", published_at=moment + dt.timedelta(days=1))
    assert first.slug == "腾讯-发布财报" and second.slug == "腾讯-发布财报-2"
    assert other_day.slug == "腾讯-发布财报"
    assert first.published_date == dt.date(2022, 4, 30)
    assert unquote(first.get_absolute_url()) == "/2022/04/30/腾讯-发布财报/"


def test_slug_is_never_empty_and_at_most_80_characters():
    assert make_article(title="？！").slug == "article"
    assert len(make_article(title="券" * 200).slug) == 80


def test_database_refuses_duplicate_slug_on_one_day():
    article = make_article(title="唯一")
    duplicate = Article(title="x", slug=article.slug, published_at=article.published_at)
    duplicate.sanitise_and_derive_fields()
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.bulk_create([duplicate])


# --- categories ----------------------------------------------------------------


def test_category_identity_is_name_and_parent():
    finance = Category.objects.create(name="金融")
    cls = Category.objects.create(name="财联社", parent=finance)
    Category.objects.create(name="深度", parent=cls)
    tech = Category.objects.create(name="科技")
    other = Category.objects.create(name="深度", parent=tech)
    assert other.path == "科技/深度"
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="深度", parent=cls)
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="金融")


def test_category_path_breadcrumbs_and_url():
    finance = Category.objects.create(name="金融")
    cls = Category.objects.create(name="财联社", parent=finance)
    deep = Category.objects.create(name="深度", parent=cls)
    assert deep.path == "金融/财联社/深度"
    assert deep.path_names == ["金融", "财联社", "深度"]
    assert str(deep) == "金融 › 财联社 › 深度"
    assert deep.depth == 2
    assert unquote(deep.get_absolute_url()) == "/category/金融/财联社/深度/"


def test_moving_a_category_moves_its_subtree():
    finance = Category.objects.create(name="金融")
    cls = Category.objects.create(name="财联社", parent=finance)
    deep = Category.objects.create(name="深度", parent=cls)
    media = Category.objects.create(name="媒体")
    cls.parent = media
    cls.save()
    deep.refresh_from_db()
    assert deep.path == "媒体/财联社/深度"


def test_admin_style_category_links_get_the_publication_time():
    article = make_article()
    category = Category.objects.create(name="金融")
    article.categories.add(category)
    assert ArticleCategory.objects.get().published_at == article.published_at
    article.published_at -= dt.timedelta(days=3)
    article.save()
    assert ArticleCategory.objects.get().published_at == article.published_at


# --- settings -------------------------------------------------------------------


def test_settings_for_a_chinese_newsroom(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ and settings.LANGUAGE_CODE == "zh-hans"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-only settings")
def test_sqlite_waits_for_locks_and_uses_wal(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["timeout"] >= 5 and options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
