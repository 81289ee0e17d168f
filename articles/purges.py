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
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django_tasks import task

from .content_keys import EVERYTHING

MAX_HEADER_CHARS = 4000  # Varnish's default limit for a request header line is 8 KiB
TIMEOUT_SECONDS = 5


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


def on_keys_changed(sender, keys, **kwargs) -> None:
    """keys_changed's receiver: enqueue the purge, when there are nodes to purge."""
    if not settings.NEWSPORTAL_PURGE_URLS or not keys:
        return
    keys = [EVERYTHING] if EVERYTHING in keys else sorted(keys)
    purge_keys.enqueue(keys, time.time())


def connect() -> None:
    from .content_keys import keys_changed

    keys_changed.connect(on_keys_changed, dispatch_uid="articles.purges")
