"""Counts of published articles per year and month, for the archive pages.

Grouped by the stored Beijing publication date (an indexed DateField), so the
database does the work; Django's dates()/datetimes() would, on SQLite, convert
every row's timestamp in Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Greatest

from articles import content_version
from articles.models import Article


def day_counts(queryset: QuerySet[Article]) -> Counter:
    # COUNT(*), not COUNT(id): the (status, published_date, published_at) index
    # then answers it alone on PostgreSQL too, whose indexes, unlike SQLite's,
    # do not carry the row id (a year: 9.5 -> 1.8 ms; the archive: 84 -> 21 ms).
    rows = queryset.order_by().values_list("published_date").annotate(n=Count("*"))
    return Counter({day: n for day, n in rows})


def month_counts(queryset: QuerySet[Article]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """[(year, year_total, [(month, count), ...]), ...], newest year first."""
    by_year: dict[int, Counter] = defaultdict(Counter)
    for day, n in day_counts(queryset).items():
        by_year[day.year][day.month] += n
    return [
        (year, sum(months.values()), sorted(months.items()))
        for year, months in sorted(by_year.items(), reverse=True)
    ]


def months_of_year(queryset: QuerySet[Article], year: int) -> list[tuple[int, int]]:
    """[(month, count), ...] for one year, months with articles only."""
    months: Counter = Counter()
    for day, n in day_counts(queryset.filter(published_date__year=year)).items():
        months[day.month] += n
    return sorted(months.items())


def published_months() -> list[tuple[int, int, list[tuple[int, int]]]]:
    """`month_counts` of the published articles, kept while no article comes, goes or moves (`archive`).

    A GROUP BY over the whole archive (tens of milliseconds at 100,000
    articles), shared by the archive index and the sitemap index.
    """
    return content_version.remembered("published-months", lambda: month_counts(Article.objects.published()),
                                      keys=["archive"])


def latest_updates_by_year() -> dict[int, object]:
    """Each year's latest `modified_at` among published articles, in one scan.

    Kept while no published article changes (`sitemap`: every such change, an edit in place too)
    and none comes, goes or moves (`archive`: the years).
    """
    def compute() -> dict[int, object]:
        years = [year for year, _, _ in published_months()]
        if not years:
            return {}
        shown = Greatest("updated_at", "published_at")  # Article.modified_at
        latest = Article.objects.published().aggregate(
            **{f"y{year}": Max(shown, filter=Q(published_date__year=year)) for year in years})
        return {year: latest[f"y{year}"] for year in years}

    return content_version.remembered("latest-updates-by-year", compute, keys=["sitemap", "archive"])
