#!/usr/bin/env python
"""Precision and recall of the byline detector (newsroom.bylines) on the hand-labelled sample.

Run from the project root:

    .venv/bin/python bench/eval_bylines.py [--sample tests/data/bylines_sample.json] [--runs 5] [--show-misses]

The sample (tests/data/bylines_sample.json) names files of ../shared/corpus/real/
(read in place; entries are skipped, and counted as such, where the corpus
is absent), files of a generated corpus (bench.corpus, regenerated from
its seed), and short bodies written for the sample. Each body goes through
the importer's own parse and sanitise steps, then `detect`.

Scored over (article, name) pairs: precision = correct names / names
detected, recall = correct names / names expected; the role (记者, 实习记者,
编辑 …) is scored separately over the correct names. Also timed: `detect`
per article over the sample's bodies (median of --runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsroom.bylines import detect  # noqa: E402
from bench.corpus import iter_corpus  # noqa: E402
from importing.parse import parse_bytes  # noqa: E402
from articles.sanitize import sanitize_body  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "bylines_sample.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
TARGET_PRECISION = 0.98
TARGET_RECALL = 0.9


@dataclass
class Score:
    articles: int = 0
    expected: int = 0
    detected: int = 0
    correct: int = 0
    role_correct: int = 0
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0

    @property
    def role_accuracy(self) -> float:
        return self.role_correct / self.correct if self.correct else 1.0


def load_bodies(sample_path: Path = SAMPLE, corpus: Path = CORPUS) -> tuple[list[tuple[dict, str]], int]:
    """(entry, sanitised body) for each entry that can be read, and how many were skipped."""
    entries = json.loads(sample_path.read_text(encoding="utf-8"))["entries"]
    generated: dict[tuple[int, int], dict[str, bytes]] = {}
    bodies, skipped = [], 0
    for entry in entries:
        if entry["source"] == "real":
            path = corpus / entry["file"]
            if not path.is_file():
                skipped += 1
                continue
            raw = parse_bytes(path.read_bytes(), path=entry["file"], tz=TZ).body
        elif entry["source"] == "generated":
            key = (entry["count"], entry["seed"])
            if key not in generated:
                generated[key] = dict(iter_corpus(*key))
            raw = parse_bytes(generated[key][entry["file"]], path=entry["file"], tz=TZ).body
        else:
            raw = entry["body"]
        bodies.append((entry, sanitize_body(raw)))
    return bodies, skipped


def score(bodies: list[tuple[dict, str]]) -> dict[str, Score]:
    """Scores per source and overall ("all")."""
    scores: dict[str, Score] = defaultdict(Score)
    for entry, body in bodies:
        expected = {name: role for role, name in entry["expected"]}
        found = {b.name: b.role for b in detect(body)}
        label = entry.get("file") or entry.get("id")
        for key in (entry["source"], "all"):
            s = scores[key]
            s.articles += 1
            s.expected += len(expected)
            s.detected += len(found)
            for name, role in found.items():
                if name in expected:
                    s.correct += 1
                    s.role_correct += expected[name] == role
                elif key == "all":
                    s.false_positives.append(f"{label}: {role} {name}")
            if key == "all":
                s.misses += [f"{label}: {role} {name}" for name, role in expected.items() if name not in found]
    return dict(scores)


def time_detect(bodies: list[tuple[dict, str]], runs: int) -> float:
    """Median over `runs` of the mean microseconds `detect` takes per article."""
    # Archive-like bodies only: the hand-written hard cases are nearly all credits.
    texts = [body for entry, body in bodies if entry["source"] != "text"]
    per_run = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(20):
            for body in texts:
                detect(body)
        per_run.append((time.perf_counter() - start) / (20 * len(texts)) * 1e6)
    return statistics.median(per_run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    bodies, skipped = load_bodies(args.sample)
    scores = score(bodies)
    print(f"{'source':<10} {'articles':>8} {'expected':>8} {'detected':>8} {'correct':>7} "
          f"{'precision':>9} {'recall':>7} {'roles':>6}")
    for key in ("real", "generated", "text", "all"):
        if key in scores:
            s = scores[key]
            print(f"{key:<10} {s.articles:>8} {s.expected:>8} {s.detected:>8} {s.correct:>7} "
                  f"{s.precision:>9.3f} {s.recall:>7.3f} {s.role_accuracy:>6.3f}")
    if skipped:
        print(f"skipped {skipped} real-corpus entries: {CORPUS} not found")
    total = scores["all"]
    if args.show_misses or total.false_positives:
        for line in total.false_positives:
            print("false positive:", line)
    if args.show_misses:
        for line in total.misses:
            print("missed:", line)
    print(f"detect(): {time_detect(bodies, args.runs):.1f} µs per article (median of {args.runs} runs, "
          f"the sample's real and generated bodies)")
    met = total.precision >= TARGET_PRECISION and total.recall >= TARGET_RECALL
    print(f"targets precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
