"""docs/DEPLOY.md followed literally on an empty Debian 12 server, up to a monitored site.

The shell blocks of the walk ("From an empty server to a monitored site") are read from
DEPLOY.md itself and run, as written, on a fresh minimal Debian 12 booted with systemd in a
container (tests/walkthrough_support.py: debootstrap + systemd-nspawn, on a private veth):
PostgreSQL's install and provisioning, Redis, the install (service user, release from a git
tag, the lock file, the environment file, collectstatic, migrate, check --deploy, the first
editor, the systemd units), nginx and TLS, the scheduled import, metrics; then "Several app
servers" on a second machine (PostgreSQL and Redis on the private interface, the install
block again, the socket on the private address, nginx's upstream). Only what an operator
fills in is replaced (`install_replacements`, `nginx_replacements` and the addresses in
`site`: the release and its git URL — a clone of this checkout's HEAD, so commit first —,
the editor step, the site's name, passwords, certbot → a self-signed certificate, the
docs' 10.0.0.x → the machines'). Then, from the host over the veths, through nginx: the
imported articles and their image, /healthz, /readyz (database and cache), the http → https
redirect, unknown hosts dropped, an admin login, /metrics refused by nginx but served on the
machine, both app servers answering; gunicorn, PostgreSQL and Redis closed to the host.
Then the operator's procedures, their blocks as written: logrotate installed, checked and
forced; "Releases without downtime" (a second release built beside the first on both
servers, migrated, switched and restarted one server at a time, then rolled back, while
readers on the host ask nginx for pages: no error, the new release's pages under its own
cache name); "Backups" (pg_dump, the restore into a new database, the drill, both servers
pointed at it and serving the same articles; then back to the live database).

Cost: about 4 minutes on this 2-core machine (debootstrap ~35 s, apt and pip from the
registries; docs/BENCHMARKS.md, "The deployment walk-through"). Root only (network
namespaces, iptables, nspawn); skipped elsewhere, and without debootstrap or systemd-nspawn
(.ci/run installs them).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.factories import post_titles
from tests.faults_support import LoopbackHTTPS, cookies_set, fetch, unverified_tls
from tests.walkthrough_support import (
    PROJECT,
    SEEDS,
    Machine,
    missing_tools,
    shell_blocks,
    substitute,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces, iptables, systemd-nspawn"),
    pytest.mark.skipif(bool(missing_tools()), reason=f"missing {', '.join(missing_tools())} (apt-get install debootstrap systemd-container)"),
    # The machines run their own PostgreSQL: the suite's database plays no part, so CI's
    # PostgreSQL pass (tests/with_postgres.sh) would repeat the same 3 minutes for nothing.
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="independent of the suite's database: runs once, in the SQLite pass"),
]

DOMAIN = "news.walk.test"
# URL-safe secrets: they go into DATABASE_URL and CACHE_URL as they are.
DB_PASSWORD = "walk-db-" + secrets.token_hex(8)
REDIS_PASSWORD = "walk-redis-" + secrets.token_hex(8)
SECRET_KEY = secrets.token_urlsafe(50)  # the same on every app server
ADMIN, ADMIN_PASSWORD = "walkadmin", "walk-admin-" + secrets.token_hex(8)
RELEASE_TAG = "walk-test"
FIRST_RELEASE = "2026-12-06-walk"  # the install's <release>
SHARED_SEEDS = PROJECT.parent / "shared" / "seeds"


def install_replacements(install: str, database_host: str = "127.0.0.1", cache_url: str | None = None,
                         first_editor: bool = True) -> dict[str, str]:
    """What an operator types in the install block: the release and its git URL, the env file's
    values (the editor step), the first editor's name and password (or step 5 left out)."""
    env_values = {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": DOMAIN,
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{DOMAIN}",
        "DATABASE_URL": f"postgres://newsportal:{DB_PASSWORD}@{database_host}:5432/newsportal",
        **({"CACHE_URL": cache_url} if cache_url else {}),
    }
    edit = " && ".join(f"sed -i 's|^{key}=.*|{key}={value}|' /etc/newsportal/env" for key, value in env_values.items())
    replacements = {
        "<release>": FIRST_RELEASE,
        "--branch <release-tag> https://…/newsportal.git": f"--branch {RELEASE_TAG} file:///root/newsportal.git",
        "editor /etc/newsportal/env": edit + " #",
    }
    if first_editor:
        replacements["DJANGO_SUPERUSER_PASSWORD='<password>'"] = f"DJANGO_SUPERUSER_PASSWORD='{ADMIN_PASSWORD}'"
        replacements["--username <name> --email <email>"] = f"--username {ADMIN} --email {ADMIN}@{DOMAIN}"
    else:  # "without its step 5" (docs: Several app servers)
        step_5 = next(line for line in install.splitlines() if line.startswith("DJANGO_SUPERUSER_PASSWORD="))
        replacements[step_5] = "true  # step 5 left out: the first editor exists"
    return replacements


