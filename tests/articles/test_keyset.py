"""One keyset paginator (articles.pagination.Keyset) behind the site's listings and the API's cursors.

The site pages by `?before=`/`?after=` keys, the API by opaque cursors; both must
read a page with the same SQL condition, `(time, id) < (%s, %s)` as a row value,
and agree on where a page ends. Then the edges: rows that tie on the time, the
last page, and a key whose article is gone.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from articles.pagination import Key, Keyset
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db

API = "/api/v1"
NEWEST_FIRST = Keyset.of(("-published_at", "-id"))
# A row-value comparison of two quoted columns: ("t"."published_at", "t"."id") < (…, …)
ROW_VALUE = re.compile(r'\(("\w+"\."\w+"), ("\w+"\."\w+")\) ([<>]) \(([^()]*)\)')
LITERAL = re.compile(r"'[^']*'(::\w+)?|\b\d+\b")


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def older_link(page: str) -> str:
    """The href of the site page's "older articles" link."""
    return re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")


def newer_link(page: str) -> str:
    return re.search(r'rel="prev" href="([^"]+)"', page).group(1).replace("&amp;", "&")


def api_path(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, {name: values[-1] for name, values in parse_qs(parts.query).items()}


def paging_query(client, path: str, params: dict | None = None) -> str:
    """The one query of this request that pages by key (the SQL as the database ran it)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, (path, params, response.status_code)
    paging = [q["sql"] for q in captured.captured_queries if ROW_VALUE.search(q["sql"])]
    assert len(paging) == 1, paging
    return paging[0]


def where(sql: str) -> str:
    """The WHERE clause with its values left out: the shape of the condition."""
    clause = sql.split(" WHERE ", 1)[1].split(" ORDER BY ", 1)[0]
    return LITERAL.sub("%s", clause)


def row_value(sql: str) -> tuple[str, str, str, str]:
    """(time column, id column, operator, the key's values) of the row-value comparison."""
    return ROW_VALUE.search(sql).groups()


def column(name: str) -> str:
    return name.split(".")[1].strip('"')


def ids(window) -> list[int]:
    return [row.id for row in window.rows]


# --- the same SQL for the site and the API ---------------------------------------


def test_the_site_and_the_api_read_the_next_page_with_the_same_where(client):
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(30):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i))
    site_path = "/" + older_link(client.get("/").content.decode())
    api_next = client.get(f"{API}/articles/", {"page_size": 20}).json()["next"]

    site, api = paging_query(client, site_path), paging_query(client, *api_path(api_next))

    assert where(site) == where(api)
    assert " OR " not in site.upper() and " OR " not in api.upper()
    # The same key: both continue after the same article.
    assert row_value(site) == row_value(api)
    assert row_value(site)[2] == "<"
    assert re.search(r"ORDER BY .+ DESC, .+ DESC LIMIT 21$", site) and re.search(r"ORDER BY .+ DESC, .+ DESC LIMIT 21$", api)


def test_the_site_and_the_api_read_the_previous_page_with_the_same_where(client):
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(50):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i))
    second = client.get("/" + older_link(client.get("/").content.decode())).content.decode()
    third = client.get("/" + older_link(second)).content.decode()
    site_path = "/" + newer_link(third)  # ?after=: back to the second page
    api_second = client.get(*api_path(client.get(f"{API}/articles/", {"page_size": 20}).json()["next"])).json()
    api_third = client.get(*api_path(api_second["next"])).json()

    site, api = paging_query(client, site_path), paging_query(client, *api_path(api_third["previous"]))

    assert where(site) == where(api)
    assert row_value(site) == row_value(api) and row_value(site)[2] == ">"
    assert re.search(r"ORDER BY .+ ASC, .+ ASC LIMIT 21$", site) and re.search(r"ORDER BY .+ ASC, .+ ASC LIMIT 21$", api)


def test_a_category_pages_by_a_row_value_on_the_site_and_in_the_api(client):
    """The site reads a category from its link table's index, the API joins; the condition is one."""
    deep = chain("金融", "证券")
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(25):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i), categories=[deep])
    page = client.get(deep.get_absolute_url()).content.decode()
    site_path = deep.get_absolute_url() + older_link(page)
    api_next = client.get(f"{API}/articles/", {"category": "金融/证券", "page_size": 20}).json()["next"]

    site = row_value(paging_query(client, site_path))
    api = row_value(paging_query(client, *api_path(api_next)))

    assert (column(site[0]), column(site[1])) == ("published_at", "article_id")  # ArticleCategory's index
    assert (column(api[0]), column(api[1])) == ("published_at", "id")
    assert site[2:] == api[2:] == ("<", site[3])  # the same operator and the same key


