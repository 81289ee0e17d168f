#!/usr/bin/env python
"""Page benchmark: server time and queries per request at 100,000 articles.

Run from the project root:

    .venv/bin/python bench/bench_pages.py [--count 100000] [--requests 200] [--runs 3] [--postgres | --postgres-only]
                                          [--only home --only article ...]

The database is built once and kept in bench/out/ (git-ignored), so re-runs
start at once: `generate_corpus --seed 1` writes the corpus, `migrate` and
`import_articles` load it (SQLite: bench/out/pages-N.sqlite3; PostgreSQL: a
cluster of our own in bench/out/pgdata-N, started on a Unix socket for the
run and stopped after it). Every run applies new migrations first.

Each page is requested in-process through Django's full handler and
middleware (django.test.Client, DEBUG off): "server time" is the handler's
time without any network. Three ways per page, each over --requests requests
(the first few are warm-up and not counted):

  uncached  the page is rendered each time (the way a logged-in editor gets
            it: the page cache is skipped); figures kept per content
            version (category counts, archive months) are warm
  cold      the whole cache is emptied before each request
  cached    an anonymous reader's request answered from the page cache

plus the number of SQL queries of one uncached and one cold request. Results
are printed and written to bench/out/bench-pages-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
WARMUP = 5
TARGET_UNCACHED_MS, TARGET_SEARCH_MS, TARGET_CACHED_MS, MAX_QUERIES = 50.0, 100.0, 5.0, 10

sys.path.insert(0, str(ROOT))

from bench.servers import SECRET_KEY  # noqa: E402


def _run(cmd: list[str], env: dict[str, str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "newsportal.settings", "CACHE_URL": "locmem://",
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1", "DJANGO_STATIC_ROOT": str(OUT_DIR / "static"),
            # Plain HTTP, as behind a proxy that ends TLS: no redirect to https://.
            "DJANGO_SECURE_SSL_REDIRECT": "0"}


def corpus_dir(count: int) -> Path:
    corpus = OUT_DIR / f"corpus-{count}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        _run([sys.executable, "manage.py", "generate_corpus", "--count", str(count), "--out", str(corpus),
              "--seed", "1"], _env("sqlite://:memory:"))
        (corpus / ".complete").touch()
    return corpus


def build(database_url: str, marker: Path, count: int) -> None:
    """Migrate, and import the corpus the first time."""
    env = _env(database_url)
    _run([sys.executable, "manage.py", "migrate", "-v0"], env)
    _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    if not marker.exists():
        _run([sys.executable, "manage.py", "import_articles", str(corpus_dir(count))], env)
        marker.touch()
    # A migration that rebuilds a SQLite table (ALTER TABLE ... ADD COLUMN with a
    # constraint) drops its statistics: without them the planner sorted a whole
    # year for a sitemap section (75 → 350 ms). Fresh statistics every run.
    _run([sys.executable, "manage.py", "shell", "-v0", "-c",
          "from django.db import connection\nwith connection.cursor() as c: c.execute('ANALYZE')"], env)


# --- PostgreSQL: a cluster of our own, kept between runs ---------------------------------


class PostgresCluster:
    def __init__(self, count: int) -> None:
        self.data = OUT_DIR / f"pgdata-{count}"
        self.socket = Path("/tmp") / f"newsportal-bench-pg-{count}"
        self.bin = self._find_bin()
        self.as_root = os.geteuid() == 0

    @staticmethod
    def _find_bin() -> Path:
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name),
                                reverse=True):
            if (candidate / "initdb").exists():
                return candidate
        raise SystemExit("no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)")

    def _pg(self, *cmd: str) -> None:
        full = [str(self.bin / cmd[0]), *cmd[1:]]
        if self.as_root:
            full = ["runuser", "-u", "postgres", "--", *full]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        self.socket.mkdir(exist_ok=True)
        if self.as_root:
            shutil.chown(self.socket, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            if self.as_root:
                shutil.chown(self.data, "postgres")
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                     "--locale=C.UTF-8", "--no-sync")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(f"\nlisten_addresses = ''\nunix_socket_directories = '{self.socket}'\n"
                           "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                           "shared_buffers = 512MB\n")
            self._started()
            self._pg("createdb", "-h", str(self.socket), "-U", "postgres", "newsportal")
        else:
            self._started()
        return f"postgres://postgres@{str(self.socket).replace('/', '%2F')}/newsportal"

    def _started(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.socket / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


# --- the measurement (in a child process with Django set up) -------------------------------


def _pages() -> dict[str, str]:
    """The pages the issue names, picked from the database."""
    from django.db.models import Count
    from django.test import Client
    from taggit.models import Tag

    from articles.models import Article, ArticleCategory, Author, Category

    def busiest(categories) -> Category:
        counts = dict(ArticleCategory.objects.filter(category__in=categories).values_list("category")
                      .annotate(n=Count("id")))
        return max(categories, key=lambda c: counts.get(c.id, 0))

    tops = list(Category.objects.filter(parent=None))
    leaves = list(Category.objects.filter(children=None))
    tag = Tag.objects.annotate(n=Count("articles_taggedarticle_items")).order_by("-n").first()
    author = Author.objects.annotate(n=Count("articles")).order_by("-n").first()
    middle = Article.objects.published().order_by("-published_at")[Article.objects.count() // 2]
    day = middle.published_date
    client = Client()
    page_2000 = client.get("/?page=2000")
    assert page_2000.status_code == 302, page_2000.status_code
    return {
        "home": "/",
        "category (top level)": busiest(tops).get_absolute_url(),
        "category (leaf)": busiest(leaves).get_absolute_url(),
        "archive index": "/archive/",
        "archive year": f"/archive/{day.year}/",
        "archive month": f"/archive/{day.year}/{day.month:02d}/",
        "archive day": f"/archive/{day.year}/{day.month:02d}/{day.day:02d}/",
        "tag": f"/tag/{tag.slug}/",
        "author": author.get_absolute_url(),
        "search, common word (证券)": "/search/?q=证券",
        "search, rare word (退市整理)": "/search/?q=退市整理",
        "search, two characters (券商)": "/search/?q=券商",
        "article": middle.get_absolute_url(),
        "home, page 1 (?before= keyed)": "/",
        "home, page 2,000 (keyed)": page_2000["Location"],
        "home, ?page=2000 (old link: redirect)": "/?page=2000",
        "RSS feed": "/feed/",
        "sitemap index": "/sitemap.xml",
        "sitemap section": f"/sitemap-{day.year}.xml",
    }


def _time(client, url: str, requests: int, before=None, **headers) -> dict[str, float]:
    """Wall-clock p50/p95, and the p50 of the process's CPU time (steadier on a shared machine)."""
    times, cpu_times = [], []
    for i in range(requests + WARMUP):
        if before:
            before()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        assert response.status_code in (200, 302), (url, response.status_code)
        if i >= WARMUP:
            times.append(elapsed)
            cpu_times.append(cpu)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "n": len(times),
            "cpu_p50": statistics.median(cpu_times)}


