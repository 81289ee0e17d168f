"""`manage.py prune_import_runs --older-than 90d`: delete old import history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from articles.management.arguments import duration
from importing.runs import prunable_runs, prune_runs


class Command(BaseCommand):
    help = (
        "Delete the import runs (the admin's import history) started longer ago than --older-than, "
        "e.g. 90d, 12h or 2w. Runs still running or queued are kept; the articles the runs wrote are "
        "not touched. Run it daily beside the scheduled import (deploy/systemd, docs/DEPLOY.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=duration, required=True, metavar="SPAN",
                            help="how old a run must be to go: a number of days (90d), hours (12h) or weeks (2w)")
        parser.add_argument("--dry-run", action="store_true", help="only say how many runs would be deleted")

    def handle(self, *args, **options) -> None:
        if options["dry_run"]:
            self.stdout.write(f"would delete {prunable_runs(options['older_than']).count()} import run(s)")
            return
        self.stdout.write(f"deleted {prune_runs(options['older_than'])} import run(s)")
