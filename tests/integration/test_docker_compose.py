"""deploy/docker/ as shipped: the image built, compose.yaml brought up, the site used through nginx.

A throwaway Docker daemon of the test's own (its own socket, data and state folders; ports
published on 127.0.0.1 only) builds the Dockerfile's targets and runs compose.yaml with an
environment file like deploy/docker/env.example filled in. Docker Hub is out of reach here,
so the three images the files name but do not build are made locally first
(tests/integration/docker_standins/README.md): Debian bookworm by debootstrap as
`debian:bookworm-slim`, and Debian's PostgreSQL 15 and Redis 7 on it as `postgres:15` and
`redis:7`.

Checked: the stack comes up (migrations run once, then the app, the worker and nginx; the
app's health check turns healthy); through nginx with a self-signed certificate, the
redirect, the catch-all and the site's pages; the seeds imported with `docker compose exec`
appear on the front page; the worker runs the import's follow-up tasks; `/readyz` reaches
PostgreSQL and Redis; an admin login; the app runs as its own user and cannot write its code.

Runs once per CI run, in the SQLite pass: it never touches the test database. Needs root,
Debian's `docker.io` and `debootstrap`, and the compose plugin (.ci/run installs them).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.factories import PROJECT, SEEDS, post_titles
from tests.faults_support import LoopbackHTTPS, free_port, self_signed_certificate, unverified_tls

pytestmark = pytest.mark.slow

DOCKER_DIR = PROJECT / "deploy" / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
STANDINS = Path(__file__).parent / "docker_standins"
HOST = "news.example.com"
ADMIN_PASSWORD = "pw-docker-" + secrets.token_hex(8)
# Where a base image made by debootstrap is kept between local runs (CI starts without it).
BASE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsportal-tests"
BUILD_TIMEOUT = 1200  # seconds for all images: apt and pip downloads on a slow mirror
UP_TIMEOUT = 300


def _missing_tools() -> str | None:
    if os.geteuid() != 0:
        return "needs root (runs its own Docker daemon)"
    for tool in ("dockerd", "docker", "debootstrap", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs Debian's docker.io and debootstrap)"
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "the docker compose plugin is not installed (.ci/run installs it)"
    return None


@pytest.fixture(scope="module")
def docker(tmp_path_factory):
    """A Docker daemon of this test's own; returns the environment that points `docker` at it."""
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("independent of the test database: runs once, in the SQLite pass")
    root = tmp_path_factory.mktemp("docker")
    sock = root / "docker.sock"
    log = open(root / "dockerd.log", "w")
    daemon = subprocess.Popen(
        ["dockerd", "--host", f"unix://{sock}", "--data-root", str(root / "data"),
         "--exec-root", str(root / "exec"), "--pidfile", str(root / "dockerd.pid"),
         "--ip", "127.0.0.1"],  # published ports bind to loopback unless a file says otherwise
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_BUILDKIT": "0",
           "COMPOSE_DOCKER_CLI_BUILD": "0"}
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "info"], env=env, capture_output=True).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail("dockerd did not start:\n" + (root / "dockerd.log").read_text()[-3000:])
            time.sleep(0.5)
        yield env
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
        log.close()
        subprocess.run(["umount", "-R", "-l", str(root / "exec")], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def run(args: list[str], env: dict, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output when it fails."""
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def _debian_rootfs_tar() -> Path:
    """Debian bookworm, minbase, from Debian's archive, as a tar (made once, kept in BASE_CACHE)."""
    tar = BASE_CACHE / "debian-bookworm-minbase.tar"
    if tar.exists():
        return tar
    BASE_CACHE.mkdir(parents=True, exist_ok=True)
    rootfs = BASE_CACHE / f"rootfs-{uuid.uuid4().hex}"
    try:
        run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
            env=os.environ.copy(), timeout=600)
        # As the official image: security and point-release updates as well as the release.
        (rootfs / "etc/apt/sources.list").write_text(
            "deb http://deb.debian.org/debian bookworm main\n"
            "deb http://deb.debian.org/debian bookworm-updates main\n"
            "deb http://deb.debian.org/debian-security bookworm-security main\n")
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
        partial = tar.with_suffix(".partial")
        run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], env=os.environ.copy(), timeout=300)
        partial.rename(tar)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return tar


