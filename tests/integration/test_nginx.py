"""deploy/nginx/newsportal.conf as shipped, in front of gunicorn running the production settings.

Only the site file's ports, listen addresses, certificate, log and media paths are replaced
(`render_site`); the main configuration around it (`MAIN_CONF`) is a stand-in for Debian's
/etc/nginx/nginx.conf with its pid, logs and temporary files in this test's folder, so nginx
runs unprivileged (`nginx -p PREFIX -c CONF`) on loopback ports. The certificate is a
self-signed one made with openssl for news.example.com.

Checked through nginx: the 80 → 443 redirect; unknown hosts dropped (on 80, at the TLS
handshake, and by Host header after the handshake); TLS 1.2/1.3 with strong ciphers only;
compression of pages and static files (gzip, brotli); hashed static files cached for good;
the upload limit (a body one byte over NEWSPORTAL_UPLOAD_MAX_BYTES gets nginx's 413); the
forwarded scheme, client address and request id reaching the app; an admin login (CSRF over
https, Secure cookies).

Debian's `nginx`, `libnginx-mod-http-brotli-filter` and `openssl`; .ci/run installs them.
"""

from __future__ import annotations

import grp
import gzip
import http.client
import os
import pwd
import re
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.factories import PROJECT, production_env
from tests.faults_support import (
    LoopbackHTTPS, cookies_set, fetch, free_port, self_signed_certificate, stop_all, wait_until_listening,
)

slow = pytest.mark.slow  # the tests through nginx: nginx, gunicorn and manage.py in processes of their own

SITE = PROJECT / "deploy" / "nginx" / "newsportal.conf"
HOST = "news.example.com"
PASSWORD = "pw-editor-2024-nginx"

