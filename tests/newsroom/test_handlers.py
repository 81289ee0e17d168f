"""The newsroom's receivers: one explicit sequence after a save, connected once by the app."""

from __future__ import annotations

import pytest

from articles.models import Article
from newsroom import handlers

pytestmark = pytest.mark.django_db

DATELINE = "<p>中国证券报·中证网讯（记者 连润）央行今日开展逆回购操作。</p>"


def test_a_save_detects_the_bylines_then_folds_them_into_its_revision():
    article = Article.objects.create(title="央行逆回购", body=DATELINE, status=Article.Status.PUBLISHED)
    revision = article.history.latest()
    assert list(article.byline_links.values_list("role", "author__name")) == [("记者", "连润")]
    assert revision.byline_credits == [["记者", "连润"]]
    assert revision.version == article.version


def test_connecting_again_runs_the_sequence_once_per_save():
    handlers.connect()  # ready() twice, say: the same dispatch_uids replace, not add
    article = Article.objects.create(title="央行逆回购", body=DATELINE, status=Article.Status.PUBLISHED)
    article.body = DATELINE.replace("连润", "张勤峰")
    article.save()
    assert article.history.count() == 2
    assert list(article.byline_links.values_list("author__name", flat=True)) == ["张勤峰"]
    assert article.history.latest().byline_credits == [["记者", "张勤峰"]]


def test_an_editors_correction_survives_a_later_save():
    article = Article.objects.create(title="央行逆回购", body=DATELINE, status=Article.Status.PUBLISHED)
    article.byline_links.update(role="实习记者")
    Article.objects.filter(pk=article.pk).update(bylines_edited=True)
    article.refresh_from_db()
    article.title = "央行开展逆回购"
    article.save()
    assert list(article.byline_links.values_list("role", flat=True)) == ["实习记者"]
    assert article.history.latest().byline_credits == [["实习记者", "连润"]]
