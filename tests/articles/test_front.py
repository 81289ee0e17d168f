"""The newsroom's front page (articles.front): headline slots, the wire, channel sections, the channel bar.

Through HTTP: the home page's blocks, /wire/ and its feeds, the channel bar on
every page; slots placed through the model (the admin's save), their times set
in the past or the future and the clock moved with `timezone.now` (no sleeps).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import front
from articles.content_version import content_state
from articles.models import Article, Category, HeadlineSlot
from tests.factories import chain, html, publish

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def block(page: str, css_class: str) -> str:
    """The HTML of the first element with this class (up to its section's end)."""
    start = page.index(f'class="{css_class}')
    end = page.find("</section>", start)
    return page[start:end if end != -1 else None]


def served(client, url: str):
    """The page, after this process has learned what changed (as tests/articles/test_content_keys does)."""
    content_state()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.fixture
def newsroom():
    """Two channels with stories, a wire channel (金融/财联社/电报) with items, an older lead story."""
    finance, tech = chain("金融"), chain("科技")
    wire = chain("金融", "财联社", "电报")
    stories = [publish(f"金融新闻{n}", hours_ago(10 + n), categories=[finance]) for n in range(6)]
    tech_stories = [publish(f"科技新闻{n}", hours_ago(20 + n), categories=[tech]) for n in range(3)]
    items = [publish(f"财联社电报{n}", hours_ago(1 + n / 10), categories=[wire],
                     body=f"<p>【央行公开市场操作第{n}次】财联社电，央行今日开展逆回购操作。</p>") for n in range(3)]
    return {"finance": finance, "tech": tech, "wire": wire, "stories": stories, "tech_stories": tech_stories,
            "items": items}


def place(position: int, article: Article, **times) -> HeadlineSlot:
    return HeadlineSlot.objects.create(position=position, article=article, **times)


# --- the 要闻 block ----------------------------------------------------------------------


def test_empty_slots_fall_back_on_the_newest_stories_outside_the_wire(client, newsroom):
    page = html(client.get("/"))
    news = block(page, "front-news")
    # The newest non-wire story leads; the wire items (newer) are not headlines.
    assert "金融新闻0" in block(news, "lead-story")
    assert all(f"金融新闻{n}" in news for n in range(1, 5))
    assert "财联社电报" not in news


def test_editors_slots_show_in_their_positions_and_only_published_articles(client, newsroom):
    old = publish("编辑选的头条", hours_ago(24 * 30), categories=[newsroom["tech"]])
    second = newsroom["tech_stories"][2]
    draft = publish("草稿不上首页", status=Article.Status.DRAFT, categories=[newsroom["tech"]])
    place(0, old)
    place(1, second)
    place(2, draft)
    news = block(html(client.get("/")), "front-news")
    assert "编辑选的头条" in block(news, "lead-story")
    headlines = re.findall(r'<li><a href="[^"]+">([^<]+)</a></li>', news)
    assert headlines[0] == "科技新闻2"
    assert "草稿不上首页" not in news
    # The positions left empty are filled from the newest stories, none twice.
    assert headlines[1:] == ["金融新闻0", "金融新闻1", "金融新闻2"]


def test_a_new_placement_keeps_the_one_before_as_history(newsroom):
    first = place(0, newsroom["stories"][3], starts_at=hours_ago(5))
    second = place(0, newsroom["stories"][4])
    first.refresh_from_db()
    assert first.ends_at == second.starts_at and first.article == newsroom["stories"][3]
    assert HeadlineSlot.objects.count() == 2
    assert front.live_slots() == {0: newsroom["stories"][4].pk}


def test_a_timed_placement_covers_the_one_before_until_it_ends(newsroom):
    lasting = place(0, newsroom["stories"][3], starts_at=hours_ago(5))
    place(0, newsroom["stories"][4], starts_at=hours_ago(1), ends_at=timezone.now() + dt.timedelta(hours=1))
    assert front.live_slots() == {0: newsroom["stories"][4].pk}
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(hours=2)):
        assert front.live_slots() == {0: lasting.article_id}


def test_a_slot_whose_article_is_unpublished_leaves_the_page(client, newsroom):
    chosen = publish("将被撤下的头条", hours_ago(24 * 30), categories=[newsroom["tech"]])
    place(0, chosen)
    assert "将被撤下的头条" in html(client.get("/"))
    Article.objects.filter(pk=chosen.pk).update(status=Article.Status.DRAFT)
    assert "将被撤下的头条" not in html(served(client, "/"))


# --- slots and the page cache: content keys ----------------------------------------------