def nginx_replacements() -> dict[str, str]:
    """The site's name, and a self-signed certificate where certbot's would be."""
    certificate = (
        "apt-get install -y --no-install-recommends openssl && "
        f"install -d -m 755 /etc/letsencrypt/live/{DOMAIN} && "
        f"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={DOMAIN} -addext subjectAltName=DNS:{DOMAIN} "
        f"-keyout /etc/letsencrypt/live/{DOMAIN}/privkey.pem -out /etc/letsencrypt/live/{DOMAIN}/fullchain.pem"
    )
    return {
        "# replace news.example.com (server_name, the certificate paths) with the site's name, then":
            f"sed -i 's/news\\.example\\.com/{DOMAIN}/g' /etc/nginx/sites-available/newsportal.conf",
        "certbot certonly --webroot -w /var/www/letsencrypt -d news.example.com": certificate + " #",
    }


IMAGE_POST_TITLE = "走势图：部署演练"


def write_feed_site(feeds: Path) -> None:
    """A Hexo site with `post_asset_folder: true`: the seeds as its posts, and one post whose
    image, in its asset folder, the import stores in NEWSPORTAL_MEDIA_ROOT for nginx to serve."""
    from PIL import Image

    posts = feeds / "source" / "_posts"
    posts.mkdir(parents=True)
    (feeds / "_config.yml").write_text("title: 演练\ntimezone: Asia/Shanghai\npost_asset_folder: true\n", encoding="utf-8")
    for seed in seed_files():
        shutil.copy(seed, posts / f"{seed.stem}.md")
    (posts / "walk-chart.md").write_text(
        f"---\ntitle: {IMAGE_POST_TITLE}\ndate: 2026-12-01 09:30:00\ncategories:\n - 金融\n---\n\n"
        "![走势图](chart.png)\n\n部署演练的配图。\n", encoding="utf-8")
    (posts / "walk-chart").mkdir()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(posts / "walk-chart" / "chart.png")


def seed_files() -> list[Path]:
    folder = SHARED_SEEDS if SHARED_SEEDS.is_dir() else SEEDS
    return sorted(path for path in folder.iterdir() if path.is_file())


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """Two fresh Debian 12 machines with systemd, each on its own network, routed to each
    other by the host; removed afterwards whatever happens."""
    folder = tmp_path_factory.mktemp("walk")
    tag, subnet = os.getpid() % 100000, os.getpid() % 120 * 2 + 1
    first = Machine(folder, f"w{tag}a", subnet=subnet)
    second = Machine(folder, f"w{tag}b", subnet=subnet + 1)
    try:
        first.bootstrap()
        second.copy_of(first)
        for box in (first, second):
            box.connect()
            box.boot()
            # What any Debian server has, with this machine's egress CA (walkthrough_support).
            box.run("apt-get update -q && apt-get install -y -q --no-install-recommends ca-certificates", timeout=300)
            # The release: this checkout's HEAD, tagged, where the substituted git URL points.
            bare = box.root / "root" / "newsportal.git"
            subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True, timeout=60)
            subprocess.run(["git", "-C", str(PROJECT), "push", "-q", str(bare), f"HEAD:refs/tags/{RELEASE_TAG}"],
                           check=True, timeout=120)
        # The posts the scheduled import reads: a Hexo site (the seeds, and a post with an image
        # in its asset folder).
        write_feed_site(first.root / "srv" / "feeds")
        yield first, second
    finally:
        second.close()
        first.close()


