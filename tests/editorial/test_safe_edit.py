"""No lost work on the article form: the conflict's diff and re-base, and the preview of unsaved edits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, ArticleCategory, Author, Category
from tests.factories import add_form, chain, change_form, change_url, html, publish, staff

pytestmark = pytest.mark.django_db


def preview_url(article: Article | None = None) -> str:
    if article is None:
        return reverse("admin:articles_article_preview_add")
    return reverse("admin:articles_article_preview", args=[article.pk])


@pytest.fixture
def roles():
    return staff("writer", "Authors"), staff("other_writer", "Authors"), staff("desk", "Editors")


# -- the conflict --------------------------------------------------------------------------


def test_a_stale_save_shows_what_the_other_save_changed_and_keeps_the_editors_text(client, roles):
    _, _, desk = roles
    other = staff("night_desk", "Editors")
    article = publish("央行下调存款准备金率", body="<p>第一段。</p><p>第二段。</p>")
    mine = change_form(article, title="我的标题", body="<p>我改写的正文。</p>")  # opened now
    client.force_login(other)
    assert client.post(change_url(article), change_form(
        article, title="夜班编辑的标题", body="<p>第一段。</p><p>夜班补充的一段。</p>")).status_code == 302

    client.force_login(desk)
    refused = client.post(change_url(article), mine)
    page = html(refused)
    assert refused.status_code == 200 and "其他人已保存了这篇文章" in page
    conflict = page[page.index('class="edit-conflict"'):]
    assert "night_desk" in conflict
    assert "央行下调存款准备金率" in conflict and "夜班编辑的标题" in conflict  # the title: then → now
    assert "<ins>夜班补充的一段。</ins>" in conflict and "<del>第二段。</del>" in conflict  # the body's diff
    # The editor's text is still in the form, re-based on the version now stored.
    article.refresh_from_db()
    assert 'value="我的标题"' in page and "我改写的正文" in page
    assert f'<input type="hidden" name="version" value="{article.version}"' in page

    # Having looked, saving again keeps the editor's version.
    again = client.post(change_url(article), {**mine, "version": str(article.version)})
    assert again.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.body) == ("我的标题", "<p>我改写的正文。</p>")


def test_a_stale_forms_category_rows_are_rebased_so_the_second_save_goes_through(client, roles):
    _, _, desk = roles
    other = staff("night_desk", "Editors")
    article = publish("分类改过的稿件", categories=[chain("金融", "证券")])
    links = list(ArticleCategory.objects.filter(article=article).order_by("pk"))
    opened = with_category_rows(change_form(article, title="我的标题"), article, links)  # the form as opened
    theirs = with_category_rows(change_form(article, title="夜班的标题"), article, links)
    leaf = next(i for i, link in enumerate(links) if link.category.name == "证券")
    theirs[f"articlecategory_set-{leaf}-DELETE"] = "on"  # they took 证券 off
    client.force_login(other)
    assert client.post(change_url(article), theirs).status_code == 302
    assert not article.categories.filter(name="证券").exists()

    client.force_login(desk)
    refused = client.post(change_url(article), opened)
    assert refused.status_code == 200 and "edit-conflict" in html(refused)
    assert "证券" in html(refused)[html(refused).index('class="edit-conflict"'):]  # the categories: then → now
    # What the browser sends next: the form as re-rendered (its version and category rows re-based).
    rows = next(f.formset for f in refused.context["inline_admin_formsets"] if f.formset.prefix == "articlecategory_set")
    resent = rows.data.copy()
    resent["version"] = refused.context["adminform"].form.data["version"]
    article.refresh_from_db()
    assert resent["version"] == str(article.version)
    again = client.post(change_url(article), resent)
    assert again.status_code == 302  # not "select a valid choice" for the link they deleted
    article.refresh_from_db()
    assert article.title == "我的标题" and article.categories.filter(name="证券").exists()  # mine, over theirs


def with_category_rows(data: dict, article: Article, links: list) -> dict:
    """The form's POST with the article's category rows as the change page renders them, plus one empty row."""
    data = {**data, "articlecategory_set-TOTAL_FORMS": str(len(links) + 1),
            "articlecategory_set-INITIAL_FORMS": str(len(links)), f"articlecategory_set-{len(links)}-category": ""}
    for i, link in enumerate(links):
        data.update({f"articlecategory_set-{i}-id": str(link.pk), f"articlecategory_set-{i}-article": str(article.pk),
                     f"articlecategory_set-{i}-category": str(link.category_id)})
    return data


# -- the preview of unsaved edits ------------------------------------------------------------


def test_the_preview_renders_the_forms_values_through_the_public_template_without_saving(client, roles):
    _, _, desk = roles
    article = publish("旧标题", body="<p>旧正文</p>")
    leaf = chain("金融", "证券")
    version = article.version
    client.force_login(desk)
    response = client.post(preview_url(article), change_form(
        article, title="尚未保存的新标题", body="<p>新正文<script>alert(1)</script></p>", tags="券商, 新标签",
        **{"articlecategory_set-0-category": str(leaf.pk)}))
    page = html(response)
    assert response.status_code == 200
    assert "<h1>尚未保存的新标题</h1>" in page and "新正文" in page
    assert "<script>alert" not in page  # sanitised as a save would
    assert 'class="article-body"' in page  # the public article template
    assert "新标签" in page and "券商" in page  # the form's tags, a new one too
    assert "证券" in page and "金融" in page  # the breadcrumb from the chosen category's chain
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    article.refresh_from_db()
    assert (article.title, article.body, article.version) == ("旧标题", "<p>旧正文</p>", version)
    assert not article.tags.exists() and not Category.objects.filter(name="新标签").exists()


def test_the_add_forms_preview_saves_nothing(client, roles):
    writer, _, _ = roles
    client.force_login(writer)
    response = client.post(preview_url(), add_form("一篇新稿", body="<p>还没保存</p>"))
    assert response.status_code == 200 and "<h1>一篇新稿</h1>" in html(response)
    assert not Article.objects.exists()


def test_only_staff_who_may_change_the_article_get_its_preview(client, roles):
    writer, other_writer, desk = roles
    theirs = Article.objects.create(title="别人的草稿", body="<p>保密</p>", created_by=other_writer)
    published = publish("已发布的稿件")
    published.created_by = writer
    published.save()
    client.force_login(writer)
    assert client.post(preview_url(theirs), change_form(theirs)).status_code == 404
    assert client.post(preview_url(published), change_form(published)).status_code == 404  # an Author's published
    client.force_login(other_writer)
    assert client.post(preview_url(theirs), change_form(theirs)).status_code == 200
    client.force_login(desk)
    assert client.post(preview_url(theirs), change_form(theirs)).status_code == 200
    client.logout()
    anonymous = client.post(preview_url(theirs), change_form(theirs))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    reader = staff("reader", "Authors")
    reader.is_staff = False
    reader.save()
    client.force_login(reader)
    assert client.post(preview_url(theirs), change_form(theirs)).status_code == 302  # not staff: to the login


def test_the_preview_wants_a_post_with_the_csrf_token(roles):
    from django.test import Client

    _, _, desk = roles
    article = publish("要令牌的预览")
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk)
    assert client.get(preview_url(article)).status_code == 405
    assert client.post(preview_url(article), change_form(article)).status_code == 403


def test_the_change_form_may_frame_its_preview_and_no_other_page_frames_anything(client, roles):
    _, _, desk = roles
    article = publish("可以并排预览")
    client.force_login(desk)
    form = client.get(change_url(article))
    assert "frame-src 'self'" in form["Content-Security-Policy"] and form["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in form["Content-Security-Policy"]
    assert f'data-url="{preview_url(article)}"' in html(form)
    listing = client.get(reverse("admin:articles_article_changelist"))
    assert "frame-src 'none'" in listing["Content-Security-Policy"]
    saved_preview = client.get(reverse("articles:preview", args=[article.pk]))
    assert saved_preview["X-Frame-Options"] == "DENY"


def test_a_read_only_form_offers_no_preview_of_unsaved_edits(client, roles):
    writer, _, _ = roles
    mine = publish("作者已发布的稿件")
    mine.created_by = writer
    mine.save()
    draft = Article.objects.create(title="作者的草稿", body="<p>x</p>", created_by=writer)
    client.force_login(writer)
    assert "data-preview-open" in html(client.get(change_url(draft)))
    assert "data-preview-open" in html(client.get(reverse("admin:articles_article_add")))
    read_only = client.get(change_url(mine))
    assert read_only.status_code == 200 and "data-preview-open" not in html(read_only)


def test_the_preview_credits_the_reporters_the_save_will_detect_and_creates_none(client, roles):
    _, _, desk = roles
    article = publish("带电头的稿件", body="<p>正文</p>")
    client.force_login(desk)
    page = html(client.post(preview_url(article), change_form(
        article, body="<p>中证网讯（记者 连润）债市走强。</p>")))
    assert "记者 <a" in page and ">连润</a>" in page
    assert not Author.objects.filter(name="连润").exists() and not article.bylines.exists()


def preview_and_tag_queries(client, article: Article, tags: str) -> tuple[str, int]:
    """The preview page for the form with `tags`, and how many of its queries read the tag table."""
    with CaptureQueriesContext(connection) as captured:
        response = client.post(preview_url(article), change_form(article, tags=tags))
    assert response.status_code == 200
    return html(response), sum('"taggit_tag"' in query["sql"] for query in captured.captured_queries)


def test_the_previews_tags_are_looked_up_in_one_query_whatever_their_number(client, roles):
    _, _, desk = roles
    Tag.objects.create(name="ETF", slug="etf-tag")
    Tag.objects.create(name="港股", slug="港股")
    article = publish("标签预览")
    client.force_login(desk)
    few_page, few = preview_and_tag_queries(client, article, "etf, 港股, 新标签一")
    many_page, many = preview_and_tag_queries(client, article, "etf, 港股, " + ", ".join(f"新标签{i}" for i in range(8)))
    assert many == few
    for page in (few_page, many_page):
        assert "/etf-tag/" in page and ">ETF<" in page and ">etf<" not in page  # the stored tag, whatever the case
        assert ">港股<" in page and ">新标签一<" in page or ">新标签0<" in page
    assert not Tag.objects.filter(name__startswith="新标签").exists()
