"""The article list's date drill-down (editorial/date_drilldown.py): the periods Django's own
`datetimes()` gives, in the newsroom's zone, found by index probes instead of a scan of every row."""

from __future__ import annotations

import datetime as dt

import pytest

from articles.models import Article
from editorial.date_drilldown import for_drilldown
from tests.factories import changelist, publish, staff

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
MOMENTS = [
    dt.datetime(2019, 3, 5, 2, 0, tzinfo=UTC),
    dt.datetime(2021, 12, 31, 15, 59, tzinfo=UTC),  # 23:59 on 31 December in Beijing
    dt.datetime(2021, 12, 31, 16, 0, tzinfo=UTC),  # already 1 January 2022 in Beijing
    dt.datetime(2022, 1, 31, 17, 0, tzinfo=UTC),  # 1 February in Beijing
    dt.datetime(2022, 2, 28, 15, 0, tzinfo=UTC),
    dt.datetime(2024, 2, 29, 8, 0, tzinfo=UTC),
]


@pytest.fixture
def archive():
    for n, moment in enumerate(MOMENTS):
        publish(f"第{n}篇", moment)
    draft = publish("草稿", dt.datetime(2023, 6, 1, tzinfo=UTC))
    Article.objects.filter(pk=draft.pk).update(status=Article.Status.DRAFT)


@pytest.mark.parametrize("kind", ["year", "month", "day"])
@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_the_periods_are_djangos_own(archive, kind, order):
    for queryset in (Article.objects.all(), Article.objects.published(),
                     Article.objects.filter(published_at__year=2022), Article.objects.none()):
        expected = list(queryset.datetimes("published_at", kind, order=order))
        found = list(for_drilldown(queryset).datetimes("published_at", kind, order=order))
        assert found == expected, (kind, order, queryset.query)
        assert [moment.utcoffset() for moment in found] == [moment.utcoffset() for moment in expected]


def test_the_article_list_links_the_years_months_and_days_with_articles(archive, client):
    client.force_login(staff("desk", "Editors"))
    page = client.get(changelist("article")).content.decode()
    for year in ("2019", "2022", "2023", "2024"):
        assert f"published_at__year={year}" in page
    assert "published_at__year=2021" in page  # 23:59 on 31 December 2021 in Beijing
    assert "published_at__year=2020" not in page
    months = client.get(changelist("article"), {"published_at__year": "2022"}).content.decode()
    assert "published_at__month=1" in months and "published_at__month=2" in months
    assert "published_at__month=3" not in months
