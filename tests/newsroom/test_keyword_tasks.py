"""Keyword suggestions as a background task: computed by a worker after a save or an import, never when the form opens."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from articles.models import Article, TagSuggestion
from importing.service import ImportOptions, PathSource, run_import
from newsroom import keywords
from tests.factories import SEEDS, change_form, publish

pytestmark = pytest.mark.django_db

BATTERY = (
    "<p>宁德时代今日发布公告，公司动力电池装车量继续领跑。宁德时代表示，动力电池与储能业务增长强劲，"
    "储能订单同比增长。分析人士认为，宁德时代在动力电池领域优势明显，储能将成为第二增长曲线。</p>"
)


def suggestion_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="newsroom.tasks.suggest_keywords").order_by("enqueued_at"))


@pytest.fixture
def no_jieba(monkeypatch):
    """Any keyword computation in this process fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("keyword suggestions computed in the request")

    monkeypatch.setattr(keywords, "suggester", refuse)
    monkeypatch.setattr(keywords, "Suggester", refuse)


def test_opening_the_edit_form_computes_and_enqueues_nothing(admin_client, no_jieba, django_capture_on_commit_callbacks):
    article = publish("宁德时代动力电池装车量领跑", body=BATTERY, status=Article.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert response.status_code == 200
    assert not TagSuggestion.objects.exists()
    assert suggestion_tasks() == []


def test_a_save_enqueues_and_the_worker_fills_the_suggestions(admin_client, monkeypatch, run_task_worker,
                                                              django_capture_on_commit_callbacks):
    article = publish("宁德时代动力电池装车量领跑", body=BATTERY, status=Article.Status.DRAFT)
    url = reverse("admin:articles_article_change", args=[article.pk])
    with monkeypatch.context() as patched:  # the request itself computes nothing
        patched.setattr(keywords, "suggester", lambda: pytest.fail("computed in the request"))
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, change_form(article, title="宁德时代动力电池装车量继续领跑",
                                                          **{"byline_links-TOTAL_FORMS": "0"}))
    assert response.status_code == 302
    [queued] = suggestion_tasks()
    assert queued.status == "READY" and queued.args_kwargs["args"] == [[article.pk]]
    assert not TagSuggestion.objects.exists()

    run_task_worker()
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL" and queued.return_value >= 1
    best = article.tag_suggestions.order_by("-score").first()
    assert best is not None and best.name in {"宁德时代", "动力电池"}
    page = admin_client.get(url).content.decode()
    assert f'name="_accept_suggestion" value="{best.pk}"' in page

    # Accepting one with the form's own save: the text is unchanged and it has
    # suggestions, so nothing is enqueued again.
    article.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, change_form(article, _accept_suggestion=str(best.pk),
                                                      **{"byline_links-TOTAL_FORMS": "0"}))
    assert response.status_code == 302 and response["Location"] == url
    assert best.name in article.tags.names()
    assert article.tag_suggestions.get(pk=best.pk).state == "accepted"
    assert len(suggestion_tasks()) == 1


def test_an_import_enqueues_suggestions_for_what_it_wrote(run_task_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = run_import(PathSource([SEEDS]))
    written = sorted(set(report.written_ids))
    assert written
    assert [pk for task in suggestion_tasks() for pk in task.args_kwargs["args"][0]] == written
    assert not TagSuggestion.objects.exists()  # the import itself suggests nothing
    run_task_worker()
    assert set(TagSuggestion.objects.values_list("article_id", flat=True)) <= set(written)
    assert TagSuggestion.objects.values("article").distinct().count() >= 1
    assert {t.status for t in suggestion_tasks()} == {"SUCCESSFUL"}


def test_a_dry_run_or_accepted_at_once_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_import(PathSource([SEEDS]), ImportOptions(dry_run=True))
        report = run_import(PathSource([SEEDS]), ImportOptions(accept_suggested_tags=True))
    assert report.suggested_tags_added and suggestion_tasks() == []


def test_a_save_succeeds_when_the_queue_cannot_be_reached(admin_client, monkeypatch, caplog,
                                                          django_capture_on_commit_callbacks):
    from newsroom.tasks import suggest_keywords

    def unreachable(*args, **kwargs):
        raise ConnectionError("task queue unreachable")

    monkeypatch.setattr(type(suggest_keywords), "enqueue", unreachable)
    article = publish("宁德时代动力电池装车量领跑", body=BATTERY, status=Article.Status.DRAFT)
    url = reverse("admin:articles_article_change", args=[article.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, change_form(article, title="宁德时代动力电池装车量继续领跑",
                                                      **{"byline_links-TOTAL_FORMS": "0"}))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "宁德时代动力电池装车量继续领跑"
    assert "task queue unreachable" in caplog.text and suggestion_tasks() == []
