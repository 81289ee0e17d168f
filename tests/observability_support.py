"""Running the real settings' logging in a process of its own (tests/integration/test_observability.py).

`run_requests` starts Python with tests.settings and the given environment, makes the
test client's requests listed in `SCRIPT` (a 404, a view that raises, Host probes, a
proxy's request id and a forged one), and returns (what it printed, its stderr: the log).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.factories import PROJECT

SCRIPT = r'''
import json, sys
import django
django.setup()
from unittest import mock
from django.test import Client
from articles import views

client = Client(raise_request_exception=False)
seen = {}
seen["404"] = client.get("/no-such-page/")["X-Request-ID"]
seen["from_proxy"] = client.get("/no-such-page/", HTTP_X_REQUEST_ID="nginx-req-1")["X-Request-ID"]
seen["forged"] = client.get("/no-such-page/", HTTP_X_REQUEST_ID="forged-1", REMOTE_ADDR="203.0.113.5")["X-Request-ID"]
seen["bad_id"] = client.get("/no-such-page/", HTTP_X_REQUEST_ID="a b\nc")["X-Request-ID"]
with mock.patch.object(views.HomeView, "get", side_effect=RuntimeError("boom in the view")):
    seen["500"] = client.get("/")["X-Request-ID"]
for host in ["203.0.113.9", "203.0.113.9", "203.0.113.9", "scanner.example"]:
    seen.setdefault("probes", []).append(client.get("/", HTTP_HOST=host).status_code)
seen["sentry_loaded"] = "sentry_sdk" in sys.modules
print(json.dumps(seen))
'''


def run_requests(database_url: str, **env: str) -> tuple[dict, str]:
    environment = {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
                   "DJANGO_ALLOWED_HOSTS": "testserver", "PATH": "/usr/bin:/bin", **env}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT, env=environment, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


class FakeSentry:
    """An HTTP server on loopback that keeps the bodies Sentry's SDK posts to it (decompressed)."""

    def __init__(self) -> None:
        import gzip
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                received.append(body.decode("utf-8", "replace"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self._server.server_address[1]}/1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


METRICS_SCRIPT = r'''
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from articles import hot

client = Client()
seen = {"pages": [client.get("/")["X-Cache"], client.get("/")["X-Cache"]]}
# A reader's conditional request, answered by the page cache too (a 304).
seen["revalidated"] = client.get("/", HTTP_IF_NONE_MATCH=client.get("/")["ETag"]).status_code
call_command("import_articles", sys.argv[1], stdout=open("/dev/null", "w"))
hot.flush_task.enqueue()  # waits in the task table: no worker runs here
hot.flush_task.enqueue()
seen["outsider"] = client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code
# A reader through nginx on loopback: the peer is allowed, the reader is not.
seen["through_proxy"] = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code
scrape = client.get("/metrics", HTTP_HOST="10.0.0.3:8000")
seen["status"], seen["content_type"] = scrape.status_code, scrape["Content-Type"]
seen["metrics"] = scrape.content.decode()
print(json.dumps(seen))
'''


def scrape_after_traffic(database_url: str, posts: str, **env: str) -> dict:
    """Pages served, an import run and two tasks queued in a process with metrics on; then its /metrics."""
    environment = {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
                   "DJANGO_ALLOWED_HOSTS": "testserver", "PATH": "/usr/bin:/bin", "NEWSPORTAL_METRICS": "1",
                   "NEWSPORTAL_TASK_BACKEND": "db", **env}
    done = subprocess.run([sys.executable, "-c", METRICS_SCRIPT, posts], cwd=PROJECT, env=environment,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])
