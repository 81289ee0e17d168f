"""Prometheus metrics at /metrics, when NEWSPORTAL_METRICS=1 (#20 C; docs/DEPLOY.md, "Metrics").

Requests: django-prometheus's middleware (counts and latency histograms by view,
method and status: `django_http_requests_total_by_view_transport_method`,
`django_http_requests_latency_seconds_by_view_method`, …), its per-view half
(`PrometheusAfterMiddleware` below) counting the page cache's hits under their view
too. Ours, in the same export:

- `newsportal_page_cache_requests_total{result="hit"|"miss"}`: public pages answered
  from the page cache or rendered (the `X-Cache` header articles.page_cache sets);
- `newsportal_import_runs{status}`: import runs recorded, by status;
  `newsportal_import_files{outcome}`: the files of finished runs (created, updated,
  unchanged, kept_local_edits, failed); `newsportal_import_last_finished_timestamp_seconds`;
- `newsportal_task_queue_depth{backend}`: tasks waiting for a worker, ready now
  (db: the task table; rq: the Redis queue).

The last three are read from the database (or RQ) when Prometheus scrapes, so every
app server reports the same numbers, whichever worker answers. Request counters live
in each process: under gunicorn, set PROMETHEUS_MULTIPROC_DIR (prometheus_client's
multi-process mode) so that a scrape sums every worker's.

`MetricsMiddleware` answers /metrics before host validation (Prometheus scrapes by
address), and only to NEWSPORTAL_METRICS_ALLOWED (addresses or networks; loopback by
default; a request through a proxy is judged by the client behind it); anyone else gets
a 404, as if there were no such page. This module is only
imported when metrics are on.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterator

import django_prometheus.middleware

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from articles.client_ip import address_listed, client_ip

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

PAGE_CACHE = Counter("newsportal_page_cache_requests", "Public pages answered from the page cache (hit) or "
                     "rendered (miss).", ["result"])

IMPORT_OUTCOMES = ("created", "updated", "unchanged", "kept_local_edits", "failed")


class ContentCollector(Collector):
    """Imports and the task queue, read from the database (or RQ) at each scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._imports()
            yield from self._task_queue()
        except Exception:  # a scrape while the database is down: the request metrics still answer
            logger.warning("metrics: could not read imports or the task queue", exc_info=True)

    def _imports(self) -> Iterator[Metric]:
        from articles.models import ImportRun

        runs = GaugeMetricFamily("newsportal_import_runs", "Import runs recorded, by status.", labels=["status"])
        by_status = dict(ImportRun.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        for status in ImportRun.Status.values:
            runs.add_metric([status], by_status.get(status, 0))
        yield runs
        finished = ImportRun.objects.exclude(status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING])
        totals = finished.aggregate(**{name: Sum(name) for name in IMPORT_OUTCOMES}, last=Max("finished_at"))
        files = GaugeMetricFamily("newsportal_import_files", "Files of the finished import runs, by outcome.",
                                  labels=["outcome"])
        for name in IMPORT_OUTCOMES:
            files.add_metric([name], totals[name] or 0)
        yield files
        if totals["last"] is not None:
            yield GaugeMetricFamily("newsportal_import_last_finished_timestamp_seconds",
                                    "When the last import run ended (Unix time).", value=totals["last"].timestamp())

    def _task_queue(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("newsportal_task_queue_depth", "Tasks waiting for a worker, ready to run.",
                                  labels=["backend"])
        backend = settings.NEWSPORTAL_TASK_BACKEND
        if backend == "db":
            from django_tasks_db.models import DBTaskResult

            depth.add_metric([backend], DBTaskResult.objects.ready().count())
        elif backend == "rq":
            import django_rq

            depth.add_metric([backend], sum(django_rq.get_queue(name).count for name in settings.RQ_QUEUES))
        yield depth


_content = CollectorRegistry(auto_describe=False)
_content.register(ContentCollector())


def export() -> bytes:
    """The text exposition: the request metrics (every gunicorn worker's in multi-process mode) and ours."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_content)


def may_scrape(request: HttpRequest) -> bool:
    """Whether the client is in NEWSPORTAL_METRICS_ALLOWED. A request forwarded by a proxy (nginx on
    loopback: its peer address is allowed) is judged by the client behind it, and refused when that
    client cannot be told (NEWSPORTAL_TRUSTED_PROXIES unset): else anyone could scrape through nginx."""
    peer = request.META.get("REMOTE_ADDR", "")
    client = client_ip(request)
    if "HTTP_X_FORWARDED_FOR" in request.META and client == peer:
        return False
    return address_listed(client, settings.NEWSPORTAL_METRICS_ALLOWED)  # the list parsed once per process


class PrometheusAfterMiddleware(django_prometheus.middleware.PrometheusAfterMiddleware):
    """django-prometheus' per-view half, counting page-cache hits under their view too.

    It sits outside articles.page_cache.CachedPageMiddleware (settings.py), which answers
    hits before Django resolves the URL or calls a view: it sets request.resolver_match
    from the resolution it has memoised anyway, so the status and latency metrics name
    the view; and since no view runs, process_view does not count the request by view:
    process_response does it here instead. Nothing is resolved a second time."""

    def process_view(self, request: HttpRequest, view_func: Callable, *view_args: Any, **view_kwargs: Any) -> None:
        request._counted_by_view = True
        return super().process_view(request, view_func, *view_args, **view_kwargs)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "resolver_match", None) is not None and not getattr(request, "_counted_by_view", False):
            self.label_metric(self.metrics.requests_by_view_transport_method, request,
                              view=request.resolver_match.view_name or "<unnamed view>",
                              transport=self._transport(request), method=self._method(request)).inc()
        return super().process_response(request, response)


class MetricsMiddleware:
    """/metrics for the allowed addresses; counts the page cache's hits and misses of every other response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH:
            if not may_scrape(request):
                response = HttpResponse(b"Not Found", status=404, content_type="text/plain")
            else:
                response = HttpResponse(export(), content_type=CONTENT_TYPE_LATEST)
            response["Cache-Control"] = "no-store"
            response._has_been_logged = True  # not a "Not Found" line a scrape
            return response
        response = self.get_response(request)
        result = response.get("X-Cache")
        if result in ("hit", "miss"):
            PAGE_CACHE.labels(result).inc()
        return response
