"""`manage.py backup_sqlite FILE`: an online backup of the SQLite database (articles.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from articles.backup import BackupError, backup_sqlite


class Command(BaseCommand):
    help = (
        "Copy the SQLite database to FILE while the site keeps serving and writing (SQLite's backup "
        "API: one consistent snapshot, checked). For PostgreSQL use pg_dump -Fc."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup to write (must not exist)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)")

    def handle(self, *args, **options) -> None:
        try:
            backup = backup_sqlite(connections[options["database"]], options["file"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"backed up {backup.articles} articles ({backup.size / 2**20:.1f} MiB) to {backup.path}")
