"""The server as DEPLOY.md runs it: settings from the environment only.

The WSGI and ASGI applications never read a `.env` (only manage.py, the
development workflow, does): a checkout's DJANGO_DEBUG=1 must not turn a
production server into a debug one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT
from tests.test_security_headers import production_env

DEVELOPER_ENV = "DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=the-developer-key-from-dotenv\n"


def python_in(cwd, env: dict, code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("module", ["newsportal.wsgi", "newsportal.asgi"])
def test_the_server_applications_never_read_a_dotenv(tmp_path, module):
    """Started from a directory holding a developer's .env, even one NEWSPORTAL_ENV_FILE names,
    with no DJANGO_DEBUG in the environment: production mode, the environment's key."""
    (tmp_path / ".env").write_text(DEVELOPER_ENV)
    env = production_env(NEWSPORTAL_ENV_FILE=str(tmp_path / ".env"), PYTHONPATH=str(PROJECT))
    assert "DJANGO_DEBUG" not in env
    code = (f"import {module}; from django.conf import settings; "
            "print(settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
            "settings.SECRET_KEY == 'the-developer-key-from-dotenv')")
    assert python_in(tmp_path, env, code) == "False True True False"


def test_manage_py_reads_the_developers_dotenv(tmp_path):
    """`make run` and developers' commands go through manage.py, which does read it."""
    (tmp_path / ".env").write_text(DEVELOPER_ENV)
    env = production_env(NEWSPORTAL_ENV_FILE=str(tmp_path / ".env"))
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "shell", "-v", "0", "-c",
         "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "the-developer-key-from-dotenv"]
