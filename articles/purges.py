"""Purging a shared cache in front (Varnish's xkey) when content keys change.

`articles.content_keys` sends `keys_changed` after each write commits, with
the keys it changed (`*`: everything). When `NEWSPORTAL_PURGE_URLS` names
cache nodes, the receiver here enqueues `purge_keys` (Django's task API: the
worker sends it; the immediate backend sends it in the writing request). The
task sends each node `PURGE` requests whose `xkey` header holds the keys,
space-separated, in batches that keep the header short (deploy/varnish/default.vcl
purges every object tagged with any of them); `*` is sent alone, and the VCL
bans everything.

The task first waits until every app process has seen the write: a process
reuses the content state it read for up to NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS,
and until then may still answer Varnish's refetch with the page it had. A node
that cannot be reached fails the task after the other nodes were sent their
purges, so the task backend's retries send them again (a purge is idempotent).

**Scheduled publication.** A scheduled article's time passing is no write, so
nothing is sent then (the app's own cache sees it by itself: content_keys,
"Scheduled publication"). So when a write's keys name an article (`a:<id>`)
that is now published with a later publication time, the receiver also
enqueues `purge_scheduled` to run at that time (the task's `run_after`: the
db worker and RQ's scheduler, `rqworker --with-scheduler`, both honour it; the
immediate backend cannot defer, and then Varnish's TTL is the bound). At its
time the task purges the article's keys as they are then. A schedule moved
later has its own task at the new time, and the old one, finding the article
not yet due, sends nothing; one moved earlier or cancelled leaves at most an
extra purge, which is harmless.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from .content_keys import EVERYTHING, keys_of_articles

logger = logging.getLogger(__name__)

MAX_HEADER_CHARS = 4000  # Varnish's default limit for a request header line is 8 KiB
TIMEOUT_SECONDS = 5
# How early a scheduled purge may start: RQ's scheduler keeps run times in whole seconds and
# looks every second, so it may start a job up to ~1 s before its time (it then waits).
EARLY_SECONDS = 2.0


def batches(keys: Iterable[str], limit: int = MAX_HEADER_CHARS) -> Iterator[str]:
    """The keys as header values (space-separated) of at most `limit` characters each; `*` alone."""
    keys = sorted(set(keys))
    if EVERYTHING in keys:
        yield EVERYTHING
        return
    batch: list[str] = []
    length = 0
    for key in keys:
        if batch and length + 1 + len(key) > limit:
            yield " ".join(batch)
            batch, length = [], 0
        length += len(key) + (1 if batch else 0)
        batch.append(key)
    if batch:
        yield " ".join(batch)


def send_purge(url: str, header: str) -> int:
    """One PURGE request to a cache node; returns its status (raises OSError when unreachable)."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("PURGE", parts.path or "/", headers={"xkey": header})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@task()
def purge_keys(keys: list[str], changed_at: float | None = None) -> dict:
    """Send xkey purges of `keys` to every node in NEWSPORTAL_PURGE_URLS; returns the requests sent and failed."""
    urls = settings.NEWSPORTAL_PURGE_URLS
    if changed_at is not None:
        wait = changed_at + settings.NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS - time.time()
        if wait > 0:
            time.sleep(min(wait, 1.0))
    sent, failures = 0, []
    headers = list(batches(keys))
    for url in urls:
        for header in headers:
            try:
                status = send_purge(url, header)
            except OSError as error:
                failures.append(f"{url}: {error}")
                break  # this node is down: on to the next
            if status >= 400:
                failures.append(f"{url}: HTTP {status}")
                break
            sent += 1
    if failures:
        raise RuntimeError(f"purges failed ({len(failures)} of {len(urls)} nodes): " + "; ".join(failures))
    return {"nodes": len(urls), "requests": sent}


@task()
def purge_scheduled(article_id: int, published_at: str) -> dict:
    """At a scheduled article's publication time (`published_at`, ISO 8601, as scheduled): purge
    its keys, unless it is no longer published or its time was moved later (that time has its own task)."""
    from .models import Article

    article = Article.objects.filter(pk=article_id, status=Article.Status.PUBLISHED).first()
    early = None if article is None else (article.published_at - timezone.now()).total_seconds()
    if early is None or early > EARLY_SECONDS:  # cancelled, or moved later (that time has its own task)
        return {"article": article_id, "scheduled": published_at, "purged": False}
    if early > 0:
        time.sleep(early)
    # Sent once every app process has seen the publication come due (purge_keys waits for it).
    result = purge_keys.call(sorted(keys_of_articles([article_id])), article.published_at.timestamp())
    return {"article": article_id, "scheduled": published_at, "purged": True, **result}


def scheduled_articles(keys: frozenset[str]) -> list[tuple[int, dt.datetime]]:
    """The articles these keys name (`a:<id>`) that are published with a publication time still to come."""
    from .models import Article

    ids = [int(key[2:]) for key in keys if key.startswith("a:") and key[2:].isdigit()]
    if not ids:
        return []
    return list(Article.objects.filter(pk__in=ids, status=Article.Status.PUBLISHED,
                                       published_at__gt=timezone.now())
                .order_by("pk").values_list("pk", "published_at"))


def schedule_purges(keys: frozenset[str]) -> int:
    """Enqueue `purge_scheduled` at the time of each scheduled article these keys name; returns how many."""
    scheduled = scheduled_articles(keys)
    if scheduled and not purge_scheduled.get_backend().supports_defer:
        logger.warning("the task backend cannot run tasks later: %d scheduled articles reach the cache in "
                       "front only when its pages expire", len(scheduled))
        return 0
    for pk, published_at in scheduled:
        purge_scheduled.using(run_after=published_at).enqueue(pk, published_at.isoformat())
    return len(scheduled)


def on_keys_changed(sender, keys, **kwargs) -> None:
    """keys_changed's receiver: enqueue the purge, when there are nodes to purge (and those of
    the scheduled articles written, at their time)."""
    if not settings.NEWSPORTAL_PURGE_URLS or not keys:
        return
    if EVERYTHING in keys:
        purge_keys.enqueue([EVERYTHING], time.time())
        return
    purge_keys.enqueue(sorted(keys), time.time())
    schedule_purges(keys)


def connect() -> None:
    from .content_keys import keys_changed

    keys_changed.connect(on_keys_changed, dispatch_uid="articles.purges")
