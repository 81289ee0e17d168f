#!/usr/bin/env python
"""Lighthouse (#18): the home page and an article page as a phone sees them.

Run from the project root (after `make install`, which installs npm's `lighthouse`):

    .venv/bin/python bench/bench_lighthouse.py [--count 500] [--database-url URL] [--runs 1]

Builds a SQLite database of --count generated articles once (bench/out/lighthouse-N.sqlite3:
`generate_corpus --seed 1`, `migrate`, `import_articles`; --database-url measures another one,
say bench_pages' 100,000), starts gunicorn (DEBUG off, 2 sync workers) on a loopback port, and
runs npm's `lighthouse` with Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) on the
home page and an article page: the mobile preset, throttling simulated (no network is used: every
request goes to the loopback server). Prints each page's four category scores (performance,
accessibility, best practices, SEO) and its cumulative layout shift, with the failing audits of
the three categories #18 sets a target for, and writes the reports to bench/out/lighthouse-*.json.

#18's targets: accessibility >= 95, SEO 100, best practices >= 95, CLS <= 0.05 (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_pages import OUT_DIR, ROOT, _env, _run  # noqa: E402  (its database set-up)
from bench.servers import free_port, gunicorn, stop  # noqa: E402  (the benchmarks' one gunicorn set-up)

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"accessibility": 95, "best-practices": 95, "seo": 100}
MAX_CLS = 0.05


def build(count: int) -> str:
    """A SQLite database of `count` generated articles, built the first time (bench/out/)."""
    path = OUT_DIR / f"lighthouse-{count}.sqlite3"
    url = f"sqlite:///{path}"
    env = _env(url)
    _run([sys.executable, "manage.py", "migrate", "-v0"], env)
    marker = path.with_suffix(".imported")
    if not marker.exists():
        corpus = OUT_DIR / f"corpus-lighthouse-{count}"
        shutil.rmtree(corpus, ignore_errors=True)
        _run([sys.executable, "manage.py", "generate_corpus", "--count", str(count), "--out", str(corpus),
              "--seed", "1"], _env("sqlite://:memory:"))
        _run([sys.executable, "manage.py", "import_articles", str(corpus)], env)
        shutil.rmtree(corpus, ignore_errors=True)
        marker.touch()
    return url


def article_path(env: dict[str, str]) -> str:
    """A published article's path, the most recent with a category (as most are)."""
    code = ("from articles.models import Article\n"
            "print(Article.objects.published().filter(categories__isnull=False).first().get_absolute_url())")
    out = subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT, env=env,
                         check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1]


def lighthouse(url: str, report: Path, chrome: str) -> dict[str, Any]:
    """One Lighthouse run (mobile preset, simulated throttling); its JSON report."""
    with tempfile.TemporaryDirectory(prefix="newsportal-lighthouse-") as profile:
        subprocess.run(
            [str(LIGHTHOUSE), url, "--output=json", f"--output-path={report}", "--quiet",
             "--throttling-method=simulate", f"--only-categories={','.join(CATEGORIES)}",
             f"--chrome-flags=--headless=new --no-sandbox --disable-gpu --user-data-dir={profile}"],
            cwd=ROOT, env={**os.environ, "CHROME_PATH": chrome}, check=True, timeout=300)
    return json.loads(report.read_text())


def summary(report: dict[str, Any]) -> dict[str, Any]:
    scores = {name: round(100 * (report["categories"][name]["score"] or 0)) for name in CATEGORIES}
    failing = sorted({
        ref["id"] for name in TARGETS for ref in report["categories"][name]["auditRefs"]
        if ref.get("weight") and (report["audits"][ref["id"]].get("score") is not None)
        and report["audits"][ref["id"]]["score"] < 1})
    return {**scores, "cls": report["audits"]["cumulative-layout-shift"]["numericValue"], "failing": failing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="generated articles (default %(default)s)")
    parser.add_argument("--database-url", help="measure this database instead (migrated first)")
    parser.add_argument("--runs", type=int, default=1, help="runs a page; medians are reported (default %(default)s)")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
                        help="the Chromium to drive (default: $CHROME_PATH or %(default)s)")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"no {LIGHTHOUSE}: run `make install` (npm ci)")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    url = args.database_url or build(args.count)
    env = _env(url)
    if args.database_url:
        _run([sys.executable, "manage.py", "migrate", "-v0"], env)
    _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    pages = {"home": "/", "article": article_path(env)}
    port = free_port()
    server = gunicorn(port, env)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, path in pages.items():
            runs = [summary(lighthouse(f"http://127.0.0.1:{port}{path}", OUT_DIR / f"lighthouse-{name}.json",
                                       args.chrome)) for _ in range(args.runs)]
            results[name] = {"path": path, **{key: statistics.median(run[key] for run in runs)
                                              for key in (*CATEGORIES, "cls")},
                             "failing": sorted({audit for run in runs for audit in run["failing"]})}
    finally:
        stop(server)
    ok = True
    print(f"\n| page | {' | '.join(CATEGORIES)} | CLS |\n|---|---|---|---|---|---|")
    for name, row in results.items():
        print(f"| {name} ({row['path']}) | " + " | ".join(str(row[c]) for c in CATEGORIES) + f" | {row['cls']:.3f} |")
    for name, row in results.items():
        misses = [f"{c} {row[c]} < {target}" for c, target in TARGETS.items() if row[c] < target]
        misses += [f"CLS {row['cls']:.3f} > {MAX_CLS}"] if row["cls"] > MAX_CLS else []
        ok = ok and not misses
        print(f"{name}: {'; '.join(misses) or 'targets met'}"
              + (f" (audits not passed: {', '.join(row['failing'])})" if row["failing"] else ""))
    print(f"reports: {OUT_DIR}/lighthouse-home.json, lighthouse-article.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
