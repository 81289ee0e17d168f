"""The production install's lock file (requirements/production.txt, `make lock`): in step
with pyproject.toml, hash-pinned, free of test tools, and enough to run the site."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.factories import PROJECT, production_env, static_manifest_in

LOCK = PROJECT / "requirements" / "production.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pyproject() -> dict:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())


def pinned() -> dict[str, list[str]]:
    """name -> the versions the lock file pins it to (one for each Python version where they differ)."""
    pins: dict[str, list[str]] = {}
    for line in LOCK.read_text().splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), []).append(match[2])
    return pins


def test_every_runtime_dependency_is_pinned_within_its_range():
    pins = pinned()
    for spec in pyproject()["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{spec} is not in {LOCK.name}: run `make lock`"
        for version in pins[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{LOCK.name} pins {name}=={version}, outside {spec}: run `make lock`")


def test_every_pin_carries_hashes_and_no_test_tool_is_installed():
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2])
    assert len(blocks) == sum(map(len, pinned().values())) > 20
    for block in blocks:
        assert PIN.match(block) and "--hash=sha256:" in block, block
    test_tools = {canonicalize_name(Requirement(spec).name) for spec in pyproject()["project"]["optional-dependencies"]["test"]}
    assert not test_tools & set(pinned()), "a test tool would be installed in production"


@pytest.mark.slow  # resolves against PyPI
def test_the_lock_file_is_what_make_lock_writes(tmp_path):
    """`make lock` keeps the pins it finds, so run over a copy it changes nothing unless
    pyproject.toml changed since (then: run `make lock` and commit the file)."""
    copy = tmp_path / "production.txt"
    shutil.copyfile(LOCK, copy)
    # -o: never remake the developer's venv from here, only run the lock command.
    done = subprocess.run(["make", "-s", "-o", ".venv/.installed", "lock", f"LOCK={copy}"], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert copy.read_text() == LOCK.read_text(), "requirements/production.txt is out of step: run `make lock`"


def release_copy(to: Path) -> Path:
    """The project's files as a release directory holds them (no venv, caches or data)."""
    ignored = shutil.ignore_patterns(".git", ".venv", "node_modules", "staticfiles", "media", "var", "build",
                                     "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "db.sqlite3*",
                                     ".env", "artifacts")
    shutil.copytree(PROJECT, to, ignore=ignored)
    return to


@pytest.mark.slow  # a fresh virtualenv installed from PyPI
def test_a_fresh_venv_installs_from_the_lock_file_and_passes_check_deploy(tmp_path):
    release = release_copy(tmp_path / "release")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # PyPI only, as on a server: no pip configuration of this machine (local wheel folders, constraints).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    locked = subprocess.run([*pip, "--require-hashes", "-r", str(release / LOCK.relative_to(PROJECT))],
                            env=env, capture_output=True, text=True, timeout=1800)
    assert locked.returncode == 0, locked.stderr
    project = subprocess.run([*pip, "--no-deps", str(release)], env=env, capture_output=True, text=True,
                             timeout=600)
    assert project.returncode == 0, project.stderr

    python = str(venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import pytest"], capture_output=True, timeout=60).returncode != 0
    assert not (release / ".env").exists()
    server_env = production_env(DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")),
                                PIP_CONFIG_FILE=os.devnull)
    checked = subprocess.run([python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=release,
                             env=server_env, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (release / ".env").exists()  # the install wrote no developer settings
    # The installed package holds every app, so the server can import them outside the release too.
    imported = subprocess.run([python, "-c", "import newsportal.wsgi, importing.service, editorial, api, newsroom"],
                              cwd=tmp_path, env=server_env, capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr
