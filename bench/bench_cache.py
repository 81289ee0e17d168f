#!/usr/bin/env python
"""Cache benchmark (issue 17): hit ratio under writes, publish → fresh, cached throughput vs a static file.

Run from the project root (the database is bench_pages.py's, built on first use):

    .venv/bin/python -m bench.bench_cache [--count 20000] [--parts hits,fresh,throughput] [--runs 3]

Every part works on a copy of bench/out/pages-N.sqlite3 (bench/out/cache-N.sqlite3,
made again each invocation), since parts write.

hits        In this process, through Django's whole handler (django.test.Client,
            the local-memory page cache), a seeded replay of anonymous reads —
            home 10 %, channels (top-level categories) 15 %, feeds (RSS, Atom,
            the channels' RSS) 5 %, 1,000 random article pages 70 % — with one
            article write every --reads-per-write reads, counted after one warm-up
            pass over every URL. Twice on the same data and sequence: the write as
            `QuerySet.update()` (which records `*`: what every write did before
            content keys) and as newsroom.operations.save_as_edit (precise keys).
            The write (--write) publishes a new flash item (default) or corrects
            an existing article's title. --reads-per-write is the request rate
            times 10 s: 1,000 = 100 requests/s reaching the app with one write
            every 10 s.
fresh       gunicorn (2 workers, local-memory cache: each worker on its own, so
            every worker must see the write through the database) serves the
            site; another process creates a draft (its address is a cached 404),
            then publishes it. From the commit, the home page and the article page
            are polled (every 20 ms, at most 10 s) until both show it: p50/p95 of
            --samples publications.
throughput  gunicorn (2 sync workers) on loopback, wrk (2 threads, --connections 8,
            --duration s): a cached article page and the home page, against the
            very same bytes served as static files by whitenoise from the same
            gunicorn. Median of --runs runs; the ratio page / its static twin.

Results are printed and written to bench/out/bench-cache-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.bench_pages import _env, _machine, build  # noqa: E402  (the page benchmark's database)
from bench import servers  # noqa: E402
from bench.servers import free_port, stop, wrk  # noqa: E402

PARTS = ("hits", "fresh", "throughput")
MIX = (("article", 0.70), ("channel", 0.15), ("home", 0.10), ("feed", 0.05))
EDITOR = "bench-editor"


# --- hits: in-process replay ----------------------------------------------------------------


def _reads(seed: int, articles: int) -> dict[str, list[str]]:
    """The URLs of each kind of read, picked from the database with `seed`."""
    from articles.models import Article, Category

    rng = random.Random(seed)
    ids = list(Article.objects.published().values_list("pk", flat=True))
    chosen = Article.objects.filter(pk__in=rng.sample(ids, min(articles, len(ids)))).order_by("pk")
    channels = [c.get_absolute_url() for c in Category.objects.filter(parent=None).order_by("pk")]
    feeds = ["/feed/", "/feed/atom/", *(f"/feed/category/{c.path}/" for c in Category.objects.filter(parent=None))]
    return {"article": [a.get_absolute_url() for a in chosen], "channel": channels, "home": ["/"], "feed": feeds}


def _sequence(urls: dict[str, list[str]], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX)
    return [rng.choice(urls[kind]) for kind in rng.choices(kinds, weights, k=n)]


class Writer:
    """One article write, either as `QuerySet.update()` (records `*`) or through save_as_edit (keys)."""

    def __init__(self, kind: str, precise: bool, seed: int) -> None:
        from django.contrib.auth.models import User

        from articles.models import Article, Category

        self.kind, self.precise, self.rng = kind, precise, random.Random(seed)
        self.user = User.objects.filter(username=EDITOR).first() or User.objects.create_superuser(
            EDITOR, "bench@example.com", "bench-editor-pw")
        self.channels = list(Category.objects.filter(parent=None).order_by("pk"))
        self.targets = list(Article.objects.published().order_by("-published_at").values_list("pk", flat=True)[:5000])
        self.count = 0

    def draft(self, title: str):
        """A flash item, not yet published (made before the timed reads: the write is its publication)."""
        from django.utils import timezone

        from articles.models import Article
        from newsroom import operations

        article = Article(title=title, body="<p>快讯：" + title + "。</p>", status=Article.Status.DRAFT,
                          published_at=timezone.now())
        operations.save_as_edit(article, self.user)
        article.categories.add(self.rng.choice(self.channels))
        return article

    def write(self, draft=None) -> None:
        from django.utils import timezone

        from articles.models import Article
        from newsroom import operations

        self.count += 1
        if self.kind == "publish":
            now = timezone.now()
            if self.precise:
                draft.status, draft.published_at = Article.Status.PUBLISHED, now
                operations.save_as_edit(draft, self.user, fields=["status", "published_at"])
            else:
                Article.objects.filter(pk=draft.pk).update(status=Article.Status.PUBLISHED, published_at=now,
                                                           updated_at=now)
            return
        pk = self.rng.choice(self.targets)
        title = f"更正 {self.count}：" + Article.objects.get(pk=pk).title[:60]
        if self.precise:
            article = Article.objects.get(pk=pk)
            article.title = title
            operations.save_as_edit(article, self.user, fields=["title"])
        else:
            Article.objects.filter(pk=pk).update(title=title, updated_at=timezone.now())


def replay(args: argparse.Namespace, precise: bool) -> dict[str, Any]:
    """One run of the read mix with a write every --reads-per-write reads; hits counted by the app's X-Cache."""
    from django.core.cache import cache
    from django.test import Client

    from articles import content_keys

    cache.clear()
    content_keys.forget()
    client = Client()
    urls = _reads(args.seed, args.articles)
    every = sorted({url for group in urls.values() for url in group})
    writer = Writer(args.write, precise, args.seed)
    drafts = [writer.draft(f"快讯 {'keys' if precise else 'global'} {i}") for i in range(args.writes)] \
        if args.write == "publish" else [None] * args.writes
    for url in every:  # warm-up: every page once
        client.get(url)
    sequence = _sequence(urls, args.writes * args.reads_per_write, args.seed + 1)
    hits = misses = 0
    started = time.perf_counter()
    for i, url in enumerate(sequence):
        if i and i % args.reads_per_write == 0:
            writer.write(drafts[i // args.reads_per_write - 1])
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.get("X-Cache") == "hit":
            hits += 1
        else:
            misses += 1
    writer.write(drafts[-1])
    return {"reads": hits + misses, "hits": hits, "ratio": hits / (hits + misses), "writes": args.writes,
            "distinct_urls": len(every), "seconds": time.perf_counter() - started}


def measure_hits(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    result = {}
    for label, precise in (("global (QuerySet.update: *)", False), ("precise keys (save_as_edit)", True)):
        result[label] = replay(args, precise)
        row = result[label]
        print(f"  {label:30} hit ratio {row['ratio']:.1%} ({row['hits']} of {row['reads']} reads, "
              f"{row['writes']} writes, {row['seconds']:.0f} s)", flush=True)
    return result


# --- servers ---------------------------------------------------------------------------------


def gunicorn(port: int, env: dict[str, str]):
    """gunicorn, 2 sync workers; its log (the 404s `fresh` asks for are logged) in bench/out/bench-cache-gunicorn.log."""
    with (OUT_DIR / "bench-cache-gunicorn.log").open("a") as log:
        return servers.gunicorn(port, env, log=log)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


# --- fresh: publish in one process, read from another -----------------------------------------

PUBLISHER = """
import json, sys, django
django.setup()
from django.contrib.auth.models import User
from django.utils import timezone
from articles.models import Article, Category
from newsroom import operations
user = User.objects.filter(username=%(editor)r).first() or User.objects.create_superuser(
    %(editor)r, "bench@example.com", "bench-editor-pw")
channel = Category.objects.filter(parent=None).order_by("pk").first()
article = None
for line in sys.stdin:
    command, title = line.split(" ", 1)
    if command == "draft":
        article = Article(title=title.strip(), body="<p>快讯。</p>", status=Article.Status.DRAFT,
                          published_at=timezone.now())
        operations.save_as_edit(article, user)
        article.categories.add(channel)
        print(json.dumps({"url": article.get_absolute_url()}), flush=True)
    else:
        article.status = Article.Status.PUBLISHED
        operations.save_as_edit(article, user, fields=["status"])  # committed when it returns
        print(json.dumps({"committed": time.time()}), flush=True)
"""


def measure_fresh(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = gunicorn(port, env)
    publisher = subprocess.Popen([sys.executable, "-c", "import time\n" + PUBLISHER % {"editor": EDITOR}],
                                 cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    delays: list[float] = []
    try:
        for sample in range(args.samples):
            title = f"新鲜度测试快讯{sample}号{random.randrange(10**6)}"
            publisher.stdin.write(f"draft {title}\n")
            publisher.stdin.flush()
            url = json.loads(publisher.stdout.readline())["url"]
            # Readers keep coming (so each worker's content state is a memo, as under load): for a
            # random 0.6-1.1 s both workers cache and serve both pages, the home page without it
            # and its address as a 404.
            until = time.monotonic() + 0.6 + random.random() / 2
            while time.monotonic() < until:
                assert title not in get(base + "/")[1]
                assert get(base + url)[0] == 404
                time.sleep(0.02)
            publisher.stdin.write("publish -\n")
            publisher.stdin.flush()
            committed = json.loads(publisher.stdout.readline())["committed"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                home_fresh = title in get(base + "/")[1]
                if home_fresh and get(base + url)[0] == 200:
                    delays.append(time.time() - committed)
                    break
                time.sleep(0.02)
            else:
                raise SystemExit(f"sample {sample}: not fresh within 10 s")
            print(f"  sample {sample + 1}: fresh {delays[-1] * 1000:.0f} ms after the commit", flush=True)
    finally:
        publisher.stdin.close()
        publisher.wait(timeout=30)
        stop(server)
    ordered = sorted(delays)
    return {"samples": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] * 1000, "max_ms": ordered[-1] * 1000}


# --- throughput: cached pages vs the same bytes as static files --------------------------------


def head_bytes(url: str) -> tuple[int, int]:
    """(header bytes, body bytes) of a plain GET, as wrk gets it (no Accept-Encoding)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "identity"})) as response:
        body = response.read()
        header = sum(len(k) + len(v) + 4 for k, v in response.getheaders())
    return header, len(body)


def measure_throughput(args: argparse.Namespace, env: dict[str, str], static_root: Path) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install wrk)")
    article = subprocess.run([sys.executable, "-c", (
        "import django; django.setup(); from articles.models import Article;"
        "print(Article.objects.published().order_by('-published_at')[1000].get_absolute_url())")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pages = {"home": "/", "article": article}
    server = gunicorn(port, env)
    try:
        for name, url in pages.items():  # the very bytes a reader gets, as static files
            (static_root / f"bench-cache-{name}.html").write_bytes(urllib.request.urlopen(base + url).read())
    finally:
        stop(server)
    server = gunicorn(port, env)  # whitenoise lists STATIC_ROOT when it starts
    urls = {}
    for name, url in pages.items():
        urls[f"{name} (cached page)"] = url
        urls[f"{name} (same bytes, static file)"] = f"/static/bench-cache-{name}.html"
    try:
        for url in urls.values():
            for _ in range(20):  # both workers' caches
                urllib.request.urlopen(base + url).read()
        sizes = {name: head_bytes(base + url) for name, url in urls.items()}
        results: dict[str, list[float]] = {name: [] for name in urls}
        for run in range(args.runs):
            for name, url in urls.items():
                results[name].append(wrk(base + url, args.duration, args.connections))
                print(f"  run {run + 1}: {name:36} {results[name][-1]:9.0f} req/s", flush=True)
    finally:
        stop(server)
    rows = {}
    for name in pages:
        page, static = results[f"{name} (cached page)"], results[f"{name} (same bytes, static file)"]
        rows[name] = {"page_rps": page, "static_rps": static,
                      "ratio": statistics.median(page) / statistics.median(static),
                      # each run's page against its static twin measured just after it: less of the
                      # machine's drift (other load) between the two
                      "ratio_of_pairs": statistics.median(p / s for p, s in zip(page, static)),
                      "page_bytes": sizes[f"{name} (cached page)"],
                      "static_bytes": sizes[f"{name} (same bytes, static file)"]}
    return rows


# --- the parent ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="articles in the database (default %(default)s)")
    parser.add_argument("--parts", default=",".join(PARTS), help="which parts, comma-separated (default %(default)s)")
    parser.add_argument("--articles", type=int, default=1000, help="distinct article pages read (default %(default)s)")
    parser.add_argument("--reads-per-write", type=int, default=1000,
                        help="reads between two writes: requests/s × 10 s (default %(default)s = 100 requests/s)")
    parser.add_argument("--writes", type=int, default=10, help="writes per hit-ratio run (default %(default)s)")
    parser.add_argument("--write", choices=("publish", "edit"), default="publish",
                        help="publish a flash item, or correct an article's title (default %(default)s)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--samples", type=int, default=20, help="publications timed for fresh (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per URL; medians (default %(default)s)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run (default %(default)s)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default %(default)s)")
    parser.add_argument("--hits-only", action="store_true", help=argparse.SUPPRESS)  # the child of `hits`
    args = parser.parse_args(argv)
    if args.hits_only:
        print(json.dumps(measure_hits(args)))
        return 0
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    source = OUT_DIR / f"pages-{args.count}.sqlite3"
    build(f"sqlite:///{source}", OUT_DIR / f"pages-{args.count}.sqlite3.imported", args.count)
    work = OUT_DIR / f"cache-{args.count}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, work)
    env = {**_env(f"sqlite:///{work}"), "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver,localhost"}
    static_root = Path(env["DJANGO_STATIC_ROOT"])
    results: dict[str, Any] = {}
    if "hits" in parts:
        print(f"== hit ratio: {args.writes} writes ({args.write}), one every {args.reads_per_write} reads", flush=True)
        child = [sys.executable, "-m", "bench.bench_cache", "--hits-only", *(argv or sys.argv[1:])]
        out = subprocess.run(child, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        lines = out.splitlines()
        print("\n".join(lines[:-1]), flush=True)
        results["hits"] = json.loads(lines[-1])
    if "fresh" in parts:
        print(f"== publish → fresh: {args.samples} samples", flush=True)
        results["fresh"] = measure_fresh(args, env)
    if "throughput" in parts:
        print(f"== throughput: wrk -t2 -c{args.connections} -d{args.duration}s, {args.runs} runs", flush=True)
        results["throughput"] = measure_throughput(args, env, static_root)

    print()
    if "hits" in results:
        print("| write | reads | hit ratio |\n|---|---:|---:|")
        for label, row in results["hits"].items():
            print(f"| {label} | {row['reads']:,} | {row['ratio']:.1%} |")
    if "fresh" in results:
        row = results["fresh"]
        print(f"\npublish → fresh (home and article page, another process): p50 {row['p50_ms']:.0f} ms, "
              f"p95 {row['p95_ms']:.0f} ms, max {row['max_ms']:.0f} ms over {row['samples']} samples")
    if "throughput" in results:
        print("\n| page | cached page req/s (median; runs) | same bytes static req/s | ratio of medians |"
              " median ratio of pairs | page header/body bytes | static header/body bytes |"
              "\n|---|---:|---:|---:|---:|---:|---:|")
        for name, row in results["throughput"].items():
            print(f"| {name} | {statistics.median(row['page_rps']):,.0f} ({', '.join(f'{v:.0f}' for v in row['page_rps'])})"
                  f" | {statistics.median(row['static_rps']):,.0f} ({', '.join(f'{v:.0f}' for v in row['static_rps'])})"
                  f" | {row['ratio']:.2f} | {row['ratio_of_pairs']:.2f} | {row['page_bytes'][0]} / {row['page_bytes'][1]}"
                  f" | {row['static_bytes'][0]} / {row['static_bytes'][1]} |")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_file = OUT_DIR / f"bench-cache-{args.count}-{stamp}.json"
    out_file.write_text(json.dumps({"machine": _machine(), "args": vars(args), "results": results}, indent=1))
    print(f"\nwrote {out_file}; load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
