"""Production settings, security headers, the CSP and the admin login lockout."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.urls import reverse

from tests import html_safety
from tests.factories import PROJECT, SEEDS, production_env, settings_in, static_manifest_in

TEMPLATES = PROJECT / "templates"


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


# --- settings -------------------------------------------------------------------


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    env = production_env(DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_when_production_is_weakened():
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env=production_env(DJANGO_SECURE_COOKIES="0", DJANGO_SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W012" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_cookies_and_https_follow_debug_and_the_environment():
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
             "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS")
    production = settings_in(production_env(), *names)
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_SSL_REDIRECT"] and production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_PROXY_SSL_HEADER"] is None  # trusting the header is opted into
    development = settings_in(production_env(DJANGO_DEBUG="1"), *names)
    assert not development["SESSION_COOKIE_SECURE"] and not development["SECURE_SSL_REDIRECT"]
    assert development["SECURE_HSTS_SECONDS"] == 0
    proxied = settings_in(production_env(DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
                                         DJANGO_CSRF_TRUSTED_ORIGINS="https://news.example.com"), *names)
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["CSRF_TRUSTED_ORIGINS"] == ["https://news.example.com"]


def test_image_hosts_can_be_narrowed_to_an_allow_list():
    default = settings_in(production_env(), "CONTENT_SECURITY_POLICY")["CONTENT_SECURITY_POLICY"]
    assert "https:" in default["DIRECTIVES"]["img-src"]
    narrowed = settings_in(production_env(NEWSPORTAL_CSP_IMG_HOSTS="https://img.cls.cn,https://*.sinaimg.cn"),
                           "CONTENT_SECURITY_POLICY")["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    assert "https:" not in narrowed and {"https://img.cls.cn", "https://*.sinaimg.cn"} <= set(narrowed)


# --- headers ----------------------------------------------------------------------


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.fixture
def article(run_import):
    assert run_import(SEEDS).exit_code == 0
    from articles.models import Article
    return Article.objects.published().first()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["home", "article", "search", "feed", "admin-login", "not-found"])
def test_every_response_carries_the_security_headers(client, article, page):
    url = {"home": "/", "article": article.get_absolute_url(), "search": "/search/?q=券商", "feed": "/feed/",
           "admin-login": "/admin/login/", "not-found": "/no-such-page/"}[page]
    response = client.get(url, secure=True)
    assert response.status_code == (404 if page == "not-found" else 200)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert "'self'" in policy["script-src"] and "https:" in policy["img-src"]
    for directive in ("script-src", "style-src", "default-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "data:"} & set(policy[directive])


@pytest.mark.django_db
def test_no_hsts_over_plain_http_and_https_is_enforced_by_redirect(client, settings):
    assert "Strict-Transport-Security" not in client.get("/").headers  # browsers ignore it there anyway
    settings.SECURE_SSL_REDIRECT = True
    from django.test import Client
    response = Client().get("/archive/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/archive/"


@pytest.mark.django_db
def test_article_images_keep_their_own_no_referrer(client, article):
    page = html_safety.parse(client.get(article.get_absolute_url()).content.decode())
    images = [img for img in page.iter("img")]
    assert images and all(img.get("referrerpolicy") == "no-referrer" for img in images)


@pytest.mark.django_db
def test_cookies_are_secure_and_session_cookie_is_http_only(client, admin_user):
    response = client.get("/admin/login/")
    csrf = response.cookies["csrftoken"]
    # As docs/SECURITY.md says: Secure and SameSite, but not HttpOnly (Django's default; the
    # token is in every form's HTML anyway, so HttpOnly would hide nothing).
    assert csrf["secure"] and csrf["samesite"] == "Lax" and not csrf["httponly"]
    response = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


# --- no inline script or style -----------------------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.rglob("*") if p.is_file()), ids=str)
def test_templates_have_no_inline_script_handler_or_style(template: Path):
    text = template.read_text("utf-8")
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template.relative_to(PROJECT)}: {what}"


def csp_hash(source: str) -> str:
    """The CSP source expression that allows exactly this inline code."""
    return "'sha256-{}'".format(base64.b64encode(hashlib.sha256(source.encode()).digest()).decode())


def inline_code(html: str) -> list[str]:
    """Script or style a strict CSP would block: inline code, handlers, style attributes."""
    found = []
    for element in html_safety.parse(html).iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "script" and not element.get("src") and element.get("type") not in ("application/ld+json",
                                                                                    "application/json"):
            found.append(f"inline <script type={element.get('type')!r}> without a nonce"
                         if not element.get("nonce") else "")
        if tag == "style":
            found.append("<style>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{tag} {name}>")
            if name.lower() == "style" and csp_hash(value) not in settings.CSP_STYLE_HASHES:
                found.append(f"<{tag} {name}>")
    return [f for f in found if f]


@pytest.mark.django_db
def test_rendered_public_and_admin_pages_need_no_inline_code(client, article, admin_user):
    urls = ["/", article.get_absolute_url(), "/category/", "/archive/", "/archive/2022/", "/search/?q=券商",
            "/no-such-page/", "/admin/login/", "/api/v1/docs/"]
    for url in urls:
        assert inline_code(client.get(url).content.decode()) == [], url
    client.force_login(admin_user)
    from newsroom import revisions
    revision = revisions.record_unrevised_version(article.pk)  # "as imported"
    admin_urls = ["/admin/", reverse("admin:articles_article_changelist"), reverse("admin:articles_article_add"),
                  reverse("admin:articles_article_change", args=[article.pk]),
                  reverse("admin:articles_category_changelist"), reverse("admin:articles_author_add"),
                  reverse("admin:taggit_tag_changelist"), reverse("admin:auth_user_add"),
                  reverse("admin:articles_article_history", args=[article.pk]),
                  reverse("admin:articles_article_simple_history",
                          args=[article.pk, revision.history_id]),
                  reverse("admin:articles_importrun_changelist"), reverse("admin:articles_importrun_upload"),
                  reverse("articles:preview", args=[article.pk])]
    for url in admin_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
def test_admin_widgets_with_import_maps_get_the_csp_nonce(client, admin_user, article, monkeypatch):
    from django import forms
    from js_asset import ImportMap, Media

    class Widget(forms.Textarea):
        """A textarea whose media, like django-prose-editor's, carries an inline import map."""

        @property
        def media(self):
            return Media(importmap=ImportMap({"editor": "/static/editor.js"}), js=["admin/js/core.js"])

    from django.contrib import admin
    article_admin = admin.site._registry[article.__class__]
    monkeypatch.setattr(article_admin, "formfield_overrides",
                        {**article_admin.formfield_overrides, models.TextField: {"widget": Widget}})
    client.force_login(admin_user)
    response = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    maps = [s for s in html_safety.parse(response.content.decode()).iter("script") if s.get("type") == "importmap"]
    assert len(maps) == 1
    nonce = maps[0].get("nonce")
    assert nonce and f"'nonce-{nonce}'" in csp_of(response)["script-src"]
    # Pages without such a widget get no nonce: nothing inline is allowed there.
    assert not any(s.startswith("'nonce-") for s in csp_of(client.get("/"))["script-src"])


