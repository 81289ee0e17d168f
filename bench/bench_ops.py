#!/usr/bin/env python
"""Operations benchmark (#20): what a process start spends naming its release, and what a
cached page's hit costs with the request metrics on.

Run from the project root:

    .venv/bin/python -m bench.bench_ops [--parts release,hits] [--runs 15] [--project DIR]

release  In --runs fresh Python processes, the time of newsportal.release.computed_release
         (what settings.py calls at every start unless NEWSPORTAL_RELEASE is set), on the
         project's own files and its staticfiles/ manifest, if any. Median and every run, ms.
hits     A cached home page asked --requests times through Django's whole handler
         (django.test.Client, in a process of its own, SQLite, DEBUG on, locmem cache),
         with NEWSPORTAL_METRICS off and on; --runs/2 rounds, median µs per hit.

--project names another checkout to measure with the same command (its code is imported,
e.g. the main branch's for a before/after). Results are printed only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import _machine  # noqa: E402

RELEASE = r'''
import sys, time
from pathlib import Path
project = Path(sys.argv[1])
from newsportal.release import computed_release
started = time.perf_counter()
computed_release(project, project / "staticfiles")
print((time.perf_counter() - started) * 1000)
'''

HITS = r'''
import sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
client = Client()
assert client.get("/")["X-Cache"] == "miss"
for _ in range(200):
    client.get("/")  # warm
requests = int(sys.argv[1])
started = time.perf_counter()
for _ in range(requests):
    client.get("/")
print((time.perf_counter() - started) / requests * 1e6)
'''


def child_env(project: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEWSPORTAL_"))}
    return {**env, "PYTHONPATH": str(project), "NEWSPORTAL_ENV_FILE": "", **extra}


def run_child(project: Path, script: str, args: list[str], env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return float(done.stdout.split()[-1])


def release(project: Path, runs: int) -> None:
    times = sorted(run_child(project, RELEASE, [str(project)], child_env(project)) for _ in range(runs))
    print(f"release name at start ({project}): median {statistics.median(times):.1f} ms "
          f"(runs: {', '.join(f'{t:.1f}' for t in times)})")


def hits(project: Path, runs: int, requests: int) -> None:
    for metrics in ("0", "1"):
        times = []
        for _ in range(max(1, runs // 2)):
            with tempfile.TemporaryDirectory() as folder:
                env = child_env(project, DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="newsportal.settings",
                                DATABASE_URL=f"sqlite:///{folder}/db.sqlite3", CACHE_URL="locmem://",
                                DJANGO_ALLOWED_HOSTS="testserver",
                                NEWSPORTAL_METRICS=metrics)
                times.append(run_child(project, HITS, [str(requests)], env))
        times.sort()
        print(f"cached hit, NEWSPORTAL_METRICS={metrics} ({project}): median {statistics.median(times):.0f} µs "
              f"(runs: {', '.join(f'{t:.0f}' for t in times)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="release,hits", help="which parts, comma-separated (default %(default)s)")
    parser.add_argument("--runs", type=int, default=15, help="fresh processes for release (default %(default)s)")
    parser.add_argument("--requests", type=int, default=3000, help="hits timed per process (default %(default)s)")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    options = parser.parse_args(argv)
    project = options.project.resolve()
    print(f"machine: {_machine()}")
    parts = options.parts.split(",")
    if "release" in parts:
        release(project, options.runs)
    if "hits" in parts:
        hits(project, options.runs, options.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
