"""Related articles: the published articles that share the most with one article.

What two articles share, strongest first:

* a tag (chosen by an editor),
* a keyword: a name that is a tag or a pending keyword suggestion
  (newsroom.keywords) of both — most imported articles have no tags, and the
  suggester's keywords are what tells their subjects apart,
* a reporter named in both datelines (bylines; not the outlet, which
  thousands of articles share),
* a category: the deeper the shared node, the more it counts; sharing a
  category never outweighs one shared tag, keyword or reporter.

Equal scores go to the more recent article. Candidates are bounded — the
latest few dozen per shared tag, keyword, reporter and the leaf category —
so the cost does not grow with the archive, and the queries are a fixed
number whatever the article carries: one for the article's tags and
keywords (`tags_and_keywords`, which the page shows anyway), one to gather
the candidates with what the page prints of them, one for what each of
them shares.

And the articles just before and after it in time (`neighbours`), which the
page links to as "previous" and "next".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from taggit.models import Tag

from articles import plain_sql
from articles.models import Article, ArticleByline, ArticleCategory, TaggedArticle, TagSuggestion

TAG_WEIGHT = 3.0
KEYWORD_WEIGHT = 2.0
REPORTER_WEIGHT = 2.0
# At most 1.0 (the leaf shared): below any one shared tag, keyword or reporter.
CATEGORY_WEIGHT = 1.0
CANDIDATES_PER_SIGNAL = 50
MAX_TERMS = 20  # tags and keywords looked up per article
MAX_REPORTERS = 10
ARTICLES = Article._meta.db_table


@dataclass
class Candidate:
    row: tuple  # (id, title, slug, day, time): what the page prints; an Article is made for the winners only
    tags: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    reporters: set[int] = field(default_factory=set)
    category_depth: int = -1  # of the deepest category shared with the article; -1: none

    def score(self, leaf_depth: int) -> float:
        keywords = self.terms - self.tags
        shared_category = (self.category_depth + 1) / (leaf_depth + 1) if self.category_depth >= 0 else 0.0
        return (TAG_WEIGHT * len(self.tags) + KEYWORD_WEIGHT * len(keywords)
                + REPORTER_WEIGHT * len(self.reporters) + CATEGORY_WEIGHT * shared_category)


def tags_and_keywords(article: Article) -> tuple[list[Tag], list[str]]:
    """The article's tags (by name) and its pending keyword suggestions, in one query.

    Plain rows, not taggit's prefetch (~0.7 ms of Python a row), and plain SQL (articles.plain_sql).
    """
    is_tag, is_keyword = 1, 0
    rows = plain_sql.fetch(TaggedArticle, f"""
        SELECT {is_tag}, g.id, g.name, g.slug FROM {TaggedArticle._meta.db_table} t
          INNER JOIN {Tag._meta.db_table} g ON g.id = t.tag_id WHERE t.content_object_id = %s
        UNION ALL
        SELECT {is_keyword}, 0, s.name, '' FROM {TagSuggestion._meta.db_table} s
          WHERE s.article_id = %s AND s.state = %s""",
                           [article.pk, article.pk, TagSuggestion.State.PENDING.value])
    rows.sort(key=lambda row: row[2])
    return ([Tag(id=pk, name=name, slug=slug) for kind, pk, name, slug in rows if kind == is_tag],
            [name for kind, _pk, name, _slug in rows if kind == is_keyword])


def related_articles(article: Article, tags: list[Tag], keywords: list[str], limit: int = 5) -> list[Article]:
    """Up to `limit` published articles sharing the most with `article`, then the most recent."""
    tag_names = {tag.name for tag in tags}
    terms = sorted(tag_names | set(keywords))[:MAX_TERMS]
    reporter_ids = sorted({reporter.pk for _role, reporters in article.byline_groups
                           for reporter in reporters})[:MAX_REPORTERS]
    trail = article.category_trail
    depth_of = {category.pk: category.depth for category in trail}
    if not (terms or reporter_ids or trail):
        return []

    candidates = _candidates(article, terms, reporter_ids, trail[-1].pk if trail else None)
    if not candidates:
        return []
    _fill_shared(candidates, terms, set(tag_names), reporter_ids, depth_of)
    leaf_depth = trail[-1].depth if trail else 0
    best = sorted(candidates, key=lambda pk: (-candidates[pk].score(leaf_depth),
                                              -candidates[pk].row[4].timestamp(), -pk))[:limit]
    # A model instance costs ~40 µs (every field's default): five, not the hundred-odd candidates.
    return [Article(pk=pk, title=title, slug=slug, published_date=day, published_at=time)
            for pk, title, slug, day, time in (candidates[pk].row for pk in best)]


def _candidates(article: Article, terms: list[str], reporter_ids: list[int],
                leaf_id: int | None) -> dict[int, Candidate]:
    """The latest published articles of each signal, in one UNION ALL: {id: Candidate}.

    Each row carries what the page prints of the article, so the winners need no query
    of their own. Plain SQL (articles.plain_sql): through the ORM the parts cost ~2 ms
    of Python for a query SQLite answers in ~0.3 ms.
    """
    now = plain_sql.db_time(Article, timezone.now())
    published = Article.Status.PUBLISHED.value
    parts: list[str] = []
    params: list = []

    def latest(links: str, article_column: str, condition: str, condition_params: list, link_time: bool) -> None:
        # The link's own copy of the publication time, where it has one, is what its index covers.
        time = "l.published_at" if link_time else "u.published_at"
        parts.append(
            f"SELECT a.id, a.title, a.slug, a.published_date, a.published_at FROM {ARTICLES} a"
            f" WHERE a.id IN (SELECT l.{article_column} FROM {links} l"
            f" INNER JOIN {ARTICLES} u ON u.id = l.{article_column}"
            f" WHERE {condition} AND u.status = %s AND u.published_at <= %s"
            + (" AND l.published_at <= %s" if link_time else "")
            + f" AND l.{article_column} <> %s"
            f" ORDER BY {time} DESC, l.{article_column} DESC LIMIT {CANDIDATES_PER_SIGNAL})")
        params.extend([*condition_params, published, now, *([now] if link_time else []), article.pk])

    for name in terms:
        latest(TaggedArticle._meta.db_table, "content_object_id",
               f"l.tag_id IN (SELECT g.id FROM {Tag._meta.db_table} g WHERE g.name = %s)", [name], True)
        latest(TagSuggestion._meta.db_table, "article_id", "l.name = %s AND l.state = %s",
               [name, TagSuggestion.State.PENDING.value], False)
    for reporter_id in reporter_ids:
        latest(ArticleByline._meta.db_table, "article_id", "l.author_id = %s", [reporter_id], True)
    if leaf_id is not None:
        latest(ArticleCategory._meta.db_table, "article_id", "l.category_id = %s", [leaf_id], True)
    rows = plain_sql.fetch(Article, " UNION ALL ".join(parts), params)
    return {pk: Candidate((pk, title, slug, plain_sql.as_date(day), plain_sql.as_datetime(time)))
            for pk, title, slug, day, time in rows}


def _fill_shared(candidates: dict[int, Candidate], terms: list[str], tag_names: set[str],
                 reporter_ids: list[int], depth_of: dict[int, int]) -> None:
    """Record what each candidate shares with the article (one UNION ALL): tags, keywords,
    reporters and categories, as (article id, kind, name, owner id) rows.

    Plain SQL: built through the ORM, the four parts' Python cost ~2 ms a page, ten
    times the query itself (docs/BENCHMARKS.md, "Page speed and Lighthouse").
    """
    ids = list(candidates)
    tag, keyword, reporter, category = 0, 1, 2, 3

    marks = plain_sql.marks

    in_ids = marks(ids)
    parts: list[str] = []
    params: list = []
    if terms:
        parts.append(f"SELECT t.content_object_id, {tag}, g.name, 0 FROM {TaggedArticle._meta.db_table} t"
                     f" INNER JOIN {Tag._meta.db_table} g ON g.id = t.tag_id"
                     f" WHERE t.content_object_id IN ({in_ids}) AND g.name IN ({marks(terms)})")
        params += [*ids, *terms]
        parts.append(f"SELECT s.article_id, {keyword}, s.name, 0 FROM {TagSuggestion._meta.db_table} s"
                     f" WHERE s.article_id IN ({in_ids}) AND s.name IN ({marks(terms)}) AND s.state = %s")
        params += [*ids, *terms, TagSuggestion.State.PENDING.value]
    if reporter_ids:
        parts.append(f"SELECT b.article_id, {reporter}, '', b.author_id FROM {ArticleByline._meta.db_table} b"
                     f" WHERE b.article_id IN ({in_ids}) AND b.author_id IN ({marks(reporter_ids)})")
        params += [*ids, *reporter_ids]
    if depth_of:
        parts.append(f"SELECT c.article_id, {category}, '', c.category_id FROM {ArticleCategory._meta.db_table} c"
                     f" WHERE c.article_id IN ({in_ids}) AND c.category_id IN ({marks(list(depth_of))})")
        params += [*ids, *depth_of]
    if not parts:
        return
    found = plain_sql.fetch(ArticleCategory, " UNION ALL ".join(parts), params)
    for pk, kind, name, owner in found:
        candidate = candidates[pk]
        if kind in (tag, keyword):
            candidate.terms.add(name)
            if kind == tag and name in tag_names:
                candidate.tags.add(name)
        elif kind == reporter:
            candidate.reporters.add(owner)
        else:
            candidate.category_depth = max(candidate.category_depth, depth_of[owner])


def neighbours(article: Article) -> tuple[Article | None, Article | None]:
    """The published articles just before and just after this one in time, in one query.

    Each one's id is found from the (status, published_at, id) index alone, in a scalar
    subquery: the older one's opens with a plain bound at the article's time, since of two
    upper bounds on published_at SQLite's planner starts the scan at the first in the WHERE
    clause, and published()'s "up to now" walked from today back to the article; and asked
    for the title too, the planner left that index for one it had to filter by status.
    Each cost 3-13 ms for a 2020 article at 100,000 articles instead of 0.01 ms. Plain SQL
    (articles.plain_sql): through the ORM the two queries cost 1.6 ms of Python.
    """
    published, now = Article.Status.PUBLISHED.value, plain_sql.db_time(Article, timezone.now())
    at = plain_sql.db_time(Article, article.published_at)
    table = Article._meta.db_table
    columns = "a.id, a.title, a.slug, a.published_date, a.published_at"
    older = (f"SELECT u.id FROM {table} u WHERE u.published_at <= %s AND u.published_at <= %s AND u.status = %s"
             " AND (u.published_at, u.id) < (%s, %s) ORDER BY u.published_at DESC, u.id DESC LIMIT 1")
    newer = (f"SELECT u.id FROM {table} u WHERE u.published_at <= %s AND u.status = %s"
             " AND (u.published_at, u.id) > (%s, %s) ORDER BY u.published_at, u.id LIMIT 1")
    rows = plain_sql.fetch(Article, f"SELECT 0, {columns} FROM {table} a WHERE a.id = ({older})"
                                    f" UNION ALL SELECT 1, {columns} FROM {table} a WHERE a.id = ({newer})",
                           [at, now, published, at, article.pk, now, published, at, article.pk])
    found: list[Article | None] = [None, None]
    for side, pk, title, slug, day, time in rows:
        found[side] = Article(pk=pk, title=title, slug=slug, published_date=plain_sql.as_date(day),
                              published_at=plain_sql.as_datetime(time))
    return found[0], found[1]
