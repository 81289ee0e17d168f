"""Migrations are history: each one must run the same way however the live code later changes.

So no migration imports the project's own code (outside the migrations
packages): what it needs of it is copied into it, frozen, as 0015 does with
the content-version bump. That the migrations apply on a fresh database is
checked by every test run, which builds its database with them.
"""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import pytest

from tests.factories import PROJECT

# Top-level packages of this project (articles, newsportal and any app added
# beside them), not third-party ones such as django or taggit.
FIRST_PARTY = frozenset(path.parent.name for path in PROJECT.glob("*/__init__.py") if path.parent.name != "tests")
MIGRATIONS = sorted(path for path in PROJECT.glob("*/migrations/*.py") if path.name != "__init__.py")


def imported_modules(tree: ast.Module) -> list[str]:
    """Every module a migration imports, anywhere in it (functions included), as absolute
    names relative to its migrations package: `from ..cache import x` is `..cache`."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
            names.append(str(node.args[0].value))
    return names


def live_code_imports(path: Path) -> list[str]:
    """The imports of `path` that reach the project's code outside its migrations package."""
    wrong = []
    for name in imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if name.startswith(".."):
            wrong.append(name)  # out of the migrations package, into the app's own code
        elif not name.startswith("."):
            parts = name.split(".")
            if parts[0] in FIRST_PARTY and parts[1:2] != ["migrations"]:
                wrong.append(name)
    return wrong


def test_the_project_has_migrations_to_check():
    assert "articles" in FIRST_PARTY
    assert PROJECT / "articles" / "migrations" / "0001_initial.py" in MIGRATIONS


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_no_migration_imports_live_code(path):
    assert live_code_imports(path) == [], f"{path.name} imports code that may change or move; copy what it needs"


@pytest.mark.django_db
def test_the_frozen_bump_of_0015_makes_a_new_content_generation_as_the_live_one_does():
    """Its copy of articles.content_version.bump_generation: a higher generation, changed now; and the
    row made again if it is missing (a flushed database)."""
    from django.db import connection
    from django.utils import timezone

    from articles.models import ContentVersion

    bump = import_module("articles.migrations.0015_tag_name_case_insensitive").bump_content_generation
    ContentVersion.objects.update_or_create(pk=1, defaults={"generation": 2**62, "changed_at": timezone.now()})
    started = timezone.now()
    bump(connection)
    row = ContentVersion.objects.get(pk=1)
    assert row.generation == 2**62 + 1 and row.changed_at >= started  # ahead of the clock: one more
    ContentVersion.objects.all().delete()
    bump(connection)
    row = ContentVersion.objects.get(pk=1)
    assert row.changed_at >= started
    assert row.generation >= int(started.timestamp() * 1_000_000)  # from the clock again, never back