def make_base_images(env: dict, work: Path) -> None:
    """`debian:bookworm-slim`, `postgres:15` and `redis:7`, made here (module docstring)."""
    run(["docker", "import", "--change", 'CMD ["bash"]', str(_debian_rootfs_tar()), "debootstrap/bookworm"],
        env=env, timeout=300)
    # The host's trusted authorities on top. This machine reaches PyPI through an egress
    # proxy whose authority only the host trusts, so the builds' pip (which reads PIP_CERT,
    # not the system's store) is given the host's bundle. An image from Docker Hub on an
    # open network needs none of this.
    context = work / "base"
    lines = ["FROM debootstrap/bookworm"]
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if bundle.exists():
        (context / "certs").mkdir(parents=True)
        shutil.copy(bundle, context / "certs" / bundle.name)
        for extra in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy(extra, context / "certs" / extra.name)
        lines += ["COPY certs/ca-certificates.crt /etc/ssl/certs/",
                  # kept by update-ca-certificates when a build installs ca-certificates
                  "COPY certs/ /usr/local/share/ca-certificates/",
                  "RUN rm /usr/local/share/ca-certificates/ca-certificates.crt",
                  "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt"]
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text("\n".join(lines) + "\n")
    run(["docker", "build", "-q", "-t", "debian:bookworm-slim", str(context)], env=env, timeout=300)
    for name, tag in (("postgres", "postgres:15"), ("redis", "redis:7")):
        run(["docker", "build", "-q", "-t", tag, str(STANDINS / name)], env=env, timeout=BUILD_TIMEOUT)


@pytest.fixture(scope="module")
def stack(docker, tmp_path_factory):
    """compose.yaml up, built from this checkout; yields (compose command prefix, env, ports)."""
    work = tmp_path_factory.mktemp("compose")
    make_base_images(docker, work)
    # Where compose.yaml mounts Let's Encrypt's folder: live/<HOST>/{fullchain,privkey}.pem.
    self_signed_certificate(work / "tls" / "live" / HOST, HOST)
    http_port, https_port = free_port(), free_port()
    env_file = work / "env"
    # deploy/docker/env.example's variables, filled in as an operator would.
    env_file.write_text(
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"DJANGO_ALLOWED_HOSTS={HOST}\n"
        f"POSTGRES_PASSWORD={secrets.token_urlsafe(16)}\n"
        f"TLS_DIR={work / 'tls'}\n"
        f"HTTP_PORT=127.0.0.1:{http_port}\n"
        f"HTTPS_PORT=127.0.0.1:{https_port}\n")
    compose = ["docker", "compose", "--project-name", f"np-test-{uuid.uuid4().hex[:8]}",
               "--file", str(COMPOSE_FILE), "--env-file", str(env_file)]
    try:
        run([*compose, "build"], env=docker, timeout=BUILD_TIMEOUT)
        run([*compose, "up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT)],
            env=docker, timeout=UP_TIMEOUT + 60)
        yield compose, docker, {"http": http_port, "https": https_port}
    finally:
        logs = subprocess.run([*compose, "logs", "--no-color", "--tail", "80"], env=docker,
                              capture_output=True, text=True, timeout=60)
        print(logs.stdout[-8000:])
        subprocess.run([*compose, "down", "--volumes", "--remove-orphans", "--timeout", "10"],
                       env=docker, capture_output=True, timeout=180)


def https(port: int, method: str, path: str, *, host: str = HOST, body: bytes | None = None,
          headers: dict | None = None) -> http.client.HTTPResponse:
    conn = LoopbackHTTPS(port, host, unverified_tls())  # the test's self-signed certificate
    conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
    response = conn.getresponse()
    response.text = response.read().decode("utf-8", "replace")
    conn.close()
    return response


def manage(stack, *args: str, extra_env: dict | None = None) -> str:
    """`manage.py` in the running app container, as its own user."""
    compose, env, _ = stack
    env_args = [arg for key, value in (extra_env or {}).items() for arg in ("-e", f"{key}={value}")]
    return run([*compose, "exec", "-T", *env_args, "app", "python", "manage.py", *args],
               env=env, timeout=300).stdout


def test_every_service_is_up_and_the_app_is_healthy(stack):
    compose, env, _ = stack
    states = {row["Service"]: row for row in map(json.loads, run(
        [*compose, "ps", "--all", "--format", "json"], env=env).stdout.splitlines())}
    assert {"db", "redis", "migrate", "app", "worker", "nginx"} <= set(states)
    assert states["migrate"]["State"] == "exited" and states["migrate"]["ExitCode"] == 0
    for service in ("db", "redis", "app", "worker", "nginx"):
        assert states[service]["State"] == "running", states[service]
    assert states["app"]["Health"] == "healthy"


def test_nginx_redirects_drops_unknown_hosts_and_serves_the_site(stack):
    _, _, ports = stack
    conn = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=30)
    conn.request("GET", "/some/page/", headers={"Host": HOST})
    redirect = conn.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{HOST}/some/page/"
    conn.close()
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
        https(ports["https"], "GET", "/", host="intruder.example.net")
    home = https(ports["https"], "GET", "/")
    assert home.status == 200
    assert home.getheader("Strict-Transport-Security")
    assert https(ports["https"], "GET", "/healthz").status == 200


