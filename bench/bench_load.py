#!/usr/bin/env python
"""Load benchmark (#6): gunicorn under load while an import writes to the same database.

Run from the project root:

    .venv/bin/python bench/bench_load.py [--connections 64] [--duration 60] [--articles 2000] [--import-files 3000]

Builds a SQLite database in a temporary directory (migrate, then imports
--articles generated posts so the pages have content), starts gunicorn (2 sync
workers, loopback), starts `import_articles` over --import-files more
generated posts against the same database, and meanwhile sends --connections
concurrent keep-alive connections for --duration seconds over the home page,
a category page, an article page and a search page (one URL after another on
each connection). Reports requests/s, p50/p99 latency, the number of 5xx
responses and of connection errors (the target for both is zero), and the
import's own summary. The load generator is wrk (Debian's package) with a Lua
script rotating the URLs, or `--tool python` (threads + http.client), which is
what tests/integration/test_load_during_import.py uses at CI size.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import SECRET_KEY, free_port, wait_for  # noqa: E402  (the benchmarks' one server set-up: bench/servers.py)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    server_errors: int = 0          # 5xx responses
    connection_errors: int = 0      # refused, reset, timed out
    other_statuses: dict[int, int] = field(default_factory=dict)  # anything else but 200
    p50_ms: float = 0.0
    p99_ms: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"{self.requests} requests in {self.seconds:.1f} s = {self.rate:.0f} req/s; "
                f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms; "
                f"5xx {self.server_errors}; connection errors {self.connection_errors}; "
                f"other non-200 {self.other_statuses or 0}")


def python_load(port: int, paths: list[str], connections: int, duration: float) -> LoadResult:
    """`connections` threads, each a keep-alive connection cycling through `paths` for `duration` s."""
    result, lock = LoadResult(), threading.Lock()
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    def client(offset: int) -> None:
        mine: list[float] = []
        errors, server_errors, others = 0, 0, {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
            if response.status >= 500:
                server_errors += 1
            elif response.status != 200:
                others[response.status] = others.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            result.connection_errors += errors
            result.server_errors += server_errors
            for status, n in others.items():
                result.other_statuses[status] = result.other_statuses.get(status, 0) + n

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    result.requests = len(latencies)
    if latencies:
        cuts = statistics.quantiles(latencies, n=100)
        result.p50_ms, result.p99_ms = cuts[49] * 1000, cuts[98] * 1000
    return result


_WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Host"] = "127.0.0.1"})
end
"""


def wrk_load(port: int, paths: list[str], connections: int, duration: float) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "30s",
             "-s", script.name, f"http://127.0.0.1:{port}"],
            check=True, stdout=subprocess.PIPE, text=True).stdout
    finally:
        os.unlink(script.name)
    print(out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return LoadResult(
        requests=requests, seconds=requests / float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        # Every URL answers 200 when healthy; wrk lumps 4xx and 5xx together, so count both as errors.
        server_errors=int(non_2xx.group(1)) if non_2xx else 0,
        connection_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        p50_ms=ms("50%"), p99_ms=ms("99%"))


def pages(env: dict[str, str]) -> list[str]:
    """Home, a category, an article and a search page, found through the app itself."""
    finder = subprocess.run([sys.executable, "-c", (
        "import django, json; django.setup();"
        "from articles.models import Article, Category;"
        "c = Category.objects.filter(parent=None).order_by('pk').first();"
        "a = Article.objects.published().order_by('-published_at').first();"
        "word = a.title.split()[0][:4] if a.title.split() else a.title[:4];"
        "from urllib.parse import urlencode;"
        "print(json.dumps(['/', c.get_absolute_url(), a.get_absolute_url(), '/search/?' + urlencode({'q': word})]))")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(finder.stdout.strip().splitlines()[-1])


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *map(str, args)], cwd=ROOT, env=env, check=True, **kwargs)


def run_under_import(database_url: str, workdir: Path, *, connections: int, duration: float, articles: int,
                     import_files: int, tool: str = "python", settings: str = "newsportal.settings",
                     migrate: bool = True) -> tuple[LoadResult, subprocess.CompletedProcess]:
    """Load gunicorn while an import runs on `database_url`; returns the load figures and the import's run."""
    static_root = workdir / "static"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET_KEY,
           "DJANGO_SETTINGS_MODULE": settings, "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_STATIC_ROOT": str(static_root), "CACHE_URL": "locmem://", "DJANGO_SECURE_SSL_REDIRECT": "0",
           "PYTHONUNBUFFERED": "1"}
    env.pop("SQLITE_TEST_NAME", None)
    if migrate:
        manage(env, "migrate", "-v0")
    if settings == "newsportal.settings":
        manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "generate_corpus", "--count", articles, "--out", workdir / "site", "--seed", 1, stdout=subprocess.DEVNULL)
    manage(env, "import_articles", "-v0", workdir / "site")
    manage(env, "generate_corpus", "--count", import_files, "--out", workdir / "incoming", "--seed", 2,
           stdout=subprocess.DEVNULL)
    paths = pages(env)

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env)
    importer = None
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        importer = subprocess.Popen([sys.executable, "manage.py", "import_articles", workdir / "incoming"],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        load = (wrk_load if tool == "wrk" else python_load)(port, paths, connections, duration)
        stdout, stderr = importer.communicate(timeout=1800)
        imported = subprocess.CompletedProcess(importer.args, importer.returncode, stdout, stderr)
    finally:
        if importer is not None and importer.poll() is None:
            importer.kill()
        server.terminate()
        server.wait(timeout=30)
    return load, imported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default %(default)s)")
    parser.add_argument("--articles", type=int, default=2000, help="posts imported before the load starts")
    parser.add_argument("--import-files", type=int, default=3000, help="posts imported during the load")
    parser.add_argument("--tool", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        load, imported = run_under_import(
            f"sqlite:///{workdir / 'db.sqlite3'}", workdir, connections=args.connections, duration=args.duration,
            articles=args.articles, import_files=args.import_files, tool=args.tool)
    print(f"load ({args.tool}, {args.connections} connections, {args.duration} s): {load.summary()}")
    print(f"import during the load: exit {imported.returncode}: {imported.stdout.strip()} {imported.stderr.strip()}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    ok = load.server_errors == 0 and load.connection_errors == 0 and imported.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
