"""The admin speaks Chinese (zh-hans); English by the browser's language or the user's choice."""

from __future__ import annotations

import gettext
import shutil
import subprocess

import pytest
from django.urls import reverse

from articles.models import Article
from tests.factories import PROJECT, add_form, changelist, publish, staff

pytestmark = pytest.mark.django_db

CATALOG = PROJECT / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_the_admin_is_chinese_by_default(editor):
    article = publish("一篇文章")
    page = editor.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert '<html lang="zh-hans"' in page
    for ours in ("编辑部后台", "标题", "正文", "发布时间", "网址别名", "同一发布日内唯一", "切换语言"):
        assert ours in page, ours
    assert "Unique per publication day" not in page
    listing = editor.get(changelist("article")).content.decode()
    assert "发布所选文章" in listing and "Publish selected articles" not in listing


def test_an_english_browser_gets_english(editor):
    article = publish("一篇文章")
    page = editor.get(reverse("admin:articles_article_change", args=[article.pk]),
                      HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en"' in page
    assert "Unique per publication day" in page and "Newsroom admin" in page
    assert "同一发布日内唯一" not in page


def test_the_users_choice_wins_over_the_browser(editor):
    publish("一篇文章")
    response = editor.post(reverse("set_language"), {"language": "en", "next": changelist("article")},
                           HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 302 and response["Location"] == changelist("article")
    listing = editor.get(changelist("article"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Publish selected articles" in listing and "发布所选文章" not in listing
    editor.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})
    assert "发布所选文章" in editor.get(changelist("article"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_messages_and_form_errors_are_translated(client):
    desk = staff("desk", "Editors")
    client.force_login(desk)
    drafts = [publish(f"稿{i}", status=Article.Status.DRAFT) for i in range(2)]
    response = client.post(changelist("article"), {"action": "publish", "_selected_action": [a.pk for a in drafts]},
                           follow=True)
    assert "已发布 2 篇文章。" in response.content.decode()
    response = client.post(changelist("article"), {"action": "unpublish", "_selected_action": [drafts[0].pk]},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 article moved back to draft." in response.content.decode()

    bad_url = client.post(reverse("admin:articles_article_add"), add_form("坏链接", head_image="ftp://x"))
    assert "请输入 http(s) 网址或以 / 开头的站内路径。" in bad_url.content.decode()


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext's msgfmt is not installed")
def test_the_committed_catalogue_is_compiled_from_the_po(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(CATALOG / "django.po")], check=True)
    with compiled.open("rb") as fresh, (CATALOG / "django.mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            "locale/zh_Hans/LC_MESSAGES/django.mo is stale: run `make messages` and commit it")
    untranslated = subprocess.run(["msgattrib", "--untranslated", str(CATALOG / "django.po")],
                                  capture_output=True, text=True, check=True).stdout
    assert "msgid" not in untranslated, untranslated