def test_a_slot_write_refreshes_the_home_page_and_no_article_page(client, newsroom):
    article = newsroom["stories"][5]
    for url in ("/", article.get_absolute_url(), "/wire/"):
        served(client, url)
        assert served(client, url)["X-Cache"] == "hit"
    place(0, newsroom["tech_stories"][2])
    home = served(client, "/")
    assert home["X-Cache"] == "miss"
    assert "科技新闻2" in block(home.content.decode(), "lead-story")
    assert served(client, article.get_absolute_url())["X-Cache"] == "hit"
    assert served(client, "/wire/")["X-Cache"] == "hit"


def test_a_slot_starting_later_shows_when_its_time_comes_with_no_write(client, newsroom):
    start = timezone.now() + dt.timedelta(hours=1)
    place(0, newsroom["tech_stories"][2], starts_at=start, ends_at=start + dt.timedelta(hours=1))
    article = newsroom["stories"][5].get_absolute_url()
    for url in ("/", article):
        served(client, url)
        assert served(client, url)["X-Cache"] == "hit"
    assert "科技新闻2" not in block(served(client, "/").content.decode(), "lead-story")
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(seconds=1)):
        home = served(client, "/")
        assert home["X-Cache"] == "miss"
        assert "科技新闻2" in block(home.content.decode(), "lead-story")
        assert served(client, article)["X-Cache"] == "hit"
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(hours=1, seconds=1)):
        home = served(client, "/")
        assert home["X-Cache"] == "miss"
        assert "科技新闻2" not in block(home.content.decode(), "lead-story")


def test_a_page_cached_before_the_process_looked_is_checked_against_the_slots(client, newsroom):
    from articles import content_keys

    start = timezone.now() + dt.timedelta(hours=1)
    place(0, newsroom["tech_stories"][2], starts_at=start)
    served(client, "/")
    content_keys.forget()  # another process, which never looked: it asks the database
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(seconds=1)):
        home = client.get("/")
        assert home["X-Cache"] == "miss"
        assert "科技新闻2" in block(home.content.decode(), "lead-story")


def test_slot_writes_record_only_the_home_key(newsroom):
    from articles.models import ContentKey

    before = content_state().generation
    place(0, newsroom["stories"][2])
    assert set(ContentKey.objects.filter(generation__gt=before).values_list("key", flat=True)) == {"home"}


# --- the wire ----------------------------------------------------------------------------


def test_the_wire_column_shows_times_and_bracketed_headlines(client, newsroom):
    wire = block(html(client.get("/")), "wire-column")
    item = newsroom["items"][0]
    local = timezone.localtime(item.published_at)  # Beijing time (TIME_ZONE)
    assert f">{local:%H:%M}</time>" in wire
    # The day above the time where it changes (the wire spans days when it is quiet).
    assert f'<span class="wire-day">{local.month}月{local.day}日</span>' in wire
    assert ">央行公开市场操作第0次</a>" in wire
    assert 'href="/wire/"' in wire


def test_an_item_without_a_bracketed_headline_keeps_its_title(newsroom):
    plain = publish("没有方括号的快讯", body="<p>财联社电，普通内容。</p>", categories=[newsroom["wire"]])
    assert front.wire_item(plain).headline == "没有方括号的快讯"
    assert front.wire_item(newsroom["items"][1]).headline == "央行公开市场操作第1次"


def test_the_wire_channels_are_configurable(client, settings, newsroom):
    settings.NEWSPORTAL_WIRE_CHANNELS = ["科技"]
    wire = block(html(client.get("/")), "wire-column")
    assert "科技新闻0" in wire and "央行公开市场操作" not in wire


def test_the_wire_page_pages_by_key(client, newsroom, monkeypatch):
    monkeypatch.setattr("articles.views.WireView.paginate_by", 2)
    first = html(client.get("/wire/"))
    assert "央行公开市场操作第0次" in first and "央行公开市场操作第1次" in first
    assert "央行公开市场操作第2次" not in first and "金融新闻" not in first
    after = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "before=" in after
    second = html(client.get(after))
    assert "央行公开市场操作第2次" in second and "央行公开市场操作第0次" not in second
    assert "财联社电，央行今日开展逆回购操作。" in second  # the text after the headline


@pytest.mark.parametrize("url", ["/feed/atom/wire/", "/feed/wire/"])
def test_the_wire_feeds_are_valid_and_titled_by_headline(client, newsroom, url):
    response = client.get(url)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    if root.tag == f"{ATOM}feed":
        titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
        assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}updated")
        for entry in root.findall(f"{ATOM}entry"):
            assert entry.findtext(f"{ATOM}id").startswith("tag:") and entry.findtext(f"{ATOM}updated")
    else:
        titles = [item.findtext("title") for item in root.find("channel").findall("item")]
        assert root.get("version") == "2.0"
    assert titles == [f"央行公开市场操作第{n}次" for n in range(3)]


