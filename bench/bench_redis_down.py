#!/usr/bin/env python
"""Redis down benchmark (#20): what a reader waits when the cache's Redis is up, stopped or hung.

Run from the project root:

    .venv/bin/python bench/bench_redis_down.py [--count 300] [--requests 200]

Builds (once, kept in bench/out/) a database of --count generated articles, as
bench/bench_pages.py does, then, in a child process per state (its own settings,
CACHE_URL=redis://…, newsportal.cache.TolerantRedisCache with the default timeouts:
connect 0.25 s, answer 0.5 s), requests the home page, an article page and the API's
list through Django's whole handler (django.test.Client), cycling over them:

  up       a redis-server of our own on a loopback port (Debian's package)
  stopped  a loopback port nobody listens on (connection refused)
  hung     a loopback port that accepts connections and never answers

It prints the first request's time (the one that meets the failure), then p50/p95/max
of the rest, in milliseconds, and writes bench/out/bench-redis-down-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import OUT_DIR, _env, build  # noqa: E402
from bench.servers import free_port  # noqa: E402


def measure(requests: int) -> dict[str, Any]:
    """In this process (the child): the first request, then the rest."""
    import django

    django.setup()
    from django.test import Client

    from articles.models import Article

    article = Article.objects.published().order_by("-published_at").first()
    urls = ["/", article.get_absolute_url(), "/api/v1/articles/"]
    client = Client()
    samples = []
    for n in range(requests + 1):
        start = time.perf_counter()
        response = client.get(urls[n % len(urls)])
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (urls[n % len(urls)], response.status_code)
    rest = sorted(samples[1:])
    return {"first_ms": round(samples[0], 1), "p50_ms": round(statistics.median(rest), 1),
            "p95_ms": round(rest[int(len(rest) * 0.95)], 1), "max_ms": round(rest[-1], 1), "n": len(rest)}


def child(env: dict[str, str], requests: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", "--requests", str(requests)], cwd=ROOT, env=env,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.requests)))
        return 0
    server = shutil.which("redis-server")
    if server is None:
        print("redis-server is not installed (Debian package redis-server)", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    database = OUT_DIR / f"pages-{args.count}.sqlite3"
    database_url = f"sqlite:///{database}"
    build(database_url, OUT_DIR / f"pages-{args.count}.imported", args.count)

    results: dict[str, Any] = {}
    port = free_port()
    redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # bounded wait for it to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        results["up"] = child({**_env(database_url), "CACHE_URL": f"redis://127.0.0.1:{port}/0"}, args.requests)
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    results["stopped"] = child({**_env(database_url), "CACHE_URL": f"redis://127.0.0.1:{free_port()}/0"},
                               args.requests)
    listener = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody ever answers
    try:
        results["hung"] = child({**_env(database_url), "CACHE_URL": f"redis://127.0.0.1:{listener.getsockname()[1]}/0"},
                                args.requests)
    finally:
        listener.close()
    for state, figures in results.items():
        print(f"{state:8} first {figures['first_ms']:7.1f} ms   p50 {figures['p50_ms']:6.1f}   "
              f"p95 {figures['p95_ms']:6.1f}   max {figures['max_ms']:7.1f}   (n={figures['n']})")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"bench-redis-down-{stamp}.json").write_text(json.dumps(
        {"count": args.count, "requests": args.requests, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
