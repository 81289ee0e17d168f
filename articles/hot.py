"""热门: which published articles readers opened most in the last hours, counted without cookies.

**Counting.** An article page loads `static/js/hit.js`, which sends
`navigator.sendBeacon("/hit/<id>/")` (a POST with no body and no cookie the
site set: the page itself stays cached whole, for every reader alike). The
beacon view (`articles.views.hit`) calls `count_hit`, which ignores bots (by
User-Agent), unknown and unpublished ids, and a second read of the same article
from the same address within `NEWSPORTAL_HOT_DEDUPE_SECONDS` (the address is
kept only as a salted hash in the cache, for that window), then adds one to a
counter in the cache: `cache.incr`, atomic in Redis. No database write.

**Counters.** Counts are kept per *epoch* (`NEWSPORTAL_HOT_FLUSH_SECONDS`,
60 s): `hot:n:<epoch>:<article id>`. The first read of an article in an epoch
also takes the next slot number of that epoch (`hot:seq:<epoch>`, another
`incr`) and writes its id there (`hot:slot:<epoch>:<n>`), so the flush can
find every counter through the cache's plain get/set/incr API (which cannot
list keys). An epoch is closed once the next one has begun: nothing adds to it
after (but a process whose clock is behind), so a flush reads it whole and
drops its keys, without decrements.

**Flushing.** `flush_hits()` adds each closed epoch's counts to
`ArticleHits` (one row per article and hour), in one transaction, then drops
the epochs' keys. It runs at most once per epoch: the first beacon of an epoch
starts it. The counters live in `CACHES["hot"]` (newsportal/settings.py): the
shared Redis cache when `CACHE_URL` is Redis, and then the flush is the task
`articles.hot.flush_task`, run by the task worker (`db_worker`, `rqworker`; the
immediate backend runs it at once); otherwise a local-memory cache of their own
in each process (the embedded setup; apart from the page cache, so readers'
keys never push pages out), and each process flushes its own counters itself,
inside that beacon request, since a worker could not see them. No cron job.

**What pages see.** `ArticleHits` is bookkeeping: its writes change no
content key by themselves (no page is invalidated). A flush records the one
key `hot` (shown by the home page's 热门 block and `/hot/`) at most every
`NEWSPORTAL_HOT_REFRESH_SECONDS` (300 s), and then recomputes the list that
those pages show; so the cached home page is rendered again at most that often
because of reads. The list itself (`hot_ids`) is kept in the cache for that
long too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections import defaultdict

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django_tasks import task

from articles import content_keys
from articles.client_ip import client_ip
from articles.models import Article, ArticleHits

logger = logging.getLogger(__name__)

HOT_KEY = "hot"  # the content key of the hot lists (articles.content_keys)
HOME_LIMIT = 10
PAGE_LIMIT = 30
# Closed epochs a flush looks back over when it does not know which it flushed last
# (a new process, a cache that lost the mark); older counters have expired.
MAX_BACKLOG_EPOCHS = 120

# Crawlers, link previewers, monitors and scripted clients: not readers. Most never run the
# page's script, but headless browsers and previewers do.
BOT_AGENTS = re.compile(
    r"bot|crawl|spider|slurp|archiver|fetch|preview|monitor|headless|lighthouse|pingdom|curl|wget"
    r"|python|httpx|java/|go-http|okhttp|node-fetch|axios|scrapy|phantomjs|facebookexternalhit",
    re.IGNORECASE)


def _cache() -> BaseCache:
    """The counters' cache (settings.CACHES["hot"]): the default cache when that is shared (Redis);
    else a local-memory cache of its own, so that the readers' dedupe keys and counters never
    push cached pages out of the page cache's entries. Settings without it: the default cache."""
    return caches["hot" if "hot" in settings.CACHES else "default"]


def _epoch_seconds() -> int:
    return max(1, int(settings.NEWSPORTAL_HOT_FLUSH_SECONDS))


def _counter_ttl() -> int:
    return _epoch_seconds() * MAX_BACKLOG_EPOCHS


