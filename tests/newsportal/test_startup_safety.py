"""Start-up safety (newsportal.checks): unsafe production settings fail `check --deploy`
and stop the server applications before they serve anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

from newsportal.checks import ANY_HOST, DEBUG_UNDER_A_SERVER, NO_STATIC_MANIFEST, WEAK_SECRET_KEY
from tests.factories import PROJECT, production_env, settings_in, static_manifest_in

GOOD_KEY = "k" * 30 + "0123456789abcdefghij"


def deploy_check_ids() -> set[str]:
    return {message.id for message in checks.run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize("key", ["short-key", "a" * 60, "django-insecure-" + "x1y2z3" * 10])
def test_a_weak_secret_key_is_a_deploy_error(key):
    with override_settings(DEBUG=False, SECRET_KEY=key):
        assert WEAK_SECRET_KEY in deploy_check_ids()
    with override_settings(DEBUG=False, SECRET_KEY=GOOD_KEY):
        assert WEAK_SECRET_KEY not in deploy_check_ids()


def test_any_host_is_a_deploy_error():
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["news.example.com", "*"]):
        assert ANY_HOST in deploy_check_ids()
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["news.example.com"]):
        assert ANY_HOST not in deploy_check_ids()


def test_development_is_not_judged():
    with override_settings(DEBUG=True, SECRET_KEY="short", ALLOWED_HOSTS=["*"]):
        assert not {WEAK_SECRET_KEY, ANY_HOST} & deploy_check_ids()


def manage_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)


def load_server_application(module: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_missing_static_manifest_fails_check_deploy_and_the_start(tmp_path):
    """collectstatic run into another DJANGO_STATIC_ROOT than the app servers': an error
    that names the folder, not a 500 on every page."""
    env = production_env(DJANGO_STATIC_ROOT=str(tmp_path / "empty"))
    checked = manage_check(env)
    assert checked.returncode != 0 and NO_STATIC_MANIFEST in checked.stderr
    assert str(tmp_path / "empty" / "staticfiles.json") in checked.stderr
    started = load_server_application("newsportal.wsgi", env)
    assert started.returncode != 0 and NO_STATIC_MANIFEST in started.stderr


@pytest.mark.parametrize("module", ["newsportal.wsgi", "newsportal.asgi"])
@pytest.mark.parametrize(("unsafe", "error"), [
    ({"DJANGO_SECRET_KEY": "changeme"}, WEAK_SECRET_KEY),
    ({"DJANGO_ALLOWED_HOSTS": "*"}, ANY_HOST),
])
def test_the_server_applications_refuse_unsafe_settings(tmp_path, module, unsafe, error):
    env = production_env(DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")))
    assert load_server_application(module, env).returncode == 0
    refused = load_server_application(module, {**env, **unsafe})
    assert refused.returncode != 0
    assert "refusing to start with unsafe settings" in refused.stderr and error in refused.stderr
    assert manage_check({**env, **unsafe}).returncode != 0


def run_gunicorn(env: dict) -> subprocess.CompletedProcess:
    """gunicorn on a loopback port; it must stop by itself (a worker that fails to boot stops it)."""
    return subprocess.run([str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "1",
                           "--bind", "127.0.0.1:0", "--log-level", "warning"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(("unsafe", "error"), [
    ({"DJANGO_SECRET_KEY": "changeme"}, WEAK_SECRET_KEY),
    ({"DJANGO_DEBUG": "1"}, DEBUG_UNDER_A_SERVER),
])
def test_gunicorn_refuses_to_start_with_unsafe_settings(tmp_path, unsafe, error):
    env = production_env(DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")), **unsafe)
    stopped = run_gunicorn(env)
    assert stopped.returncode != 0
    assert error in stopped.stderr and "refusing to start" in stopped.stderr, stopped.stderr


# --- media in an object store, from the environment ---------------------------------------


def test_the_media_storage_comes_from_the_environment():
    plain = settings_in(production_env(), "STORAGES")["STORAGES"]
    assert plain["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    env = production_env(NEWSPORTAL_MEDIA_STORAGE="django.core.files.storage.InMemoryStorage",
                         NEWSPORTAL_MEDIA_STORAGE_OPTIONS='{"base_url": "https://media.example.com/"}')
    stored = settings_in(env, "STORAGES")["STORAGES"]
    assert stored["default"] == {"BACKEND": "django.core.files.storage.InMemoryStorage",
                                 "OPTIONS": {"base_url": "https://media.example.com/"}}
    assert stored["staticfiles"] == plain["staticfiles"]


@pytest.mark.parametrize("options", ["{not json", "[1, 2]"])
def test_media_storage_options_that_are_not_a_json_object_stop_the_process(options):
    env = production_env(NEWSPORTAL_MEDIA_STORAGE="django.core.files.storage.InMemoryStorage",
                         NEWSPORTAL_MEDIA_STORAGE_OPTIONS=options)
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=PROJECT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "NEWSPORTAL_MEDIA_STORAGE_OPTIONS" in done.stderr
