"""The feeds keep the rules of their standards: RFC 4287 (Atom) and RSS 2.0.

feedparser accepts nearly anything, so the rules are asserted here on the XML
itself: what the W3C feed validator checks and feed readers rely on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from tests.factories import SEEDS, chain, publish

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"

# RFC 3339 date-time, as RFC 4287 §3.3 requires (a time zone, "T" between date and time).
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# RFC 822 date-time (RSS 2.0 pubDate), with a four-digit year as RSS recommends.
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    r"\d{4} \d{2}:\d{2}(:\d{2})? ([+-]\d{4}|UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$")
# RFC 4151: tag:AUTHORITY,DATE:SPECIFIC, the authority a DNS name or an e-mail address.
TAG_URI = re.compile(r"^tag:(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|[^@\s,]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*),"
                     r"\d{4}(?:-\d{2}(?:-\d{2})?)?:[^\s#]*(?:#\S*)?$")


def is_absolute_iri(value: str | None) -> bool:
    """An absolute IRI of the kinds we emit: a well-formed tag URI or an http(s) URL with a host."""
    if not value or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    if parts.scheme == "tag":
        return bool(TAG_URI.match(value))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@pytest.fixture
def articles(run_import):
    """The seeds (with an outlet as author), an article without an author and one with a byline author."""
    assert run_import(SEEDS).exit_code == 0
    tech = chain("科技")
    anonymous = publish("无作者的快讯", categories=[tech], tags=["腾讯"])
    credited = publish("有作者的快讯", categories=[tech], tags=["腾讯"], author="记者乙")
    assert anonymous.author is None
    publish("央行开展逆回购操作", categories=[chain("金融", "财联社", "电报")], author="财联社",
            body="<p>【央行开展逆回购操作】财联社电，央行今日开展逆回购操作。</p>")  # the wire's feeds
    return anonymous, credited


FEEDS = ["/feed/atom/", "/feed/atom/category/科技/", "/feed/atom/tag/腾讯/", "/feed/atom/author/记者乙/", "/feed/atom/wire/"]
RSS_FEEDS = ["/feed/", "/feed/category/科技/", "/feed/tag/腾讯/", "/feed/author/记者乙/", "/feed/wire/"]


def parse(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return ET.fromstring(response.content)


def alternate_links(element: ET.Element) -> list[str]:
    # A link without rel is an alternate link (RFC 4287 §4.2.7.2).
    return [link.get("href") for link in element.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]


@pytest.mark.parametrize("url", FEEDS)
def test_atom_feeds_keep_rfc_4287(client, articles, url):
    feed = parse(client, url)
    assert feed.tag == f"{ATOM}feed"
    assert is_absolute_iri(feed.findtext(f"{ATOM}id")), feed.findtext(f"{ATOM}id")
    assert feed.findtext(f"{ATOM}title")
    assert RFC3339.match(feed.findtext(f"{ATOM}updated") or "")
    feed_has_author = any(a.findtext(f"{ATOM}name") for a in feed.findall(f"{ATOM}author"))
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    ids = []
    for entry in entries:
        entry_id = entry.findtext(f"{ATOM}id")
        assert is_absolute_iri(entry_id), entry_id  # not "article-9"
        ids.append(entry_id)
        assert entry.findtext(f"{ATOM}title")
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        published = entry.findtext(f"{ATOM}published")
        assert published is None or RFC3339.match(published)
        # Every entry names an author, or the feed names one for all (§4.1.2).
        assert feed_has_author or any(a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author"))
        links = alternate_links(entry)
        assert len(links) == 1 and is_absolute_iri(links[0])
    assert len(set(ids)) == len(ids)


def test_an_entry_without_author_falls_back_on_the_feed_author(client, articles):
    anonymous, _ = articles
    feed = parse(client, "/feed/atom/category/科技/")
    assert [a.findtext(f"{ATOM}name") for a in feed.findall(f"{ATOM}author")] == ["财经新闻门户"]
    entry = next(e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == anonymous.title)
    assert entry.findall(f"{ATOM}author") == []


def test_entry_ids_are_tag_uris_stable_across_feeds_and_edits(client, articles):
    anonymous, _ = articles
    day = anonymous.created_at.strftime("%Y-%m-%d")
    expected = f"tag:testserver,{day}:/articles/{anonymous.pk}"

    def ids_in(url: str) -> set[str]:
        root = parse(client, url)
        return ({e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")}
                | {item.findtext("guid") for item in root.iter("item")})

    for url in ("/feed/atom/", "/feed/atom/category/科技/", "/feed/", "/feed/tag/腾讯/"):
        assert expected in ids_in(url), url
    # A new title and slug give a new URL (the old one redirects) but the same id.
    anonymous.title, anonymous.slug = "改过标题的快讯", ""
    anonymous.save()
    assert expected in ids_in("/feed/atom/") and expected in ids_in("/feed/")


@pytest.mark.parametrize("url", RSS_FEEDS)
def test_rss_feeds_keep_rss_2_0(client, articles, url):
    rss = parse(client, url)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    assert is_absolute_iri(channel.findtext("link"))
    items = channel.findall("item")
    assert items
    guids = []
    for item in items:
        assert item.findtext("title") or item.findtext("description")
        assert is_absolute_iri(item.findtext("link"))
        guid = item.find("guid")
        assert guid is not None and guid.text
        guids.append(guid.text)
        # isPermaLink defaults to true: then the guid must be a URL a browser can open.
        if guid.get("isPermaLink", "true") == "true":
            assert urlsplit(guid.text).scheme in ("http", "https"), guid.text
        else:
            assert guid.get("isPermaLink") == "false" and is_absolute_iri(guid.text), guid.text
        pub_date = item.findtext("pubDate")
        assert RFC822.match(pub_date or ""), pub_date
        assert parsedate_to_datetime(pub_date).tzinfo is not None
        # <author> must be an e-mail address; a plain name goes in dc:creator.
        assert item.find("author") is None or "@" in item.findtext("author")
    assert len(set(guids)) == len(guids)

