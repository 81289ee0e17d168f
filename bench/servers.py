"""The benchmarks' servers and load generator: gunicorn on a loopback port, wrk against it.

Shared by bench_cache.py, bench_throughput.py and bench_beacon.py, so each
measures against the same server set-up (2 sync workers, loopback only).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks' secret key: long and varied enough for the start-up check (newsportal.checks,
# which refuses a weak key under gunicorn), and plainly not a production one.
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789-abcdefghij"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Until `url` answers (bounded); fails at once if `process` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {url}")


def gunicorn(port: int, env: dict[str, str], app: str = "newsportal.wsgi", log: IO | None = None,
             workers: int = 2) -> subprocess.Popen:
    """gunicorn (sync workers) serving `app` on 127.0.0.1:`port`, once it answers."""
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), app, "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env, stderr=log)
    wait_for(f"http://127.0.0.1:{port}/", process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wrk(url: str, duration: int, connections: int) -> float:
    """Requests/s of `wrk` (Debian's package; 2 threads) against `url`; fails on any error answer."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", url], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
