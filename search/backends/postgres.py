"""The PostgreSQL backend: ``articles_searchdocument`` ranked by ts_rank_cd().

Per article (article_id): title, the title's tsvector; document, title at
weight A and body at weight D, with a GIN index. The tsvectors are written as
tsvector literals, not with to_tsvector(): the server's text parser and locale
never see the text. See `PostgresBackend` for how common words stay fast. The
table is created by migrations (0003_search_index, 0005_search_published_at,
0017_postgres_read_indexes).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from django.db import transaction

from search.tokens import DocumentRow, Term

from .base import scope_sql

if TYPE_CHECKING:
    from django.db.models import QuerySet

# On PostgreSQL, at most this many candidates (or `limit`, if larger) are read
# and ranked; see PostgresBackend.
POSTGRES_RANKED_CANDIDATES = 1000
# When at least this share of the newest POSTGRES_DENSITY_SAMPLE indexed
# articles match a query, PostgreSQL finds the candidates by walking the
# articles newest first instead of sorting every match (see PostgresBackend):
# reading a document costs ~15 µs, visiting a match found by the GIN index
# ~0.7 µs, so the walk wins only where most articles match.
POSTGRES_WALK_MIN_DENSITY = 0.4
POSTGRES_DENSITY_SAMPLE = 100

POSTGRES_TABLE = "articles_searchdocument"


# tsvector positions stop at 16383 and keep at most 256 per lexeme; we apply
# the limits ourselves so the literal stays small.
_PG_MAX_POSITION = 16383
_PG_MAX_POSITIONS_PER_LEXEME = 256


def _pg_quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _positions(tokens: Sequence[str], first: int) -> dict[str, list[int]]:
    """Each token's positions, numbered from `first`, as PostgreSQL would store them."""
    found: dict[str, list[int]] = {}
    room = _PG_MAX_POSITION - first + 1
    for position, token in enumerate(tokens[:room] if len(tokens) > room else tokens, first):
        positions = found.get(token)
        if positions is None:
            found[token] = [position]
        else:
            positions.append(position)
    for token in tokens[room:]:  # PostgreSQL piles positions past the limit onto it
        positions = found.setdefault(token, [])
        if not positions or positions[-1] != _PG_MAX_POSITION:
            positions.append(_PG_MAX_POSITION)
    return found


def tsvector_literal(title_tokens: Sequence[str], body_tokens: Sequence[str]) -> str:
    """A tsvector in its text form: title tokens at weight A, then the body's at D.

    Written directly, so the server's parser (and its locale's idea of which
    characters are letters) never re-tokenises our tokens. Tokens are letters
    and digits only, so they need no escaping inside the quotes. A gap of one
    position keeps a phrase from spanning the title and the body.
    """
    limit = _PG_MAX_POSITIONS_PER_LEXEME
    title = _positions(title_tokens, 1)
    body = _positions(body_tokens, len(title_tokens) + 2)
    entries = []
    for token, positions in title.items():
        labels = [f"{p}A" for p in positions]
        labels += map(str, body.pop(token, ()))
        entries.append(f"'{token}':{','.join(labels[:limit])}")
    for token, positions in body.items():
        if len(positions) > limit:
            del positions[limit:]
        entries.append(f"'{token}':{','.join(map(str, positions))}")
    return " ".join(entries)


def tsquery_literal(terms: list[Term], phrases: bool = True) -> str:
    """A tsquery in its text form: phrases (<->) joined by AND (&).

    With `phrases=False` every token is simply ANDed: a GIN index answers that
    exactly, without reading any document; the phrase form needs each
    candidate's positions, so PostgreSQL rechecks it against the tsvector.
    """
    parts = []
    for term in terms:
        quoted = [_pg_quote(token) for token in term.tokens]
        if term.prefix:
            quoted[-1] += ":*"
        parts.append("(" + (" <-> " if phrases else " & ").join(quoted) + ")")
    return " & ".join(parts)


# Newest first, as the (published_at, article_id) index of the search table (0017) reads it.
_PG_NEWEST = "d.published_at DESC NULLS LAST, d.article_id DESC"


@dataclass(frozen=True)
class _Walk:
    """A common query's candidates on PostgreSQL, found without sorting every match:
    the newest title matches, and how far back to walk for the others
    (None: no limit, the table is smaller than the window)."""

    titles: list[int]
    since: dt.datetime | None


