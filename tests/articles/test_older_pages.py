"""An older page of a listing says which articles it holds, in its <title> and its heading."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import SHANGHAI, chain, html, publish

pytestmark = pytest.mark.django_db

NEWEST = dt.datetime(2022, 6, 12, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def deep():
    """25 articles an hour apart, newest first: the second page starts with the 21st, 2022-06-11 13:00."""
    deep = chain("金融", "券商", "深度")
    for n in range(25):
        publish(f"文章{n:02d}", NEWEST - dt.timedelta(hours=n), categories=[deep], tags=["券商"], author="记者甲")
    return deep


def older(client, path: str) -> str:
    first = html(client.get(path))
    href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    return html(client.get(path + href))


def title_and_heading(page: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    heading = re.sub(r"<[^>]+>", " ", re.search(r"<h1>(.*?)</h1>", page).group(1)).strip()
    return title, heading


def test_the_home_pages_older_page(client, deep):
    page = older(client, "/")
    assert title_and_heading(page) == ("2022年6月11日 13:00及更早的文章 - 财经新闻门户", "2022年6月11日 13:00及更早的文章")
    assert "文章20" in page and "文章19" not in page


def test_a_channels_older_page(client, deep):
    title, heading = title_and_heading(older(client, deep.get_absolute_url()))
    assert title.startswith("金融 › 券商 › 深度 · 2022年6月11日 13:00及更早")
    assert heading == "深度 2022年6月11日 13:00及更早"


@pytest.mark.parametrize("path", ["/tag/券商/", "/author/记者甲/"])
def test_tag_and_author_older_pages(client, deep, path):
    title, heading = title_and_heading(older(client, path))
    assert heading.endswith(" · 2022年6月11日 13:00及更早") and title.startswith(heading)


def test_the_first_page_says_nothing_of_it(client, deep):
    home = html(client.get("/"))  # the front page: its blocks, then the newest articles
    assert '<h2 class="block-heading">最新文章</h2>' in home and "及更早" not in home
    assert "及更早" not in html(client.get(deep.get_absolute_url()))
