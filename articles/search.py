"""Ranked full-text search over article titles and bodies that works for Chinese.

Chinese has no spaces between words, and FTS5's trigram tokenizer cannot match
the two-character words readers type most (券商, 腾讯). So we tokenise the text
ourselves and hand the database ready-made tokens:

* a run of CJK characters becomes its overlapping bigrams plus its last
  character on its own: 火山引擎 → 火山 山引 引擎 擎. The lone last character
  makes every character the *first* character of some token, so a
  one-character query is a prefix query (擎*) that finds every occurrence;
* any other run of letters or digits is one lower-cased word (TikTok → tiktok);
* everything is NFKC-normalised first, character by character (full-width
  ＡＢＣ１２３ → abc123).

A query is tokenised the same way, each white-space separated term becomes a
phrase (adjacent tokens), and all terms must match. Bigrams at consecutive
positions give exact-substring semantics for CJK: 火山引擎 does not match an
article that only mentions 火山 and 引擎 apart.

The index lives where the database is:

* SQLite: an FTS5 table ``articles_search`` (rowid = article id; columns
  title and body hold the space-separated tokens; the ``ascii`` tokenizer
  keeps every non-ASCII token exactly as we wrote it), ranked by bm25() with
  the title weighted 10×;
* PostgreSQL: ``articles_searchdocument`` (article_id; title, the title's
  tsvector; document, title at weight A and body at weight D) with a GIN index
  on document, ranked by ts_rank_cd(). The tsvectors are written as tsvector
  literals, not with to_tsvector(): the server's text parser and locale never
  see the text. See `_PostgresBackend` for how common words stay fast.

Both are created by migrations (0003_search_index, 0005_search_published_at,
0017_postgres_read_indexes), and filled by a post_migrate hook when they are
empty. Drafts and scheduled articles are indexed too; `search` only returns
ids from the queryset it is given, by default ``Article.objects.published()``.
The index is kept in sync by ``articles.signals`` (save/delete) and by the
importer's bulk path (``articles.load``); ``manage.py rebuild_search_index``
rebuilds it, which is only needed after titles or bodies were changed behind
Django's back (raw SQL, ``QuerySet.update()``).

Typical use in a view::

    ids = search.search(q)                         # ranked ids, best first
    page = Paginator(ids, 20).get_page(n)
    articles = Article.objects.in_bulk(page.object_list)
    results = [articles[i] for i in page.object_list if i in articles]
    snippet = search.highlight(html_to_text(article.body), q, max_chars=120)

A results page uses `with_snippet_source` and `snippet` instead, which read only
the start of each body (see SNIPPET_SOURCE_CHARS).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import html
import json
import math
import operator
import re
import sys
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Protocol, Sequence

from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.functions import Substr
from django.utils.safestring import SafeString, mark_safe

from .iterables import batched
from .models import Article
from .sanitize import html_to_text

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet

MAX_QUERY_CHARS = 100
# Longer "words" (hashes, base64 in a body) are cut: nobody types them, and a
# PostgreSQL lexeme must stay under 2 KB.
MAX_WORD_CHARS = 64
# Bodies beyond this are not indexed further: it keeps a pathological 5 MB
# import under PostgreSQL's 1 MB tsvector limit; real articles are far shorter.
MAX_INDEXED_CHARS = 100_000
BATCH_SIZE = 500
TITLE_WEIGHT = 10.0  # bm25 weight of the title against the body (1.0)
# Up to this many full-text matches, SQLite looks each up in the queryset;
# beyond it, gathering the queryset's ids once is cheaper (measured at 50,000
# articles: about 2 µs per lookup against 20 ms to gather them all).
SQLITE_JOIN_LIMIT = 10_000
# Above this many full-text matches, SQLite ranks only candidates: the newest
# SQLITE_RANKED_CANDIDATES matches (or 2 × `limit`, if larger) and as many of
# the newest title matches; see _SQLiteBackend.search. bm25 costs ~1.5 µs a
# match: ranking all 97,000 matches of 证券 at 100,000 articles took 150 ms.
SQLITE_RANK_ALL_LIMIT = 20_000
SQLITE_RANKED_CANDIDATES = 2000
# On PostgreSQL, at most this many candidates (or `limit`, if larger) are read
# and ranked; see _PostgresBackend.
POSTGRES_RANKED_CANDIDATES = 1000
# When at least this share of the newest POSTGRES_DENSITY_SAMPLE indexed
# articles match a query, PostgreSQL finds the candidates by walking the
# articles newest first instead of sorting every match (see _PostgresBackend):
# reading a document costs ~15 µs, visiting a match found by the GIN index
# ~0.7 µs, so the walk wins only where most articles match.
POSTGRES_WALK_MIN_DENSITY = 0.4
POSTGRES_DENSITY_SAMPLE = 100

# A search result's snippet is cut from the first this-many characters of its
# body's HTML, taken in the database (SUBSTR, on SQLite and PostgreSQL alike):
# a 5 MB body then costs a results page what a normal one does, where
# converting and highlighting whole bodies made twenty of them cost seconds.
# Real articles are far shorter (the longest of the real corpus has ~6,000
# characters), so for them the snippet is the same; a hit further into a huge
# body shows the body's start, unmarked. A window around the first hit would
# need the whole body scanned, and FTS5's snippet() only sees our tokens.
SNIPPET_SOURCE_CHARS = 20_000

SQLITE_TABLE = "articles_search"
# FTS5 settings stored in the index (migrations 0013_search_hashsize and
# 0014_search_automerge): new entries are buffered up to 32 MB before a
# segment is written, so a large import batch becomes one segment instead of
# a dozen to merge, and segments are merged 16 at a time, not 4.
SQLITE_SETTINGS = {"hashsize": 32 * 1024 * 1024, "automerge": 16}
POSTGRES_TABLE = "articles_searchdocument"


# --- Tokenising ----------------------------------------------------------------

# Scripts written without spaces between words: Han (with its extensions and
# compatibility ideographs), kana, Hangul, Bopomofo and the iteration marks.
_CJK_MIXED_BLOCKS = (
    (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303C),
    (0x3040, 0x30FF), (0x3100, 0x312F), (0x3130, 0x318F), (0x31A0, 0x31BF),
    (0x31F0, 0x31FF), (0xA960, 0xA97F), (0xF900, 0xFAFF),
)
# Blocks of nothing but ideographs and syllables (and unassigned code points,
# harmless to include): taken whole, which keeps the module quick to import.
_CJK_WHOLE_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x20000, 0x3FFFF))


def _char_class(codepoints: Iterable[int]) -> str:
    """A regex class body matching exactly these code points (ascending), as ranges."""
    spans: list[list[int]] = []
    for cp in codepoints:
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in spans)


def _cjk_class() -> str:
    """A regex class body of the CJK code points that are letters or digits.

    Filtering by isalnum() keeps punctuation inside the blocks (・, ゠) out, so
    the CJK class and the word class together are exactly the token characters.
    """
    mixed = (cp for low, high in _CJK_MIXED_BLOCKS for cp in range(low, high + 1) if chr(cp).isalnum())
    whole = "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _CJK_WHOLE_BLOCKS)
    return whole + _char_class(mixed)


_CJK = _cjk_class()
# A run of CJK characters, or a run of other letters and digits. `[^\W_]` is
# "letter or digit" (str.isalnum); everything else separates tokens.
_RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
_WORD_CHAR = f"[^\\W_{_CJK}]"


class _CharNormalizer(dict):
    """A str.translate table: each character to its NFKC, lower-cased form, computed once."""

    def __missing__(self, codepoint: int) -> str:
        self[codepoint] = normalized = unicodedata.normalize("NFKC", chr(codepoint)).lower()
        return normalized


_char_normalizer = _CharNormalizer()


def normalize(text: str) -> str:
    """NFKC and lower case, character by character: how documents and queries are compared.

    Character by character (through a cached translate table) is twice as fast
    as NFKC on the whole text, which Chinese text almost never passes
    unchanged (full-width punctuation), and keeps the result aligned with the
    text for highlighting. It differs from whole-text NFKC only for combining
    sequences (a letter followed by a separate accent).
    """
    return text.translate(_char_normalizer)


def _cjk_tokens(run: str) -> list[str]:
    # Bigrams, then the last character alone (see the module docstring).
    tokens = list(map(operator.add, run, run[1:]))
    tokens.append(run[-1])
    return tokens


# Indexing tokenises some 2,000 characters an article, so it avoids Python
# loops over runs and characters: one regex finds every token (below), and
# normalisation touches only the characters where it can change a token.

# One match per token: at each CJK character, the lookahead captures it with
# the next one if that is CJK too (a bigram) or alone (the last character of
# its run); at a word, its first MAX_WORD_CHARS characters, and the match
# consumes the whole word.
_TOKEN = re.compile(
    f"(?=([{_CJK}][{_CJK}]?|{_WORD_CHAR}{{1,{MAX_WORD_CHARS}}}))(?:[{_CJK}]|{_WORD_CHAR}+)"
)


_FIRST_ASTRAL = 0x10000


@functools.cache
def _token_changing_runs() -> re.Pattern[str]:
    """Runs of the characters whose normalisation can change a document's tokens.

    That is a character `normalize` changes that is, or becomes, a letter or
    digit (Ａ, Ｔ, ①, ㎏, 﨑). Full-width punctuation — a few in every Chinese
    sentence — is a separator before and after, so it is left alone: the
    tokens come out the same (no character normalises to nothing, so a
    separator never disappears between two runs). Built on first use (some
    20 ms over the BMP), not at import.
    """
    token_char = re.compile(f"[{_CJK}]|[^\\W_]")
    changing = []
    for cp in range(_FIRST_ASTRAL):
        char = chr(cp)
        if not unicodedata.decomposition(char) and char.lower() == char:
            continue  # NFKC leaves a character without a decomposition as it is
        normalized = _char_normalizer[cp]
        if normalized != char and (token_char.match(char) or token_char.search(normalized)):
            changing.append(cp)
    # Beyond the BMP, every character is taken (normalising one that needs
    # no change is harmless): the regex engine tests a BMP class with one
    # table lookup, but astral code points one range after another.
    return re.compile(f"[{_char_class(changing)}{re.escape(chr(_FIRST_ASTRAL))}-{re.escape(chr(sys.maxunicode))}]+")


def _normalize_run(match: re.Match[str]) -> str:
    return match.group().translate(_char_normalizer)


def document_tokens(text: str) -> list[str]:
    """The tokens stored in the index for `text` (plain text, not HTML).

    The same as tokenising `normalize(text)`, about three times faster.
    """
    return _TOKEN.findall(_token_changing_runs().sub(_normalize_run, text))


# From this length on, numpy cuts a text into tokens faster than the regex.
VECTORISED_MIN_CHARS = 300


@functools.cache
def _vectorised_tokenizer():
    from .bigrams import BigramTokenizer  # numpy: loaded by the importer's workers, not by every page

    return BigramTokenizer(f"[{_CJK}]+", f"{_WORD_CHAR}+", MAX_WORD_CHARS)


def document_text(text: str) -> str:
    """`document_tokens(text)` joined by spaces: the form the index stores.

    Long texts (article bodies) go through numpy (articles.bigrams), three
    times faster than the regex for the same string.
    """
    text = _token_changing_runs().sub(_normalize_run, text)
    if len(text) >= VECTORISED_MIN_CHARS:
        try:
            return _vectorised_tokenizer()(text)
        except UnicodeEncodeError:
            pass  # a lone surrogate: the regex copes
    return " ".join(_TOKEN.findall(text))


@dataclass(frozen=True)
class Term:
    """One white-space separated query term: a phrase of adjacent tokens.

    `prefix` marks the last token as a prefix: a term ending in a single CJK
    character must match the first character of a longer run (A股 in A股票).
    """

    tokens: tuple[str, ...]
    prefix: bool


def _term(runs: Sequence[tuple[str, str]]) -> Term:
    """A query term from its runs (cjk, word), as `document_tokens` would index it.

    Within the term, a CJK run that another run follows must end where the
    text's run ends, so it keeps its lone last character; the term's last run
    may continue in the text, so it has bigrams only (or, if one character
    long, becomes a prefix).
    """
    tokens: list[str] = []
    prefix = False
    for i, (cjk, word) in enumerate(runs):
        last = i == len(runs) - 1
        if not cjk:
            tokens.append(word[:MAX_WORD_CHARS])
        elif len(cjk) == 1:
            tokens.append(cjk)
            prefix = last
        else:
            tokens.extend(_cjk_tokens(cjk) if not last else _cjk_tokens(cjk)[:-1])
    return Term(tuple(tokens), prefix)


def query_terms(query: str) -> list[Term]:
    """The terms of `query`; all must match. Empty if nothing is searchable."""
    terms = []
    for chunk in normalize(query[:MAX_QUERY_CHARS]).split():
        runs = _RUN.findall(chunk)
        if runs:
            terms.append(_term(runs))
    return list(dict.fromkeys(terms))  # a repeated term adds nothing


# --- Backends --------------------------------------------------------------------

# (article id, title, sanitised body HTML, publication time): what the index is built from.
Row = tuple[int, str, str, dt.datetime]
ROW_FIELDS = ("pk", "title", "body", "published_at")


# (title tokens, body tokens), each space-separated in one string: a string
# crosses from a worker process far more cheaply than thousands of them.
Document = tuple[str, str]
DocumentRow = tuple[int, Document, dt.datetime]  # (article id, document, published_at)


def prepare_document(title: str, body_html: str) -> Document:
    """The tokens to index for an article.

    Pure CPU and no database, so the importer can run it in a worker process
    alongside parsing and sanitising.
    """
    return document_of_text(title, html_to_text(body_html))


def document_of_text(title: str, body_text: str) -> Document:
    """`prepare_document` for a body whose `html_to_text` is already known."""
    return document_text(title), document_text(body_text[:MAX_INDEXED_CHARS])


def _documents(rows: Sequence[Row]) -> list[DocumentRow]:
    return [(pk, prepare_document(title, body), published_at) for pk, title, body, published_at in rows]


class _Backend(Protocol):
    def write(self, cursor, docs: Sequence[DocumentRow]) -> None: ...
    def delete(self, cursor, ids: Sequence[int]) -> None: ...
    def clear(self, cursor) -> None: ...
    def optimize(self, cursor) -> None: ...
    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]: ...


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


class _SQLiteBackend:
    """FTS5; the tokens are stored space-separated and split by the `ascii` tokenizer."""

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None:
        # FTS5 has no upsert: delete, then insert.
        self.delete(cursor, [doc[0] for doc in docs])
        values = [(pk, title, body) for pk, (title, body), _published_at in docs]
        cursor.executemany(f"INSERT INTO {SQLITE_TABLE} (rowid, title, body) VALUES (%s, %s, %s)", values)

    def delete(self, cursor, ids: Sequence[int]) -> None:
        if ids:
            cursor.execute(f"DELETE FROM {SQLITE_TABLE} WHERE rowid IN ({_placeholders(len(ids))})", list(ids))

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
        scope = _scope_sql(queryset, cursor.db)
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


class _PostgresBackend:
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
        scope = _scope_sql(queryset, cursor.db)
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


class _UnsupportedBackend:
    """Another database: saves keep working, searching says why it cannot."""

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None:
        pass

    def delete(self, cursor, ids: Sequence[int]) -> None:
        pass

    def clear(self, cursor) -> None:
        pass

    def optimize(self, cursor) -> None:
        pass

    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]:
        from django.db import NotSupportedError

        raise NotSupportedError(f"search needs SQLite (FTS5) or PostgreSQL, not {cursor.db.vendor}")


_BACKENDS: dict[str, _Backend] = {"sqlite": _SQLiteBackend(), "postgresql": _PostgresBackend()}


def backend_for(connection: BaseDatabaseWrapper) -> _Backend:
    """The index implementation for this database connection."""
    return _BACKENDS.get(connection.vendor, _UnsupportedBackend())


# --- Public API ------------------------------------------------------------------


def _write_connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(Article)]


def _chunks(ids: Iterable[int], size: int = BATCH_SIZE) -> Iterator[list[int]]:
    return batched(dict.fromkeys(ids), size)  # each id once


def index_rows(rows: Sequence[Row]) -> None:
    """Index articles already in memory: (id, title, sanitised body HTML, published_at) each."""
    index_documents(_documents(rows))


def index_documents(docs: Sequence[DocumentRow]) -> None:
    """Index articles whose documents were prepared already (`prepare_document`)."""
    if not docs:
        return
    connection = _write_connection()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        backend_for(connection).write(cursor, docs)


def index_articles(ids: Iterable[int]) -> None:
    """Insert or replace the index rows of these articles, reading them in one query per 500.

    Ids of articles that no longer exist are removed from the index.
    """
    connection = _write_connection()
    backend = backend_for(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for chunk in _chunks(ids):
            rows = list(Article._base_manager.using(connection.alias)
                        .filter(pk__in=chunk).values_list(*ROW_FIELDS))
            found = {row[0] for row in rows}
            backend.delete(cursor, [pk for pk in chunk if pk not in found])
            if rows:
                backend.write(cursor, _documents(rows))


def remove_articles(ids: Iterable[int]) -> None:
    """Remove these articles from the index (unknown ids are ignored)."""
    connection = _write_connection()
    backend = backend_for(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for chunk in _chunks(ids):
            backend.delete(cursor, chunk)


def rebuild(using: str | None = None) -> int:
    """Rebuild the whole index from the articles table, in one transaction; returns the count.

    Readers keep seeing the old index until it commits. `using`: a database
    alias (default: where articles are written).
    """
    connection = connections[using] if using else _write_connection()
    backend = backend_for(connection)
    articles = Article._base_manager.using(connection.alias).order_by("pk")
    count = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        backend.clear(cursor)
        last = 0
        while True:  # keyset pages: one batch of bodies in memory at a time
            rows = list(articles.filter(pk__gt=last).values_list(*ROW_FIELDS)[:BATCH_SIZE])
            if not rows:
                break
            backend.write(cursor, _documents(rows))
            count += len(rows)
            last = rows[-1][0]
        backend.optimize(cursor)
    return count


def fill_if_empty(using: str) -> int:
    """Build the index if its table exists and is empty while articles exist.

    Every article is indexed (drafts too), so that state means the index was
    just created by a migration; the post_migrate hook calls this. Returns how
    many articles were indexed.
    """
    connection = connections[using]
    table = {"sqlite": SQLITE_TABLE, "postgresql": POSTGRES_TABLE}.get(connection.vendor)
    with connection.cursor() as cursor:
        if table is None or table not in connection.introspection.table_names(cursor):
            return 0
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        if cursor.fetchone() is not None:
            return 0
    if not Article._base_manager.using(using).exists():
        return 0
    return rebuild(using)


def _scope_sql(queryset: QuerySet, connection: BaseDatabaseWrapper) -> tuple[str, tuple]:
    """The SQL of `queryset`'s ids, as column search_scope_id, compiled for `connection`."""
    if not queryset.query.is_sliced:
        queryset = queryset.order_by()  # an ORDER BY would only slow the subquery down
    # An alias of our own: the subquery's column is then named the same on every backend.
    query = queryset.values(search_scope_id=F("pk")).query
    sql, params = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def search(query: str, queryset: QuerySet | None = None, limit: int = 1000) -> list[int]:
    """Ids of the articles matching `query`, best first, at most `limit`.

    Only ids in `queryset` (default: ``Article.objects.published()``) are
    returned. Every term of the query must occur (as an exact substring for
    Chinese, as whole words otherwise). A blank query, or one with nothing to
    search for, gives []. Only the first 100 characters are used; whatever the
    query contains is treated as text, never as search syntax.
    """
    if not isinstance(query, str) or limit <= 0:
        return []
    terms = query_terms(query)
    if not terms:
        return []
    if queryset is None:
        queryset = Article.objects.published()
    if not issubclass(queryset.model, Article):
        raise TypeError(f"search() needs a queryset of articles, not of {queryset.model.__name__}")
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        return backend_for(connection).search(cursor, terms, queryset, limit)


