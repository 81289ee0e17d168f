"""Related articles: the published articles that share the most with one article.

What two articles share, strongest first:

* a tag (chosen by an editor),
* a keyword: a name that is a tag or a pending keyword suggestion
  (articles.keywords) of both — most imported articles have no tags, and the
  suggester's keywords are what tells their subjects apart,
* a reporter named in both datelines (bylines; not the outlet, which
  thousands of articles share),
* a category: the deeper the shared node, the more it counts; sharing a
  category never outweighs one shared tag, keyword or reporter.

Equal scores go to the more recent article. Candidates are bounded — the
latest few dozen per shared tag, keyword, reporter and the leaf category —
so the cost does not grow with the archive, and the queries are a fixed
number whatever the article carries (one to gather the candidates, two for
what each of them shares, one to load the winners).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, QuerySet, Value
from taggit.models import Tag

from .models import Article, ArticleByline, ArticleCategory, TaggedArticle, TagSuggestion, published_links

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
    published_at: dt.datetime
    tags: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    reporters: set[int] = field(default_factory=set)
    category_depth: int = -1  # of the deepest category shared with the article; -1: none

    def score(self, leaf_depth: int) -> float:
        keywords = self.terms - self.tags
        shared_category = (self.category_depth + 1) / (leaf_depth + 1) if self.category_depth >= 0 else 0.0
        return (TAG_WEIGHT * len(self.tags) + KEYWORD_WEIGHT * len(keywords)
                + REPORTER_WEIGHT * len(self.reporters) + CATEGORY_WEIGHT * shared_category)


def related_articles(article: Article, tags: list[Tag], limit: int = 5) -> list[Article]:
    """Up to `limit` published articles sharing the most with `article`, then the most recent."""
    tag_names = {tag.name for tag in tags}
    keywords = set(TagSuggestion.objects.filter(article=article, state=TagSuggestion.State.PENDING)
                   .values_list("name", flat=True))
    terms = sorted(tag_names | keywords)[:MAX_TERMS]
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
                                              -candidates[pk].published_at.timestamp(), -pk))[:limit]
    found = {a.pk: a for a in Article.objects.filter(pk__in=best)
             .only("title", "slug", "published_date", "published_at")}
    return [found[pk] for pk in best if pk in found]


def _candidates(article: Article, terms: list[str], reporter_ids: list[int],
                leaf_id: int | None) -> dict[int, Candidate]:
    """The latest published articles of each signal, in one UNION ALL: {id: Candidate}."""
    parts = []
    for name in terms:
        parts.append(_latest(published_links(TaggedArticle, "content_object").filter(tag__name=name),
                             "content_object", article, "published_at"))
        parts.append(_latest(_published_rows(TagSuggestion).filter(name=name, state=TagSuggestion.State.PENDING),
                             "article", article, "article__published_at"))
    for reporter_id in reporter_ids:
        parts.append(_latest(_published_rows(ArticleByline).filter(author=reporter_id),
                             "article", article, "article__published_at"))
    if leaf_id is not None:
        parts.append(_latest(published_links(ArticleCategory, "article").filter(category=leaf_id),
                             "article", article, "published_at"))
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {pk: Candidate(published_at) for pk, published_at in rows}


def _published_rows(model) -> QuerySet:
    """Rows of a table that links to articles by `article`, for published articles only."""
    return model.objects.filter(Article.published_q("article__"))


def _latest(rows: QuerySet, article_field: str, article: Article, time: str) -> QuerySet:
    """(article id, publication time) of the latest CANDIDATES_PER_SIGNAL of `rows`, other than `article`."""
    latest = (rows.exclude(**{article_field: article.pk})
              .order_by(f"-{time}", f"-{article_field}_id").values("pk")[:CANDIDATES_PER_SIGNAL])
    # The LIMIT sits in an IN subquery: SQLite refuses it directly inside a UNION.
    return (rows.model.objects.filter(pk__in=latest).order_by()
            .values_list(f"{article_field}_id", F(time)))


def _fill_shared(candidates: dict[int, Candidate], terms: list[str], tag_names: set[str],
                 reporter_ids: list[int], depth_of: dict[int, int]) -> None:
    """Record what each candidate shares with the article: tags and keywords (one query),
    reporters and categories (another)."""
    ids = list(candidates)
    is_tag, is_suggestion = 1, 0
    names = (TaggedArticle.objects.filter(content_object__in=ids, tag__name__in=terms).order_by()
             .annotate(kind=Value(is_tag)).values_list("content_object_id", "tag__name", "kind")
             .union(TagSuggestion.objects.filter(article__in=ids, name__in=terms,
                                                 state=TagSuggestion.State.PENDING).order_by()
                    .annotate(kind=Value(is_suggestion)).values_list("article_id", "name", "kind"), all=True))
    for pk, name, kind in names:
        candidate = candidates[pk]
        candidate.terms.add(name)
        if kind == is_tag and name in tag_names:
            candidate.tags.add(name)
    is_reporter, is_category = 1, 0
    links = (ArticleByline.objects.filter(article__in=ids, author__in=reporter_ids).order_by()
             .annotate(kind=Value(is_reporter)).values_list("article_id", "author_id", "kind")
             .union(ArticleCategory.objects.filter(article__in=ids, category__in=list(depth_of)).order_by()
                    .annotate(kind=Value(is_category)).values_list("article_id", "category_id", "kind"),
                    all=True))
    for pk, owner, kind in links:
        candidate = candidates[pk]
        if kind == is_reporter:
            candidate.reporters.add(owner)
        else:
            candidate.category_depth = max(candidate.category_depth, depth_of[owner])
