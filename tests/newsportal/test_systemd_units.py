"""deploy/systemd/: the reference units are valid for systemd and consistent with the project
(their commands exist and parse, one user, one env file, the hardening every unit carries)."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shlex
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.factories import PROJECT, SEEDS
from tests.faults_support import free_port, wait_until_listening

UNITS = PROJECT / "deploy" / "systemd"
RELEASE = "/srv/newsportal/current"  # the release the units run; the tests put this checkout there
STATE = "/var/lib/newsportal"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes",
             "StateDirectory": "newsportal", "ReadWritePaths": STATE}


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """section -> key -> values (a key may repeat), continuation lines joined, comments dropped."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    section, pending = "", ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        sections[section][key.strip()].append(value.strip())
    return sections


def services() -> dict[str, dict]:
    return {path.name: parse_unit(path) for path in sorted(UNITS.glob("*.service"))}


def test_the_reference_set_is_there():
    assert {"newsportal.service", "newsportal-worker.service", "newsportal-rqworker.service",
            "newsportal-import.service", "newsportal-prune.service"} <= set(services())
    assert {path.name for path in UNITS.glob("*.timer")} == {"newsportal-import.timer", "newsportal-prune.timer"}
    assert {path.name for path in UNITS.glob("*.socket")} == {"newsportal.socket"}


def test_the_web_service_takes_its_socket_from_systemd_on_loopback():
    """No --bind: gunicorn listens on what newsportal.socket holds, so a restart refuses no
    connection; --chdir to `current`, so a reload's workers load the switched release."""
    web = services()["newsportal.service"]
    assert web["Unit"]["Requires"] == ["newsportal.socket"] and "newsportal.socket" in web["Unit"]["After"][0]
    argv = command_of("newsportal.service")
    assert "--bind" not in argv and "-b" not in argv
    assert argv[argv.index("--chdir") + 1] == RELEASE
    assert argv[argv.index("--forwarder-headers") + 1] == ""
    assert parse_unit(UNITS / "newsportal.socket")["Socket"]["ListenStream"] == ["127.0.0.1:8000"]


@pytest.mark.parametrize("name", sorted(services()))
def test_every_service_runs_as_the_service_user_with_the_env_file_and_hardening(name):
    service = services()[name]["Service"]
    assert service["User"] == ["newsportal"] and service["Group"] == ["newsportal"]
    assert service["EnvironmentFile"] == ["/etc/newsportal/env"]
    assert "NEWSPORTAL_ENV_FILE=" in service["Environment"]  # never a developer's .env
    assert service["WorkingDirectory"] == [RELEASE]
    for key, value in HARDENING.items():
        assert service[key] == [value], f"{name}: {key}"


def command_of(name: str) -> list[str]:
    [exec_start] = services()[name]["Service"]["ExecStart"]
    return shlex.split(exec_start)


def parsed_manage_py(argv: list[str]):
    """manage.py's command and its options, as the command's own parser reads them."""
    assert argv[0] == f"{RELEASE}/.venv/bin/python" and argv[1] == "manage.py", argv
    name, args = argv[2], argv[3:]
    # django_rq is an installed app only with NEWSPORTAL_TASK_BACKEND=rq; its command is there all the same.
    commands = {**get_commands(), "rqworker": "django_rq"}
    assert name in commands, f"no command {name}"
    command = load_command_class(commands[name], name)
    return name, command.create_parser("manage.py", name).parse_args(args)


@pytest.mark.parametrize("name", sorted(services()))
def test_every_command_exists_in_the_venv_and_its_options_parse(name):
    argv = command_of(name)
    program = Path(argv[0].replace(RELEASE, str(PROJECT)))
    assert program.is_file(), f"{argv[0]}: not in the venv"
    if argv[1] == "manage.py":
        parsed_manage_py(argv)
    else:
        assert program.name == "gunicorn" and "newsportal.wsgi" in argv


def test_the_workers_follow_the_task_backend():
    db, rq = services()["newsportal-worker.service"], services()["newsportal-rqworker.service"]
    assert parsed_manage_py(command_of("newsportal-worker.service"))[0] == "db_worker"
    command, options = parsed_manage_py(command_of("newsportal-rqworker.service"))
    assert command == "rqworker" and options.with_scheduler
    assert db["Unit"]["Conflicts"] == ["newsportal-rqworker.service"]
    assert rq["Unit"]["Conflicts"] == ["newsportal-worker.service"]


