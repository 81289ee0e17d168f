"""Roles, workflow, preview, optimistic locking and imports meeting edits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from tests.factories import add_form, change_form, change_url, changelist, post, publish, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def author_a(client):
    return staff("author_a", "Authors")


@pytest.fixture
def roles():
    return staff("writer", "Authors"), staff("other_writer", "Authors"), staff("desk", "Editors")


def test_groups_exist_with_their_permissions():
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    authors = set(Group.objects.get(name="Authors").permissions.values_list("codename", flat=True))
    assert {"publish_article", "change_category", "change_tag", "change_author"} <= editors
    assert "publish_article" not in authors and "change_category" not in authors


def test_author_creates_a_draft_owns_it_and_submits_it_for_review(client, roles):
    writer, _, _ = roles
    client.force_login(writer)
    response = client.post(reverse("admin:articles_article_add"), add_form("我的稿件", status="draft"))
    assert response.status_code == 302
    article = Article.objects.get(title="我的稿件")
    assert article.created_by == writer and article.status == "draft"
    response = client.post(change_url(article), change_form(article, status="review"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "review"


def test_author_cannot_publish_or_schedule_even_by_posting_it(client, roles):
    writer, _, _ = roles
    client.force_login(writer)
    response = client.post(reverse("admin:articles_article_add"), add_form("想发布", status="published"))
    assert response.status_code == 200 and not Article.objects.filter(title="想发布").exists()
    draft = Article.objects.create(title="草稿", body="x", created_by=writer)
    client.post(change_url(draft), change_form(draft, status="published"))
    draft.refresh_from_db()
    assert draft.status == "draft"
    client.post(changelist("article"), {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_author_cannot_see_or_edit_others_drafts_by_any_url(client, roles):
    writer, other, _ = roles
    theirs = Article.objects.create(title="别人的草稿", body="x", created_by=other)
    client.force_login(writer)
    assert "别人的草稿" not in client.get(changelist("article")).content.decode()
    for url in (change_url(theirs), reverse("admin:articles_article_delete", args=[theirs.pk]),
                reverse("admin:articles_article_history", args=[theirs.pk])):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert "别人的草稿" not in response.content.decode()
    client.post(change_url(theirs), change_form(theirs, title="改掉"))
    theirs.refresh_from_db()
    assert theirs.title == "别人的草稿"
    assert client.get(reverse("articles:preview", args=[theirs.pk])).status_code == 404


def test_author_cannot_change_own_article_once_published(client, roles):
    writer, _, _ = roles
    mine = publish("已发表的稿子", created_by=writer)
    client.force_login(writer)
    client.post(change_url(mine), change_form(mine, title="偷偷修改"))
    mine.refresh_from_db()
    assert mine.title == "已发表的稿子"


def test_editor_sees_edits_publishes_and_schedules(client, roles):
    writer, _, desk = roles
    submitted = Article.objects.create(title="待审稿件", body="x", status="review", created_by=writer)
    client.force_login(desk)
    assert "待审稿件" in client.get(changelist("article")).content.decode()
    later = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(change_url(submitted), change_form(
        submitted, status="published", published_at_0=later.strftime("%Y-%m-%d"),
        published_at_1=later.strftime("%H:%M:%S")))
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "published" and submitted not in Article.objects.published()  # scheduled
    client.post(changelist("article"), {"action": "publish", "_selected_action": [submitted.pk]})


def test_preview_is_for_staff_only(client, roles):
    writer, _, desk = roles
    draft = Article.objects.create(title="预览稿", body="<p>内容</p>", created_by=writer)
    url = reverse("articles:preview", args=[draft.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    for user in (writer, desk):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and "预览稿" in response.content.decode()
        assert "noindex" in response["X-Robots-Tag"] and "private" in response["Cache-Control"]
    assert client.get(draft.get_absolute_url()).status_code == 404  # still not public


def test_second_save_of_a_stale_form_is_refused(client, roles):
    _, _, desk = roles
    article = publish("共同编辑")
    client.force_login(desk)
    stale = change_form(article, title="第二位编辑的标题")
    first = client.post(change_url(article), change_form(article, title="第一位编辑的标题"))
    assert first.status_code == 302
    second = client.post(change_url(article), stale)
    assert second.status_code == 200 and "其他人已保存了这篇文章" in second.content.decode()  # zh-hans admin
    article.refresh_from_db()
    assert article.title == "第一位编辑的标题"


def test_import_keeps_local_edits_unless_told_to_overwrite(client, roles, run_import, write_post):
    _, _, desk = roles
    path = write_post("story.md", post(title="'原标题'", body="<p>第一版</p>"))
    run_import(path)
    article = Article.objects.get()
    client.force_login(desk)
    client.post(change_url(article), change_form(article, body="<p>编辑改过的正文</p>"))
    article.refresh_from_db()
    assert article.edited_locally and article.body == "<p>编辑改过的正文</p>"
    write_post("story.md", post(title="'原标题'", body="<p>第二版</p>"))
    kept = run_import(path)
    assert "kept local edits 1" in kept.stdout
    article.refresh_from_db()
    assert article.body == "<p>编辑改过的正文</p>"
    assert "kept local edits 1" in run_import(path).stdout  # still reported, still kept
    overwritten = run_import("--overwrite-edited", path)
    assert "updated 1" in overwritten.stdout
    article.refresh_from_db()
    assert article.body == "<p>第二版</p>" and not article.edited_locally