@pytest.fixture(scope="module")
def machine(machines) -> Machine:
    """The first machine: nginx, PostgreSQL, Redis and the first app server."""
    return machines[0]


@pytest.fixture(scope="module")
def site(machines) -> dict:
    """The walk, block by block, as DEPLOY.md has it: one machine up to a monitored site, then a
    second app server beside it ("Several app servers"). Yields the timings."""
    first, second = machines
    timings: dict[str, float] = {}

    def step(name: str, box: Machine, script: str, **options) -> None:
        started = time.monotonic()
        box.run(script, **options)
        timings[name] = round(time.monotonic() - started, 1)

    postgres_install, provisioning = shell_blocks("### Provisioning: role, database, privileges")
    step("postgresql", first, postgres_install)
    # createuser --pwprompt asks twice; with no terminal it reads the answers from stdin.
    step("provisioning", first, provisioning, user="postgres", input=f"{DB_PASSWORD}\n{DB_PASSWORD}\n")
    (redis,) = shell_blocks("## Redis: the shared cache")
    step("redis", first, redis)
    install = shell_blocks("## Installing on a server")[0]
    step("install", first, substitute(install, install_replacements(install)), timeout=900)
    nginx = shell_blocks("## nginx and TLS")[0]  # then its "Logs and logrotate" (test_logs_are_rotated)
    step("nginx", first, substitute(nginx, nginx_replacements()))
    (imports,) = shell_blocks("## Imports as a scheduled job")
    step("import", first, imports)
    (metrics,) = shell_blocks("## Metrics (Prometheus)")
    step("metrics", first, metrics)

    # Several app servers: the docs' addresses are the machines'; the private network the
    # database admits is the second machine alone (the host, on the same veths, stays out).
    first_address, second_address = {"10.0.0.10": first.address}, {"10.0.0.11": second.address}
    shared, new_server, upstream = shell_blocks("## Several app servers")
    step("second: shared services", first, substitute(shared, {
        **first_address, "10.0.0.0/24": f"{second.address}/32", "<redis-password>": REDIS_PASSWORD}, every=True))
    step("second: install", second, substitute(install, install_replacements(
        install, database_host=first.address, cache_url=f"redis://:{REDIS_PASSWORD}@{first.address}:6379/0",
        first_editor=False)), timeout=900)
    step("second: bind", second, substitute(new_server, {**first_address, **second_address}, every=True))
    step("second: upstream", first, substitute(upstream, second_address, every=True))
    yield {"timings": timings}
    # The figures for docs/BENCHMARKS.md ("The deployment walk-through"); `pytest -s` shows them.
    print(f"\nwalk timings (s): {timings}, total {sum(timings.values()):.0f}")


# --- clients (from the host, over the veth) --------------------------------------------------


def site_https(address: str, server_name: str = DOMAIN) -> LoopbackHTTPS:
    """https to the machine's address with the site's name as SNI, as a browser would."""
    return LoopbackHTTPS(443, server_name, unverified_tls(), address=address, timeout=30)  # self-signed


