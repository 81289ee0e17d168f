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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections, router
from django.db.models import QuerySet, Value
from taggit.models import Tag

from articles.models import Article, ArticleByline, ArticleCategory, TaggedArticle, TagSuggestion, published_links

TAG_WEIGHT = 3.0
KEYWORD_WEIGHT = 2.0
REPORTER_WEIGHT = 2.0
# At most 1.0 (the leaf shared): below any one shared tag, keyword or reporter.
CATEGORY_WEIGHT = 1.0
CANDIDATES_PER_SIGNAL = 50
MAX_TERMS = 20  # tags and keywords looked up per article
MAX_REPORTERS = 10


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

    Plain rows, not taggit's prefetch (~0.7 ms of Python a row).
    """
    is_tag, is_keyword = 1, 0
    tags = (TaggedArticle.objects.filter(content_object=article).order_by()
            .annotate(kind=Value(is_tag)).values_list("kind", "tag_id", "tag__name", "tag__slug"))
    keywords = (TagSuggestion.objects.filter(article=article, state=TagSuggestion.State.PENDING).order_by()
                .annotate(kind=Value(is_keyword), none=Value(0), blank=Value(""))
                .values_list("kind", "none", "name", "blank"))
    rows = sorted(tags.union(keywords, all=True), key=lambda row: row[2])
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

    Each row carries what the page prints of the article, so the winners need no query of their own.
    """
    parts = []
    for name in terms:
        parts.append(_latest(published_links(TaggedArticle, "content_object").filter(tag__name=name),
                             "content_object", article, "published_at"))
        parts.append(_latest(_published_rows(TagSuggestion).filter(name=name, state=TagSuggestion.State.PENDING),
                             "article", article, "article__published_at"))
    for reporter_id in reporter_ids:
        parts.append(_latest(published_links(ArticleByline, "article").filter(author=reporter_id),
                             "article", article, "published_at"))
    if leaf_id is not None:
        parts.append(_latest(published_links(ArticleCategory, "article").filter(category=leaf_id),
                             "article", article, "published_at"))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {row[0]: Candidate(row) for row in rows}


def _published_rows(model) -> QuerySet:
    """Rows of a table that links to articles by `article`, for published articles only."""
    return model.objects.filter(Article.published_q("article__"))


def _latest(rows: QuerySet, article_field: str, article: Article, time: str) -> QuerySet:
    """(id, title, slug, day, time) of the articles of the latest CANDIDATES_PER_SIGNAL `rows`,
    other than `article`."""
    latest = (rows.exclude(**{article_field: article.pk})
              .order_by(f"-{time}", f"-{article_field}_id").values("pk")[:CANDIDATES_PER_SIGNAL])
    # The LIMIT sits in an IN subquery: SQLite refuses it directly inside a UNION.
    return (rows.model.objects.filter(pk__in=latest).order_by()
            .values_list(f"{article_field}_id", f"{article_field}__title", f"{article_field}__slug",
                         f"{article_field}__published_date", f"{article_field}__published_at"))


def _fill_shared(candidates: dict[int, Candidate], terms: list[str], tag_names: set[str],
                 reporter_ids: list[int], depth_of: dict[int, int]) -> None:
    """Record what each candidate shares with the article (one UNION ALL): tags, keywords,
    reporters and categories, as (article id, kind, name, owner id) rows.

    Plain SQL: built through the ORM, the four parts' Python cost ~2 ms a page, ten
    times the query itself (docs/BENCHMARKS.md, "Page speed and Lighthouse").
    """
    ids = list(candidates)
    tag, keyword, reporter, category = 0, 1, 2, 3

    def marks(values: list) -> str:
        return ", ".join(["%s"] * len(values))

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
    connection = connections[router.db_for_read(ArticleCategory)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = cursor.fetchall()
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