def test_imported_seeds_appear_and_the_worker_runs_their_tasks(stack):
    _, _, ports = stack
    titles = post_titles(SEEDS.iterdir())
    assert titles, "seeds/ has no posts with a title"
    output = manage(stack, "import_articles", "seeds")
    assert f"created {len(titles)}, updated 0, unchanged 0, failed 0" in output, output
    home = https(ports["https"], "GET", "/")
    for title in titles:
        assert title in home.text
    # The import queues keyword suggestions; the worker container runs them.
    script = ("from django_tasks_db.models import DBTaskResult as R; "
              "print(R.objects.filter(status='SUCCESSFUL').count(), R.objects.count())")
    deadline = time.monotonic() + 120
    while True:
        done, total = map(int, manage(stack, "shell", "-v", "0", "-c", script).split()[-2:])
        if total and done == total:
            break
        assert time.monotonic() < deadline, f"the worker ran {done} of {total} tasks in 120 s"
        time.sleep(2)


def test_readyz_reaches_postgresql_and_redis(stack):
    _, _, ports = stack
    ready = https(ports["https"], "GET", "/readyz")
    assert ready.status == 200, ready.text
    report = json.loads(ready.text)
    assert report["status"] == "ready", report
    assert report["checks"]["database"]["ok"] and report["checks"]["cache"]["ok"], report


def test_an_editor_logs_in_through_nginx(stack):
    _, _, ports = stack
    manage(stack, "createsuperuser", "--noinput", "--username", "chief", "--email", "chief@example.com",
           extra_env={"DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD})
    login = https(ports["https"], "GET", "/admin/login/")
    assert login.status == 200
    cookies = SimpleCookie()
    for header in login.headers.get_all("Set-Cookie"):
        cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    sent = https(ports["https"], "POST", "/admin/login/?next=/admin/",
                 body=urlencode({"username": "chief", "password": ADMIN_PASSWORD,
                                 "csrfmiddlewaretoken": token, "next": "/admin/"}).encode(),
                 headers={"Content-Type": "application/x-www-form-urlencoded",
                          "Referer": f"https://{HOST}/admin/login/",
                          "Cookie": f"csrftoken={cookies['csrftoken'].value}"})
    assert sent.status == 302, sent.text[:2000]
    assert sent.getheader("Location") == "/admin/"
    assert any(h.startswith("sessionid=") and "Secure" in h for h in sent.headers.get_all("Set-Cookie"))


def test_the_app_runs_as_its_own_user_and_cannot_change_its_code(stack):
    compose, env, _ = stack
    probe = run([*compose, "exec", "-T", "app", "sh", "-c",
                 "id -u; touch /app/manage.py 2>/dev/null && echo writable || echo read-only; "
                 "touch /var/lib/newsportal/media/probe && echo media-writable"], env=env).stdout.split()
    assert probe == ["10001", "read-only", "media-writable"]


def test_published_ports_are_on_loopback_only(stack):
    compose, env, _ = stack
    published = run([*compose, "port", "app", "443"], env=env).stdout.strip()
    assert published.startswith("127.0.0.1:"), published
    with socket.create_connection(("127.0.0.1", int(published.rsplit(":", 1)[1])), timeout=5):
        pass
