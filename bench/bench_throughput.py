#!/usr/bin/env python
"""Throughput benchmark: cached pages under gunicorn against a static file of the same size.

Run from the project root, after bench/bench_pages.py has built its database:

    .venv/bin/python bench/bench_throughput.py [--count 100000] [--duration 10] [--connections 16] [--runs 3]

Starts gunicorn (2 sync workers) on a loopback port over bench/out/pages-N.sqlite3
with the default local-memory cache, warms each page, then runs wrk (Debian's
package) against home, a category and an article page, and against a file of
the home page's size served by whitenoise from the same server: the upper
bound for any page. Reports requests/s (median of --runs) and each page's
ratio to the static file. wrk shares the machine's cores with gunicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.servers import SECRET_KEY, free_port, gunicorn, stop, wrk  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default %(default)s)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install wrk)")
    database = OUT_DIR / f"pages-{args.count}.sqlite3"
    if not database.exists():
        raise SystemExit(f"{database} missing: run bench/bench_pages.py --count {args.count} first")
    static_root = OUT_DIR / "static"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": SECRET_KEY, "DJANGO_SETTINGS_MODULE": "newsportal.settings",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_STATIC_ROOT": str(static_root), "CACHE_URL": "locmem://",
           "DJANGO_SECURE_SSL_REDIRECT": "0"}  # plain HTTP, as behind a proxy that ends TLS
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The pages: found once through the app itself.
    finder = subprocess.run([sys.executable, "-c", (
        "import django, json; django.setup();"
        "from articles.models import Article, Category;"
        "from django.db.models import Count;"
        "c = Category.objects.filter(parent=None).annotate(n=Count('articles')).order_by('-n').first();"
        "a = Article.objects.published().order_by('-published_at')[1000];"
        "print(json.dumps([c.get_absolute_url(), a.get_absolute_url()]))")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    category, article = json.loads(finder.stdout.strip().splitlines()[-1])

    server = gunicorn(port, env)
    try:
        home_size = len(urllib.request.urlopen(base + "/").read())
        blob = static_root / f"bench-{home_size}.html"
        blob.write_bytes(b"x" * home_size)
        stop(server)  # restart: whitenoise lists STATIC_ROOT at start-up
        server = gunicorn(port, env)
        urls = {"static file (same size as home)": f"/static/{blob.name}", "home": "/",
                "category (top level)": category, "article": article}
        for url in urls.values():
            for _ in range(20):  # both workers' caches
                urllib.request.urlopen(base + url).read()
        results: dict[str, list[float]] = {name: [] for name in urls}
        for run in range(args.runs):
            for name, url in urls.items():
                results[name].append(wrk(base + url, args.duration, args.connections))
                print(f"run {run + 1}: {name:34} {results[name][-1]:9.0f} req/s", flush=True)
    finally:
        stop(server)
    static = statistics.median(results["static file (same size as home)"])
    print("\n| page | requests/s (median) | runs | ratio to static |\n|---|---:|---|---:|")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"| {name} | {median:,.0f} | {', '.join(f'{v:.0f}' for v in values)} | {median / static:.2f} |")
    print(f"\nhome page size {home_size} bytes; load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