# --- Highlighting ------------------------------------------------------------------

_SEPARATORS = r"[\W_]"


def _term_pattern(chunk: str) -> str | None:
    """A regex for a query term in normalised text: what the index would match.

    Runs adjacent in the term may be separated by punctuation or space in the
    text when they are of different kinds (A股 / A 股), and must be when they
    are of the same kind (2022-04 / 2022 04). Words match whole words; CJK
    matches anywhere.
    """
    runs = list(_RUN.finditer(chunk))
    if not runs:
        return None
    parts = []
    if runs[0].group(2):
        parts.append(f"(?<!{_WORD_CHAR})")
    for i, run in enumerate(runs):
        if i:
            previous = runs[i - 1]
            same_kind = bool(previous.group(1)) == bool(run.group(1))
            parts.append(f"{_SEPARATORS}+" if same_kind else f"{_SEPARATORS}*")
        parts.append(re.escape(run.group(0)))
    if runs[-1].group(2):
        parts.append(f"(?!{_WORD_CHAR})")
    return "".join(parts)


def _highlight_regex(query: str) -> re.Pattern[str] | None:
    chunks = dict.fromkeys(normalize(query[:MAX_QUERY_CHARS]).split())
    patterns = [p for p in map(_term_pattern, chunks) if p]
    if not patterns:
        return None
    # Longest first, so 火山引擎 wins over 火山 where both match.
    patterns.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _normalized_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """`normalize(text)` and, for each of its characters, the index in `text` it came from.

    None instead of the list when the two line up one to one: the usual case,
    since no character normalises to nothing, so equal lengths mean every
    character became exactly one.
    """
    normalized = normalize(text)
    if len(normalized) == len(text):
        return normalized, None
    offsets = []
    for i, char in enumerate(text):
        offsets.extend([i] * len(_char_normalizer[ord(char)]))
    return normalized, offsets


