#!/usr/bin/env python
"""What keyword suggestions and byline detection cost per article, against the import's per-file budget.

Run from the project root:

    .venv/bin/python bench/bench_keywords.py [--count 2000] [--runs 3] [--seed 1]

Bodies come from a generated corpus (bench.corpus) and, where present,
../shared/corpus/real/, parsed and sanitised as the importer does (outside
the timings). Timed, median of --runs:

  jieba load      building the suggester once (jieba's dictionary + the domain dictionary)
  suggest         newsroom.keywords.Suggester.suggest per article (title + body text)
  detect bylines  newsroom.bylines.detect per article (the part that runs in every import)
  floor           parse + sanitise per article (the importer's CPU work on a file, for scale)

No database: the suggester is built from the shipped word lists only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from newsroom import keywords  # noqa: E402
from newsroom.bylines import detect  # noqa: E402
from bench.corpus import iter_corpus  # noqa: E402
from importing.parse import parse_bytes  # noqa: E402
from articles.sanitize import html_to_text, sanitize_body  # noqa: E402

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def load_files(count: int, seed: int) -> list[tuple[str, bytes]]:
    files = list(iter_corpus(count, seed))
    if CORPUS.is_dir():
        files += [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.md"))]
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    files = load_files(args.count, args.seed)
    floor_runs, prepared = [], []
    for _ in range(args.runs):
        prepared = []
        start = time.perf_counter()
        for name, data in files:
            try:
                article = parse_bytes(data, path=name, tz=TZ)
            except Exception:
                continue
            prepared.append((article.title, sanitize_body(article.body)))
        floor_runs.append((time.perf_counter() - start) / len(prepared))

    dictionary = keywords.Dictionary(
        tuple(keywords.read_list("market_terms.txt") + keywords.read_list("companies.txt")),
        frozenset(keywords.read_list("stop_words.txt")))
    load_runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        engine = keywords.Suggester(dictionary)
        load_runs.append(time.perf_counter() - start)

    texts = [(title, html_to_text(body[: keywords.TEXT_CHARS * 4])) for title, body in prepared]
    suggest_runs, detect_runs = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        for title, text in texts:
            engine.suggest(title, text)
        suggest_runs.append((time.perf_counter() - start) / len(texts))
        start = time.perf_counter()
        for _title, body in prepared:
            detect(body)
        detect_runs.append((time.perf_counter() - start) / len(prepared))

    print(f"{len(prepared)} articles ({args.count} generated, seed {args.seed}"
          f"{', plus the real corpus' if CORPUS.is_dir() else ''}), median of {args.runs} runs")
    print(f"  jieba load      {statistics.median(load_runs):8.2f} s once per process")
    print(f"  suggest         {statistics.median(suggest_runs) * 1e3:8.2f} ms per article")
    print(f"  detect bylines  {statistics.median(detect_runs) * 1e6:8.2f} µs per article")
    print(f"  floor           {statistics.median(floor_runs) * 1e3:8.2f} ms per article (parse + sanitise)")


if __name__ == "__main__":
    main()