def https(machine: Machine, path: str, method: str = "GET", body: bytes | None = None,
          **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    return fetch(site_https(machine.address), method, path, body, {"Host": DOMAIN, **headers})


def seeded_titles() -> list[str]:
    return post_titles(seed_files())


# --- the site, monitored ---------------------------------------------------------------------


def test_the_units_are_active(machine, site):
    units = "newsportal.socket newsportal.service newsportal-worker.service newsportal-import.timer newsportal-prune.timer nginx redis-server postgresql"
    states = machine.run(f"systemctl is-active {units} || true").stdout.split()
    assert states == ["active"] * len(units.split()), dict(zip(units.split(), states))
    # The import ran once (the docs' "a run now") and succeeded.
    result = machine.run("systemctl show -p Result --value newsportal-import.service").stdout.strip()
    assert result == "success"


def test_the_seeded_articles_are_served_over_https(machine, site):
    status, _, body = https(machine, "/")
    assert status == 200
    page = body.decode()
    for title in seeded_titles():
        assert title in page
    links = sorted(set(re.findall(r'href="(/\d{4}/\d{2}/\d{2}/[^"]+)"', page)))
    assert links, "no article links on the home page"
    status, _, article = https(machine, links[0])
    assert status == 200 and "<article" in article.decode()


def test_imported_images_are_served_by_nginx(machine, site):
    """The post's asset folder image, stored under NEWSPORTAL_MEDIA_ROOT (the env file's
    /var/lib/newsportal/media), is served from disk by nginx's /media/ location."""
    status, _, body = https(machine, "/")
    link = re.search(r'href="(/\d{4}/\d{2}/\d{2}/[^"]+)"[^>]*>\s*' + re.escape(IMAGE_POST_TITLE), body.decode())
    assert link, "the image post is not on the home page"
    status, _, article = https(machine, link.group(1))
    assert status == 200
    src = re.search(r'<img[^>]+src="(/media/hexo-assets/[^"]+\.png)"', article.decode()).group(1)
    status, headers, image = https(machine, src)
    assert status == 200 and image.startswith(b"\x89PNG"), (status, headers)
    assert "immutable" in headers["Cache-Control"]


def test_health_checks(machine, site):
    status, _, body = https(machine, "/healthz")
    assert status == 200
    status, _, body = https(machine, "/readyz")
    ready = json.loads(body)
    assert status == 200 and ready["status"] == "ready", ready
    assert ready["checks"]["database"]["ok"] and ready["checks"]["cache"]["ok"], ready


def test_http_is_redirected_and_unknown_hosts_are_dropped(machine, site):
    connection = http.client.HTTPConnection(machine.address, 80, timeout=30)
    connection.request("GET", "/some/path?x=1", headers={"Host": DOMAIN})
    response = connection.getresponse()
    assert response.status == 301 and response.headers["Location"] == f"https://{DOMAIN}/some/path?x=1"
    connection.close()
    # Another name on port 80: the connection is closed without an answer (444).
    connection = http.client.HTTPConnection(machine.address, 80, timeout=30)
    connection.request("GET", "/", headers={"Host": "other.example"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()
    # Another name in the TLS handshake: refused before any certificate.
    with pytest.raises(ssl.SSLError):
        https_other = site_https(machine.address, server_name="other.example")
        https_other.request("GET", "/", headers={"Host": "other.example"})
        https_other.getresponse()


def test_metrics_are_served_to_the_machine_itself_not_through_nginx(machine, site):
    """The Metrics section's drop-in on: /metrics answers on loopback with the import's figures
    and every gunicorn worker's request counters; nginx refuses it."""
    for _ in range(6):  # spread over the three workers (pages, unlike the login form, may come from the page cache)
        assert https(machine, "/admin/login/")[0] == 200
    scrape = machine.run(
        "python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:8000/metrics\", timeout=10).read().decode())'"
    ).stdout
    assert 'newsportal_import_runs{status="succeeded"} 1.0' in scrape
    assert 'newsportal_task_queue_depth{backend="db"}' in scrape
    assert re.search(r'^django_http_requests_total_by_view_transport_method_total\{[^}]*view="admin:login"[^}]*\} [1-9]', scrape, re.MULTILINE), scrape[:3000]
    assert machine.run("ls /run/newsportal-metrics").stdout.split()  # the workers' counter files
    status, _, _ = https(machine, "/metrics")
    assert status == 404


def test_only_nginx_is_reachable_from_outside(machine, site):
    """From the host, over the first machine's network: nginx answers; gunicorn (loopback only)
    does not; PostgreSQL admits only the second app server's address, Redis only with its
    password."""
    socket.create_connection((machine.address, 443), timeout=5).close()
    with pytest.raises(OSError):
        socket.create_connection((machine.address, 8000), timeout=5).close()
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(host=machine.address, dbname="newsportal", user="newsportal", password=DB_PASSWORD,
                        connect_timeout=5).close()
    with socket.create_connection((machine.address, 6379), timeout=5) as redis:
        redis.sendall(b"GET anything\r\n")
        assert redis.recv(200).startswith(b"-NOAUTH")


def test_both_app_servers_answer_through_nginx(machines, site):
    """nginx's upstream has both servers: requests are answered by each (their gunicorn access
    logs, in the journal, show the marked requests), and the second one reaches the first's
    PostgreSQL and Redis (its /readyz, asked on its private address)."""
    first, second = machines
    marker = "walk-probe-" + secrets.token_hex(4)
    for number in range(12):
        assert https(first, f"/?{marker}={number}")[0] == 200
    for box in machines:
        journal = box.run("journalctl -u newsportal.service --no-pager -o cat").stdout
        assert marker in journal, f"{box.name} answered none of the requests"
    ready = json.loads(second.run(
        f"python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://{second.address}:8000/readyz\", timeout=10).read().decode())'"
    ).stdout)
    assert ready["status"] == "ready" and ready["checks"]["cache"]["ok"], ready
    states = second.run("systemctl is-active newsportal.socket newsportal.service newsportal-worker.service "
                        "newsportal-import.timer newsportal-prune.timer || true").stdout.split()
    assert states == ["active", "active", "active", "inactive", "inactive"]


def admin_session(machine: Machine) -> str:
    """An admin login through nginx, as a browser does it: the session cookie's value."""
    status, headers, body = https(machine, "/admin/login/?next=/admin/")
    assert status == 200
    csrf = cookies_set(headers)["csrftoken"]
    assert csrf["secure"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"csrfmiddlewaretoken": token, "username": ADMIN, "password": ADMIN_PASSWORD, "next": "/admin/"})
    status, headers, _ = https(
        machine, "/admin/login/?next=/admin/", "POST", form.encode(), Cookie=f"csrftoken={csrf.value}",
        Origin=f"https://{DOMAIN}", Referer=f"https://{DOMAIN}/admin/login/",
        **{"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302 and headers["Location"] == "/admin/"
    session = cookies_set(headers)["sessionid"]
    assert session["secure"] and session["httponly"]
    status, _, body = https(machine, "/admin/", Cookie=f"sessionid={session.value}")
    assert status == 200 and ADMIN.encode() in body
    return session.value


def test_the_admin_logs_in_through_nginx(machine, site):
    admin_session(machine)


# --- keeping it: a release and its rollback, a backup and its restore ------------------------

SECOND_RELEASE = "2026-12-07-walk"
# The second release's one visible difference, made in its clone only: a comment in the base
# template, so every page it renders shows it (and its computed release name differs).
RELEASE_MARK = "<!-- walk: the second release -->"


class Readers:
    """Readers asking nginx for pages from threads of the host, each one request after another,
    from entering until `done()`, then on until `minimum` requests in all (at most `limit`):
    every answer's status, or the error instead of one."""

    def __init__(self, machine: Machine, paths: list[str], threads: int = 6, minimum: int = 200,
                 limit: int = 3000) -> None:
        self.machine, self.paths, self.minimum, self.limit = machine, paths, minimum, limit
        self.outcomes: list[int | str] = []
        self.during = 0  # requests answered before done(): while the servers were switched
        self._done = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True) for _ in range(threads)]

    def _read(self) -> None:
        while len(self.outcomes) < self.limit and not (self._done.is_set() and len(self.outcomes) >= self.minimum):
            path = self.paths[len(self.outcomes) % len(self.paths)]
            try:
                self.outcomes.append(https(self.machine, path)[0])
            except (OSError, http.client.HTTPException) as error:
                self.outcomes.append(f"{path}: {error!r}")

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def done(self) -> None:
        self.during = len(self.outcomes)
        self._done.set()

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        for thread in self._threads:
            thread.join(timeout=300)


def release_name(box: Machine, release: str) -> str:
    """The name a release's processes give the page cache (DEPLOY.md shows how to see it)."""
    return box.run(
        f"cd /srv/newsportal/releases/{release} && set -a && . /etc/newsportal/env && set +a && "
        "export NEWSPORTAL_ENV_FILE= && .venv/bin/python manage.py shell -c "
        "'from django.conf import settings; print(settings.NEWSPORTAL_RELEASE)'").stdout.split()[-1]


def cached_pages(box: Machine, name: str) -> int:
    """How many keys the release `name` has in the shared Redis (the first machine's)."""
    return int(box.run(f"redis-cli -a '{REDIS_PASSWORD}' --no-auth-warning --scan --pattern 'newsportal:{name}:*' | wc -l").stdout)


def marks(machine: Machine, path: str, times: int = 6) -> list[bool]:
    """Whether each of `times` answers for `path` through nginx (both app servers in turn)
    shows the second release's mark."""
    answers = [https(machine, path) for _ in range(times)]
    assert all(status == 200 for status, _, _ in answers), [status for status, _, _ in answers]
    return [RELEASE_MARK in body.decode() for _, _, body in answers]


def test_a_release_and_its_rollback_without_an_error(machines, site):
    """DEPLOY.md, "Releases without downtime", as written: a second release built beside the
    first on both app servers (step 1), migrated once (step 2), then switched to and reloaded
    one server at a time (steps 3 and 4) while a reader asks nginx for pages; then the
    rollback, the same way. No request fails; the new release's pages carry its mark and are
    cached under its own name (the old release's cached pages are not served by it), and after
    the rollback the first release serves again."""
    first, second = machines
    build, migrate, switch, reload, rollback = shell_blocks("## Releases without downtime")
    build = substitute(build, {
        "R=/srv/newsportal/releases/2026-12-06.1": f"R=/srv/newsportal/releases/{SECOND_RELEASE}",
        "--branch v2026.12.06 https://git.example.com/newsportal.git \"$R\"":
            f"--branch {RELEASE_TAG} file:///root/newsportal.git \"$R\" && "
            f"sed -i 's|</body>|{RELEASE_MARK}</body>|' \"$R/templates/base.html\"",
    })
    _, _, home = https(first, "/")  # the first release's home page, now in the page cache
    article = re.search(r'href="(/\d{4}/\d{2}/\d{2}/[^"]+)"', home.decode()).group(1)
    assert RELEASE_MARK not in home.decode()

    # Step 1 on both servers at once (the old release serving meanwhile), step 2 once.
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        built = [pool.submit(first.run, build + "\n" + migrate, timeout=900), pool.submit(second.run, build, timeout=900)]
        for future in built:
            future.result()
    timings = site["timings"]
    timings["release: build (both) and migrate"] = round(time.monotonic() - started, 1)
    old, new = release_name(first, FIRST_RELEASE), release_name(first, SECOND_RELEASE)
    assert old != new and release_name(second, SECOND_RELEASE) == new

    def one_server_at_a_time(label: str, switch_block: str) -> list[int | str]:
        started = time.monotonic()
        with Readers(first, ["/", article]) as readers:
            for box in (first, second):
                box.run(switch_block)
            timings[label] = round(time.monotonic() - started, 1)
            readers.done()
        print(f"\n{label}: {readers.during} requests while switching, {len(readers.outcomes)} in all")
        return readers.outcomes

    outcomes = one_server_at_a_time("release: switch and restart (both)", "cd / && R=/srv/newsportal/releases/"
                                    f"{SECOND_RELEASE}\n{switch}\n{reload}")
    assert outcomes and all(outcome == 200 for outcome in outcomes), [o for o in outcomes if o != 200]
    assert marks(first, "/") == [True] * 6 and all(marks(first, article, times=2))
    assert cached_pages(first, new) > 0 and cached_pages(first, old) > 0  # side by side in Redis

    rollback = substitute(rollback, {"R=/srv/newsportal/releases/2026-12-01.1": f"R=/srv/newsportal/releases/{FIRST_RELEASE}"})
    outcomes = one_server_at_a_time("rollback: switch and restart (both)", rollback)
    assert outcomes and all(outcome == 200 for outcome in outcomes), [o for o in outcomes if o != 200]
    assert marks(first, "/") == [False] * 6
    for box in machines:
        assert box.run("readlink /srv/newsportal/current").stdout.strip() == f"/srv/newsportal/releases/{FIRST_RELEASE}"


def sql(box: Machine, database: str, query: str) -> str:
    return box.run(f"runuser -u postgres -- psql -d {database} -tAc \"{query}\"").stdout.strip()


def test_a_backup_restored_into_a_new_database_serves_the_same_site(machines, site):
    """DEPLOY.md, "Backups", as written: the pg_dump while the site serves, the restore into a
    new database, the restore drill's checks (nothing to migrate, the same article count),
    then both app servers pointed at it: through nginx the same articles, and an admin login
    whose session is written to the restored database, no connection left to the old one.
    Afterwards the servers go back to the live database (the test's own clean-up)."""
    first, second = machines
    dump, restore, allow, point, _sqlite, drill = shell_blocks("## Backups")
    timings = site["timings"]
    started = time.monotonic()
    first.run(dump)
    restored = first.run(substitute(restore, {"2026-12-06.dump": "$(date +%F).dump"}) + "\n" + drill).stdout
    timings["backup: pg_dump, restore, drill"] = round(time.monotonic() - started, 1)
    live_count = first.run(
        "cd /srv/newsportal/current && set -a && . /etc/newsportal/env && set +a && export NEWSPORTAL_ENV_FILE= && "
        "runuser -u newsportal -- .venv/bin/python manage.py shell -c "
        "'from articles.models import Article; print(Article.objects.count())'").stdout.split()[-1]
    assert restored.split()[-1] == live_count and int(live_count) >= len(seeded_titles())

    try:
        first.run(allow)  # the second app server reaches the first's PostgreSQL over the network
        for box in machines:
            box.run(point)
        assert {line.split("/")[-1] for box in machines
                for line in box.run("grep ^DATABASE_URL= /etc/newsportal/env").stdout.split()} == {"newsportal_restored"}
        status, _, body = https(first, "/")
        assert status == 200
        for title in seeded_titles():
            assert title in body.decode()
        for link in sorted(set(re.findall(r'href="(/\d{4}/\d{2}/\d{2}/[^"]+)"', body.decode()))):
            assert https(first, link)[0] == 200
        sessions = int(sql(first, "newsportal_restored", "SELECT count(*) FROM django_session"))
        admin_session(first)
        assert int(sql(first, "newsportal_restored", "SELECT count(*) FROM django_session")) == sessions + 1
        assert sql(first, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE usename = 'newsportal' AND datname = 'newsportal'") == "0"
    finally:
        for box in machines:
            box.run("sed -i 's|^\\(DATABASE_URL=.*\\)/newsportal_restored$|\\1/newsportal|' /etc/newsportal/env && "
                    "systemctl restart newsportal newsportal-worker")
        first.run("runuser -u postgres -- dropdb --force newsportal_restored")


def test_logs_are_rotated(machine, site):
    """DEPLOY.md, "Logs and logrotate": the block installs the site's logrotate file and
    `logrotate -d` reads it without an error; a forced rotation moves nginx's access log
    aside and nginx writes its next lines into the fresh file."""
    (block,) = shell_blocks("### Logs and logrotate")
    dry_run = machine.run(block)
    said = dry_run.stdout + dry_run.stderr
    assert "rotating pattern: /var/log/nginx/newsportal/*.log" in said and "error:" not in said, said
    assert https(machine, "/")[0] == 200  # something in the access log to rotate
    machine.run("logrotate -f /etc/logrotate.d/newsportal")
    marker = "walk-rotated-" + secrets.token_hex(4)
    assert https(machine, f"/?{marker}=1")[0] == 200
    logs = machine.run("ls /var/log/nginx/newsportal/").stdout.split()
    assert any(re.fullmatch(r"access\.log-\d{8}", name) for name in logs), logs
    assert marker in machine.run("cat /var/log/nginx/newsportal/access.log").stdout
