"""The editorial operations (newsroom.operations), called directly: no admin, no request."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied

from articles.models import Article, ArticleByline, Author
from newsroom import operations
from tests.factories import staff
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    return staff("desk", "Editors")


@pytest.fixture
def writer():
    return staff("writer", "Authors")


def revisions_of(article: Article) -> list:
    """Newest first."""
    return list(article.history.order_by("-history_date", "-history_id"))


def stored(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


# -- merging --------------------------------------------------------------------------

def test_a_merge_by_a_user_without_permission_is_refused_and_changes_nothing(writer):
    outlet = Author.objects.create(name="财联社")
    typo = Author.objects.create(name="财联社 ")
    # Their own draft: editable by them, so only the merge's own rule can refuse.
    credited = publish("快讯", author="财联社 ", status=Article.Status.DRAFT, created_by=writer)
    ArticleByline.objects.create(article=credited, author=outlet, position=0)
    before = (list(Author.objects.order_by("pk").values_list("pk", "name")), stored(credited).author_id,
              len(revisions_of(credited)), stored(credited).version, LogEntry.objects.count())

    with pytest.raises(PermissionDenied):
        operations.merge_authors([outlet, typo], writer)

    after = (list(Author.objects.order_by("pk").values_list("pk", "name")), stored(credited).author_id,
             len(revisions_of(credited)), stored(credited).version, LogEntry.objects.count())
    assert after == before


def test_a_merge_by_an_editor_repoints_every_article_with_a_revision_and_logs_it(desk):
    first = publish("一", author="财联社")
    second = publish("二", author="财联社")
    stray = publish("三", author="财联社 ")
    keep, gone = Author.objects.get(name="财联社"), Author.objects.get(name="财联社 ")
    revisions_before = len(revisions_of(stray))

    result = operations.merge_authors([gone, keep], desk)

    assert (result.kept, result.merged, result.articles) == (keep, 1, 1)
    assert not Author.objects.filter(pk=gone.pk).exists()
    assert stored(stray).author == keep and {stored(first).author, stored(second).author} == {keep}
    latest = revisions_of(stray)[0]
    assert len(revisions_of(stray)) == revisions_before + 1
    assert latest.history_user == desk and latest.history_change_reason == result.reason
    assert not stored(stray).edited_locally  # a merge re-points; a later import may still update the article
    assert LogEntry.objects.filter(user=desk, object_id=str(gone.pk)).exists()


# -- publication ----------------------------------------------------------------------

def test_publish_and_unpublish_write_one_revision_each(desk):
    article = publish("草稿", status=Article.Status.DRAFT)
    count = len(revisions_of(article))

    assert operations.publish([article], desk) == 1
    assert stored(article).status == Article.Status.PUBLISHED
    published = revisions_of(article)
    assert len(published) == count + 1
    assert (published[0].status, published[0].history_user) == ("published", desk)

    assert operations.unpublish([stored(article)], desk) == 1
    assert stored(article).status == Article.Status.DRAFT
    unpublished = revisions_of(article)
    assert len(unpublished) == count + 2
    assert (unpublished[0].status, unpublished[0].history_user) == ("draft", desk)
    assert stored(article).edited_locally


def test_publishing_what_is_published_writes_nothing(desk):
    article = publish("已发表")
    count, version = len(revisions_of(article)), stored(article).version

    assert operations.publish([article], desk) == 0
    assert (len(revisions_of(article)), stored(article).version) == (count, version)


def test_an_author_may_send_their_draft_to_review_but_not_publish_it(writer):
    draft = publish("我的草稿", status=Article.Status.DRAFT, created_by=writer)
    colleagues = publish("同事的草稿", status=Article.Status.DRAFT, created_by=staff("colleague", "Authors"))

    with pytest.raises(PermissionDenied):
        operations.publish([draft], writer)
    assert stored(draft).status == Article.Status.DRAFT

    assert operations.send_to_review([draft], writer) == 1
    assert stored(draft).status == Article.Status.REVIEW and revisions_of(draft)[0].history_user == writer

    with pytest.raises(PermissionDenied):
        operations.send_to_review([colleagues], writer)
    assert stored(colleagues).status == Article.Status.DRAFT


# -- saving as an edit ------------------------------------------------------------------

def test_saving_an_unchanged_article_as_an_edit_leaves_no_revision(desk):
    article = publish("原标题", categories=[chain("金融")], tags=["券商"])
    count, version = len(revisions_of(article)), stored(article).version

    assert operations.save_as_edit(stored(article), desk) is False

    assert len(revisions_of(article)) == count
    assert stored(article).version == version


def test_saving_a_change_as_an_edit_leaves_one_revision_by_the_user(desk):
    article = publish("原标题")
    count, version = len(revisions_of(article)), stored(article).version
    article = stored(article)
    article.title = "新标题"

    assert operations.save_as_edit(article, desk) is True

    latest = revisions_of(article)
    assert len(latest) == count + 1
    assert (latest[0].title, latest[0].history_user, latest[0].version) == ("新标题", desk, version + 1)
    assert stored(article).version == version + 1 and stored(article).edited_locally


def test_the_first_edit_of_an_imported_article_keeps_the_imported_version(desk):
    article = publish("导入的标题")
    article.history.all().delete()  # as the importer leaves it: no revision of its own
    article = stored(article)
    article.title = "编辑后的标题"

    operations.save_as_edit(article, desk)

    edited, imported = revisions_of(article)
    assert (imported.title, imported.history_user) == ("导入的标题", None)
    assert (edited.title, edited.history_user) == ("编辑后的标题", desk)


# -- categories ---------------------------------------------------------------------------

def test_moving_to_a_category_updates_the_links_and_the_revision(desk):
    article = publish("要闻", categories=[chain("科技")])
    target = chain("金融", "证券")
    count, version = len(revisions_of(article)), stored(article).version

    assert operations.move_to_category([stored(article)], target, desk) == 1

    assert set(stored(article).categories.values_list("path", flat=True)) == {"金融", "金融/证券"}
    moved = revisions_of(article)
    assert len(moved) == count + 1
    assert moved[0].category_names == [target.path_display] and moved[0].history_user == desk
    assert stored(article).version == version + 1


def test_an_author_may_not_move_articles(writer):
    article = publish("草稿", status=Article.Status.DRAFT, categories=[chain("科技")], created_by=writer)

    with pytest.raises(PermissionDenied):
        operations.move_to_category([article], chain("金融"), writer)

    assert list(stored(article).categories.values_list("path", flat=True)) == ["科技"]
