"""django-tasks-db's `db_worker`, with bounded retries and lost-worker recovery (newsportal/tasks.py).

Same command, same options (`manage.py db_worker --help`); this app comes
before django_tasks_db in INSTALLED_APPS, so its command is the one run. What
it adds: a worker id naming the machine and process, tasks of dead workers
given back when it starts, and a failed task made ready again after its
backoff while it has attempts left.
"""

from django_tasks_db.management.commands import db_worker as base

from newsportal import tasks


class Worker(base.Worker):
    def run(self) -> None:
        for task_id in tasks.recover_lost_tasks(self.backend_name):
            base.logger.warning("Task id=%s given back: its worker was lost", task_id)
        super().run()

    def run_task(self, db_task_result) -> None:
        super().run_task(db_task_result)
        tasks.retry_if_allowed(db_task_result)


class Command(base.Command):
    help = base.Command.help + " (with retries and lost-worker recovery: newsportal/tasks.py)"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=tasks.worker_id())

    def handle(self, *args, **options) -> None:
        original = base.Worker
        base.Worker = Worker  # the package's handle() builds base.Worker
        try:
            super().handle(*args, **options)
        finally:
            base.Worker = original
