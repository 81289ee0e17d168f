"""The admin's edges found by the second outside audit.

The view-on-site shortcut, deleting articles with tag suggestions, the category
inline for both roles, publication times no database holds, protocol-relative
image URLs, and a login whose ?next= points off-site.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Author, Category, TagSuggestion
from tests.factories import add_form, post, publish, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer():
    return staff("writer", "Authors")


def shortcut(obj) -> str:
    return reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])


# --- 3: /admin/r/<content type>/<id>/ ------------------------------------------------


def test_view_on_site_redirects_only_those_who_may_view_the_article(client, writer, desk):
    colleague = staff("colleague", "Authors")
    later = timezone.now() + dt.timedelta(days=3)
    theirs = {
        "draft": publish("同事草稿", status=Article.Status.DRAFT, created_by=colleague),
        "review": publish("同事待审", status=Article.Status.REVIEW, created_by=colleague),
        "scheduled": publish("同事定时", later, created_by=colleague),
    }
    mine = publish("我的草稿", status=Article.Status.DRAFT, created_by=writer)
    published = publish("已发表", created_by=colleague)

    client.force_login(writer)
    for state, article in theirs.items():
        assert client.get(shortcut(article)).status_code == 404, state
    assert client.get(shortcut(mine))["Location"] == reverse("articles:preview", args=[mine.pk])

    client.force_login(desk)
    for article in (*theirs.values(), mine):
        assert client.get(shortcut(article))["Location"] == reverse("articles:preview", args=[article.pk])
    assert client.get(shortcut(published))["Location"] == published.get_absolute_url()


def test_view_on_site_of_other_objects_and_of_nothing(client, writer):
    author = Author.objects.create(name="潇湘")
    client.force_login(writer)
    assert client.get(shortcut(author))["Location"].endswith(author.get_absolute_url())
    session_type = ContentType.objects.get_for_model(Session)
    article_type = ContentType.objects.get_for_model(Article)
    for args in ([session_type.pk, "x"], [article_type.pk, 999999], [article_type.pk, "abc"], [999999, 1]):
        assert client.get(reverse("admin:view_on_site", args=args)).status_code == 404, args
    # Users and groups are not Authors' to look at.
    user_type = ContentType.objects.get_for_model(User)
    assert client.get(reverse("admin:view_on_site", args=[user_type.pk, writer.pk])).status_code == 404


# --- 9: deleting, and the category inline ---------------------------------------------


def test_editors_and_authors_delete_articles_with_tag_suggestions(client, writer, desk):
    def suggested(article: Article) -> Article:
        TagSuggestion.objects.create(article=article, name="券商", score=0.5)
        return article

    one, two = suggested(publish("一")), suggested(publish("二"))
    client.force_login(desk)
    response = client.post(reverse("admin:articles_article_delete", args=[one.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Article.objects.filter(pk=one.pk).exists()
    client.post(reverse("admin:articles_article_changelist"),
                {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"})
    assert not Article.objects.filter(pk=two.pk).exists()

    own_draft = suggested(publish("我的草稿", status=Article.Status.DRAFT, created_by=writer))
    own_published = suggested(publish("我的已发表", created_by=writer))
    client.force_login(writer)
    confirm = client.get(reverse("admin:articles_article_delete", args=[own_draft.pk]))
    assert confirm.status_code == 200 and "tag suggestion" not in confirm.content.decode().lower()
    client.post(reverse("admin:articles_article_delete", args=[own_draft.pk]), {"post": "yes"})
    assert not Article.objects.filter(pk=own_draft.pk).exists()
    # Still not what an Author may delete.
    response = client.post(reverse("admin:articles_article_delete", args=[own_published.pk]), {"post": "yes"})
    assert response.status_code == 403 and Article.objects.filter(pk=own_published.pk).exists()


@pytest.mark.parametrize("role", ["Authors", "Editors"])
def test_authors_and_editors_choose_categories_on_the_article_form(client, role):
    user = staff("someone", role)
    parent = Category.objects.create(name="金融")
    leaf = Category.objects.create(name="财联社", parent=parent)
    client.force_login(user)
    page = client.get(reverse("admin:articles_article_add")).content.decode()
    assert 'name="articlecategory_set-TOTAL_FORMS"' in page
    response = client.post(reverse("admin:articles_article_add"),
                           add_form("带栏目", **{"articlecategory_set-0-category": str(leaf.pk)}))
    assert response.status_code == 302
    article = Article.objects.get(title="带栏目")
    assert set(article.categories.all()) == {parent, leaf}
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'name="articlecategory_set-0-category"' in page and f'value="{leaf.pk}" selected' in page


# --- 10: publication times no database holds ------------------------------------------

BAD_TIMES = [("0001-01-01", "00:00:00"), ("0001-01-01", "12:00:00"), ("9999-12-31", "23:59:59"),
             ("1899-12-31", "12:00:00")]


@pytest.mark.parametrize("day, time", BAD_TIMES)
def test_an_unstorable_publication_time_is_a_form_error(client, desk, day, time):
    client.force_login(desk)
    response = client.post(reverse("admin:articles_article_add"),
                           add_form("远古文章", published_at_0=day, published_at_1=time))
    assert response.status_code == 200 and response.context["adminform"].form.errors["published_at"]
    assert not Article.objects.filter(title="远古文章").exists()
    article = publish("现有文章")
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]),
                           add_form("现有文章", published_at_0=day, published_at_1=time, version=article.version))
    assert response.status_code == 200 and response.context["adminform"].form.errors["published_at"]


@pytest.mark.parametrize("query", [
    "published_at__gte=0001-01-01", "published_at__lt=0001-01-01", "published_at__gte=0001-01-01 00:00:00",
    "published_at__gte=garbage", "published_at__lte=9999-12-31 23:59:59", "published_at=0001-01-01",
    "published_at__year=1", "published_at__year=0", "published_at__year=9999", "published_at__year=abc",
    "published_at__year=2022&published_at__month=13", "published_at__year=2022&published_at__month=2"
    "&published_at__day=30", "published_at__month=0",
])
def test_the_article_list_answers_400_to_times_out_of_range(client, desk, query):
    publish("一篇")
    client.force_login(desk)
    assert client.get(f"{reverse('admin:articles_article_changelist')}?{query}").status_code == 400


@pytest.mark.parametrize("query", ["published_at__year__gte=1", "published_at__year__gte=99999",
                                   "published_at__iso_year=1", "published_at__date__year=0"])
def test_other_lookups_on_times_out_of_range_are_no_server_error(client, desk, query):
    # A 400 where the database cannot hold the bound (SQLite); PostgreSQL answers them.
    publish("一篇")
    client.force_login(desk)
    assert client.get(f"{reverse('admin:articles_article_changelist')}?{query}").status_code in (200, 400)


def test_the_article_list_still_filters_by_time(client, desk):
    publish("旧文", timezone.make_aware(dt.datetime(2021, 6, 1, 12)))
    publish("新文", timezone.make_aware(dt.datetime(2022, 6, 1, 12)))
    client.force_login(desk)
    changelist = reverse("admin:articles_article_changelist")
    page = client.get(changelist, {"published_at__gte": "2022-01-01"}).content.decode()
    assert "新文" in page and "旧文" not in page
    page = client.get(changelist, {"published_at__year": "2021"}).content.decode()
    assert "旧文" in page and "新文" not in page


@pytest.mark.parametrize("value", ["garbage", "0001-01-01 00:00:00", "2022-13-01", "2022-04-30 25:00"])
def test_the_add_form_answers_400_to_a_bad_initial_time(client, desk, value):
    client.force_login(desk)
    response = client.get(reverse("admin:articles_article_add"), {"published_at": value})
    assert response.status_code == 400


def test_the_add_form_takes_a_good_initial_time(client, desk):
    client.force_login(desk)
    assert client.get(reverse("admin:articles_article_add"), {"published_at": ""}).status_code == 200
    response = client.get(reverse("admin:articles_article_add"), {"published_at": "2022-04-30 09:33:00"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="published_at_0" value="2022/04/30"' in page and 'name="published_at_1" value="09:33"' in page


# --- 12a: one rule for image URLs, the importer's ------------------------------------

IMAGE_URLS = ["//evil.example/x.png", "/\\evil.example/x.png", "https://img.cls.cn/a.jpg", "HTTPS://IMG.CLS.CN/B.JPG",
              "/images/a.png", "javascript:alert(1)", "http://", "data:image/png;base64,AAAA", "img/a.png"]


def test_the_admin_and_the_importer_accept_the_same_image_urls(client, desk, run_import, write_post):
    for i, url in enumerate(IMAGE_URLS):
        quoted = url.replace("'", "''")
        write_post(f"posts/{i}.md", post(title=f"'导入{i}'", headimg=f"'{quoted}'"))
    run_import(write_post("posts/.keep", "").parent)
    imported = {i for i in range(len(IMAGE_URLS)) if Article.objects.filter(title=f"导入{i}").exists()}

    client.force_login(desk)
    saved = set()
    for i, url in enumerate(IMAGE_URLS):
        for field in ("head_image", "thumbnail"):
            client.post(reverse("admin:articles_article_add"), add_form(f"后台{i}{field}", **{field: url}))
        both = [Article.objects.filter(title=f"后台{i}{field}").exists() for field in ("head_image", "thumbnail")]
        assert both[0] == both[1], url
        if both[0]:
            saved.add(i)
    assert saved == imported
    assert {IMAGE_URLS[i] for i in saved} == {"https://img.cls.cn/a.jpg", "HTTPS://IMG.CLS.CN/B.JPG", "/images/a.png"}


# --- 12b: ?next= off-site -------------------------------------------------------------


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "http:evil"])
def test_a_login_with_an_off_site_next_lands_on_the_admin(client, desk, target):
    login = reverse("admin:login")
    response = client.post(f"{login}?next={target}", {"username": "desk", "password": "pw-desk-2024",
                                                        "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    # and a site path still works
    client.logout()
    response = client.post(login, {"username": "desk", "password": "pw-desk-2024", "next": "/admin/articles/"})
    assert response["Location"] == "/admin/articles/"