def test_the_api_pages_names_with_the_same_engine(client):
    for name in ("券商", "银行", "保险"):
        publish(f"{name}的文章", tags=[name])
    first = client.get(f"{API}/tags/", {"page_size": 1}).json()

    sql = paging_query(client, *api_path(first["next"]))

    time_or_name, pk, op, _ = row_value(sql)
    assert (column(time_or_name), column(pk), op) == ("name", "id", ">")
    assert " OR " not in sql.split(" WHERE ", 1)[1].split(" GROUP BY ")[0].upper()


def test_an_ordering_in_two_directions_is_refused():
    with pytest.raises(ValueError):
        Keyset.of(("-published_at", "id"))
    assert Keyset.of(("name", "id")) == Keyset(("name", "id"), descending=False)


# --- edges -------------------------------------------------------------------------


@pytest.fixture
def tied():
    """11 articles; 7 of them share one publication time to the microsecond, across page edges."""
    base = timezone.now() - dt.timedelta(days=1)
    same = base - dt.timedelta(minutes=5)
    return [publish(f"同一时刻{i}", same if 2 <= i < 9 else base - dt.timedelta(minutes=i)) for i in range(11)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 11, 12])
def test_ties_on_the_time_are_visited_once_each_way(tied, size):
    published = Article.objects.published()
    expected = list(published.order_by("-published_at", "-id").values_list("id", flat=True))
    forward, key, more = [], None, True
    while more:
        window = NEWEST_FIRST.window(published, key, size)
        forward += ids(window)
        more, key = window.more, (window.rows[-1].published_at, window.rows[-1].id) if window.rows else None
    assert forward == expected

    # Back from the oldest article, as a reader comes back from the last page.
    last = published.order_by("published_at", "id").first()
    backward, key, more = [last.id], (last.published_at, last.id), True
    while more:
        window = NEWEST_FIRST.window(published, key, size, backwards=True)
        backward = ids(window) + backward
        more, key = window.more, (window.rows[0].published_at, window.rows[0].id)
    assert backward == expected


def test_the_site_walks_ties_across_a_page_edge(client):
    """20 per page: the tie (articles 15-24) straddles the edge and loses nothing."""
    base = timezone.now() - dt.timedelta(days=1)
    same = base - dt.timedelta(minutes=15)
    for i in range(30):
        publish(f"文章{i:02d}", same if 15 <= i < 25 else base - dt.timedelta(minutes=i))
    first = client.get("/").content.decode()
    second = client.get("/" + older_link(first)).content.decode()
    titles = [f"文章{i:02d}" for i in range(30)]
    on_first = {t for t in titles if t in first}
    on_second = {t for t in titles if t in second}
    assert len(on_first) == 20 and len(on_second) == 10 and on_first.isdisjoint(on_second)
    assert 'rel="next"' not in second


def test_a_last_page_that_is_exactly_full_has_no_next_page(client):
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(40):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i))
    second = client.get("/" + older_link(client.get("/").content.decode())).content.decode()
    assert "文章39" in second and 'rel="next"' not in second and 'rel="prev"' in second
    api_first = client.get(f"{API}/articles/", {"page_size": 20}).json()
    api_second = client.get(*api_path(api_first["next"])).json()
    assert len(api_second["results"]) == 20 and api_second["next"] is None and api_second["previous"]

    last = Article.objects.get(title="文章39")
    window = NEWEST_FIRST.window(Article.objects.published(), (last.published_at, last.id), 20)
    assert window.rows == [] and window.more is False


def test_a_key_whose_article_is_gone_still_finds_its_place(client):
    base = timezone.now() - dt.timedelta(days=1)
    articles = [publish(f"文章{i:02d}", base - dt.timedelta(minutes=i)) for i in range(30)]
    gone = articles[19]  # the last of the first page: its key is in the next link
    site_next, api_next = older_link(client.get("/").content.decode()), client.get(
        f"{API}/articles/", {"page_size": 20}).json()["next"]
    assert f"before={Key(gone.published_at, gone.pk)}" in site_next
    gone.delete()

    second = client.get("/" + site_next).content.decode()
    assert all(f"文章{i:02d}" in second for i in range(20, 30)) and "文章18" not in second
    api_second = client.get(*api_path(api_next)).json()
    assert [a["id"] for a in api_second["results"]] == [a.id for a in articles[20:]]
    # And backwards: the articles newer than the gone one.
    window = NEWEST_FIRST.window(Article.objects.published(), (gone.published_at, gone.pk), 5, backwards=True)
    assert ids(window) == [a.id for a in articles[14:19]] and window.more
