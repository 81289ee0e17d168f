"""Revisions: recorded on every save, browsed and restored in the admin, private to who may edit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from newsroom.revisions import Revision, changes
from tests.factories import PROJECT, SEEDS, chain, change_form, change_url, changelist, post, publish, staff

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def history_url(article: Article) -> str:
    return reverse("admin:articles_article_history", args=[article.pk])


def revision_url(revision: Revision) -> str:
    return reverse("admin:articles_article_simple_history", args=[revision.id, revision.history_id])


def revisions_of(article: Article) -> list[Revision]:
    return list(Revision.objects.filter(id=article.pk).order_by("-history_date", "-history_id"))


def test_an_admin_save_records_who_when_and_what_changed(client, desk):
    deep = chain("金融", "财联社", "深度")
    article = publish("原来的标题", body="<p>第一段</p>", categories=[deep], tags=["券商"])
    client.force_login(desk)
    response = client.post(change_url(article), change_form(
        article, title="新的标题", body="<p>第一段</p><p>新增的第二段</p>", tags="券商, 腾讯",
        **{"articlecategory_set-0-category": str(deep.pk)}))
    assert response.status_code == 302
    latest, first = revisions_of(article)[:2]
    assert latest.history_user == desk and first.history_user is None
    assert latest.title == "新的标题" and latest.version == first.version + 1
    assert latest.tag_names == ["券商", "腾讯"] and latest.category_names == ["金融 › 财联社 › 深度"]
    page = client.get(history_url(article), **EN).content.decode()
    assert "desk" in page
    for label in ("Title:", "Body:", "Tags:"):
        assert label in page
    assert "Status:" not in page  # only what changed is listed
    detail = client.get(revision_url(latest), **EN).content.decode()
    assert "Changed in this revision" in detail and "新增的第二段" in detail


def test_bulk_import_writes_no_revisions_and_the_first_edit_keeps_the_imported_version(
        client, desk, run_import, write_post):
    path = write_post("story.md", post(title="'导入的标题'", body="<p>导入的正文</p>", tags="[券商]"))
    run_import(SEEDS)
    run_import(path)
    assert not Revision.objects.exists()  # the bulk path stays as fast as it was
    article = Article.objects.get(title="导入的标题")
    client.force_login(desk)
    note = client.get(history_url(article), **EN).content.decode()
    assert "written by an import and has no revision yet" in note
    # A revision's note is written in the language of the request that saved it.
    client.post(change_url(article), change_form(article, body="<p>编辑改写的正文</p>", tags="券商"), **EN)
    edited, imported = revisions_of(article)
    assert imported.body == "<p>导入的正文</p>" and imported.history_change_reason == "As imported"
    assert imported.history_user is None and imported.tag_names == ["券商"]
    assert edited.body == "<p>编辑改写的正文</p>" and edited.history_user == desk
    # an import that updates it (--overwrite-edited) is recorded before the next edit, too
    write_post("story.md", post(title="'导入的标题'", body="<p>导入的第二版</p>"))
    run_import("--overwrite-edited", path)
    article.refresh_from_db()
    client.post(change_url(article), change_form(article, title="再改标题"))  # in Chinese, the default
    assert [r.body for r in revisions_of(article)][:2] == ["<p>导入的第二版</p>", "<p>导入的第二版</p>"]
    assert revisions_of(article)[1].history_change_reason == "导入时的版本"


def test_restore_brings_back_fields_and_links_as_a_new_revision_and_bumps_the_version(client, desk):
    old_home, new_home = chain("金融", "证券"), chain("科技")
    article = publish("第一版标题", body="<p>第一版正文</p>", categories=[old_home], tags=["券商"])
    first = revisions_of(article)[0]
    client.force_login(desk)
    client.post(change_url(article), change_form(
        article, title="第二版标题", body="<p>第二版正文</p>", tags="科技股",
        **{"articlecategory_set-0-category": str(new_home.pk)}))
    article.refresh_from_db()
    stale = change_form(article, title="基于第二版的编辑")  # a form opened before the restore
    detail = client.get(revision_url(first), **EN).content.decode()
    assert "第一版正文" in detail and "第二版正文" in detail and "Restore this revision" in detail
    response = client.post(revision_url(first), {"version": str(article.version)}, **EN)
    assert response.status_code == 302 and response["Location"] == change_url(article)
    before = article.version
    article.refresh_from_db()
    assert (article.title, article.body) == ("第一版标题", "<p>第一版正文</p>")
    assert set(article.categories.values_list("path", flat=True)) == {"金融", "金融/证券"}
    assert list(article.tags.names()) == ["券商"]
    assert article.version == before + 1 and article.edited_locally  # never rewound to first.version
    restored = revisions_of(article)[0]
    assert restored.history_user == desk and restored.version == article.version
    assert restored.history_change_reason.startswith("Restored the revision of")
    assert len(revisions_of(article)) == 3
    refused = client.post(change_url(article), stale, **EN)
    assert refused.status_code == 200 and "Someone else saved this article" in refused.content.decode()


def test_the_change_page_carries_the_version_it_was_opened_at(client, desk):
    article = publish("带版本的文章")
    article.save()
    client.force_login(desk)
    page = client.get(change_url(article)).content.decode()
    assert f'<input type="hidden" name="version" value="{article.version}"' in page


def test_a_restore_from_a_stale_page_is_refused(client, desk):
    article = publish("标题一")
    first = revisions_of(article)[0]
    seen = article.version
    article.title = "别人刚保存的标题"
    article.save()
    client.force_login(desk)
    response = client.post(revision_url(first), {"version": str(seen)}, follow=True, **EN)
    assert "Nothing was restored" in response.content.decode()
    article.refresh_from_db()
    assert article.title == "别人刚保存的标题"


def test_a_restored_body_passes_through_the_sanitiser(client, desk):
    article = publish("旧稿")
    first = revisions_of(article)[0]
    # A revision written before the sanitiser learnt of some trick still cannot bring it back.
    Revision.objects.filter(pk=first.pk).update(body='<p>旧</p><script>alert(1)</script><a href="javascript:x">链</a>')
    article.title = "新稿"
    article.save()
    client.force_login(desk)
    client.post(revision_url(first), {"version": str(article.version)})
    article.refresh_from_db()
    assert article.title == "旧稿"
    assert "<script" not in article.body and "javascript:" not in article.body and "<p>旧</p>" in article.body


def test_actions_record_revisions_by_their_user(client, desk):
    draft = publish("草稿", status=Article.Status.DRAFT)
    target = chain("科技")
    client.force_login(desk)
    client.post(changelist("article"), {"action": "publish", "_selected_action": [draft.pk]})
    client.post(changelist("article"), {"action": "move_to_category", "_selected_action": [draft.pk],
                                        "apply": "1", "category": str(target.pk)})
    moved, published, created = revisions_of(draft)
    assert (published.status, published.history_user) == ("published", desk)
    assert moved.category_names == ["科技"] and moved.history_user == desk
    assert created.status == "draft"


def test_authors_see_and_restore_only_what_they_may_edit(client):
    writer, other = staff("writer", "Authors"), staff("other", "Authors")
    theirs = Article.objects.create(title="别人的稿", body="<p>x</p>", created_by=other)
    mine = Article.objects.create(title="我的稿", body="<p>一</p>", created_by=writer)
    mine.title = "我的稿（改）"
    mine.save()
    client.force_login(writer)
    their_revision = revisions_of(theirs)[0]
    for url in (history_url(theirs), revision_url(their_revision)):
        response = client.get(url)
        assert response.status_code == 404 and "别人的稿" not in response.content.decode()
    client.post(revision_url(their_revision), {"version": str(theirs.version)})
    assert Revision.objects.filter(id=theirs.pk).count() == 1
    # a revision of someone else's article cannot be reached through one's own article's URL either
    assert client.get(reverse("admin:articles_article_simple_history",
                              args=[mine.pk, their_revision.history_id])).status_code == 404

    assert client.get(history_url(mine)).status_code == 200
    first_of_mine = revisions_of(mine)[-1]
    client.post(revision_url(first_of_mine), {"version": str(mine.version)})
    mine.refresh_from_db()
    assert mine.title == "我的稿"

    # once published, the author may look but not restore
    mine.status = Article.Status.PUBLISHED
    mine.save()
    assert client.get(revision_url(first_of_mine)).status_code == 200
    assert client.post(revision_url(first_of_mine), {"version": str(mine.version)}).status_code == 403
    mine.refresh_from_db()
    assert mine.status == "published"


def test_authors_cannot_restore_a_published_revision(client):
    writer = staff("writer", "Authors")
    article = Article.objects.create(title="曾经发表", body="<p>x</p>", created_by=writer,
                                     status=Article.Status.PUBLISHED)
    published = revisions_of(article)[0]
    article.status = Article.Status.DRAFT
    article.save()
    client.force_login(writer)
    response = client.post(revision_url(published), {"version": str(article.version)}, follow=True, **EN)
    assert "only editors can restore it" in response.content.decode()
    article.refresh_from_db()
    assert article.status == "draft"


def test_the_public_never_reaches_history(client):
    article = publish("公开文章")
    revision = revisions_of(article)[0]
    for url in (history_url(article), revision_url(revision)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(revision_url(revision), {"version": str(article.version)})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Revision.objects.filter(id=article.pk).count() == 1


def test_revisions_keep_bylines_and_a_restore_brings_back_a_correction(client, desk):
    from newsroom import byline_links
    from newsroom import revisions

    article = publish("署名", body="<p>中证网讯（记者 连润）正文</p>")
    [detected] = revisions_of(article)
    assert detected.byline_credits == [["记者", "连润"]]  # folded in after detection on save
    # An editor corrects the byline, then someone rewrites the body.
    byline_links.set_bylines(article, [("记者", "连润"), ("实习记者", "张三")])
    article.bylines_edited = True
    article.save()
    corrected = revisions_of(article)[0]
    assert corrected.byline_credits == [["记者", "连润"], ["实习记者", "张三"]]
    assert [c.field for c in revisions.changes(detected, corrected)] == ["byline_credits"]
    article.body, article.bylines_edited = "<p>中证网讯（记者 王五）新正文</p>", False
    article.save()
    assert byline_links.current(article) == [("记者", "王五")]
    client.force_login(desk)
    response = client.post(revision_url(corrected), {"version": str(article.version)}, **EN)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.bylines_edited and byline_links.current(article) == [("记者", "连润"), ("实习记者", "张三")]
    assert revisions_of(article)[0].byline_credits == [["记者", "连润"], ["实习记者", "张三"]]


def _sanitised_in_a_process_of_its_own(raw: str, hash_seed: int) -> str:
    code = "import sys\nfrom articles.sanitize import sanitize_body\nsys.stdout.write(sanitize_body(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, raw], cwd=PROJECT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": str(hash_seed)}, timeout=120, check=True)
    return done.stdout


def test_an_admin_save_that_changes_nothing_records_no_change(client, desk):
    """#14 item 11: an import's worker and the web process sanitised the same body into different
    bytes (the forced image attributes in another order), so a no-op save logged a body change."""
    raw = '<p>正文</p><p><img src="https://img.cls.cn/a.jpg" alt="图一"></p><p><img src="/b.png"></p>'
    article = publish("图文稿", body=raw)
    client.force_login(desk)
    # Several processes: each drew its order at random, so any two agreed by chance half the time.
    for body in sorted({_sanitised_in_a_process_of_its_own(raw, seed) for seed in range(8)}):
        # As the importer's bulk write stores what a worker process sanitised.
        Article.objects.filter(pk=article.pk).update(
            body=body, version=F("version") + 1, source_path="/archive/a.md", updated_at=timezone.now())
        article.refresh_from_db()
        version = article.version
        response = client.post(change_url(article), change_form(article), **EN)
        assert response.status_code == 302
        # The save changed nothing, so it left no revision of its own and no new version:
        # the latest revision is the stored (imported) one, byte for byte.
        stored = revisions_of(article)[0]
        assert stored.history_change_reason == "As imported" and stored.body == body
        article.refresh_from_db()
        assert article.body == body and article.version == version == stored.version
    page = client.get(history_url(article), **EN).content.decode()
    assert "Body:" not in page


def test_a_save_that_changes_nothing_leaves_no_revision_and_a_change_leaves_one(client, desk):
    article = publish("原来的标题", body="<p>第一段</p>")
    client.force_login(desk)
    assert client.post(change_url(article), change_form(article), **EN).status_code == 302
    article.refresh_from_db()
    first = revisions_of(article)
    for _ in range(3):  # pressing Save again and again
        assert client.post(change_url(article), change_form(article), **EN).status_code == 302
    article.refresh_from_db()
    assert revisions_of(article) == first and article.version == first[0].version
    assert client.post(change_url(article), change_form(article, title="新的标题"), **EN).status_code == 302
    latest, previous = revisions_of(article)[:2]
    assert previous == first[0] and [c.field for c in changes(previous, latest)] == ["title"]


def test_bodies_stored_with_the_other_attribute_order_are_migrated_to_the_one_order():
    from django.apps import apps
    import importlib

    migration = importlib.import_module("articles.migrations.0021_image_attribute_order")
    raw = '<p><img src="/a.png" alt="甲"></p>'
    article = publish("旧稿", body=raw)
    canonical = article.body
    other = canonical.replace(migration.ORDER, migration.OTHER_ORDER)
    assert other != canonical  # as another process may have stored it
    Article.objects.filter(pk=article.pk).update(body=other)
    Revision.objects.filter(id=article.pk).update(body=other)
    migration.one_order(apps, None)
    assert Article.objects.get(pk=article.pk).body == canonical
    assert [r.body for r in revisions_of(article)] == [canonical]
