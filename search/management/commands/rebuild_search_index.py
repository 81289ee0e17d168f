"""`manage.py rebuild_search_index`: rebuild the full-text search index from the articles."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from search import index


class Command(BaseCommand):
    help = (
        "Rebuild the search index from every article, in one transaction (searches keep "
        "using the old index until it commits). Needed only after articles were changed "
        "behind Django's back, e.g. by raw SQL or QuerySet.update() of titles or bodies."
    )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        count = index.rebuild()
        if options["verbosity"] > 0:
            self.stdout.write(f"indexed {count} articles in {time.perf_counter() - started:.1f}s")
