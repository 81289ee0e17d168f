"""Feeds, sitemaps and robots.txt: valid XML, correct dates, published content only."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import pytest
from django.utils import timezone

from articles.models import Article
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def xml_of(response) -> ET.Element:
    assert response.status_code == 200, response.status_code
    return ET.fromstring(response.content)


def test_rss_feed(client, seeded):
    rss = xml_of(client.get("/feed/"))
    items = rss.findall("./channel/item")
    assert [i.findtext("title")[:4] for i in items] == ["不止新总", "涨停有因"]
    first = items[1]
    assert parsedate_to_datetime(first.findtext("pubDate")) == dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=dt.timezone.utc)
    description = first.findtext("description")
    assert "华林证券继续加码IT投入" in description and "从时间" in description  # the full body
    assert "<script" not in description
    assert unquote(first.findtext("link")).startswith("http://testserver/2022/04/30/")


def test_atom_feed_has_full_content(client, seeded):
    atom = xml_of(client.get("/feed/atom/"))
    entries = atom.findall(f"{ATOM}entry")
    assert len(entries) == 2
    content = entries[1].find(f"{ATOM}content")
    assert content.get("type") == "html" and "华林证券继续加码IT投入" in content.text
    assert entries[1].findtext(f"{ATOM}published").startswith("2022-04-30T")


def test_category_and_tag_feeds(client, seeded):
    publish("科技快讯", categories=[chain("科技")], tags=["腾讯"])
    finance = xml_of(client.get("/feed/category/金融/"))
    titles = [i.findtext("title") for i in finance.findall("./channel/item")]
    assert len(titles) == 2 and "科技快讯" not in titles
    tagged = xml_of(client.get("/feed/atom/tag/腾讯/"))
    assert [e.findtext(f"{ATOM}title") for e in tagged.findall(f"{ATOM}entry")] == ["科技快讯"]
    assert xml_of(client.get("/feed/atom/category/金融/财联社/")).findall(f"{ATOM}entry")
    assert xml_of(client.get("/feed/tag/腾讯/")).findall("./channel/item")
    assert client.get("/feed/category/nope/").status_code == 404
    assert client.get("/feed/tag/nope/").status_code == 404


def test_feeds_exclude_drafts_and_scheduled(client, seeded):
    publish("隐藏的草稿", status=Article.Status.DRAFT)
    publish("隐藏的定时稿", timezone.now() + dt.timedelta(hours=3))
    for url in ("/feed/", "/feed/atom/"):
        body = client.get(url).content.decode()
        assert "隐藏的" not in body


def test_sitemap_index_has_a_section_per_year(client, seeded):
    publish("旧闻", dt.datetime(2019, 6, 1, tzinfo=dt.timezone.utc))
    index = xml_of(client.get("/sitemap.xml"))
    locations = [unquote(s.findtext(f"{SM}loc")) for s in index.findall(f"{SM}sitemap")]
    assert "http://testserver/sitemap-2022.xml" in locations and "http://testserver/sitemap-2019.xml" in locations
    assert "http://testserver/sitemap-categories.xml" in locations
    newest = Article.objects.filter(published_date__year=2022).latest("updated_at").updated_at
    lastmods = {unquote(s.findtext(f"{SM}loc")): s.findtext(f"{SM}lastmod") for s in index.findall(f"{SM}sitemap")}
    assert dt.datetime.fromisoformat(lastmods["http://testserver/sitemap-2022.xml"]) == newest
    section = xml_of(client.get("/sitemap-2022.xml"))
    urls = section.findall(f"{SM}url")
    assert len(urls) == 2
    assert all(u.findtext(f"{SM}lastmod") for u in urls)
    assert all(unquote(u.findtext(f"{SM}loc")).startswith("http://testserver/2022/") for u in urls)
    categories = xml_of(client.get("/sitemap-categories.xml"))
    assert any("/category/金融/" in unquote(u.findtext(f"{SM}loc")) for u in categories.findall(f"{SM}url"))
    assert client.get("/sitemap-1990.xml").status_code == 404


@pytest.mark.parametrize("section", ["2022", "categories"])
def test_a_section_is_written_as_the_sitemap_template_would(client, seeded, section, settings):
    """Sections skip contrib.sitemaps' template (~0.1 ms a URL) for articles.sitemaps.urlset_xml:
    the same URLs, days, change frequencies and headers as the template gives."""
    from django.contrib.sitemaps import views as sitemap_views
    from django.test import RequestFactory

    from articles import sitemaps

    settings.TIME_ZONE = "Asia/Shanghai"
    # Updated just after midnight in Beijing, the day before in UTC: the day written is Beijing's.
    # (After every 2022 publication: lastmod is never shown earlier than the publication.)
    late = dt.datetime(2022, 12, 30, 16, 30, tzinfo=dt.timezone.utc)
    Article.objects.filter(published_date__year=2022).update(updated_at=late)
    ours = client.get(f"/sitemap-{section}.xml")
    theirs = sitemap_views.sitemap(RequestFactory().get(f"/sitemap-{section}.xml"), sitemaps=sitemaps.sections(),
                                   section=section).render()

    def entries(content: bytes) -> list[dict[str, str]]:
        return [{child.tag: child.text for child in url} for url in ET.fromstring(content).findall(f"{SM}url")]

    assert entries(ours.content) and entries(ours.content) == entries(theirs.content)
    assert ours["Content-Type"] == theirs["Content-Type"] and ours["X-Robots-Tag"] == theirs["X-Robots-Tag"]
    if section == "2022":
        assert {e[f"{SM}lastmod"] for e in entries(ours.content)} == {"2022-12-31"}
    assert client.get(f"/sitemap-{section}.xml?p=2").status_code == 404
    assert client.get(f"/sitemap-{section}.xml?p=x").status_code == 404


def test_urlset_xml_escapes_what_it_writes():
    from articles.sitemaps import urlset_xml

    xml = urlset_xml([{"location": "http://x/?a=1&b=<2>", "lastmod": dt.date(2022, 1, 2), "changefreq": "daily",
                       "priority": "0.5", "alternates": [{"lang_code": "en", "location": "http://x/en/?a&b"}]}])
    url = ET.fromstring(xml).find(f"{SM}url")
    assert url.findtext(f"{SM}loc") == "http://x/?a=1&b=<2>"
    assert [url.findtext(f"{SM}{tag}") for tag in ("lastmod", "changefreq", "priority")] == ["2022-01-02", "daily", "0.5"]
    assert url.find("{http://www.w3.org/1999/xhtml}link").get("href") == "http://x/en/?a&b"


def test_news_sitemap_covers_the_last_48_hours(client, seeded):
    fresh = publish("今日要闻", timezone.now() - dt.timedelta(hours=5))
    publish("三天前", timezone.now() - dt.timedelta(hours=72))
    news = xml_of(client.get("/sitemap-news.xml"))
    urls = news.findall(f"{SM}url")
    assert len(urls) == 1
    assert urls[0].find(f"{NEWS}news").findtext(f"{NEWS}title") == "今日要闻"
    assert unquote(urls[0].findtext(f"{SM}loc")).endswith(unquote(fresh.get_absolute_url()))
    published = urls[0].find(f"{NEWS}news").findtext(f"{NEWS}publication_date")
    assert dt.datetime.fromisoformat(published) == fresh.published_at


def test_robots_txt_points_at_the_sitemaps(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Sitemap: http://testserver/sitemap-news.xml" in text
    assert "Disallow: /admin/" in text
