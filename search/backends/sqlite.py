"""The SQLite backend: an FTS5 table ``articles_search`` ranked by bm25().

rowid = article id; columns title and body hold the space-separated tokens of
`search.tokens`; the ``ascii`` tokenizer keeps every non-ASCII token exactly as
we wrote it. The title is weighted 10× against the body. The table is created
by migrations (0003_search_index, 0013_search_hashsize, 0014_search_automerge).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Sequence

from search.tokens import DocumentRow, Term

from .base import placeholders, scope_sql

if TYPE_CHECKING:
    from django.db.models import QuerySet

TITLE_WEIGHT = 10.0  # bm25 weight of the title against the body (1.0)
# Up to this many full-text matches, SQLite looks each up in the queryset;
# beyond it, gathering the queryset's ids once is cheaper (measured at 50,000
# articles: about 2 µs per lookup against 20 ms to gather them all).
SQLITE_JOIN_LIMIT = 10_000
# Above this many full-text matches, SQLite ranks only candidates: the newest
# SQLITE_RANKED_CANDIDATES matches (or 2 × `limit`, if larger) and as many of
# the newest title matches; see SQLiteBackend.search. bm25 costs ~1.5 µs a
# match: ranking all 97,000 matches of 证券 at 100,000 articles took 150 ms.
SQLITE_RANK_ALL_LIMIT = 20_000
SQLITE_RANKED_CANDIDATES = 2000

SQLITE_TABLE = "articles_search"
# FTS5 settings stored in the index (migrations 0013_search_hashsize and
# 0014_search_automerge): new entries are buffered up to 32 MB before a
# segment is written, so a large import batch becomes one segment instead of
# a dozen to merge, and segments are merged 16 at a time, not 4.
SQLITE_SETTINGS = {"hashsize": 32 * 1024 * 1024, "automerge": 16}


class SQLiteBackend:
    """FTS5; the tokens are stored space-separated and split by the `ascii` tokenizer."""

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None:
        # FTS5 has no upsert: delete, then insert.
        self.delete(cursor, [doc[0] for doc in docs])
        values = [(pk, title, body) for pk, (title, body), _published_at in docs]
        cursor.executemany(f"INSERT INTO {SQLITE_TABLE} (rowid, title, body) VALUES (%s, %s, %s)", values)

    def delete(self, cursor, ids: Sequence[int]) -> None:
        if ids:
            cursor.execute(f"DELETE FROM {SQLITE_TABLE} WHERE rowid IN ({placeholders(len(ids))})", list(ids))

    def clear(self, cursor) -> None:
        # DELETE FROM an FTS5 table removes rows one by one and leaves delete
        # markers in the index (16 s at 50,000 articles); dropping and
        # recreating it, from its own definition, is instant and leaves it clean.
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [SQLITE_TABLE])
        (definition,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {SQLITE_TABLE}")
        cursor.execute(definition)
        for name, value in SQLITE_SETTINGS.items():  # they lived in the dropped table
            cursor.execute(f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}, rank) VALUES (%s, %s)", [name, value])

    def optimize(self, cursor) -> None:
        """Merge the index into one b-tree: fewer segments to read per query."""
        cursor.execute(f"INSERT INTO {SQLITE_TABLE} ({SQLITE_TABLE}) VALUES ('optimize')")

    @staticmethod
    def match_expression(terms: list[Term]) -> str:
        """An FTS5 query: each term a quoted phrase, so nothing the user typed is syntax."""
        phrases = []
        for term in terms:
            quoted = '"' + " ".join(term.tokens).replace('"', '""') + '"'
            phrases.append(quoted + (" *" if term.prefix else ""))
        return " AND ".join(phrases)

    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]:
        scope = scope_sql(queryset, cursor.db)
        match = self.match_expression(terms)
        # First rank the matches alone and keep the scope's among the best
        # 2 × limit: one primary-key lookup each. That settles it when the
        # scope lets most through (published() does) or when there are fewer
        # matches than that; otherwise filter by the scope before ranking.
        shortlist = 2 * limit
        candidates = None
        if self._matches_more_than(cursor, match, SQLITE_RANK_ALL_LIMIT):
            candidates = self._candidates(cursor, match, max(shortlist, SQLITE_RANKED_CANDIDATES))
        ids, complete = self._ranked_then_scoped(cursor, match, scope, shortlist, limit, candidates)
        if complete or len(ids) == limit:
            return ids
        return self._scoped_then_ranked(cursor, match, scope, limit)

    @staticmethod
    def _candidates(cursor, match: str, cut: int) -> list[int]:
        """The newest `cut` title matches and the newest `cut` matches: what a very common query ranks.

        Like the PostgreSQL backend's cut: a word in most articles says little
        about any one of them (its bm25 weight is next to nothing), so the
        newest matches are the useful ones, and a title match is kept even
        when it is older. "Newest" is the highest article id (FTS5 reads its
        rowids in either order without sorting): creation order, which is
        publication order for the importer's archive and for new stories.
        Each query stops after `cut` rows: ~1 ms at 100,000 articles.
        """
        table = SQLITE_TABLE
        ids: dict[int, None] = {}
        for expression in (f"{{title}} : ({match})", match):
            cursor.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH %s ORDER BY rowid DESC LIMIT %s", (expression, cut)
            )
            ids.update(dict.fromkeys(row[0] for row in cursor.fetchall()))
        return sorted(ids)

    def _ranked_then_scoped(
        self, cursor, match: str, scope: tuple[str, tuple], shortlist: int, limit: int,
        candidates: list[int] | None = None,
    ) -> tuple[list[int], bool]:
        """The scope's ids among the best `shortlist` matches (of `candidates`,
        if given), and whether that was every one of them."""
        scope_sql, scope_params = scope
        table = SQLITE_TABLE
        among, among_params = "", ()
        if candidates is not None:
            # The range lets FTS5 skip the older matches; the unary + keeps the
            # IN out of FTS5, which would rerun the query once per id (14 s).
            among = " AND rowid >= %s AND +rowid IN (SELECT value FROM json_each(%s))"
            among_params = (candidates[0] if candidates else 0, json.dumps(candidates))
        cursor.execute(
            # The LIMIT keeps SQLite from flattening the ranked subquery into the
            # outer query: the top of the ranking is taken first, then each id
            # looked up (EXISTS, not a join: a queryset with joins may repeat ids).
            f"SELECT hits.id, EXISTS (SELECT 1 FROM ({scope_sql}) AS scope WHERE scope.search_scope_id = hits.id) "
            f"FROM (SELECT rowid AS id, bm25({table}, {TITLE_WEIGHT}, 1.0) AS rank FROM {table}"
            f" WHERE {table} MATCH %s{among} ORDER BY rank, rowid DESC LIMIT %s) AS hits "
            "ORDER BY hits.rank, hits.id DESC",
            (*scope_params, match, *among_params, shortlist),
        )
        rows = cursor.fetchall()
        return [pk for pk, in_scope in rows if in_scope][:limit], len(rows) < shortlist

    def _scoped_then_ranked(self, cursor, match: str, scope: tuple[str, tuple], limit: int) -> list[int]:
        """Every match in the scope, ranked: for a scope that excludes most matches."""
        scope_sql, scope_params = scope
        table = SQLITE_TABLE
        if self._matches_more_than(cursor, match, SQLITE_JOIN_LIMIT):
            # Many matches: gather the scope's ids once (an index-only scan of
            # article_status_published_idx for published()) and test each match
            # against them. The unary + keeps SQLite from pushing the IN into
            # FTS5, which would rerun the full-text query once per id.
            sql = (
                f"SELECT rowid FROM {table} WHERE {table} MATCH %s AND +rowid IN ({scope_sql}) "
                f"ORDER BY bm25({table}, {TITLE_WEIGHT}, 1.0), rowid DESC LIMIT %s"
            )
            params = (match, *scope_params, limit)
        else:
            # Few matches: look each one up in the scope by primary key.
            sql = (
                f"SELECT rowid FROM {table} WHERE {table} MATCH %s AND EXISTS ("
                f"SELECT 1 FROM ({scope_sql}) AS scope WHERE scope.search_scope_id = {table}.rowid) "
                f"ORDER BY bm25({table}, {TITLE_WEIGHT}, 1.0), rowid DESC LIMIT %s"
            )
            params = (match, *scope_params, limit)
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _matches_more_than(cursor, match: str, n: int) -> bool:
        """Whether the query matches more than `n` rows; stops counting at n + 1."""
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s LIMIT %s)",
            (match, n + 1),
        )
        return cursor.fetchone()[0] > n
