#!/usr/bin/env python
"""An article's admin edit form, cold: server time of the first request in a new process.

Run from the project root:

    .venv/bin/python bench/bench_edit_form.py [--count 2000] [--runs 7]

The database (SQLite, bench/out/edit-form-N.sqlite3, kept between runs) holds
a generated corpus of --count articles (`generate_corpus --seed 1`) imported
as usual, so each article's keyword suggestions wait in the task queue, never
computed (no worker runs here). Each run starts a new Python process
(nothing imported, loaded or cached yet: what the first editor after a
deploy or a restart gets), logs a superuser in (not timed) and times, through
Django's full handler and middleware (django.test.Client, DEBUG off):

  cold      the first GET of the change page of an article that has never
            been opened and has no suggestions (target: ≤ 300 ms)
  warm      the same page again in that process
  old path  what opening the form cost before keyword suggestions became a
            task (issue 17): `keywords.suggest([article])` in that cold
            process — jieba's dictionary load and the suggestions — which
            the admin used to run before rendering the form (the suggestions
            it makes are deleted again)

Medians and ranges are printed and written to bench/out/bench-edit-form.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
TARGET_COLD_MS = 300.0

sys.path.insert(0, str(ROOT))

from bench.bench_pages import _env, _run, corpus_dir  # noqa: E402


def build(count: int) -> str:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"edit-form-{count}.sqlite3"
    url = f"sqlite:///{path}"
    marker = OUT_DIR / f"edit-form-{count}.imported"
    env = _env(url)
    _run([sys.executable, "manage.py", "migrate", "-v0"], env)
    _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    if not marker.exists():
        _run([sys.executable, "manage.py", "import_articles", str(corpus_dir(count))], env)
        _run([sys.executable, "manage.py", "shell", "-v0", "-c",
              "from django.contrib.auth.models import User\n"
              "User.objects.filter(username='bench').exists() or "
              "User.objects.create_superuser('bench', 'bench@example.com', 'bench-password')"], env)
        marker.touch()
    return url


CHILD = r"""
import json, sys, time
t_start = time.perf_counter()
import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from articles.models import Article, TagSuggestion

pk = int(sys.argv[1])
client = Client()
client.force_login(User.objects.get(username="bench"))
url = reverse("admin:articles_article_change", args=[pk])
assert not TagSuggestion.objects.filter(article_id=pk).exists()
t0 = time.perf_counter()
response = client.get(url)
cold = time.perf_counter() - t0
assert response.status_code == 200, response.status_code
t0 = time.perf_counter()
client.get(url)
warm = time.perf_counter() - t0
jieba_loaded = "jieba" in sys.modules
suggestions_made = TagSuggestion.objects.filter(article_id=pk).count()
from newsroom import keywords
t0 = time.perf_counter()
keywords.suggest([Article.objects.select_related("author").get(pk=pk)])
old_path = time.perf_counter() - t0
TagSuggestion.objects.filter(article_id=pk).delete()
print(json.dumps({"cold_ms": cold * 1000, "warm_ms": warm * 1000, "old_path_ms": old_path * 1000,
                  "jieba_loaded_by_form": jieba_loaded, "suggestions_made_by_form": suggestions_made}))
"""


def measure(url: str, pk: int) -> dict:
    env = _env(url)
    done = subprocess.run([sys.executable, "-c", CHILD, str(pk)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def article_ids(url: str, runs: int) -> list[int]:
    code = ("from articles.models import Article\n"
            f"print(list(Article.objects.filter(tag_suggestions__isnull=True).order_by('?')"
            f".values_list('pk', flat=True)[:{runs}]))")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT, env=_env(url),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = build(args.count)
    results = [measure(url, pk) for pk in article_ids(url, args.runs)]
    summary = {"count": args.count, "runs": len(results), "machine": platform.platform(),
               "load": os.getloadavg(), "results": results}
    print(f"\nedit form, {args.count} articles, {len(results)} cold processes (median, min–max):")
    for key, label in (("cold_ms", "cold (first request)"), ("warm_ms", "warm (second request)"),
                       ("old_path_ms", "old path: suggestions on open")):
        values = [r[key] for r in results]
        summary[key] = statistics.median(values)
        print(f"  {label:32} {statistics.median(values):8.1f} ms  ({min(values):.1f}–{max(values):.1f})")
    print(f"  jieba loaded by the form: {any(r['jieba_loaded_by_form'] for r in results)}; "
          f"suggestions made by the form: {sum(r['suggestions_made_by_form'] for r in results)}")
    verdict = "met" if summary["cold_ms"] <= TARGET_COLD_MS else "NOT met"
    print(f"  target cold ≤ {TARGET_COLD_MS:.0f} ms: {verdict}; load average {os.getloadavg()[0]:.1f}")
    (OUT_DIR / "bench-edit-form.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
