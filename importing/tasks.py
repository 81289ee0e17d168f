"""Admin uploads imported by a task worker (Django's task framework: newsportal/settings.py, "Background tasks").

The upload request checks the files (importing.upload: limits, archives,
names), stores them in the import spool (`spool_storage`: a private folder,
NEWSPORTAL_IMPORT_SPOOL_DIR, never MEDIA, which is public), records the
ImportRun as "queued" with who asked, the files' names and the options, and
enqueues `import_upload(run_id)` once that commits. The request answers at
once; the run's admin page shows its progress and result (editorial.import_admin).

The task turns the stored files back into an importing.upload.UploadSource —
the same staging and the same `upload:<name>` names as an import in the
request, so uploading a file again is still "unchanged" — and runs
importing.service.run_import on that ImportRun. It is safe to run twice: a run
already finished is left alone, and one left "running" by a killed worker is
imported again (a re-import writes only what differs). The stored files are
removed when the run has finished, or failed for good (its last attempt).

A task that fails for good without its run knowing (its worker killed on the
last attempt: newsportal.tasks gives up on it) is noticed when the run is
looked at (`settle_from_task`): the run is marked failed with the task's error.
"""

from __future__ import annotations

import logging
import socket
from typing import Sequence

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.db import transaction
from django_tasks import TaskContext, TaskResultStatus, default_task_backend, task
from django_tasks.exceptions import TaskResultDoesNotExist

from articles.models import ImportRun
from articles.task_queue import QueueUnavailable, enqueue
from importing.runs import mark_interrupted_runs
from importing.service import ImportOptions, run_import
from importing.upload import Upload, UploadLimits, UploadRejected, UploadSource, inspect_upload

log = logging.getLogger(__name__)

FINISHED = (ImportRun.Status.SUCCEEDED, ImportRun.Status.WITH_ERRORS)


def spool_storage() -> Storage:
    """Where uploads wait for their task: NEWSPORTAL_IMPORT_SPOOL_DIR (shared by every server and worker)."""
    # Unpublished posts: readable by the app's user alone.
    return FileSystemStorage(location=settings.NEWSPORTAL_IMPORT_SPOOL_DIR,
                             file_permissions_mode=0o600, directory_permissions_mode=0o700)


def spooled_names(run: ImportRun) -> list[str]:
    """The stored files of `run`, one per uploaded file, in the order of `run.sources`."""
    return [f"{run.pk}-{number}" for number in range(len(run.sources))]


def queue_upload(source: UploadSource, options: ImportOptions, user) -> ImportRun:
    """Store the checked uploads, record their run as queued and enqueue its import after commit.

    A queue that cannot be reached raises QueueUnavailable, the run recorded as failed and its
    files removed."""
    storage = spool_storage()
    stored: list[str] = []
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                origin=source.origin, status=ImportRun.Status.QUEUED,
                user=user if user is not None and user.is_authenticated else None,
                sources=source.sources, time_zone=options.default_time_zone,
                overwrite_edited=options.overwrite_edited, dry_run=options.dry_run,
            )
            for upload, name in zip(source.uploads, spooled_names(run)):
                upload.file.seek(0)
                stored.append(storage.save(name, upload.file))
            transaction.on_commit(lambda: _enqueue(run))
    except BaseException:
        for name in stored:  # the run was rolled back: its files must not wait for ever
            storage.delete(name)
        raise
    return run


def _enqueue(run: ImportRun) -> None:
    try:
        result = enqueue(import_upload, run.pk)
    except QueueUnavailable as exc:
        # No task will ever import it: the run says so (not "queued" for ever), and its files go.
        _fail(run, f"the import could not be queued ({exc}); nothing was imported: upload the files again")
        delete_spooled(run)
        raise
    ImportRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    run.task_id = str(result.id)


