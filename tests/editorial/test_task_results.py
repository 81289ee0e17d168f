"""Background tasks' results in the admin: Editors may read them (a failed upload's error), Authors may not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.factories import staff
from tests.tasks_support import flaky

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_task(tmp_path, run_task_worker, settings) -> DBTaskResult:
    """A task that failed for good, with its error, as the worker leaves it."""
    settings.NEWSPORTAL_TASK_ATTEMPTS = 1
    flaky.enqueue(str(tmp_path), 5)
    run_task_worker()
    return DBTaskResult.objects.get(task_path="tests.tasks_support.flaky")


def test_an_editor_reads_the_task_results_and_a_failed_tasks_error(failed_task):
    client = Client()
    client.force_login(staff("desk", "Editors"))
    listing = client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    assert listing.status_code == 200
    assert "flaky" in listing.text
    detail = client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[failed_task.pk]))
    assert detail.status_code == 200
    assert "flaky failure on run 1" in detail.text
    # Reading only: nothing to save or delete.
    assert client.post(reverse("admin:django_tasks_database_dbtaskresult_delete", args=[failed_task.pk]),
                       {"post": "yes"}).status_code == 403
    assert DBTaskResult.objects.filter(pk=failed_task.pk).exists()


def test_an_author_may_not_see_the_task_results(failed_task):
    client = Client()
    client.force_login(staff("writer", "Authors"))
    assert client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist")).status_code == 403
    assert client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[failed_task.pk])).status_code == 403
