"""Logs (#20): one line per event with UTC time, level, logger and request id; JSON lines with
`NEWSPORTAL_LOG_FORMAT=json`; the request id from a trusted proxy or made, in X-Request-ID;
DisallowedHost once per host and minute without a traceback; Sentry off and not imported by default."""

from __future__ import annotations

import json
import re

import pytest

from tests.observability_support import FakeSentry, run_requests

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
