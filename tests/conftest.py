"""Shared fixtures: sample posts, the real corpus, and running the command."""

from __future__ import annotations

import io
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
CORPUS = PROJECT.parent / "shared" / "corpus" / "real"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def staff(username: str, group: str):
    """A staff user in one of the editorial groups ("Authors", "Editors"); password `pw-<username>-2024`."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, password=f"pw-{username}-2024", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def seeded(run_import):
    """The sample posts in seeds/, imported (every one must import): the articles, oldest first."""
    from articles.models import Article

    assert run_import(SEEDS).exit_code == 0
    return Article.objects.order_by("published_at")


@pytest.fixture
def editor(admin_client):
    """A client logged in to the admin as a superuser."""
    return admin_client


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS} (it lives in ../shared beside the project)")
    return CORPUS


@dataclass
class CommandRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip() and not line.startswith("CommandError")]


@pytest.fixture
def run_import():
    """Run import_articles in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> CommandRun:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("import_articles", *map(str, args), stdout=out, stderr=err)
            code = 0
        except CommandError as exc:
            err.write(f"CommandError: {exc}\n")
            code = exc.returncode
        return CommandRun(code, out.getvalue(), err.getvalue())

    return run


def post(title: str = "'测试文章'", date: str = "Sat, 30 Apr 2022 01:33:09 GMT", body: str = "<p>正文</p>",
         **fields: str) -> str:
    """A Hexo post in the seeds' format; extra fields are given as YAML text."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n---\n\n" + body + "\n"


@pytest.fixture
def write_post(tmp_path):
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty page cache (the database is rolled back between tests)."""
    from django.core.cache import cache

    from articles.content_version import forget_content_state

    cache.clear()
    forget_content_state()
    yield
    cache.clear()
    forget_content_state()
