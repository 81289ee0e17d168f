"""Malformed URLs and parameters get 400, 404 or an empty result, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LONG = "券" * 10_000
ODD = ["\u200f", "\u202e", "%00", "%C0%AE", "%ED%A0%80", "%FF", "%E4%B8", "\ufeff", "%0A", "..%2F..%2Fetc",
       "%25", "\U0001F4A9", "a%00b"]

PATHS = [
    # impossible dates, every archive shape and the article URL
    "/archive/2022/13/", "/archive/2022/00/", "/archive/2022/13/40/", "/archive/2022/02/30/",
    "/archive/2022/04/31/", "/archive/0000/", "/archive/0000/01/01/", "/archive/9999/12/31/",
    "/archive/2022/4/", "/archive/2022/04/3/", "/archive/22/", "/archive/20222/", "/archive/-001/",
    "/2022/13/40/x/", "/2022/02/30/x/", "/0000/00/00/x/", "/9999/12/31/x/", "/2022/04/30/no-such-article/",
    # unknown things
    "/category/no-such-category/", "/category/金融/no/such/child/", "/tag/no-such-tag/", "/author/nobody/",
    "/feed/category/nope/", "/feed/atom/category/nope/", "/feed/tag/nope/", "/feed/atom/tag/nope/",
    "/sitemap-nope.xml", "/sitemap-1900.xml", "/sitemap-99999999999999999999.xml", "/preview/999999999/",
    "/preview/99999999999999999999999/", "/category//", "/category/a//b/", "/tag/" + "x" * 5000 + "/",
    "/category/" + "/".join(["a"] * 500) + "/",
    # odd Unicode and encodings in paths
    *[f"/tag/{odd}/" for odd in ODD], *[f"/category/{odd}/" for odd in ODD], *[f"/author/{odd}/" for odd in ODD],
    *[f"/2022/04/30/{odd}/" for odd in ODD],
]

PAGES = ["0", "-1", "1.5", "abc", "", "last", "99999", "9" * 30, "1e3", "%00", "\u0661", "NaN", "0x10"]
LISTINGS = ["/", "/category/金融/", "/tag/券商/", "/author/财联社/", "/search/?q=券商", "/archive/2022/",
            "/archive/2022/04/", "/archive/2022/04/30/"]

FILTERS = [
    {"category": "no/such"}, {"category": ""}, {"category": "../.."}, {"tag": "\u202e"}, {"author": "x" * 10_000},
    {"date_from": "2022-13-40"}, {"date_to": "not a date"}, {"date_from": "99999-01-01"}, {"date_from": "0000-00-00"},
    {"date_from": "2022-01-01", "date_to": "2021-01-01"}, {"date_from": "2022-02-30"}, {"date_to": "\x00"},
    {"category": ["金融", "科技"]}, {"q": LONG}, {"q": "\x00" * 50}, {"q": "\u202e\u200f" * 100},
    {"q": "' OR 1=1 --"}, {"q": "\"" * 300}, {"q": "*:*"}, {"q": "NEAR(a b)"}, {"q": "a AND OR NOT"},
    {"q": "券商", "page": "-1"}, {"page": "9" * 30}, {"tag": "a\x00b"}, {"category": "\x00"}, {"author": "金\x00"},
]


@pytest.fixture
def site(seeded) -> Client:
    """A client of the site with the seeds in it. A 500 must fail the test, not be rendered as a page."""
    return Client(raise_request_exception=False)


def assert_not_a_server_error(response, what) -> None:
    assert response.status_code in (200, 301, 302, 400, 404), (what, response.status_code)


def test_malformed_paths(site):
    for path in PATHS:
        response = site.get(path)
        assert_not_a_server_error(response, path)
        if "archive" in path or path.startswith(("/2022/13", "/2022/02/30", "/0000", "/9999")):
            assert response.status_code in (301, 404), path


def test_impossible_archive_dates_are_404(site):
    for path in ("/archive/2022/13/40/", "/archive/2022/13/", "/archive/2022/02/30/", "/2022/13/40/x/"):
        assert site.get(path).status_code == 404, path


@pytest.mark.parametrize("listing", LISTINGS)
def test_page_numbers(site, listing):
    for page in PAGES:
        response = site.get(listing, {"page": page})
        assert_not_a_server_error(response, (listing, page))


@pytest.mark.parametrize("listing", ["/", "/search/", "/category/金融/", "/archive/2022/"])
def test_filter_values(site, listing):
    for params in FILTERS:
        response = site.get(listing, params)
        assert_not_a_server_error(response, (listing, params))


def test_invalid_filters_give_an_empty_list_not_an_error(site):
    for params in ({"date_from": "2022-13-40"}, {"category": "no/such"}, {"tag": "nope"}):
        response = site.get("/", params)
        assert response.status_code == 200 and 'class="card"' not in response.content.decode(), params


def test_huge_and_odd_search_queries_give_an_empty_or_bounded_result(site):
    for q in (LONG, "\x00" * 50, "\u202e", "%", "_", "\\", "''", "((("):
        response = site.get("/search/", {"q": q})
        assert response.status_code == 200, q
    page = site.get("/search/", {"q": LONG}).content.decode()  # (possibly from the page cache)
    assert f'value="{"券" * 100}"' in page and "券" * 101 not in page


def test_percent_encoded_lone_surrogates_and_nul_in_query_strings(site):
    for raw in ("q=%ED%A0%80", "q=%00%00", "q=%FF%FE", "page=%ED%A0%80", "category=%C0%AE%C0%AE",
                "date_from=%00", "tag=%E2%80%AE", "q=" + "%E5%88%B8" * 3000):
        for listing in ("/", "/search/"):
            assert_not_a_server_error(site.get(f"{listing}?{raw}"), (listing, raw))


def test_other_methods_and_feeds_with_bad_input(site):
    assert site.post("/search/", {"q": "券商"}).status_code in (403, 405)  # CSRF or not allowed: not a 500
    assert site.head("/").status_code == 200
    for feed in ("/feed/?page=abc", "/feed/atom/?q=\x00", "/sitemap.xml?p=abc", "/sitemap-2022.xml?p=999999",
                 "/sitemap-2022.xml?p=abc", "/robots.txt?x=%ED%A0%80"):
        assert_not_a_server_error(site.get(feed), feed)
