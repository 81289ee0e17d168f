"""The site's WSGI application for bench/bench_beacon.py: with BENCH_NO_BEACON set, article pages
leave out the reading beacon's script (the page "as before" to compare with)."""

import os

from newsportal.wsgi import application

if os.environ.get("BENCH_NO_BEACON"):
    from articles.views import ArticleDetailView

    ArticleDetailView.counts_reads = False

__all__ = ["application"]
