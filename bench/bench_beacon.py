#!/usr/bin/env python
"""Beacon benchmark (#18, 热门): what counting a read costs, and what the beacon costs an article page.

Run from the project root:

    .venv/bin/python bench/bench_beacon.py [--count 2000] [--requests 2000] [--redis]

Builds (once, kept in bench/out/) a database of --count generated articles, as
bench/bench_pages.py does, then measures:

  in-process   POST /hit/<id>/ through Django's full handler and middleware
               (django.test.Client, DEBUG off), each from a new address (so each
               is counted: the dedupe key, the counter, the slot), and
               `articles.hot.count_hit` alone; a cached article page (a reader's
               page-cache hit) with the beacon's script and without it
               (`ArticleDetailView.counts_reads = False`)
  over HTTP    the same against gunicorn (2 sync workers) on a loopback port:
               one request a connection, sequential, client time
  --redis      also with CACHE_URL at a redis-server of our own (Debian's
               package) on a loopback port

p50/p95 in milliseconds. Results are printed and written to bench/out/bench-beacon-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import OUT_DIR, _env, build  # noqa: E402
from bench.servers import free_port, wait_for  # noqa: E402

WARMUP = 20


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3), "n": len(ordered)}


def _timed(call, requests: int) -> dict[str, float]:
    samples = []
    for n in range(requests + WARMUP):
        start = time.perf_counter()
        call(n)
        if n >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def in_process(requests: int) -> dict[str, Any]:
    """Measured in this process (django.setup() with the environment of `_env`)."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client
    from django.test.client import RequestFactory

    from articles import hot
    from articles.models import Article
    from articles.views import ArticleDetailView

    ids = list(Article.objects.published().order_by("-published_at").values_list("pk", flat=True)[:500])
    article = Article.objects.get(pk=ids[0])
    client = Client()
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"

    def beacon(n: int) -> None:
        response = client.post(f"/hit/{ids[n % len(ids)]}/", REMOTE_ADDR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                               HTTP_USER_AGENT=agent)
        assert response.status_code == 204

    factory = RequestFactory()

    def count(n: int) -> None:
        request = factory.post("/hit/", REMOTE_ADDR=f"11.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                               HTTP_USER_AGENT=agent)
        assert hot.count_hit(request, ids[n % len(ids)])

    def page(n: int) -> None:
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200 and response["X-Cache"] == "hit"

    cache.clear()
    results = {"beacon (full handler)": _timed(beacon, requests), "count_hit alone": _timed(count, requests)}
    # The counters of the 2 × --requests reads above (500 articles, in the minutes the run took), written at once:
    # a far bigger batch than a minute's on most sites.
    start = time.perf_counter()
    flushed = hot.flush_hits(time.time() + 120)
    results["flush (every counter above, one flush)"] = {"reads written": flushed,
                                                         "ms": round((time.perf_counter() - start) * 1000, 1)}
    client.get(article.get_absolute_url())
    assert b"data-hit" in client.get(article.get_absolute_url()).content
    results["cached article page, with the beacon"] = _timed(page, requests)
    ArticleDetailView.counts_reads = False
    cache.clear()
    client.get(article.get_absolute_url())
    assert b"data-hit" not in client.get(article.get_absolute_url()).content
    results["cached article page, without the beacon"] = _timed(page, requests)
    ArticleDetailView.counts_reads = True
    return {"article": article.get_absolute_url(), "article_id": article.pk, "results": results}


def over_http(env: dict[str, str], article_url: str, article_id: int, requests: int, beacon_off: bool) -> dict:
    """gunicorn on loopback; one request a connection (the sync worker closes it), client-side time."""
    port = free_port()
    server_env = {**env, "NEWSPORTAL_HOT_DEDUPE_SECONDS": "0"}  # one client address: count every beacon
    if beacon_off:
        server_env["BENCH_NO_BEACON"] = "1"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "bench.beacon_wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=server_env)
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "Host": "127.0.0.1"}

        def request(method: str, path: str, status: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == status, (method, path, response.status)

        path = article_url  # already percent-encoded
        results = {"cached article page": _timed(lambda n: request("GET", path, 200), requests)}
        if not beacon_off:
            results["beacon"] = _timed(lambda n: request("POST", f"/hit/{article_id}/", 204), requests)
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


class RedisServer:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_child(env: dict[str, str], requests: int) -> dict:
    """The in-process figures, in a child process with this environment (its own settings)."""
    out = subprocess.run([sys.executable, __file__, "--child", "--requests", str(requests)], cwd=ROOT, env=env,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", action="store_true", help="also with a redis-server as the cache")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(in_process(args.requests)))
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    database = OUT_DIR / f"beacon-{args.count}.sqlite3"
    env = _env(f"sqlite:///{database}")
    build(env["DATABASE_URL"], database.with_suffix(".imported"), args.count)
    caches = {"locmem": "locmem://"}
    redis = None
    if args.redis:
        if shutil.which("redis-server") is None:
            raise SystemExit("redis-server not found (apt-get install redis-server)")
        redis = RedisServer()
        caches["redis"] = redis.url
    report: dict[str, Any] = {"count": args.count, "requests": args.requests, "when": dt.datetime.now().isoformat(),
                              "load": os.getloadavg(), "caches": {}}
    try:
        for name, url in caches.items():
            cache_env = {**env, "CACHE_URL": url}
            child = run_child(cache_env, args.requests)
            http_requests = max(200, args.requests // 4)
            figures = {"in-process": child["results"],
                       "http, beacon on": over_http(cache_env, child["article"], child["article_id"], http_requests,
                                                    beacon_off=False),
                       "http, beacon off": over_http(cache_env, child["article"], child["article_id"], http_requests,
                                                     beacon_off=True)}
            report["caches"][name] = figures
    finally:
        if redis is not None:
            redis.stop()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print("\n| cache | measured | p50 ms | p95 ms |\n|---|---|---:|---:|")
    for name, figures in report["caches"].items():
        for where, results in figures.items():
            for what, value in results.items():
                if "p50" in value:
                    print(f"| {name} | {where}: {what} | {value['p50']:.3f} | {value['p95']:.3f} |")
                else:
                    print(f"| {name} | {where}: {what} | {value} | |")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"bench-beacon-{args.count}-{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
