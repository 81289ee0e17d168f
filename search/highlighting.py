"""Highlighting: a title or a result's snippet with the query's terms in <mark>.

A results page uses `with_snippet_source` and `snippet`, which read only the
start of each body (see SNIPPET_SOURCE_CHARS); `highlight` marks any plain text.
"""

from __future__ import annotations

import bisect
import html
import re
from typing import TYPE_CHECKING

from django.db.models.functions import Substr
from django.utils.safestring import SafeString, mark_safe

from articles.sanitize import html_to_text, strip_repeated_headline

from .tokens import MAX_QUERY_CHARS, RUN, WORD_CHAR, char_normalizer, normalize

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from articles.models import Article

# A search result's snippet is cut from the first this-many characters of its
# body's HTML, taken in the database (SUBSTR, on SQLite and PostgreSQL alike):
# a 5 MB body then costs a results page what a normal one does, where
# converting and highlighting whole bodies made twenty of them cost seconds.
# Real articles are far shorter (the longest of the real corpus has ~6,000
# characters), so for them the snippet is the same; a hit further into a huge
# body shows the body's start, unmarked. A window around the first hit would
# need the whole body scanned, and FTS5's snippet() only sees our tokens.
SNIPPET_SOURCE_CHARS = 20_000

_SEPARATORS = r"[\W_]"


def _term_pattern(chunk: str) -> str | None:
    """A regex for a query term in normalised text: what the index would match.

    Runs adjacent in the term may be separated by punctuation or space in the
    text when they are of different kinds (A股 / A 股), and must be when they
    are of the same kind (2022-04 / 2022 04). Words match whole words; CJK
    matches anywhere.
    """
    runs = list(RUN.finditer(chunk))
    if not runs:
        return None
    parts = []
    if runs[0].group(2):
        parts.append(f"(?<!{WORD_CHAR})")
    for i, run in enumerate(runs):
        if i:
            previous = runs[i - 1]
            same_kind = bool(previous.group(1)) == bool(run.group(1))
            parts.append(f"{_SEPARATORS}+" if same_kind else f"{_SEPARATORS}*")
        parts.append(re.escape(run.group(0)))
    if runs[-1].group(2):
        parts.append(f"(?!{WORD_CHAR})")
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
        offsets.extend([i] * len(char_normalizer[ord(char)]))
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


def snippet(snippet_source: str, query: str, max_chars: int, title: str = "") -> SafeString:
    """A result's highlighted excerpt of about `max_chars` characters, from `with_snippet_source`'s text.

    Like an excerpt, it leaves out a leading 【`title`】: shown under the title, it
    would repeat it (and a query matching the headline would centre it there).
    """
    source = snippet_source or ""
    if len(source) >= SNIPPET_SOURCE_CHARS and source.rfind("<") > source.rfind(">"):
        source = source[: source.rfind("<")]  # a tag cut in half would show as text
    return highlight(strip_repeated_headline(html_to_text(source), title), query, max_chars=max_chars)


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