def _queries(client, url: str, before=None, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before:
        before()
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    return len(captured.captured_queries)


def measure(requests: int, only: list[str] | None = None) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    # A live session, as a logged-in editor has, never served from the cache (a made-up
    # session cookie would be: articles.page_cache treats it like none).
    from importlib import import_module

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["bench"] = "staff-like"
    session.save()
    staff_like = {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
    results = {}
    for name, url in _pages().items():
        if only and name not in only:
            continue
        client.get(url, **staff_like)  # warm the figures kept per version
        row = {"url": url}
        row["uncached"] = _time(client, url, requests, **staff_like)
        row["queries"] = _queries(client, url, **staff_like)
        row["cold"] = _time(client, url, max(20, requests // 10), before=cache.clear)
        row["queries_cold"] = _queries(client, url, before=cache.clear)
        client.get(url)
        row["cached"] = _time(client, url, requests)
        row["queries_cached"] = _queries(client, url)
        results[name] = row
        print(f"  {name:42} uncached {row['uncached']['p50']:7.2f} ms (CPU {row['uncached']['cpu_p50']:.2f})  cold {row['cold']['p50']:7.2f} ms  "
              f"cached {row['cached']['p50']:6.2f} ms  queries {row['queries']}/{row['queries_cold']}/"
              f"{row['queries_cached']}", flush=True)
    return results


# --- the parent ------------------------------------------------------------------------------


def run_once(database_url: str, requests: int, only: list[str] | None = None) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--measure", "--requests", str(requests),
                          *(arg for name in only or () for arg in ("--only", name))], cwd=ROOT,
                         env=_env(database_url), check=True, stdout=subprocess.PIPE, text=True)
    lines = out.stdout.splitlines()
    print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {}
    for name in runs[0]:
        rows = [run[name] for run in runs]
        summary[name] = {"url": rows[0]["url"], **{
            f"{mode}_{stat}": statistics.median(row[mode][stat] for row in rows)
            for mode in ("uncached", "cold", "cached") for stat in ("p50", "p95")},
            "uncached_cpu_p50": statistics.median(row["uncached"]["cpu_p50"] for row in rows),
            **{key: max(row[key] for row in rows) for key in ("queries", "queries_cold", "queries_cached")}}
    return summary


def table(summaries: dict[str, dict[str, Any]]) -> str:
    backends = list(summaries)
    head = "| page | " + " | ".join(
        f"{b} uncached p50 / p95 (CPU p50) | {b} cold p50 | {b} cached p50 / p95 | {b} queries" for b in backends) + " |"
    lines = [head, "|---" * (1 + 4 * len(backends)) + "|"]
    for name in summaries[backends[0]]:
        cells = [name]
        for backend in backends:
            row = summaries[backend][name]
            cells += [f"{row['uncached_p50']:.1f} / {row['uncached_p95']:.1f} ms ({row['uncached_cpu_p50']:.1f})",
                      f"{row['cold_p50']:.1f} ms",
                      f"{row['cached_p50']:.2f} / {row['cached_p95']:.2f} ms",
                      f"{row['queries']} ({row['queries_cold']} cold, {row['queries_cached']} cached)"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "load": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="articles (corpus files; default %(default)s)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and way (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default %(default)s)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL, side by side")
    parser.add_argument("--postgres-only", action="store_true",
                        help="on PostgreSQL only (no SQLite database is built or measured)")
    parser.add_argument("--only", action="append", metavar="PAGE",
                        help="measure only this page of the table (its name: home, article, ...); repeatable")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.requests, args.only)))
        return 0

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, Any]] = {}
    backends: list[tuple[str, str | None, PostgresCluster | None]] = []
    if not args.postgres_only:
        sqlite_path = OUT_DIR / f"pages-{args.count}.sqlite3"
        sqlite_url = f"sqlite:///{sqlite_path}"
        build(sqlite_url, OUT_DIR / f"pages-{args.count}.sqlite3.imported", args.count)
        backends.append(("SQLite", sqlite_url, None))
    if args.postgres or args.postgres_only:
        backends.append(("PostgreSQL", None, PostgresCluster(args.count)))
    for label, url, cluster in backends:
        try:
            if cluster is not None:
                url = cluster.start()
                build(url, cluster.data / "imported", args.count)
            runs = []
            for run in range(args.runs):
                print(f"== {label}, run {run + 1} of {args.runs} (load {os.getloadavg()[0]:.2f})", flush=True)
                runs.append(run_once(url, args.requests, args.only))
            summaries[label] = summarise(runs)
        finally:
            if cluster is not None:
                cluster.stop()
    print()
    print(table(summaries))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = OUT_DIR / f"bench-pages-{args.count}-{stamp}.json"
    out.write_text(json.dumps({"machine": _machine(), "args": vars(args), "summaries": summaries}, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
