"""django-tasks-rq's backend with RQ's own Retry: the same bounds as the database worker's (newsportal/tasks.py).

django-tasks-rq enqueues without a Retry, so a failing job fails at once and
a job whose worker was killed is failed as abandoned when RQ cleans its
registries. With Retry(max=NEWSPORTAL_TASK_ATTEMPTS - 1, interval=backoff)
RQ runs both again (`rqworker --with-scheduler` runs the delayed retries); a
killed worker's job is seen as abandoned once its heartbeat has expired
(RQ: the job monitoring interval + 60 s) by a worker's registry cleaning,
which every worker does when it starts and every 10 minutes.

`enqueue` is django-tasks-rq 0.12's, with `retry=` added to create_job.
"""

from __future__ import annotations

import django_rq
from django_tasks.base import TASK_MAX_PRIORITY, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq import Retry
from rq.job import Callback, JobStatus

from newsportal.tasks import attempts_allowed, retry_delays


def job_retry() -> Retry | None:
    if attempts_allowed() < 2:
        return None
    return Retry(max=attempts_allowed() - 1, interval=[max(0, round(d)) for d in retry_delays()])


class RetryingRQBackend(RQBackend):
    def enqueue(self, task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        task_result: TaskResult = TaskResult(
            task=task, id=get_random_id(), status=TaskResultStatus.READY, enqueued_at=None, started_at=None,
            last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs, backend=self.alias, errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path, args=args, kwargs=kwargs, job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback), on_success=Callback(success_callback),
            meta={"backend_name": self.alias}, retry=job_retry(),
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
        return task_result