def _match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where the query's terms occur in `text`: sorted, non-overlapping spans."""
    regex = _highlight_regex(query)
    if regex is None or not text:
        return []
    normalized, offsets = _normalized_with_offsets(text)
    spans = []
    for match in regex.finditer(normalized):
        start, end = match.span()
        if start == end:
            continue
        if offsets is not None:
            start, end = offsets[start], offsets[end - 1] + 1
        if spans and start < spans[-1][1]:
            continue  # overlaps the previous span (a combined character)
        spans.append((start, end))
    return spans


def _window(text: str, spans: list[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    """About `max_chars` characters of `text` around the first match."""
    if len(text) <= max_chars:
        return 0, len(text)
    if not spans:
        return 0, max_chars
    # Some context before the match, most of the window after it.
    start = max(0, min(spans[0][0] - max_chars // 4, len(text) - max_chars))
    return start, start + max_chars


def with_snippet_source(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """`queryset` without the body, with `snippet_source`: its first SNIPPET_SOURCE_CHARS characters."""
    return queryset.defer("body").annotate(snippet_source=Substr("body", 1, SNIPPET_SOURCE_CHARS))


def snippet(snippet_source: str, query: str, max_chars: int) -> SafeString:
    """A result's highlighted excerpt of about `max_chars` characters, from `with_snippet_source`'s text."""
    source = snippet_source or ""
    if len(source) >= SNIPPET_SOURCE_CHARS and source.rfind("<") > source.rfind(">"):
        source = source[: source.rfind("<")]  # a tag cut in half would show as text
    return highlight(html_to_text(source), query, max_chars=max_chars)


def highlight(text: str, query: str, max_chars: int | None = None) -> SafeString:
    """`text`, HTML-escaped, with each occurrence of the query's terms in <mark>.

    With `max_chars`, only a window of that many characters around the first
    match (or the start, if nothing matches), with … where it was cut: a
    search-result snippet. `text` is plain text (a title, or the body through
    ``html_to_text``); all of it is escaped.
    """
    text = text or ""
    spans = _match_spans(text, query or "")
    start, end = 0, len(text)
    if max_chars is not None:
        start, end = _window(text, spans, max(1, max_chars))
    out = ["…" if start > 0 else ""]
    position = start
    first = bisect.bisect_left(spans, (start, -1))
    for span_start, span_end in spans[first:]:
        if span_start >= end:
            break
        span_end = min(span_end, end)
        out.append(html.escape(text[position:span_start]))
        out.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        position = span_end
    out.append(html.escape(text[position:end]))
    out.append("…" if end < len(text) else "")
    return mark_safe("".join(out))
