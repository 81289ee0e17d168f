"""Log lines an operator can search (#20 C; docs/DEPLOY.md, "Logs").

Every line: the time in UTC (ISO 8601, milliseconds), the level, the logger and the
request id (newsportal.request_id; `-` outside a request), then the message.
`NEWSPORTAL_LOG_FORMAT=json` writes one JSON object a line instead, the traceback
(if any) a string in it, so a line is always a whole event.

`DisallowedHostOnce` turns Django's DisallowedHost errors (scanners probing by IP
address or with made-up Host headers) into one warning line per host and minute,
without the traceback Django attaches.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _utc_iso(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _request_id_of(record: logging.LogRecord) -> str:
    """The id of the request a record is about: its `request` (Django's 4xx/5xx lines, logged after the
    middleware has returned) or the request being served in this context."""
    request = getattr(record, "request", None)
    return getattr(request, "request_id", None) or request_id.get()


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request it was logged in (`record.request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id_of(record)
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-06T17:12:00.123Z WARNING django.request [5f0c…] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_iso(record.created)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id_of(record)
        return super().format(record)


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message, and exception (one string)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _utc_iso(record.created), "level": record.levelname, "logger": record.name,
                "request_id": getattr(record, "request_id", None) or _request_id_of(record),
                "message": record.getMessage()}
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status_code"] = status
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class DisallowedHostOnce(logging.Filter):
    """On `django.security.DisallowedHost`: one warning per host a minute, no traceback."""

    INTERVAL = 60.0
    MAX_HOSTS = 10_000  # bounded memory whatever a scanner sends

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        host = request.META.get("HTTP_HOST", "") if request is not None else record.getMessage()
        now = time.monotonic()
        with self._lock:
            last = self._last.get(host)
            if last is not None and now - last < self.INTERVAL:
                return False
            if len(self._last) >= self.MAX_HOSTS:
                self._last = {h: t for h, t in self._last.items() if now - t < self.INTERVAL}
                if len(self._last) >= self.MAX_HOSTS:
                    return False  # a flood of distinct hosts: those already logged this minute are enough
            self._last[host] = now
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True