# --- login lockout (django-axes) ---------------------------------------------------


@pytest.fixture
def staff_account(db):
    """A staff user to log in as: "editor", password "correct-horse-battery"."""
    return User.objects.create_user("editor", password="correct-horse-battery", is_staff=True)


def login(client, username: str, password: str, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_failed_logins_lock_the_account_out_from_that_address(client, staff_account, settings):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # NEWSPORTAL_LOGIN_FAILURE_LIMIT's default
    for attempt in range(limit - 1):
        response = login(client, "editor", f"wrong-{attempt}")
        assert response.status_code == 200 and "errornote" in response.content.decode()
    locked = login(client, "editor", "wrong-last")
    assert locked.status_code == 429
    assert "登录尝试次数过多" in locked.content.decode()
    # Even the right password is refused now, from this address.
    assert login(client, "editor", "correct-horse-battery").status_code == 429
    # Another address, or another user from this address, can still log in.
    assert login(client, "editor", "correct-horse-battery", REMOTE_ADDR="203.0.113.9").status_code == 302
    User.objects.create_user("colleague", password="another-good-pass", is_staff=True)
    from django.test import Client
    assert login(Client(), "colleague", "another-good-pass").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, staff_account, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "editor", f"wrong-{attempt}")
    assert login(client, "editor", "correct-horse-battery").status_code == 302
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "editor", f"wrong-again-{attempt}").status_code == 200


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_client_is_locked_out_not_the_proxy(client, staff_account, settings):
    settings.NEWSPORTAL_TRUSTED_PROXIES = 1
    settings.NEWSPORTAL_TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/24"]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # The attacker forges a different X-Forwarded-For each time; the proxy
        # appends the address it really saw, which is what counts.
        forged = f"198.51.100.{attempt}, 192.0.2.66"
        login(client, "editor", f"wrong-{attempt}", HTTP_X_FORWARDED_FOR=forged, **proxy)
    assert login(client, "editor", "correct-horse-battery", HTTP_X_FORWARDED_FOR="192.0.2.66",
                 **proxy).status_code == 429
    # The same user behind the same proxy from another address is not locked out.
    assert login(client, "editor", "correct-horse-battery", HTTP_X_FORWARDED_FOR="192.0.2.77",
                 **proxy).status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_for_from_outside_the_proxies_changes_no_address(client, staff_account, settings):
    """Direct access to an app server (past nginx) must not bypass the lockout (#20)."""
    from axes.models import AccessAttempt

    settings.NEWSPORTAL_TRUSTED_PROXIES = 1
    settings.NEWSPORTAL_TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/24"]
    attacker = {"REMOTE_ADDR": "203.0.113.50"}  # not a proxy
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "editor", f"wrong-{attempt}", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}", **attacker)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.50"}
    assert login(client, "editor", "correct-horse-battery", HTTP_X_FORWARDED_FOR="192.0.2.1",
                 **attacker).status_code == 429
    # Through the proxy, the address it appended is the one counted.
    assert login(client, "editor", "correct-horse-battery", HTTP_X_FORWARDED_FOR="192.0.2.1",
                 REMOTE_ADDR="10.0.0.2").status_code == 302
