"""Search-index work as background tasks: the admin's action enqueues, a worker indexes; the command stays foreground."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from articles.models import Article
from search.query import search
from search.tasks import rebuild_index
from tests.factories import publish

pytestmark = pytest.mark.django_db


def changed_behind_djangos_back(article: Article, title: str) -> None:
    Article.objects.filter(pk=article.pk).update(title=title)  # no signal: the index still has the old title


def test_the_admin_action_queues_indexing_that_a_worker_does(admin_client, run_task_worker,
                                                             django_capture_on_commit_callbacks):
    article, other = publish("旧标题"), publish("另一篇")
    changed_behind_djangos_back(article, "宁德时代新标题")
    assert search("宁德时代") == []
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:articles_article_changelist"), {
            "action": "reindex_for_search", "_selected_action": [article.pk, other.pk]}, follow=True)
    assert "已将 2 篇文章的搜索索引加入任务队列" in response.content.decode()  # "Search indexing queued for 2 articles"
    assert search("宁德时代") == []  # queued, not done in the request

    run_task_worker()
    assert search("宁德时代") == [article.pk]
    [task] = DBTaskResult.objects.filter(task_path="search.tasks.reindex_articles")
    assert task.status == "SUCCESSFUL" and task.args_kwargs["args"] == [sorted([article.pk, other.pk])]


def test_a_whole_rebuild_runs_in_a_worker(run_task_worker):
    article = publish("旧标题")
    changed_behind_djangos_back(article, "北向资金新标题")
    result = rebuild_index.enqueue()
    run_task_worker()
    assert search("北向资金") == [article.pk]
    assert rebuild_index.get_result(result.id).return_value == 1
