"""Ranked full-text search over article titles and bodies that works for Chinese.

The modules, by job:

* `search.tokens`: pure tokenising (CJK bigrams, NFKC-normalised words) of
  documents and queries; no ORM, so the importer's worker processes use it;
* `search.bigrams`: the same tokens of a long text, with numpy;
* `search.backends`: one module per database (`sqlite`: FTS5 and bm25();
  `postgres`: tsvectors and ts_rank_cd());
* `search.index`: the index API (index, remove, rebuild, fill once created);
* `search.query`: `search()`, the ranked ids of the matching articles;
* `search.highlighting`: titles and snippets with the query's terms marked;
* `search.views` and `search.urls`: the ``/search/`` page;
* `search.handlers`: the receivers that keep the index in step with articles;
* `search.checks`: a system check that warns when SQLite lacks FTS5.

The index tables and their migrations belong to the ``articles`` app (it owns
the models); this app owns the code that writes and reads them.

This file imports nothing on purpose: importing `search.tokens` must not pull
in the ORM through the package.
"""