# --- channel sections ---------------------------------------------------------------------


def test_sections_default_to_the_top_level_channels_but_the_wire(client, newsroom):
    page = html(client.get("/"))
    sections = page[page.index('class="sections"'):page.index("最新文章")]
    assert ">金融</a></h2>" in sections and ">科技</a></h2>" in sections
    assert "科技新闻0" in sections
    assert "电报</a></h2>" not in sections
    assert "财联社电报" not in sections  # the wire's items are in the wire column, not the 金融 section


def test_sections_follow_the_front_page_positions(client, newsroom):
    Category.objects.filter(pk=newsroom["tech"].pk).update(front_order=1)
    page = html(served(client, "/"))
    sections = page[page.index('class="sections"'):page.index("最新文章")]
    assert ">科技</a></h2>" in sections and ">金融</a></h2>" not in sections


def uncached_home_queries(client) -> int:
    """The queries of the home page rendered afresh (no page, no remembered figures in the cache)."""
    from django.core.cache import cache

    cache.clear()
    content_state()
    with CaptureQueriesContext(connection) as queries:
        html(client.get("/"))
    return len(queries.captured_queries)


def test_the_home_page_costs_the_same_queries_whatever_the_number_of_sections(client, newsroom):
    place(0, newsroom["tech_stories"][2])
    two_sections = uncached_home_queries(client)
    for n in range(6):
        publish(f"新栏目新闻{n}", hours_ago(30), categories=[chain(f"新栏目{n}")])
    assert html(client.get("/")).count('class="channel-section"') == front.DEFAULT_SECTIONS
    assert uncached_home_queries(client) == two_sections


def test_an_uncached_home_page_is_a_bounded_number_of_queries(client, newsroom):
    place(0, newsroom["tech_stories"][2])
    # content state; the list's page and its articles; the slots, the fill, the wire, the sections
    # and their articles; the channel bar and the wire channels (remembered per content version).
    assert uncached_home_queries(client) <= 16


# --- the channel bar ----------------------------------------------------------------------


def channel_bar(page: str) -> str:
    start = page.index('class="channel-bar"')
    return page[start:page.index("</nav>", start)]


def test_every_page_has_the_channel_bar_with_the_current_channel_marked(client, newsroom):
    article = newsroom["stories"][0]
    deep = chain("金融", "财联社")
    pages = {"/": None, "/wire/": None, "/category/金融/": "page", deep.get_absolute_url(): "true",
             article.get_absolute_url(): "true", "/archive/": None, "/search/?q=新闻": None}
    for url, current in pages.items():
        response = client.get(url)
        bar = channel_bar(html(response))
        assert ">金融</a>" in bar and ">科技</a>" in bar and "电报" not in bar, url
        assert "nav" in response["xkey"].split(), url
        marked = re.findall(r'aria-current="(\w+)">([^<]+)</a>', bar)
        assert marked == ([(current, "金融")] if current else []), url


def test_a_channel_with_only_drafts_is_not_in_the_bar(client, newsroom):
    publish("未发表", status=Article.Status.DRAFT, categories=[chain("秘密栏目")])
    assert "秘密栏目" not in channel_bar(html(client.get("/")))


def test_a_top_level_channels_first_article_refreshes_every_page(client, admin_client, newsroom):
    from articles.models import ContentKey
    from newsroom import operations

    draft = publish("新频道首篇", status=Article.Status.DRAFT, categories=[chain("新频道")])
    before = content_state().generation
    draft.status = Article.Status.PUBLISHED
    operations.save_as_edit(draft, None, fields=["status"])
    assert "nav" in set(ContentKey.objects.filter(generation__gt=before).values_list("key", flat=True))
    assert "新频道" in channel_bar(html(served(client, newsroom["stories"][0].get_absolute_url())))
    # A second article in a channel that has one does not change the bar.
    before = content_state().generation
    publish_second = publish("新频道第二篇", status=Article.Status.DRAFT, categories=[chain("新频道")])
    publish_second.status = Article.Status.PUBLISHED
    operations.save_as_edit(publish_second, None, fields=["status"])
    assert "nav" not in set(ContentKey.objects.filter(generation__gt=before).values_list("key", flat=True))


def test_a_site_without_wire_channels_has_an_empty_wire(client, settings, newsroom):
    settings.NEWSPORTAL_WIRE_CHANNELS = []
    assert "暂无快讯" in block(html(client.get("/")), "wire-column")
    assert "暂无快讯" in html(client.get("/wire/"))
    # Without a wire, the wire's old items are stories like any other: they may fill the 要闻 block.
    assert "央行公开市场操作" in block(html(client.get("/")), "front-news")