@task(takes_context=True)
def import_upload(context: TaskContext, run_id: int) -> dict | None:
    """Import the upload queued as ImportRun `run_id`; returns its counts (None: nothing to do)."""
    run = ImportRun.objects.filter(pk=run_id, origin=ImportRun.Origin.UPLOAD).first()
    if run is None:
        return None  # deleted by a superuser meanwhile
    if run.status in FINISHED:
        delete_spooled(run)  # a retry after the import had finished: nothing to redo
        return None
    mark_interrupted_runs()  # this run, if a killed worker of this host left it "running"
    run.refresh_from_db()
    if run.status == ImportRun.Status.RUNNING and run.host == socket.gethostname():
        return None  # a live process of this host runs it right now
    # "running" on another host: the task framework has given up on that worker (lost).
    try:
        source = spooled_source(run)
    except FileNotFoundError as exc:
        _fail(run, f"the uploaded files are gone from the import spool ({exc}); upload them again")
        return None
    options = ImportOptions(time_zone=run.time_zone, overwrite_edited=run.overwrite_edited,
                            max_bytes=source.limits.post_bytes, workers=0)
    try:
        report = run_import(source, options, user=run.user, run=run)
    except BaseException:
        # run_import has marked the run failed with the reason. If attempts remain, the
        # worker runs the task again later, with the files still there: the run waits.
        if _last_attempt(context):
            delete_spooled(run)
        else:
            _wait_for_retry(run, context.attempt)
        raise
    finally:
        for upload in source.uploads:
            upload.file.close()
    delete_spooled(run)
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "failed": report.failed}


def _wait_for_retry(run: ImportRun, attempt: int) -> None:
    run.refresh_from_db(fields=["status", "failure_reason"])
    ImportRun.objects.filter(pk=run.pk, status=run.status).update(
        status=ImportRun.Status.QUEUED, finished_at=None,
        failure_reason=f"attempt {attempt} of {_attempts_allowed()} failed ({run.failure_reason}); "
                       "it will be tried again")


def _attempts_allowed() -> int:
    from newsportal.tasks import attempts_allowed

    return attempts_allowed()


def _last_attempt(context: TaskContext) -> bool:
    # The immediate backend (no worker) runs a task once and never again.
    return context.attempt >= _attempts_allowed() or settings.NEWSPORTAL_TASK_BACKEND == "immediate"


def spooled_source(run: ImportRun) -> UploadSource:
    """The run's stored files, checked again (to find each archive's posts), as the upload's source."""
    storage = spool_storage()
    limits = UploadLimits.from_settings()
    uploads: list[Upload] = []
    try:
        for display, name in zip(run.sources, spooled_names(run)):
            file = File(storage.open(name, "rb"), name=display)
            try:
                uploads.append(inspect_upload(file, limits))
            except UploadRejected:
                file.close()
                raise  # checked in the request already: the file changed in the spool
    except BaseException:
        for upload in uploads:
            upload.file.close()
        raise
    return UploadSource(uploads, limits)


def delete_spooled(run: ImportRun) -> None:
    """Remove the run's stored files (those already gone are fine)."""
    storage = spool_storage()
    for name in spooled_names(run):
        storage.delete(name)


def _fail(run: ImportRun, reason: str) -> None:
    from django.utils import timezone

    ImportRun.objects.filter(pk=run.pk).exclude(status__in=FINISHED).update(
        status=ImportRun.Status.FAILED, failure_reason=reason, finished_at=timezone.now())
    run.refresh_from_db()


def settle_from_task(run: ImportRun) -> ImportRun:
    """An upload's run whose task failed for good, recorded as failed with the task's error.

    Its worker may have been killed on the last attempt: then the task is
    failed (newsportal.tasks) but the run still says queued, running or
    interrupted. Cheap: one look-up of the task, for runs not finished only.
    """
    if run.origin != ImportRun.Origin.UPLOAD or not run.task_id or run.status in FINISHED:
        return run
    try:
        result = default_task_backend.get_result(run.task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return run
    if result.status == TaskResultStatus.READY and run.status == ImportRun.Status.INTERRUPTED:
        # Its worker was killed and the task given back (newsportal.tasks): it runs again,
        # so the run waits again rather than asking for a re-run by hand.
        ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.INTERRUPTED).update(
            status=ImportRun.Status.QUEUED, failure_reason=f"{run.failure_reason}; it will be tried again")
        run.refresh_from_db()
        return run
    if result.status != TaskResultStatus.FAILED:
        return run
    error = result.errors[-1] if result.errors else None
    reason = error.exception_class_path.rsplit(".", 1)[-1] if error else "the task failed"
    last_line = error.traceback.strip().splitlines()[-1] if error and error.traceback.strip() else ""
    if run.status != ImportRun.Status.FAILED or not run.failure_reason:
        _fail(run, f"the import task failed for good: {last_line or reason}")
    delete_spooled(run)
    return run


def settle_runs(runs: Sequence[ImportRun]) -> None:
    for run in runs:
        if run.in_progress or run.status == ImportRun.Status.INTERRUPTED:
            settle_from_task(run)
