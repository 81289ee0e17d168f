#!/usr/bin/env python
"""Import benchmark: how close does `import_articles` get to the cost of just reading the files?

Run from the project root:

    .venv/bin/python bench/bench_import.py [--count 20000] [--runs 3] [--seed 1] [--markdown]

Each run writes a synthetic corpus (bench.corpus, outside the timings) and
a fresh, migrated SQLite database in a temporary directory, then times four
phases, each in its own child process so that peak memory is per phase
(`--markdown`: the corpus is Markdown posts, rendered at import, as a Hexo
blog's are; otherwise the feeds' HTML ones):

  floor      find, read, hash, parse and sanitise every file; no database
             (the same functions import_files calls, in the same order)
  import     find_source_files + import_files into the empty database
  reimport   the same archive again, unchanged
  changed    again, after 1% of the files were edited (edits made outside the timing)

CPU time is the user + system time of the phase's process and its workers
(RUSAGE_SELF + RUSAGE_CHILDREN: the workers are its children, reaped before
it ends). On a machine other work shares it moves far less than wall time, so
"CPU ms/file" compares runs made under different loads, and cores / CPU time
per file is the rate the phase would reach with the cores to itself.

Peak memory is getrusage(RUSAGE_SELF).ru_maxrss of the phase's process: the
resident-set high-water mark, interpreter and Django included (the "base"
column is the same mark taken just before the timed work starts).

Targets (issue): import <= 3x floor; re-import of an unchanged archive >= 3x
faster than the first import; every phase's peak memory under 500 MiB (checked:
a run over it fails, like wrong counts). Results are printed and written as
JSON to bench/out/ (git-ignored) unless --no-json. `--count 100000` needs about
600 MB for the corpus and 2.7 GB for the database in --tmp (default: the
system's temporary directory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
PHASES = ("floor", "import", "reimport", "changed")
CHANGED_SHARE = 0.01
TARGET_IMPORT_OVER_FLOOR = 3.0
TARGET_REIMPORT_SPEEDUP = 3.0
# Peak resident memory of any phase (issue 5: stays flat, under 500 MB at 100,000 files).
MEMORY_LIMIT_MIB = 500

sys.path.insert(0, str(ROOT))

from bench.servers import SECRET_KEY  # noqa: E402


# --- child side: one phase, one process --------------------------------------------


def _setup_django() -> None:
    # Settings come from the environment the parent prepared (DATABASE_URL, DEBUG).
    import django

    django.setup()


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its children that have ended (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes; this benchmark targets Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(corpus: Path) -> dict[str, Any]:
    """What import_files does per file, minus the database."""
    from django.conf import settings

    from importing.pipeline import find_source_files
    from importing.parse import DEFAULT_MAX_BYTES, content_hash, get_timezone, parse_bytes, read_source
    from articles.sanitize import sanitize_body

    tz = get_timezone(settings.TIME_ZONE)
    files, _ = find_source_files([corpus])
    for path in files:
        data = read_source(path, DEFAULT_MAX_BYTES)
        digest = content_hash(data, tz)
        parsed = parse_bytes(data, path=str(path), tz=tz, digest=digest)
        sanitize_body(parsed.body)
    return {"files": len(files)}


def _import(corpus: Path, batch_size: int | None, workers: int | None = None) -> dict[str, Any]:
    """What `manage.py import_articles DIR` does, minus argument parsing and the progress bar."""
    from django.conf import settings

    from importing.pipeline import find_source_files, import_files
    from importing.parse import get_timezone

    files, missing = find_source_files([corpus])
    sizing = {"batch_size": batch_size} if batch_size else {}  # else the importer's default
    if workers is not None:
        sizing["workers"] = workers
    report = import_files(files, tz=get_timezone(settings.TIME_ZONE), **sizing)
    return {
        "files": len(files),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failed + len(missing),
        "first_errors": (missing + report.errors)[:5],
    }


def _database_counts() -> dict[str, int]:
    from articles.models import Article

    return {
        "articles": Article.objects.count(),
        "distinct_import_keys": Article.objects.values("import_key").distinct().count(),
    }


def run_phase(phase: str, corpus: Path, batch_size: int | None, profile: Path | None,
              workers: int | None = None) -> dict[str, Any]:
    _setup_django()
    if phase == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        return {}
    work = (lambda: _floor(corpus)) if phase == "floor" else (lambda: _import(corpus, batch_size, workers))
    base_rss = _peak_rss_mib()
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    result = work()
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    if profiler is not None:
        profiler.disable()
        _write_profile(profiler, profile)
    result.update(wall_s=wall, cpu_s=cpu, peak_rss_mib=_peak_rss_mib(), base_rss_mib=base_rss)
    if phase != "floor":
        result.update(_database_counts())  # after the timing: a check, not part of the cost
    return result


def _write_profile(profiler: Any, path: Path) -> None:
    import io
    import pstats

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path.with_suffix(".prof")))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    path.write_text(text.getvalue(), encoding="utf-8")


# --- parent side: runs, checks, report ------------------------------------------------------


def _child_env(db_path: Path, debug: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "newsportal.settings"
    env["DATABASE_URL"] = f"sqlite:///{db_path}"
    # Production-like by default: with DEBUG on, Django also records every
    # query, which is not what a deployed import pays. --debug measures that.
    env["DJANGO_DEBUG"] = "1" if debug else "0"
    env.setdefault("DJANGO_SECRET_KEY", SECRET_KEY)
    return env


def _spawn(phase: str, corpus: Path, db_path: Path, args: argparse.Namespace, profile: Path | None = None) -> dict:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--phase", phase,
        "--corpus", str(corpus),
    ]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if profile is not None:
        command += ["--profile-to", str(profile)]
    done = subprocess.run(
        command, env=_child_env(db_path, args.debug), cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"phase {phase} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(run: dict[str, Any], summary: Any, changed_files: int) -> list[str]:
    """What the importer must have reported for this corpus; a benchmark of wrong work is no benchmark."""
    problems = []
    first, again, changed = run["import"], run["reimport"], run["changed"]
    for name in ("import", "reimport", "changed"):
        if run[name]["failed"]:
            problems.append(f"{name}: {run[name]['failed']} file(s) failed, e.g. {run[name]['first_errors']}")
        if run[name]["articles"] != summary.stories or run[name]["distinct_import_keys"] != summary.stories:
            problems.append(f"{name}: {run[name]['articles']} articles in the database, expected {summary.stories}")
    # Each story is created once; every other file holding it either updates
    # the article or, when byte-identical to the version stored just before
    # it, leaves it unchanged (which depends on the order files are read in).
    if first["created"] != summary.stories or first["updated"] + first["unchanged"] != summary.duplicates:
        problems.append(
            f"import: created {first['created']}, updated+unchanged {first['updated'] + first['unchanged']}; "
            f"expected {summary.stories} and {summary.duplicates}"
        )
    if again["updated"]:
        problems.append(f"reimport: {again['updated']} articles updated from an unchanged archive")
    if again["created"] or changed["created"]:
        problems.append("a re-import created articles")
    if changed["updated"] < changed_files:
        problems.append(f"changed: {changed['updated']} updated, expected at least {changed_files}")
    for name in PHASES:
        if run[name]["peak_rss_mib"] > MEMORY_LIMIT_MIB:
            problems.append(f"{name}: peak memory {run[name]['peak_rss_mib']:.0f} MiB, over {MEMORY_LIMIT_MIB} MiB")
    return problems


def one_run(index: int, args: argparse.Namespace) -> dict[str, Any]:
    from bench.corpus import revise_files, write_corpus

    workdir = Path(tempfile.mkdtemp(prefix="newsportal-bench-", dir=args.tmp))
    try:
        corpus, db_path = workdir / "corpus", workdir / "db.sqlite3"
        started = time.perf_counter()
        summary = write_corpus(corpus, args.count, args.seed, markdown=args.markdown)
        generate_s = time.perf_counter() - started
        _spawn("migrate", corpus, db_path, args)

        profile_dir = OUT_DIR / "profiles" if args.profile and index == 0 else None
        run: dict[str, Any] = {"generate_s": generate_s, "corpus_mb": summary.bytes_written / 1e6}
        for phase in ("floor", "import", "reimport"):
            profile = profile_dir / f"{phase}.txt" if profile_dir else None
            run[phase] = _spawn(phase, corpus, db_path, args, profile)
        edited = revise_files(sorted(corpus.rglob("*.md" if args.markdown else "*.txt")), CHANGED_SHARE,
                              args.seed + 1)
        run["changed"] = _spawn("changed", corpus, db_path, args,
                                profile_dir / "changed.txt" if profile_dir else None)
        run["changed_files"] = len(edited)
        run["db_mb"] = sum(p.stat().st_size for p in workdir.glob("db.sqlite3*")) / 1e6
        run["problems"] = _check(run, summary, len(edited))
        run["expected"] = {"stories": summary.stories, "identical_copies": summary.identical_copies,
                           "variant_copies": summary.variant_copies}
        return run
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _ratios(run: dict[str, Any]) -> dict[str, float]:
    return {
        "import_over_floor": run["import"]["wall_s"] / run["floor"]["wall_s"],
        "import_over_reimport": run["import"]["wall_s"] / run["reimport"]["wall_s"],
        "import_over_changed": run["import"]["wall_s"] / run["changed"]["wall_s"],
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    medians: dict[str, Any] = {}
    for phase in PHASES:
        medians[phase] = {
            key: statistics.median(run[phase][key] for run in runs)
            for key in ("wall_s", "cpu_s", "peak_rss_mib", "base_rss_mib")
        }
        medians[phase]["files_per_s"] = runs[0][phase]["files"] / medians[phase]["wall_s"]
    ratios = [run["ratios"] for run in runs]
    medians["ratios"] = {key: statistics.median(r[key] for r in ratios) for key in ratios[0]}
    return medians


def _table(rows: dict[str, dict[str, Any]], files: int) -> str:
    lines = [f"{'phase':<10} {'wall s':>8} {'files/s':>9} {'CPU ms/file':>12} {'peak RSS MiB':>13} {'base MiB':>9}  counts"]
    for phase in PHASES:
        row = rows[phase]
        counts = ""
        if "created" in row:
            counts = ", ".join(f"{key} {row[key]}" for key in ("created", "updated", "unchanged", "failed"))
        lines.append(
            f"{phase:<10} {row['wall_s']:>8.2f} {files / row['wall_s']:>9.0f} {row['cpu_s'] / files * 1000:>12.3f} "
            f"{row['peak_rss_mib']:>13.1f} {row['base_rss_mib']:>9.1f}  {counts}"
        )
    return "\n".join(lines)


def _cpu_line(rows: dict[str, dict[str, Any]], files: int) -> str:
    """The import's rate if it had every core to itself: cores / CPU time per file (an upper bound)."""
    cores = os.cpu_count() or 1
    cpu_ms = rows["import"]["cpu_s"] / files * 1000
    return (f"import CPU {cpu_ms:.3f} ms/file (writer and workers): at most {cores * 1000 / cpu_ms:,.0f} "
            f"files/s on {cores} cores, {files / rows['import']['wall_s']:,.0f} measured")


