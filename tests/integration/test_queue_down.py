"""The RQ task backend with its Redis stopped (#20): the admin's actions that queue tasks and the
import upload tell the editor the queue cannot be reached, instead of a 500; an upload that could
not be queued is a failed run with the reason, its files removed, never "queued" for ever.

A process of its own, as production runs (NEWSPORTAL_TASK_BACKEND=rq chosen by settings.py),
with real commits (so the enqueue after commit runs inside the request) and a real redis-server,
first up, then stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.factories import PROJECT
from tests.faults_support import subprocess_env

pytestmark = pytest.mark.slow  # a redis-server and two Django processes

SCRIPT = r'''
import json
import django
django.setup()
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from articles.models import ImportRun
from tests.factories import add_form, post, publish, staff

desk = User.objects.filter(username="desk").first() or staff("desk", "Editors")
client = Client(raise_request_exception=False)
client.force_login(desk)
article = publish("已发布的稿件")
seen = {"add": client.post("/admin/articles/article/add/", add_form("新稿件")).status_code}
for action in ("redetect_bylines", "reindex_for_search"):
    answer = client.post("/admin/articles/article/", {"action": action, "_selected_action": [article.pk]},
                         follow=True)
    seen[action] = [answer.status_code, answer.content.decode()]
upload = SimpleUploadedFile("story.md", post(title="上传的稿件").encode())
answer = client.post("/admin/articles/importrun/upload/", {"files": [upload], "time_zone": "Asia/Shanghai"})
seen["upload"] = [answer.status_code, answer.content.decode()]
run = ImportRun.objects.latest()
seen["run"] = [run.status, run.task_id, run.failure_reason]
print(json.dumps(seen))
'''

QUEUE_DOWN = "无法连接任务队列"


def admin_requests(database_url: str, redis_url: str, spool) -> dict:
    env = subprocess_env(database_url, NEWSPORTAL_TASK_BACKEND="rq", NEWSPORTAL_REDIS_URL=redis_url,
                         NEWSPORTAL_IMPORT_SPOOL_DIR=str(spool), DJANGO_ALLOWED_HOSTS="testserver")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_with_the_queues_redis_stopped_the_admin_says_so_instead_of_a_500(scratch_db, redis_server, tmp_path):
    spool = tmp_path / "spool"
    up = admin_requests(scratch_db, redis_server.url, spool)
    assert up["add"] == 302
    for action in ("redetect_bylines", "reindex_for_search"):
        status, page = up[action]
        assert status == 200 and "加入任务队列" in page and QUEUE_DOWN not in page
    assert up["upload"][0] == 303
    assert up["run"][0] == "queued" and up["run"][1]  # its task's id: the job waits in Redis
    assert len(list(spool.iterdir())) == 1

    redis_server.stop()
    down = admin_requests(scratch_db, redis_server.url, spool)
    assert down["add"] == 302  # keyword suggestions are a help: logged, the save goes through
    for action in ("redetect_bylines", "reindex_for_search"):
        status, page = down[action]
        assert status == 200 and QUEUE_DOWN in page and "再执行一次此操作" in page
    status, page = down["upload"]
    assert status == 503 and QUEUE_DOWN in page and "请重新上传" in page
    run_status, task_id, reason = down["run"]
    assert run_status == "failed" and not task_id
    assert reason.startswith("the import could not be queued (the task queue cannot be reached (ConnectionError")
    assert len(list(spool.iterdir())) == 1  # the first run's files only: the failed upload's are gone
