"""The search index's tokens, from text and from queries: pure Python, no database.

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

This module imports neither the ORM nor any model: the importer's worker
processes (the "pure" stage) tokenise bodies with it, and must not set Django's
database layer up to do so. `import-linter` keeps it that way (pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from articles.sanitize import html_to_text

MAX_QUERY_CHARS = 100
# Longer "words" (hashes, base64 in a body) are cut: nobody types them, and a
# PostgreSQL lexeme must stay under 2 KB.
MAX_WORD_CHARS = 64
# Bodies beyond this are not indexed further: it keeps a pathological 5 MB
# import under PostgreSQL's 1 MB tsvector limit; real articles are far shorter.
MAX_INDEXED_CHARS = 100_000


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
RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
WORD_CHAR = f"[^\\W_{_CJK}]"


class _CharNormalizer(dict):
    """A str.translate table: each character to its NFKC, lower-cased form, computed once."""

    def __missing__(self, codepoint: int) -> str:
        self[codepoint] = normalized = unicodedata.normalize("NFKC", chr(codepoint)).lower()
        return normalized


char_normalizer = _CharNormalizer()


def normalize(text: str) -> str:
    """NFKC and lower case, character by character: how documents and queries are compared.

    Character by character (through a cached translate table) is twice as fast
    as NFKC on the whole text, which Chinese text almost never passes
    unchanged (full-width punctuation), and keeps the result aligned with the
    text for highlighting. It differs from whole-text NFKC only for combining
    sequences (a letter followed by a separate accent).
    """
    return text.translate(char_normalizer)


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
    f"(?=([{_CJK}][{_CJK}]?|{WORD_CHAR}{{1,{MAX_WORD_CHARS}}}))(?:[{_CJK}]|{WORD_CHAR}+)"
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
        normalized = char_normalizer[cp]
        if normalized != char and (token_char.match(char) or token_char.search(normalized)):
            changing.append(cp)
    # Beyond the BMP, every character is taken (normalising one that needs
    # no change is harmless): the regex engine tests a BMP class with one
    # table lookup, but astral code points one range after another.
    return re.compile(f"[{_char_class(changing)}{re.escape(chr(_FIRST_ASTRAL))}-{re.escape(chr(sys.maxunicode))}]+")


def _normalize_run(match: re.Match[str]) -> str:
    return match.group().translate(char_normalizer)


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

    return BigramTokenizer(f"[{_CJK}]+", f"{WORD_CHAR}+", MAX_WORD_CHARS)


def document_text(text: str) -> str:
    """`document_tokens(text)` joined by spaces: the form the index stores.

    Long texts (article bodies) go through numpy (search.bigrams), three
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
        runs = RUN.findall(chunk)
        if runs:
            terms.append(_term(runs))
    return list(dict.fromkeys(terms))  # a repeated term adds nothing


# --- What the index is built from --------------------------------------------

# (article id, title, sanitised body HTML, publication time): what the index is built from.
Row = tuple[int, str, str, dt.datetime]
ROW_FIELDS = ("pk", "title", "body", "published_at")


# (title tokens, body tokens), each space-separated in one string: a string
# crosses from a worker process far more cheaply than thousands of them.
Document = tuple[str, str]
DocumentRow = tuple[int, Document, dt.datetime]  # (article id, document, published_at)


def document_of_html(title: str, body_html: str) -> Document:
    """The tokens to index for an article.

    Pure CPU and no database, so the importer can run it in a worker process
    alongside parsing and sanitising.
    """
    return document_of_text(title, html_to_text(body_html))


def document_of_text(title: str, body_text: str) -> Document:
    """`document_of_html` for a body whose `html_to_text` is already known."""
    return document_text(title), document_text(body_text[:MAX_INDEXED_CHARS])