def _ratio_line(ratios: dict[str, float]) -> str:
    verdict_floor = "OK" if ratios["import_over_floor"] <= TARGET_IMPORT_OVER_FLOOR else "MISSED"
    verdict_again = "OK" if ratios["import_over_reimport"] >= TARGET_REIMPORT_SPEEDUP else "MISSED"
    return (
        f"import/floor {ratios['import_over_floor']:.2f}x "
        f"(target <= {TARGET_IMPORT_OVER_FLOOR:g}x: {verdict_floor}); "
        f"import/re-import {ratios['import_over_reimport']:.2f}x "
        f"(target >= {TARGET_REIMPORT_SPEEDUP:g}x: {verdict_again}); "
        f"import/changed re-import {ratios['import_over_changed']:.2f}x"
    )


def _machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "load_average": os.getloadavg()}  # other work on the machine skews wall times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="files in the corpus (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="import batch size (default: the importer's, importing.load.DEFAULT_BATCH_SIZE)")
    parser.add_argument("--workers", type=int, default=None,
                        help="import worker processes (default: the importer's, importing.pipeline.default_workers)")
    parser.add_argument("--markdown", action="store_true",
                        help="a corpus of Markdown posts (.md) instead of the feeds' HTML ones (.txt)")
    parser.add_argument("--debug", action="store_true", help="run Django with DEBUG on, as `manage.py` with .env does")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile every phase of the first run into bench/out/profiles/ (slows it down)")
    parser.add_argument("--tmp", default=None, help="directory for the temporary corpus and database")
    parser.add_argument("--keep", action="store_true", help="keep each run's corpus and database")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/out/*.json")
    # Child mode (the parent runs each phase as `--phase NAME`).
    parser.add_argument("--phase", choices=("migrate", *PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:
        print(json.dumps(run_phase(args.phase, args.corpus, args.batch_size, args.profile_to, args.workers)))
        return 0
    if args.count < 100 or args.runs < 1:
        parser.error("--count must be at least 100 and --runs at least 1")

    runs = []
    for index in range(args.runs):
        load_before = os.getloadavg()[0]
        run = one_run(index, args)
        run["ratios"] = _ratios(run)
        run["load_average"] = [load_before, os.getloadavg()[0]]
        runs.append(run)
        print(f"\nrun {index + 1}/{args.runs}: {args.count} {'Markdown' if args.markdown else 'HTML'} files "
              f"({run['corpus_mb']:.0f} MB, "
              f"generated in {run['generate_s']:.1f}s untimed), database {run['db_mb']:.0f} MB, "
              f"load average {run['load_average'][0]:.1f} → {run['load_average'][1]:.1f}")
        print(_table(run, args.count))
        print(_ratio_line(run["ratios"]))
        print(_cpu_line(run, args.count))
        for problem in run["problems"]:
            print(f"CHECK FAILED: {problem}")
        if run["reimport"]["updated"]:
            # Not a benchmark failure but worth seeing: files that share a story
            # with different bytes are rewritten on every re-import.
            print(f"note: re-import of the unchanged archive updated {run['reimport']['updated']} article(s)")
    medians = _medians(runs)
    print(f"\nmedians over {len(runs)} run(s):")
    print(_table({**medians, **{p: {**runs[0][p], **medians[p]} for p in PHASES}}, args.count))
    print(_ratio_line(medians["ratios"]))
    print(_cpu_line(medians, args.count))

    if not args.no_json:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = OUT_DIR / f"bench-import-{args.count}-{stamp}.json"
        payload = {"args": {k: v for k, v in vars(args).items() if k not in ("phase", "corpus", "profile_to")},
                   "machine": _machine(), "runs": runs, "medians": medians}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 1 if any(run["problems"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
