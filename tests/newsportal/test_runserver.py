"""`manage.py runserver` refuses DEBUG on an address other machines can reach (#20); loopback
binds, DEBUG off and the named escape are served as before."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest
from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserver
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.test import override_settings

from tests.factories import PROJECT, production_env, static_manifest_in
from tests.faults_support import free_port, stop_all, wait_until_listening

# TEST-NET-1 (RFC 5737): a public address no machine here has, so a server allowed to bind it
# fails at the bind ("can't be assigned") and nothing is ever served off loopback.
UNASSIGNED_PUBLIC = "192.0.2.1"
ESCAPE = "NEWSPORTAL_RUNSERVER_ALLOW_PUBLIC_DEBUG"


@pytest.mark.parametrize("addrport", ["0.0.0.0:8000", "0:8000", "[::]:8000", f"{UNASSIGNED_PUBLIC}:8000"])
def test_debug_on_a_public_address_is_refused(addrport):
    with override_settings(DEBUG=True), pytest.raises(CommandError) as refused:
        call_command("runserver", addrport, use_reloader=False, skip_checks=True)
    message = str(refused.value)
    assert message.startswith("Refusing to serve with DEBUG on at ")
    assert "debug pages" in message and "127.0.0.1" in message and "DJANGO_DEBUG=0" in message
    assert ESCAPE in message and "\n" not in message


def test_it_is_still_staticfiles_and_whitenoise_runserver():
    assert get_commands()["runserver"] == "newsportal"
    command = load_command_class("newsportal", "runserver")
    assert isinstance(command, StaticfilesRunserver)
    options = command.create_parser("manage.py", "runserver").parse_args([])
    assert options.use_static_handler is False  # whitenoise.runserver_nostatic's default kept
    assert hasattr(options, "insecure_serving")


def runserver(tmp_path, addrport: str, **env: str) -> subprocess.Popen:
    environment = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONUNBUFFERED="1",
                                 DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")), **env)
    return subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", addrport],
                            cwd=PROJECT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_debug_on_loopback_serves_as_before(tmp_path, host):
    port = free_port()
    server = runserver(tmp_path, f"{host}:{port}", DJANGO_DEBUG="1")
    try:
        wait_until_listening(port, server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/favicon.svg", timeout=10) as answer:
            assert answer.status == 200 and b"<svg" in answer.read()
    finally:
        stop_all([server])


@pytest.mark.slow
@pytest.mark.parametrize("env", [{"DJANGO_DEBUG": "0"}, {"DJANGO_DEBUG": "1", ESCAPE: "1"}],
                         ids=["debug-off", "escape"])
def test_debug_off_or_the_escape_may_bind_a_public_address(tmp_path, env):
    """Past the refusal to the bind itself, which fails only because no machine has this address."""
    server = runserver(tmp_path, f"{UNASSIGNED_PUBLIC}:{free_port()}", **env)
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        stop_all([server])
    assert server.returncode != 0
    assert "can't be assigned" in stderr and "Refusing" not in stderr, stderr


@pytest.mark.slow
def test_the_refusal_through_manage_py(tmp_path):
    server = runserver(tmp_path, "0.0.0.0:8000", DJANGO_DEBUG="1")
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        stop_all([server])
    assert server.returncode == 1
    assert "Refusing to serve with DEBUG on at 0.0.0.0:8000" in stderr and "Traceback" not in stderr