class PostgresBackend:
    """Per article: the title's tsvector, the whole document's (title at weight
    A, body at D) with a GIN index, and the publication time.

    Reading a document's tsvector (TOASTed, about 13 KB for a typical article)
    costs some 10 µs: ranking all 40,000 matches of a common word with
    ts_rank_cd took a second at 50,000 articles. So the GIN index alone finds
    the candidates (every token ANDed, which it answers without reading a
    document), they are ordered by what is inline in the row (a match in the
    small title vector first, then the newest) and cut to the best
    POSTGRES_RANKED_CANDIDATES (or `limit`); only those are read, checked for
    the exact phrase and ranked. Queries with fewer matches are ranked in full.

    The cut is first made before the queryset is applied, which costs nothing
    for published(); when that leaves too few (a narrow queryset), the
    queryset is applied first and the cut made after.

    A word in most articles (证券, 券商 at 100,000 articles: 85-97% of them)
    has so many matches that visiting each to sort them took 50-100 ms. For
    such a word the same candidates are found without visiting every match:
    the newest title matches (the small `title` vector, with a GIN index of
    its own), then, if they leave room, the newest other matches, by walking
    the `(published_at, article_id)` index and testing each document until
    enough match (which stops soon when most do). Whether a word is that
    common is measured on the newest POSTGRES_DENSITY_SAMPLE articles, which
    is exactly what the walk will read. The candidates, and so the results,
    are the same either way.
    """

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None:
        values = []
        for pk, (title, body), published_at in docs:
            title_tokens, body_tokens = title.split(), body.split()
            values.append(
                (pk, tsvector_literal(title_tokens, ()), tsvector_literal(title_tokens, body_tokens), published_at)
            )
        cursor.executemany(
            f"INSERT INTO {POSTGRES_TABLE} (article_id, title, document, published_at) "
            "VALUES (%s, %s::tsvector, %s::tsvector, %s) ON CONFLICT (article_id) DO UPDATE "
            "SET title = EXCLUDED.title, document = EXCLUDED.document, published_at = EXCLUDED.published_at",
            values,
        )

    def delete(self, cursor, ids: Sequence[int]) -> None:
        if ids:
            cursor.execute(f"DELETE FROM {POSTGRES_TABLE} WHERE article_id = ANY(%s)", [list(ids)])

    def clear(self, cursor) -> None:
        cursor.execute(f"TRUNCATE {POSTGRES_TABLE}")

    def optimize(self, cursor) -> None:
        """Fresh statistics, so the planner knows how selective the GIN index is."""
        cursor.execute(f"ANALYZE {POSTGRES_TABLE}")

    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]:
        scope = scope_sql(queryset, cursor.db)
        cut = max(limit, POSTGRES_RANKED_CANDIDATES)
        shortlist = cut + cut // 4  # room for drafts and near-miss phrases
        with transaction.atomic(using=cursor.db.alias), _no_seqscan(cursor):
            rows = None
            walk = self._walk_if_common(cursor, terms, shortlist)
            if walk is not None:
                rows = self._run(cursor, terms, scope, shortlist, limit, scope_first=False, walk=walk)
                if rows and rows[0][1] < shortlist:
                    rows = None  # the walk's window had too few matches: sort them all instead
            if rows is None:
                rows = self._run(cursor, terms, scope, shortlist, limit, scope_first=False)
            seen = rows[0][1] if rows else shortlist
            if len(rows) < limit and seen == shortlist:
                rows = self._run(cursor, terms, scope, cut, limit, scope_first=True)
        return [row[0] for row in rows]

    @staticmethod
    def _walk_if_common(cursor, terms: list[Term], n: int) -> _Walk | None:
        """Where to find the first `n` candidates without sorting every match,
        if the query matches most articles (see the class docstring); else None."""
        exact, loose = tsquery_literal(terms), tsquery_literal(terms, phrases=False)
        # As dense as the sample, the walk finds its `n` within this many articles.
        window = math.ceil(n / POSTGRES_WALK_MIN_DENSITY) if POSTGRES_WALK_MIN_DENSITY > 0 else sys.maxsize
        # Only if the sample says the query is common are the title matches and
        # the window's end looked for (a subquery runs when first needed).
        cursor.execute(
            "SELECT CASE WHEN common THEN"
            f" ARRAY(SELECT d.article_id FROM {POSTGRES_TABLE} AS d WHERE d.title @@ %s::tsquery"
            f" ORDER BY {_PG_NEWEST} LIMIT %s) END,"
            " CASE WHEN common THEN"
            f" (SELECT d.published_at FROM {POSTGRES_TABLE} AS d ORDER BY {_PG_NEWEST} OFFSET %s LIMIT 1) END "
            "FROM (SELECT count(*) > 0 AND count(*) FILTER (WHERE newest.hit) >= %s * count(*) AS common"
            f" FROM (SELECT d.document @@ %s::tsquery AS hit FROM {POSTGRES_TABLE} AS d"
            f" ORDER BY {_PG_NEWEST} LIMIT %s) AS newest) AS sample",
            (exact, n, window - 1, POSTGRES_WALK_MIN_DENSITY, loose, POSTGRES_DENSITY_SAMPLE),
        )
        titles, since = cursor.fetchone()
        if titles is None:
            return None
        # No window's end when there are fewer articles than it: the walk may read them all.
        return _Walk(titles, since)

    @staticmethod
    def _run(
        cursor, terms: list[Term], scope: tuple[str, tuple], cut: int, limit: int, *, scope_first: bool,
        walk: _Walk | None = None,
    ) -> list[tuple[int, int]]:
        """(article id, number of candidates) for the best `limit` matches among `cut` candidates.

        The candidates are the first `cut` matches by (title match, newest).
        With `walk` (only before the scope), the title matches are given and
        the rest are found by walking the articles newest first, back to
        `walk.since` at most; the walk reads only as many documents as it
        passes.
        """
        scope_sql, scope_params = scope
        exact, loose = tsquery_literal(terms), tsquery_literal(terms, phrases=False)
        # Without phrases the GIN match was exact already: no need to read the document for it.
        phrase_check = "d.document @@ %s::tsquery" if exact != loose else "TRUE"
        in_scope = f"d.article_id IN ({scope_sql})"
        # After the cut, each candidate is looked up in the scope by key. As an
        # IN, the planner may instead read the whole scope into a hash (all
        # 99,000 published ids, 25-95 ms, once an index covers them); OFFSET 0
        # keeps the EXISTS a per-row lookup.
        each_in_scope = (
            f"EXISTS (SELECT 1 FROM ({scope_sql}) AS scope WHERE scope.search_scope_id = d.article_id OFFSET 0)"
        )
        if walk is None:
            candidates = (
                f" SELECT d.article_id FROM {POSTGRES_TABLE} AS d"
                f" WHERE d.document @@ %s::tsquery AND {in_scope if scope_first else 'TRUE'}"
                f" ORDER BY d.title @@ %s::tsquery DESC, {_PG_NEWEST} LIMIT %s"
            )
            candidate_params = (loose, *(scope_params if scope_first else ()), exact, cut)
        else:
            # The title test first: it is inline in the row, the document is not.
            window = "d.published_at >= %s AND" if walk.since is not None else ""
            candidates = (
                f" SELECT article_id FROM unnest(%s::bigint[]) AS titles (article_id) UNION ALL"
                f" (SELECT d.article_id FROM {POSTGRES_TABLE} AS d"
                f" WHERE {window} NOT d.title @@ %s::tsquery AND d.document @@ %s::tsquery"
                f" ORDER BY {_PG_NEWEST} LIMIT %s)"
            )
            candidate_params = (walk.titles[:cut], *(() if walk.since is None else (walk.since,)), exact, loose,
                                max(0, cut - len(walk.titles)))
        cursor.execute(
            f"WITH candidates AS MATERIALIZED ({candidates}), "
            # OFFSET 0 keeps the phrase check here, on the candidates only:
            # pushed down, the planner rechecks every GIN match instead.
            "ranked AS ("
            f" SELECT d.article_id, {phrase_check} AS exact,"
            # Weights {D, C, B, A}: the title (A) counts ten times the body (D).
            " ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', d.document, %s::tsquery) AS rank"
            f" FROM candidates AS c JOIN {POSTGRES_TABLE} AS d ON d.article_id = c.article_id"
            f" WHERE {'TRUE' if scope_first else each_in_scope} OFFSET 0) "
            "SELECT article_id, (SELECT count(*) FROM candidates) FROM ranked WHERE exact "
            "ORDER BY rank DESC, article_id DESC LIMIT %s",
            (
                *candidate_params,
                *((exact,) if exact != loose else ()), exact, *(() if scope_first else scope_params), limit,
            ),
        )
        return cursor.fetchall()


@contextmanager
def _no_seqscan(cursor) -> Iterator[None]:
    """Make the planner use the GIN index for the next statements in this transaction.

    Its cost model does not count reading TOASTed tsvectors, so for a common
    word it picks a sequential scan that reads every document (ten times
    slower). `enable_seqscan` only penalises a sequential scan; a query with no
    other way still runs. The previous value is put back, since SET LOCAL would
    otherwise last until the end of a caller's enclosing transaction.
    """
    cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
    previous = cursor.fetchone()[0]
    yield
    cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])