def _epoch(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // _epoch_seconds())


def is_bot(user_agent: str) -> bool:
    """A client that is not a reader: no User-Agent, or one naming a crawler or a script."""
    return not user_agent or BOT_AGENTS.search(user_agent) is not None


def is_countable(article_id: int) -> bool:
    """A published article (one indexed lookup): drafts, scheduled and unknown ids are not counted."""
    return Article.objects.published().filter(pk=article_id).exists()


def _first_from(request: HttpRequest, article_id: int) -> bool:
    """Whether this is the address's first read of the article in the dedupe window.

    The address is stored only as a hash salted with the secret key, and only for the window.
    """
    window = int(settings.NEWSPORTAL_HOT_DEDUPE_SECONDS)
    if window <= 0:
        return True
    digest = hashlib.blake2b(f"{client_ip(request)}|{article_id}".encode(), digest_size=12,
                             key=settings.SECRET_KEY.encode()[:64]).hexdigest()
    return _cache().add(f"hot:seen:{digest}", 1, window)


def _incr(key: str) -> int:
    """Add one to a counter, creating it (atomic in Redis; locmem holds a lock)."""
    try:
        return _cache().incr(key)
    except ValueError:  # not there yet; another request may create it first
        if _cache().add(key, 1, _counter_ttl()):
            return 1
        return _cache().incr(key)


def add_hit(article_id: int, now: float | None = None) -> None:
    """Count one read of the article in the current epoch (the cache only)."""
    epoch = _epoch(now)
    if _cache().add(f"hot:n:{epoch}:{article_id}", 1, _counter_ttl()):
        # The first read of this article in the epoch: put its id in the epoch's next slot.
        slot = _incr(f"hot:seq:{epoch}")
        _cache().set(f"hot:slot:{epoch}:{slot}", article_id, _counter_ttl())
    else:
        _incr(f"hot:n:{epoch}:{article_id}")


def count_hit(request: HttpRequest, article_id: int) -> bool:
    """The beacon's work: count a reader's read of a published article; True if counted."""
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return False
    if not is_countable(article_id) or not _first_from(request, article_id):
        return False
    add_hit(article_id)
    schedule_flush()
    return True


def cache_is_per_process() -> bool:
    """The local-memory cache: every process has its own counters, seen by no worker."""
    return isinstance(_cache(), LocMemCache)


def schedule_flush(now: float | None = None) -> None:
    """Start a flush if none was started in this epoch (the first beacon of each epoch does)."""
    if not _cache().add(f"hot:flush-due:{_epoch(now)}", 1, _epoch_seconds() * 2):
        return
    if cache_is_per_process():
        try:
            flush_hits(now)
        except Exception:  # a reader's beacon never fails for the counts; the next epoch tries again
            logger.exception("flushing read counts failed")
        return
    try:
        flush_task.enqueue(now)
    except Exception:  # the queue unreachable (Redis down): the counters wait for the next epoch
        logger.exception("could not enqueue the read counts' flush")


def _hour_of(epoch: int) -> dt.datetime:
    start = epoch * _epoch_seconds()
    return dt.datetime.fromtimestamp(start - start % 3600, dt.timezone.utc)


def _read_epochs(epochs: range) -> tuple[dict[tuple[int, dt.datetime], int], list[str]]:
    """The counts of these (closed) epochs by article id and hour, and the cache keys they are in."""
    seqs = _cache().get_many([f"hot:seq:{epoch}" for epoch in epochs])  # one round trip for the backlog
    totals: dict[tuple[int, dt.datetime], int] = defaultdict(int)
    keys = list(seqs)
    for epoch in epochs:
        slots = seqs.get(f"hot:seq:{epoch}") or 0
        if not slots:
            continue
        slot_keys = [f"hot:slot:{epoch}:{n}" for n in range(1, slots + 1)]
        ids = [pk for pk in _cache().get_many(slot_keys).values() if isinstance(pk, int)]
        count_keys = {f"hot:n:{epoch}:{pk}": pk for pk in ids}
        for key, n in _cache().get_many(list(count_keys)).items():
            if n:
                totals[(count_keys[key], _hour_of(epoch))] += n
        keys += [*slot_keys, *count_keys]
    return totals, keys


def flush_hits(now: float | None = None) -> int:
    """Add the closed epochs' counts to `ArticleHits`; returns how many reads were written.

    One flush at a time (a lock in the cache). Every closed epoch still in the
    cache is read (the backlog is MAX_BACKLOG_EPOCHS: a flush missed, a process
    whose clock is behind) and its keys dropped after the commit, so an epoch
    is added once. Safe to run often.
    """
    current = _epoch(now)
    if not _cache().add("hot:flush-lock", 1, 300):
        return 0
    try:
        # The closed epochs: the current one is still counting.
        totals, keys = _read_epochs(range(current - MAX_BACKLOG_EPOCHS, current))
        written = _write(totals)
        _cache().delete_many(keys)
        if written:
            refresh_hot(now)
        return written
    finally:
        _cache().delete("hot:flush-lock")


def _write(totals: dict[tuple[int, dt.datetime], int]) -> int:
    """Add the counts to their rows (made where missing), published articles only, in one transaction."""
    if not totals:
        return 0
    published = set(Article.objects.published().filter(pk__in={pk for pk, _hour in totals})
                    .values_list("pk", flat=True))
    totals = {key: n for key, n in totals.items() if key[0] in published}
    # Rows with the same hour and count are added to by one UPDATE: mostly 1s and 2s.
    groups: dict[tuple[dt.datetime, int], list[int]] = defaultdict(list)
    for (pk, hour), n in totals.items():
        groups[(hour, n)].append(pk)
    with transaction.atomic():
        ArticleHits.objects.bulk_create([ArticleHits(article_id=pk, hour=hour, count=0) for pk, hour in totals],
                                        ignore_conflicts=True)
        for (hour, n), ids in groups.items():
            ArticleHits.objects.filter(hour=hour, article_id__in=ids).update(count=F("count") + n)
    return sum(totals.values())


def refresh_hot(now: float | None = None, *, force: bool = False) -> bool:
    """Record the `hot` key and recompute the hot list, at most every NEWSPORTAL_HOT_REFRESH_SECONDS.

    Only pages showing `hot` (the home page, /hot/) are rendered again.
    """
    if not force and not _cache().add("hot:refreshed", 1, int(settings.NEWSPORTAL_HOT_REFRESH_SECONDS)):
        return False
    with transaction.atomic():
        content_keys.record([HOT_KEY])
    _cache().set("hot:ids", _compute_hot_ids(now), int(settings.NEWSPORTAL_HOT_REFRESH_SECONDS))
    return True


@task()
def flush_task(now: float | None = None) -> int:
    """The flush as a background task (a shared cache: the worker sees the web processes' counters).

    `now`: the time the beacon that enqueued it was counted (the epochs closed then).
    """
    return flush_hits(now)


def _compute_hot_ids(now: float | None = None) -> list[int]:
    since = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.timezone.utc) \
        - dt.timedelta(hours=int(settings.NEWSPORTAL_HOT_HOURS))
    since -= dt.timedelta(minutes=since.minute, seconds=since.second, microseconds=since.microsecond)
    return list(Article.objects.published().filter(hits__hour__gte=since)
                .annotate(reads=Sum("hits__count")).order_by("-reads", "-published_at", "-pk")
                .values_list("pk", flat=True)[:PAGE_LIMIT])


def hot_ids() -> list[int]:
    """The ids of the most-read published articles of the last NEWSPORTAL_HOT_HOURS, most read first.

    Kept in the cache for NEWSPORTAL_HOT_REFRESH_SECONDS (recomputed when the flush records `hot`).
    """
    ids = _cache().get("hot:ids")
    if ids is None:
        ids = _compute_hot_ids()
        _cache().set("hot:ids", ids, int(settings.NEWSPORTAL_HOT_REFRESH_SECONDS))
    return ids


def hot_articles(limit: int = HOME_LIMIT) -> list[Article]:
    """The hot list for a page (still published, in order); the page shows `hot` and their `a:` keys."""
    ids = hot_ids()[:limit]
    by_id = Article.objects.published().select_related("author").in_bulk(ids)
    articles = [by_id[pk] for pk in ids if pk in by_id]
    content_keys.show(HOT_KEY, *(f"a:{article.pk}" for article in articles))
    return articles