def test_the_import_timer_runs_the_import_with_its_lock_and_timestamps():
    timer = parse_unit(UNITS / "newsportal-import.timer")
    assert timer["Timer"]["Unit"] == ["newsportal-import.service"] and timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    service = services()["newsportal-import.service"]["Service"]
    assert service["Type"] == ["oneshot"]
    name, options = parsed_manage_py(command_of("newsportal-import.service"))
    assert name == "import_articles" and options.timestamps
    assert str(options.lock).startswith(STATE + "/")  # writable under ProtectSystem=strict
    # "some files failed" and "another import holds the lock" are not a failed unit; a crash (1) is.
    assert service["SuccessExitStatus"] == ["3 75"]
    prune = parsed_manage_py(command_of("newsportal-prune.service"))
    assert prune[0] == "prune_import_runs"
    assert parse_unit(UNITS / "newsportal-prune.timer")["Timer"]["Unit"] == ["newsportal-prune.service"]


def test_the_env_example_sets_only_settings_that_are_read():
    read = set(re.findall(r"\b(?:DJANGO|NEWSPORTAL|DATABASE|CACHE|CORS|SQLITE)_[A-Z_]+\b",
                          (PROJECT / "newsportal" / "settings.py").read_text())) | {"DATABASE_URL"}
    names = [line.split("=", 1)[0] for line in (UNITS / "env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert names and set(names) <= read, set(names) - read


def test_the_env_example_key_must_be_replaced_before_the_server_starts():
    from newsportal.checks import secret_key_is_weak

    [key] = [line.split("=", 1)[1] for line in (UNITS / "env.example").read_text().splitlines()
             if line.startswith("DJANGO_SECRET_KEY=")]
    assert secret_key_is_weak(key)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (Debian: systemd)")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    """With this checkout as the release, so ExecStart's programs exist and are checked."""
    for unit in [*UNITS.glob("*.service"), *UNITS.glob("*.socket"), *UNITS.glob("*.timer")]:
        (tmp_path / unit.name).write_text(unit.read_text().replace(RELEASE, str(PROJECT)))
    done = subprocess.run(["systemd-analyze", "verify", *sorted(map(str, tmp_path.iterdir()))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


# --- the units' commands, run as systemd would (its environment file, no .env) ----------------


def unit_environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    """env.example as EnvironmentFile= gives it, with this test's database, key and folders;
    plus the unit's own Environment= lines; nothing else of this machine's settings."""
    from tests.factories import static_manifest_in

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEWSPORTAL_", "DATABASE_", "CACHE_"))}
    for line in (UNITS / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=database_url, CACHE_URL="locmem://",
               DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")),
               NEWSPORTAL_MEDIA_ROOT=str(tmp_path / "media"), NEWSPORTAL_IMPORT_SPOOL_DIR=str(tmp_path / "spool"),
               NEWSPORTAL_ENV_FILE="", PYTHONUNBUFFERED="1")
    return env


def runnable(name: str, **replace: str) -> list[str]:
    """The unit's ExecStart with this checkout as the release and `replace`'s substitutions."""
    text = shlex.join(command_of(name)).replace(RELEASE, str(PROJECT))
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return shlex.split(text)


@pytest.mark.slow  # gunicorn in a process of its own
def test_the_web_units_command_serves_with_the_example_environment(scratch_db, tmp_path):
    port = free_port()
    # The socket newsportal.socket would hand over, given here as a bind.
    server = subprocess.Popen([*runnable("newsportal.service"), "--bind", f"127.0.0.1:{port}"],
                              cwd=PROJECT, env=unit_environment(tmp_path, scratch_db),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_listening(port, server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # As nginx sends it: the site's host, and https said by the proxy (DJANGO_SECURE_PROXY_SSL_HEADER).
        connection.request("GET", "/robots.txt", headers={"Host": "news.example.com", "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        assert response.status == 200 and b"Sitemap: https://news.example.com/" in response.read()
        connection.request("GET", "/robots.txt", headers={"Host": "news.example.com"})
        plain = connection.getresponse()
        plain.read()
        assert plain.status == 301 and plain.getheader("Location").startswith("https://")
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.slow  # manage.py in a process of its own
def test_the_import_units_command_imports_with_timestamps(scratch_db, tmp_path):
    env = unit_environment(tmp_path, scratch_db)
    command = runnable("newsportal-import.service", **{"/srv/feeds/": str(SEEDS),
                                                      f"{STATE}/import.lock": str(tmp_path / "import.lock")})
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ created 2, ", line), line