# Debian's http {} settings that the site file must live beside (gzip on, the weaker TLS
# protocol list, which the site's servers override), with every path in the prefix.
MAIN_CONF = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so;  # Debian: modules-enabled/
events {{ worker_connections 64; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {prefix}/logs/access.log;
    gzip on;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/sites-enabled/*;
}}
"""


def replace(text: str, old: str, new: str, count: int) -> str:
    """`text` with `old` replaced, after checking it occurs `count` times (the shipped file changed?)."""
    assert text.count(old) == count, (old, text.count(old))
    return text.replace(old, new)


def render_site(shipped: str, *, http_port: int, https_port: int, app_port: int, folder: Path) -> str:
    """The shipped site with only its deployment-specific values replaced."""
    # IPv6 listeners dropped: a CI machine need not have IPv6; IPv4 loopback only.
    site = "".join(line for line in shipped.splitlines(keepends=True) if "listen [::]:" not in line)
    site = replace(site, "listen 80", f"listen 127.0.0.1:{http_port}", 2)
    site = replace(site, "listen 443", f"listen 127.0.0.1:{https_port}", 2)
    site = replace(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};", 1)
    site = replace(site, f"/etc/letsencrypt/live/{HOST}/", f"{folder}/tls/", 2)
    site = replace(site, "/var/log/nginx/newsportal/", f"{folder}/logs/nginx/", 2)
    site = replace(site, "root /var/lib/newsportal;", f"root {folder}/srv;", 1)
    return replace(site, "root /var/www/letsencrypt;", f"root {folder}/acme;", 1)


def nginx_missing() -> str | None:
    if not Path("/usr/sbin/nginx").exists():
        return "nginx not installed (Debian package nginx; .ci/run installs it)"
    if not list(Path("/usr/lib/nginx/modules").glob("ngx_http_brotli_filter_module.so")):
        return "the brotli module is not installed (Debian package libnginx-mod-http-brotli-filter)"
    if shutil.which("openssl") is None:
        return "openssl not installed (Debian package openssl)"
    return None


def run_checked(args: list[str], env: dict) -> str:
    done = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def site(module_scratch_db, tmp_path_factory):
    """gunicorn (production settings, collected static files) behind nginx on loopback; yields ports and paths."""
    missing = nginx_missing()
    if missing:
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("nginx")
    for sub in ("logs/nginx", "logs/app", "tmp", "sites-enabled", "srv/media", "acme/.well-known/acme-challenge"):
        (folder / sub).mkdir(parents=True)
    (folder / "acme/.well-known/acme-challenge/token-1").write_text("token-1.key")
    certificate = self_signed_certificate(folder / "tls", HOST)
    env = production_env(
        DATABASE_URL=module_scratch_db, DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO", NEWSPORTAL_TRUSTED_PROXIES="1",
        NEWSPORTAL_LOGIN_FAILURE_LIMIT="3", DJANGO_STATIC_ROOT=str(folder / "static"),
        NEWSPORTAL_MEDIA_ROOT=str(folder / "srv/media"), NEWSPORTAL_IMPORT_SPOOL_DIR=str(folder / "spool"),
        NEWSPORTAL_THROTTLE_DIR=str(folder / "throttle"), CACHE_KEY_PREFIX=f"nginx-test-{uuid.uuid4().hex}",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    for name in ("CACHE_URL", "SQLITE_TEST_NAME"):
        env.pop(name, None)
    manage = [sys.executable, str(PROJECT / "manage.py")]
    run_checked([*manage, "collectstatic", "--noinput", "-v0"], env)
    run_checked([*manage, "createsuperuser", "--noinput", "--username", "editor", "--email", "e@example.com"], env)
    app_port, new_port, http_port, https_port = free_port(), free_port(), free_port(), free_port()
    # Two app servers as during a rolling release (docs/DEPLOY.md): the first still on the
    # old release, without the new release's hashed stylesheets (and their .gz/.br), the
    # second (a backup server, so that every request meets the old one first) upgraded.
    old_static = folder / "static-old-release"
    shutil.copytree(folder / "static", old_static)
    for variant in old_static.rglob("*"):
        if re.search(r"\.[0-9a-f]{12}\.css", variant.name):
            variant.unlink()
    site_file = render_site(SITE.read_text(), http_port=http_port, https_port=https_port, app_port=app_port,
                            folder=folder)
    site_file = replace(site_file, f"server 127.0.0.1:{app_port};",
                        f"server 127.0.0.1:{app_port};\n    server 127.0.0.1:{new_port} backup;", 1)
    (folder / "sites-enabled" / "newsportal.conf").write_text(site_file)
    # Root (CI) keeps root's workers, which can read this test's private folder; others run as themselves.
    user = "user root root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN_CONF.format(prefix=folder, user=user))
    processes = []
    try:
        # As docs/DEPLOY.md runs it, with an access log naming the forwarded headers it got.
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "2",
             "--bind", f"127.0.0.1:{app_port}", "--forwarded-allow-ips", "127.0.0.1", "--forwarder-headers", "",
             "--log-level", "warning", "--access-logfile", str(folder / "logs" / "app" / "gunicorn-access.log"),
             "--access-logformat", "%(r)s rid=%({x-request-id}i)s xff=%({x-forwarded-for}i)s"],
            cwd=PROJECT, env={**env, "DJANGO_STATIC_ROOT": str(old_static)}))
        wait_until_listening(app_port, processes[-1])
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "1",
             "--bind", f"127.0.0.1:{new_port}", "--forwarded-allow-ips", "127.0.0.1", "--forwarder-headers", "",
             "--log-level", "warning"],
            cwd=PROJECT, env=env))
        wait_until_listening(new_port, processes[-1])
        test = subprocess.run(["/usr/sbin/nginx", "-t", "-p", str(folder), "-c", str(folder / "nginx.conf"),
                               "-e", "stderr"], capture_output=True, text=True, timeout=60, check=False)
        assert test.returncode == 0, test.stderr
        processes.append(subprocess.Popen(
            ["/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr",
             "-g", "daemon off;"], stderr=subprocess.PIPE))
        wait_until_listening(https_port, processes[-1])
        yield {"http": http_port, "https": https_port, "ca": certificate, "folder": folder}
    finally:
        stop_all(processes)


# --- clients -------------------------------------------------------------------------------


def tls_context(site: dict, **options) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(site["ca"]))
    for name, value in options.items():
        setattr(context, name, value)
    return context


def https(site: dict, path: str, method: str = "GET", body: bytes | None = None, *, server_name: str = HOST,
          context: ssl.SSLContext | None = None, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = LoopbackHTTPS(site["https"], server_name, context or tls_context(site))
    return fetch(connection, method, path, body, {"Host": HOST, **headers})


def plain_http(site: dict, path: str, host: str = HOST) -> tuple[int, http.client.HTTPMessage, bytes]:
    return fetch(http.client.HTTPConnection("127.0.0.1", site["http"], timeout=60), "GET", path,
                 headers={"Host": host})


def logged(site: dict, marker: str) -> tuple[list[str], list[str]]:
    """The lines holding `marker` in gunicorn's and nginx's access logs, once both have one (at most 10 s)."""
    app_log = site["folder"] / "logs" / "app" / "gunicorn-access.log"
    nginx_log = site["folder"] / "logs" / "nginx" / "access.log"
    deadline = time.monotonic() + 10  # both write their line after the response
    while True:
        app_lines = [line for line in app_log.read_text().splitlines() if marker in line]
        proxy_lines = [line for line in nginx_log.read_text().splitlines() if marker in line]
        if (app_lines and proxy_lines) or time.monotonic() > deadline:
            return app_lines, proxy_lines
        time.sleep(0.05)


# --- the file itself -----------------------------------------------------------------------


def test_the_body_limit_is_the_apps_upload_limit():
    """client_max_body_size and NEWSPORTAL_UPLOAD_MAX_BYTES move together."""
    from django.conf import settings

    sizes = re.findall(r"^\s*client_max_body_size\s+(\d+)([km]?);", SITE.read_text(), re.MULTILINE)
    assert len(sizes) == 1, sizes
    number, unit = sizes[0]
    assert int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit] == settings.NEWSPORTAL_UPLOAD_MAX_BYTES


# --- through nginx -------------------------------------------------------------------------


@slow
def test_http_is_redirected_to_https_and_answers_acme_challenges(site):
    status, headers, _ = plain_http(site, "/search/?q=%E5%88%B8%E5%95%86")
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/search/?q=%E5%88%B8%E5%95%86"
    assert headers["Server"] == "nginx"  # server_tokens off: no version
    status, _, body = plain_http(site, "/.well-known/acme-challenge/token-1")
    assert (status, body) == (200, b"token-1.key")


@slow
def test_unknown_hosts_get_no_answer(site):
    with pytest.raises(http.client.RemoteDisconnected):
        plain_http(site, "/", host="evil.example")
    with pytest.raises(http.client.RemoteDisconnected):
        plain_http(site, "/", host="127.0.0.1")
    # Another name in the TLS handshake: refused before any certificate is shown.
    context = tls_context(site, check_hostname=False, verify_mode=ssl.CERT_NONE)
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME|unrecognized name"):
        https(site, "/", server_name="evil.example", context=context)
    # The site's name in the handshake, another in the Host header: closed unanswered.
    with pytest.raises(http.client.RemoteDisconnected):
        https(site, "/", Host="evil.example")


@slow
def test_only_modern_tls_is_spoken(site):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = tls_context(site, minimum_version=version, maximum_version=version)
        status, _, _ = https(site, "/", context=context)
        assert status == 200, version
    weak = tls_context(site, maximum_version=ssl.TLSVersion.TLSv1_2)
    weak.set_ciphers("AES128-SHA:AES256-SHA:AES128-GCM-SHA256")  # no forward secrecy
    with pytest.raises(ssl.SSLError):
        https(site, "/", context=weak)


@slow
def test_pages_reach_django_as_https_with_one_hsts_header(site):
    status, headers, body = https(site, "/")
    assert status == 200
    assert headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains; preload"]
    assert f'rel="canonical" href="https://{HOST}/"'.encode() in body
    assert headers["Server"] == "nginx"


def static_css_path(site: dict) -> str:
    _, _, body = https(site, "/")
    paths = re.findall(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', body)
    assert paths, "the home page links no hashed stylesheet"
    return paths[0].decode()


@slow
def test_a_static_file_the_old_release_lacks_is_fetched_from_the_new_one(site):
    """The first server lacks the page's stylesheet: nginx passes its 404 over for the next server."""
    path = static_css_path(site)
    assert [https(site, path)[0] for _ in range(4)] == [200] * 4
    logged_by_first = (site["folder"] / "logs" / "app" / "gunicorn-access.log").read_text()
    assert f"GET {path} " in logged_by_first  # it was asked first, and said 404
    assert https(site, "/static/no-such-file.0123456789ab.css")[0] == 404  # a file nobody has


@slow
def test_text_is_compressed_and_hashed_static_files_are_cached_for_good(site):
    status, headers, body = https(site, "/", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(body)
    css = static_css_path(site)
    status, headers, body = https(site, css, **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"] and "max-age=315360000" in headers["Cache-Control"]
    plain = https(site, css)[2]
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    # Brotli (nginx's module) for clients that ask for it only.
    status, headers, body = https(site, css, **{"Accept-Encoding": "br"})
    assert status == 200 and headers["Content-Encoding"] == "br" and len(body) < len(plain)
    assert "accept-encoding" in headers["Vary"].lower()


UPLOAD = "/admin/articles/importrun/upload/"


@slow
def test_a_body_over_the_upload_limit_is_refused_by_nginx(site):
    from django.conf import settings

    limit = settings.NEWSPORTAL_UPLOAD_MAX_BYTES
    connection = LoopbackHTTPS(site["https"], HOST, tls_context(site))
    try:  # the headers alone: nginx answers from the Content-Length, before any body
        connection.putrequest("POST", UPLOAD, skip_host=True)
        connection.putheader("Host", HOST)
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(limit + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert b"nginx" in response.read()
    finally:
        connection.close()
    # Exactly the limit passes nginx: the app answers (the anonymous client is sent to log in).
    status, headers, _ = https(site, UPLOAD, "POST", b"x" * limit, **{"Content-Type": "application/octet-stream"})
    assert status == 302 and "/admin/login/" in headers["Location"]


def login_form(site: dict) -> tuple[str, str]:
    """The login page's CSRF cookie and form token."""
    status, headers, body = https(site, "/admin/login/?next=/admin/")
    assert status == 200
    jar = cookies_set(headers)
    assert jar["csrftoken"]["secure"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return jar["csrftoken"].value, token


def log_in(site: dict, username: str, password: str, **headers: str) -> tuple[int, http.client.HTTPMessage]:
    cookie, token = login_form(site)
    form = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"})
    status, response, _ = https(
        site, "/admin/login/?next=/admin/", "POST", form.encode(), Cookie=f"csrftoken={cookie}",
        Origin=f"https://{HOST}", Referer=f"https://{HOST}/admin/login/",
        **{"Content-Type": "application/x-www-form-urlencoded", **headers})
    return status, response


@slow
def test_an_editor_logs_in_through_nginx(site):
    """CSRF's origin check needs the https scheme and the host as the browser saw them; the
    session cookie is Secure."""
    status, headers = log_in(site, "editor", PASSWORD)
    assert status == 302 and headers["Location"] == "/admin/"
    session = cookies_set(headers)["sessionid"]
    assert session["secure"] and session["httponly"]
    status, _, body = https(site, "/admin/", Cookie=f"sessionid={session.value}")
    assert status == 200 and b"editor" in body


@slow
def test_the_lockout_counts_the_address_nginx_saw_not_one_the_client_wrote(site):
    """NEWSPORTAL_TRUSTED_PROXIES=1: the app takes the address nginx appended to X-Forwarded-For.
    Three failures (the limit here), each claiming another address, lock that user out from here:
    the third is answered with the lockout."""
    for claimed in ("203.0.113.7", "198.51.100.9"):
        status, _ = log_in(site, "nobody", "wrong", **{"X-Forwarded-For": claimed})
        assert status == 200  # the form again, with its error
    status, _ = log_in(site, "nobody", "wrong", **{"X-Forwarded-For": "192.0.2.44"})
    assert status == 429


@slow
def test_nginx_passes_its_request_id_and_the_client_address(site):
    https(site, "/?probe=request-id", **{"X-Request-ID": "client-made", "X-Forwarded-For": "203.0.113.7"})
    app_lines, proxy_lines = logged(site, "probe=request-id")
    assert len(app_lines) == 1 and len(proxy_lines) == 1
    request_id = re.search(r"rid=([0-9a-f]{32})\b", proxy_lines[0]).group(1)
    assert f"rid={request_id} " in app_lines[0]  # nginx's id, not the client's
    assert app_lines[0].endswith("xff=203.0.113.7, 127.0.0.1")  # appended, the last one nginx's own


# --- deploy/logrotate/newsportal -------------------------------------------------------------


LOGROTATE = PROJECT / "deploy" / "logrotate" / "newsportal"


def render_logrotate(shipped: str, folder: Path) -> str:
    """The shipped file with this test's log folders, its own user and group, and a USR1 to this nginx."""
    user, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
    conf = replace(shipped, "/var/log/nginx/newsportal/", f"{folder}/logs/nginx/", 1)
    conf = replace(conf, "/var/log/newsportal/", f"{folder}/logs/app/", 1)
    conf = replace(conf, "su newsportal adm", f"su {user} {group}", 1)
    conf = replace(conf, "create 0640 www-data adm", f"create 0640 {user} {group}", 1)
    return replace(conf, "invoke-rc.d nginx rotate", f"kill -USR1 $(cat {folder}/nginx.pid)", 2)


def logrotate(site: dict, *options: str) -> subprocess.CompletedProcess:
    binary = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not Path(binary).exists():
        pytest.skip("logrotate not installed (Debian package logrotate; .ci/run installs it)")
    conf = site["folder"] / "logrotate.conf"
    conf.write_text(render_logrotate(LOGROTATE.read_text(), site["folder"]))
    conf.chmod(0o644)
    return subprocess.run([binary, *options, "--state", str(site["folder"] / "logrotate.state"), str(conf)],
                          capture_output=True, text=True, timeout=60, check=False)


@slow
def test_logrotate_reads_the_file_and_finds_both_logs(site):
    https(site, "/?probe=logrotate-debug")
    assert all(logged(site, "probe=logrotate-debug"))
    done = logrotate(site, "--debug", "--force")
    assert done.returncode == 0, done.stderr
    report = done.stdout + done.stderr
    assert not re.search(r"^error:", report, re.MULTILINE), report
    for log in ("nginx/access.log", "app/gunicorn-access.log"):
        assert f"considering log {site['folder']}/logs/{log}" in report, report
    assert "copying" in report and "truncating" in report  # the app's stanza: copytruncate


@slow
def test_rotated_logs_are_written_afresh_by_nginx_and_gunicorn(site):
    """nginx reopens its log on the USR1 the postrotate script sends; gunicorn's is truncated in place."""
    https(site, "/?probe=before-rotation")
    assert all(logged(site, "probe=before-rotation"))
    done = logrotate(site, "--force")
    assert done.returncode == 0, done.stderr
    https(site, "/?probe=after-rotation")
    app_lines, proxy_lines = logged(site, "probe=after-rotation")
    assert len(app_lines) == 1 and len(proxy_lines) == 1
    logs = site["folder"] / "logs"
    for current in (logs / "nginx" / "access.log", logs / "app" / "gunicorn-access.log"):
        assert "probe=before-rotation" not in current.read_text(), current
        rotated = list(current.parent.glob(f"{current.name}-*"))
        assert len(rotated) == 1 and "probe=before-rotation" in rotated[0].read_text(), rotated
