"""A read replica (DATABASE_REPLICA_URL): public pages read from it, everything else from the primary.

Two real SQLite databases in a child process with its own settings; "replication"
is SQLite's online backup of the primary into the replica, so the replica lags
until the test replicates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.factories import PROJECT

pytestmark = pytest.mark.slow  # a child process with two databases of its own

SCRIPT = r"""
import json, sqlite3, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone
from articles.models import Article

primary, replica = sys.argv[1], sys.argv[2]

def replicate():
    source, target = sqlite3.connect(primary), sqlite3.connect(replica)
    source.backup(target)
    source.close(); target.close()

def publish(title):
    Article.objects.create(title=title, body="<p>正文</p>", status=Article.Status.PUBLISHED,
                           published_at=timezone.now() - timezone.timedelta(hours=1))

def page(client, url="/"):
    response = client.get(url)
    return {"status": response.status_code, "text": response.content.decode(), "cache": response.get("X-Cache")}

publish("复制之前的文章")
replicate()
publish("尚未复制的文章")
editor = get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
anonymous, staff = Client(), Client()
staff.force_login(editor)
out = {
    "anonymous_before": page(anonymous),
    "anonymous_again": page(anonymous),
    "staff": page(staff),
    "admin": page(staff, "/admin/articles/article/"),
}
replicate()
out["anonymous_after"] = page(anonymous)
out["aliases"] = sorted(connections)
print(json.dumps(out))
"""


def test_public_pages_read_the_replica_and_staff_and_the_admin_the_primary(tmp_path):
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "replica-test", "DJANGO_ALLOWED_HOSTS": "testserver",
           "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0", "CACHE_URL": "locmem://",
           "NEWSPORTAL_ENV_FILE": os.devnull, "NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS": "0",
           "DATABASE_URL": f"sqlite:///{primary}", "DATABASE_REPLICA_URL": f"sqlite:///{replica}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(primary), str(replica)], cwd=PROJECT, env=env,
                         check=True, stdout=subprocess.PIPE, text=True)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["aliases"] == ["default", "replica"]
    before, again, after = out["anonymous_before"], out["anonymous_again"], out["anonymous_after"]
    # The replica lags: readers see what was replicated, and it is cached under the replica's version.
    assert before["status"] == 200 and "复制之前的文章" in before["text"] and "尚未复制的文章" not in before["text"]
    assert again["cache"] == "hit" and again["text"] == before["text"]
    # Staff on the site and in the admin read the primary: what they just saved.
    assert "尚未复制的文章" in out["staff"]["text"] and out["staff"]["cache"] is None
    assert out["admin"]["status"] == 200 and "尚未复制的文章" in out["admin"]["text"]
    # Once replicated, the replica's version has changed: a fresh page, never the old one.
    assert after["cache"] == "miss" and "尚未复制的文章" in after["text"]
