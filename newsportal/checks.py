"""Start-up safety: settings that make a production server unsafe (or broken) are errors.

Two ways in:

* `manage.py check --deploy` reports them (Error level) beside Django's own deployment
  warnings, so `check --deploy --fail-level WARNING` fails the release step (docs/DEPLOY.md).
* The server applications (newsportal/wsgi.py, asgi.py) call `refuse_unsafe_start()` once
  loaded: gunicorn's worker then fails to boot and gunicorn exits with the message, instead
  of serving with a guessable key, any Host, debug pages, or a 500 on every page.

Only production (DEBUG off) is judged, except for DEBUG itself under a real server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import connections
from django.core.exceptions import ImproperlyConfigured

WEAK_SECRET_KEY = "newsportal.E001"
ANY_HOST = "newsportal.E002"
NO_STATIC_MANIFEST = "newsportal.E003"
DEBUG_UNDER_A_SERVER = "newsportal.E004"
DATABASE_NOT_UTF8 = "newsportal.E005"

# Django's own measure of a key worth its name (django.core.checks.security.base, W009).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIXES = ("django-insecure",)


def secret_key_is_weak(key: str) -> bool:
    """Short, made of few characters, or one of the well-known development keys."""
    return (len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
            or key.startswith(INSECURE_PREFIXES))


def production_setting_errors() -> list[CheckMessage]:
    """Errors for a production process (DEBUG off) whose settings would make it unsafe."""
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    if secret_key_is_weak(settings.SECRET_KEY):
        errors.append(Error(
            f"DJANGO_SECRET_KEY is weak: at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, and not a django-insecure key.",
            hint="Make one: python3 -c 'import secrets; print(secrets.token_urlsafe(50))' "
                 "(the same on every server; sessions and password-reset links are signed with it).",
            id=WEAK_SECRET_KEY))
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(Error(
            "DJANGO_ALLOWED_HOSTS contains '*': any Host header is believed, so links in feeds, "
            "sitemaps and password-reset mails can be made to point elsewhere.",
            hint="List the site's host names, comma-separated (news.example.com).",
            id=ANY_HOST))
    return errors


def static_manifest_errors() -> list[CheckMessage]:
    """An error when the hashed static files' manifest is missing from STATIC_ROOT.

    With DEBUG off, whitenoise's manifest storage looks every {% static %} up in
    STATIC_ROOT/staticfiles.json: without it (collectstatic not run, or run into another
    DJANGO_STATIC_ROOT than the app servers have) every page is a 500."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []
    manifest = Path(settings.STATIC_ROOT) / staticfiles_storage.manifest_name
    if manifest.is_file():
        return []
    return [Error(
        f"No static files manifest at {manifest}: every page would answer 500.",
        hint="Run `manage.py collectstatic --noinput` with the same DJANGO_STATIC_ROOT the app servers "
             "have (docs/DEPLOY.md, \"Environment variables\").",
        id=NO_STATIC_MANIFEST)]


def debug_server_errors() -> list[CheckMessage]:
    """DEBUG on in a process gunicorn runs: debug pages (settings, tracebacks) to anyone it
    serves. gunicorn's arbiter sets SERVER_SOFTWARE; the development server does not."""
    if settings.DEBUG and os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return [Error(
            "DJANGO_DEBUG is on in a gunicorn server: debug pages show settings and tracebacks to every "
            "client.", hint="Unset DJANGO_DEBUG (or set 0) on servers; `make run` serves with DEBUG for "
                             "development.", id=DEBUG_UNDER_A_SERVER)]
    return []


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return production_setting_errors()


@register(Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return static_manifest_errors()


@register(Tags.database)
def check_database_encoding(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A PostgreSQL database must be UTF8 (run by `migrate` and `check --database default`).

    A database made without a locale (initdb in a bare container, say) is SQL_ASCII: it
    stores Chinese as bytes and counts a varchar's length in bytes, so a 30-character title's
    slug no longer fits its column and every import fails with "value too long".
    """
    errors: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_encoding")
            encoding = cursor.fetchone()[0]
        if encoding.upper() not in ("UTF8", "UTF-8"):
            errors.append(Error(
                f"The database {connection.settings_dict['NAME']!r} (DATABASES[{alias!r}]) is encoded "
                f"{encoding}, not UTF8: Chinese text would be stored as bytes and overflow its columns.",
                hint="Create it as docs/DEPLOY.md, \"Provisioning\", says (createdb --encoding UTF8 "
                     "--locale C.UTF-8 --template template0) and restore a dump into it.",
                id=DATABASE_NOT_UTF8))
    return errors


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured, naming every problem, when this server must not start."""
    errors = [*production_setting_errors(), *static_manifest_errors(), *debug_server_errors()]
    if errors:
        raise ImproperlyConfigured(
            "refusing to start with unsafe settings (docs/DEPLOY.md):\n"
            + "\n".join(f"  {error.id}: {error.msg} {error.hint}" for error in errors))
