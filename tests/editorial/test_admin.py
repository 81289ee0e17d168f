"""The editorial admin, driven through its HTTP interface as a superuser."""

from __future__ import annotations


import pytest
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, ArticleCategory, Author, Category, TaggedArticle
from tests.factories import SEEDS, add_form, chain, changelist, publish

pytestmark = pytest.mark.django_db


def test_article_changelist_columns_search_and_filters(editor, run_import):
    run_import(SEEDS)
    publish("草稿里的腾讯", status=Article.Status.DRAFT)
    page = editor.get(changelist("article")).content.decode()
    for column in ("column-title", "column-status_badge", "column-published_time", "column-author", "column-category_paths"):
        assert column in page
    assert "金融 › 财联社 › 深度" in page
    found = editor.get(changelist("article"), {"q": "火山引擎"}).content.decode()
    assert "涨停有因" in found and "湘财证券" in found  # body mentions count too
    drafts = editor.get(changelist("article"), {"status__exact": "draft"}).content.decode()
    assert "草稿里的腾讯" in drafts and "涨停有因" not in drafts
    assert editor.get(changelist("article"), {"q": "腾讯"}).status_code == 200


def test_adding_an_article_sanitises_slugs_and_links_ancestors(editor):
    deep = chain("金融", "财联社", "深度")
    response = editor.post(reverse("admin:articles_article_add"), add_form(
        "编辑部稿件", body='<p>内容</p><script>alert(1)</script><img src=x onerror="alert(1)">',
        **{"articlecategory_set-0-category": str(deep.pk), "tags": "券商, 腾讯"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(title="编辑部稿件")
    assert "<script" not in article.body and "onerror" not in article.body
    assert article.slug == "编辑部稿件"
    assert set(article.categories.values_list("path", flat=True)) == {"金融", "金融/财联社", "金融/财联社/深度"}
    assert all(link.published_at == article.published_at for link in ArticleCategory.objects.filter(article=article))
    tag_links = TaggedArticle.objects.filter(content_object=article)
    assert sorted(link.tag.name for link in tag_links) == ["券商", "腾讯"]  # one link each, names as typed
    # Tag listings read the links' copy of the publication time, as category listings do.
    assert [link.published_at for link in tag_links] == [article.published_at] * 2


def test_change_page_shows_import_metadata_read_only_and_view_on_site(editor, run_import):
    run_import(SEEDS)
    article = Article.objects.get(title__startswith="涨停有因")
    page = editor.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert article.import_key in page and article.content_hash in page
    assert 'name="import_key"' not in page  # shown, not editable
    assert "000_a0c2001c312cffc3.txt" in page
    assert "viewsitelink" in page


def test_bulk_publish_unpublish_and_move(editor):
    drafts = [publish(f"稿{i}", status=Article.Status.DRAFT) for i in range(3)]
    ids = [str(a.pk) for a in drafts]
    editor.post(changelist("article"), {"action": "publish", "_selected_action": ids})
    assert Article.objects.published().count() == 3
    editor.post(changelist("article"), {"action": "unpublish", "_selected_action": ids[:1]})
    assert Article.objects.published().count() == 2
    target = chain("科技", "36kr")
    confirm = editor.post(changelist("article"), {"action": "move_to_category", "_selected_action": ids})
    assert "科技 › 36kr" in confirm.content.decode()
    editor.post(changelist("article"), {"action": "move_to_category", "_selected_action": ids,
                                        "apply": "1", "category": str(target.pk)})
    for article in drafts:
        assert set(article.categories.values_list("path", flat=True)) == {"科技", "科技/36kr"}


def test_category_tree_and_moving_a_category(editor, run_import):
    run_import(SEEDS)
    page = editor.get(changelist("category")).content.decode()
    assert "\u3000\u3000└ 深度" in page
    cls = Category.objects.get(path="金融/财联社")
    media = Category.objects.create(name="媒体")
    response = editor.post(reverse("admin:articles_category_change", args=[cls.pk]),
                           {"name": "财联社", "slug": cls.slug, "parent": str(media.pk)})
    assert response.status_code == 302
    assert Category.objects.filter(path="媒体/财联社/深度").exists()
    # a category cannot be moved under its own subtree
    form = editor.get(reverse("admin:articles_category_change", args=[media.pk])).content.decode()
    assert f'value="{Category.objects.get(path="媒体/财联社").pk}"' not in form


def test_merging_authors_repoints_their_articles(editor):
    a = publish("一", author="财联社")
    b = publish("二", author="财联社 ")
    publish("三", author="财联社")
    keep = Author.objects.get(name="财联社")
    other = Author.objects.get(name="财联社 ")
    editor.post(changelist("author"), {"action": "merge", "_selected_action": [keep.pk, other.pk]})
    assert list(Author.objects.all()) == [keep]
    b.refresh_from_db()
    assert b.author == keep and a.author == keep


def test_merging_tags_repoints_their_articles(editor):
    one = publish("一", tags=["券商"])
    both = publish("二", tags=["券商", "证券公司"])
    only_other = publish("三", tags=["证券公司"])
    publish("四", tags=["券商"])
    tags = Tag.objects.filter(name__in=["券商", "证券公司"])
    response = editor.post(reverse("admin:taggit_tag_changelist"),
                           {"action": "merge", "_selected_action": [t.pk for t in tags]})
    assert response.status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["券商"]
    for article in (one, both, only_other):
        assert list(article.tags.names()) == ["券商"]


def test_the_public_cannot_open_the_admin(client):
    response = client.get(changelist("article"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
