"""Logs (#20): one line per event with UTC time, level, logger and request id; JSON lines with
`NEWSPORTAL_LOG_FORMAT=json`; the request id from a trusted proxy or made, in X-Request-ID;
DisallowedHost once per host and minute without a traceback; Sentry off and not imported by default."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.factories import PROJECT, SEEDS
from tests.faults_support import free_port, subprocess_env, wait_until_listening
from tests.observability_support import FakeSentry, run_requests, scrape_after_traffic

pytestmark = pytest.mark.slow  # a Python process of its own for the real logging configuration

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\w+) ([\w.]+) \[([\w.:-]+)\] (.*)$")


def test_text_log_lines_carry_utc_time_level_logger_and_request_id(scratch_db):
    seen, log = run_requests(scratch_db)
    events = [LINE.match(line) for line in log.splitlines() if LINE.match(line)]
    not_found = [m for m in events if m[5] == "Not Found: /no-such-page/"]
    assert [m[4] for m in not_found] == [seen["404"], seen["from_proxy"], seen["forged"], seen["bad_id"]]
    assert all(m[2] == "WARNING" and m[3] == "django.request" for m in not_found)
    # nginx's id is taken from the proxy (loopback); a forged or malformed one is replaced.
    assert seen["from_proxy"] == "nginx-req-1"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["forged"]) and re.fullmatch(r"[0-9a-f]{32}", seen["bad_id"])
    error = [m for m in events if m[2] == "ERROR" and m[3] == "django.request"]
    assert len(error) == 1 and error[0][4] == seen["500"] and error[0][5] == "Internal Server Error: /"
    # Host probes: one warning per host, no traceback.
    assert seen["probes"] == [400, 400, 400, 400]
    probes = [m for m in events if m[3] == "django.security.DisallowedHost"]
    assert [m[2] for m in probes] == ["WARNING", "WARNING"]
    assert "203.0.113.9" in probes[0][5] and "scanner.example" in probes[1][5]
    assert log.count("Traceback") == 1  # the view's error only
    assert seen["sentry_loaded"] is False  # no SENTRY_DSN: sentry_sdk is not even imported


def test_json_log_lines_hold_a_whole_event_each(scratch_db):
    seen, log = run_requests(scratch_db, NEWSPORTAL_LOG_FORMAT="json")
    events = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
    assert {"time", "level", "logger", "request_id", "message"} <= set(events[0])
    assert [e["request_id"] for e in events if e["message"] == "Not Found: /no-such-page/"] == [
        seen["404"], seen["from_proxy"], seen["forged"], seen["bad_id"]]
    assert all(e["time"].endswith("Z") for e in events)
    error = [e for e in events if e["level"] == "ERROR"]
    assert len(error) == 1 and error[0]["request_id"] == seen["500"] and error[0]["status_code"] == 500
    assert "RuntimeError: boom in the view" in error[0]["exception"]
    assert [e["logger"] for e in events if "DisallowedHost" in e["logger"]] == ["django.security.DisallowedHost"] * 2


def test_with_sentry_dsn_an_error_is_reported(scratch_db):
    sentry = FakeSentry()
    try:
        seen, log = run_requests(scratch_db, SENTRY_DSN=sentry.dsn)
    finally:
        sentry.close()
    assert seen["sentry_loaded"] is True
    reports = [body for body in sentry.received if "boom in the view" in body]
    assert reports and "RuntimeError" in reports[0]
    assert not any("DisallowedHost" in body for body in sentry.received)  # probes are not errors


def sample(metrics: str, name: str) -> float:
    """The value of one sample (`name` with its labels, as written) in a text exposition."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in the metrics")


def test_metrics_count_requests_cache_imports_and_the_task_queue(scratch_db):
    seen = scrape_after_traffic(scratch_db, str(SEEDS))
    assert seen["pages"] == ["miss", "hit"]
    assert seen["outsider"] == 404  # only NEWSPORTAL_METRICS_ALLOWED (loopback) may scrape
    assert seen["through_proxy"] == 404  # not a reader forwarded by nginx on loopback
    assert seen["status"] == 200 and seen["content_type"].startswith("text/plain")  # by address: no host check
    metrics = seen["metrics"]
    assert sample(metrics, 'newsportal_page_cache_requests_total{result="hit"}') == 2  # and a 304
    assert sample(metrics, 'newsportal_page_cache_requests_total{result="miss"}') == 1
    # Every request for the home page under its view's name: the one rendered, and the three the page
    # cache answered before any view ran (two hits, the second for its ETag, and the 304), none as
    # "<unnamed view>".
    assert seen["revalidated"] == 304
    assert sample(metrics, 'django_http_requests_total_by_view_transport_method_total'
                           '{method="GET",transport="http",view="articles:home"}') == 4
    assert sample(metrics, 'django_http_requests_latency_seconds_by_view_method_count'
                           '{method="GET",view="articles:home"}') == 4
    assert sample(metrics, 'django_http_responses_total_by_status_view_method_total'
                           '{method="GET",status="200",view="articles:home"}') == 3
    assert sample(metrics, 'django_http_responses_total_by_status_view_method_total'
                           '{method="GET",status="304",view="articles:home"}') == 1
    assert 'view="<unnamed view>"' not in metrics
    assert sample(metrics, 'newsportal_import_runs{status="succeeded"}') == 1
    assert sample(metrics, 'newsportal_import_files{outcome="created"}') == len(list(SEEDS.glob("*.txt")))
    assert sample(metrics, "newsportal_import_last_finished_timestamp_seconds") > 0
    assert sample(metrics, 'newsportal_task_queue_depth{backend="db"}') >= 2


def test_metrics_are_off_by_default(client, db):
    assert client.get("/metrics").status_code == 404


GUNICORN_CONF = '''
from prometheus_client import multiprocess

def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
'''


def test_under_gunicorn_a_scrape_sums_every_worker(scratch_db, tmp_path):
    """docs/DEPLOY.md's multi-process setup: PROMETHEUS_MULTIPROC_DIR and the child_exit hook."""
    import urllib.request

    (tmp_path / "gunicorn.conf.py").write_text(GUNICORN_CONF)
    folder = tmp_path / "metrics"
    folder.mkdir()
    port = free_port()
    env = subprocess_env(scratch_db, NEWSPORTAL_METRICS="1", PROMETHEUS_MULTIPROC_DIR=str(folder),
                         DJANGO_ALLOWED_HOSTS="127.0.0.1")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(tmp_path / "gunicorn.conf.py"), "newsportal.wsgi",
         "--workers", "2", "--bind", f"127.0.0.1:{port}"], cwd=PROJECT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(port, server)
        requests = 0
        while len({path.name.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}) < 2 and requests < 300:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=30) as response:
                assert response.status == 200
            requests += 1
        assert len(list(folder.glob("counter_*.db"))) >= 2, "one worker answered every request"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
            metrics = response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = sum(float(line.split()[-1]) for line in metrics.splitlines()
                 if line.startswith("django_http_requests_total_by_view_transport_method_total{")
                 and 'view="robots"' in line)
    assert served == requests  # both workers' counts, not the one that answered the scrape
