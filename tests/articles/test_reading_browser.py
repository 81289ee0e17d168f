"""The reading experience in a real browser (Playwright + Debian's Chromium), images failing.

At 390×844 (a phone): at least five stories on the first screen of the home page and
the listings, no sideways scroll, each card's meta line on one line (no break inside
the date), the article's breadcrumb without the headline. At 1280×900: an article's
paragraphs 35–42 Chinese characters a line. Printed: no navigation, footer or forms,
black on white, each link's address after it. The reading beacon is sent once.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from articles import hot
from articles.models import ArticleHits, Category
from tests.browsers import ARTIFACTS, BROWSER_TESTS, only_the_live_server
from tests.factories import CORPUS, SEEDS, chain, publish

pytestmark = BROWSER_TESTS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
READER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
PARAGRAPH = ("沪深两市今日震荡走高，创业板指午后一度涨超百分之二，两市成交额连续第三个交易日突破万亿元。"
             "盘面上，券商、保险等大金融板块集体走强，半导体、消费电子方向亦有资金持续流入，"
             "北向资金全天净买入逾五十亿元，市场情绪明显回暖，分析人士认为短期仍以结构性行情为主。") * 3


@pytest.fixture
def site(live_server, run_import):
    run_import(SEEDS)
    if CORPUS.is_dir():
        run_import(CORPUS)
    channel = chain("财经", "证券市场")
    now = timezone.now()
    articles = [publish(f"券商板块午后拉升，多只个股涨停，市场成交额连续放大（第{n}篇）", now - dt.timedelta(minutes=n),
                        categories=[channel], author="财联社", tags=["券商"],
                        body=f"<p>{PARAGRAPH}</p><figure><img src=\"https://img.example.com/{n}.jpg\" alt=\"示意图\" "
                             f"width=\"640\" height=\"360\"><figcaption>图为交易大厅</figcaption></figure><p>{PARAGRAPH}</p>",
                        extra_front_matter={"source_url": "https://www.cls.cn/detail/12345"})
                for n in range(8)]
    return {"url": live_server.url, "article": articles[0], "articles": articles, "channel": channel}


@pytest.fixture
def page(browser):
    # A reader's browser, not a headless one (whose User-Agent the beacon ignores as a bot's).
    context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=READER)
    only_the_live_server(context)
    page = context.new_page()
    yield page
    context.close()


FIRST_SCREEN = """() => {
  const height = window.innerHeight;
  const cards = [...document.querySelectorAll('li.card')];
  return {
    // A story: a listing's card, or on the front page the lead and the headlines (articles.front).
    stories: [...cards.map(card => card.querySelector('h2')),
              ...document.querySelectorAll('.lead-story h3, .headlines li')]
      .filter(title => title.getBoundingClientRect().bottom <= height).length,
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    // Each card's meta line: one line box (its height, against its line height), the date in one piece.
    metaLines: cards.map(card => {
      const meta = card.querySelector('.meta');
      return meta.getBoundingClientRect().height / parseFloat(getComputedStyle(meta).lineHeight);
    }),
    dateBoxes: cards.map(card => card.querySelector('.meta time').getClientRects().length),
    excerptLines: cards.map(card => {
      const excerpt = card.querySelector('.excerpt');
      return Math.round(excerpt.getBoundingClientRect().height / parseFloat(getComputedStyle(excerpt).lineHeight));
    }),
  };
}"""


def test_a_phone_shows_five_stories_first_with_unbroken_meta_lines(site, page):
    paths = ["/", site["channel"].get_absolute_url(), "/tag/券商/"]
    if CORPUS.is_dir():  # the real stories: their titles, excerpts, thumbnails and channels
        busiest = (Category.objects.public().exclude(pk=site["channel"].pk).exclude(pk=site["channel"].parent_id)
                   .annotate(n=Count("articles")).order_by("-n").first())
        paths += [busiest.get_absolute_url(), "/archive/2022/"]
    for path in paths:
        page.goto(site["url"] + path)
        seen = page.evaluate(FIRST_SCREEN)
        assert seen["stories"] >= 5, (path, seen)
        assert seen["sideways"] <= 0, (path, seen)
        assert all(lines < 1.5 for lines in seen["metaLines"]), (path, seen["metaLines"])
        assert set(seen["dateBoxes"]) == {1}, path
        assert max(seen["excerptLines"]) <= 2, (path, seen["excerptLines"])


def test_the_phone_breadcrumb_leaves_out_the_headline(site, page):
    article = site["article"]
    page.goto(site["url"] + article.get_absolute_url())
    crumbs = page.locator(".breadcrumbs")
    assert crumbs.is_visible() and article.title not in crumbs.inner_text()
    assert page.locator("h1").inner_text() == article.title
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.set_viewport_size(DESKTOP)
    assert article.title in crumbs.inner_text()


CHARS_PER_LINE = """() => {
  // The characters of the paragraph's second line (the first is indented): their boxes' top is the same.
  const text = document.querySelector('.article-body p').firstChild;
  const range = document.createRange();
  const tops = [];
  for (let i = 0; i < text.length; i++) {
    range.setStart(text, i); range.setEnd(text, i + 1);
    tops.push(Math.round(range.getBoundingClientRect().top));
  }
  const lines = [...new Set(tops)];
  return lines.map(top => tops.filter(t => t === top).length);
}"""


def test_a_desktop_article_reads_35_to_42_characters_a_line(site, page):
    page.set_viewport_size(DESKTOP)
    page.goto(site["url"] + site["article"].get_absolute_url())
    per_line = page.evaluate(CHARS_PER_LINE)
    assert len(per_line) >= 4
    assert all(35 <= n <= 42 for n in per_line[1:-1]), per_line  # whole lines: not the indented first, nor the last
    caption = page.locator(".article-body figcaption").first
    assert caption.is_visible() and caption.evaluate("e => getComputedStyle(e).textAlign") == "center"
    source = page.locator(".source-link a")
    assert source.get_attribute("href") == "https://www.cls.cn/detail/12345"


PRINTED = """() => {
  const shown = sel => [...document.querySelectorAll(sel)].some(e => getComputedStyle(e).display !== 'none'
                                                                  && e.getClientRects().length > 0);
  const link = document.querySelector('.source-link a');
  return {
    header: shown('.site-header'), footer: shown('.site-footer'), forms: shown('form'), nav: shown('nav'),
    text: getComputedStyle(document.body).color, background: getComputedStyle(document.body).backgroundColor,
    after: getComputedStyle(link, '::after').content,
  };
}"""


def test_printed_articles_are_the_story_alone_with_link_addresses(site, page):
    page.set_viewport_size(DESKTOP)
    page.goto(site["url"] + site["article"].get_absolute_url())
    page.emulate_media(media="print")
    printed = page.evaluate(PRINTED)
    assert not printed["header"] and not printed["footer"] and not printed["forms"] and not printed["nav"]
    assert printed["text"] == "rgb(0, 0, 0)" and printed["background"] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert "https://www.cls.cn/detail/12345" in printed["after"]


def test_an_article_page_sends_one_beacon_and_is_counted(site, page):
    article = site["article"]
    with page.expect_response(lambda response: response.url.endswith(f"/hit/{article.pk}/")) as answered:
        page.goto(site["url"] + article.get_absolute_url())
    assert answered.value.request.method == "POST" and answered.value.status == 204
    assert page.context.cookies() == []  # nothing set a cookie
    hot.flush_hits(time.time() + 120)
    assert ArticleHits.objects.get(article=article).count == 1


def test_the_hot_block_leaves_the_first_screen_to_the_newest_stories(site, page):
    for n, article in enumerate(site["articles"][:3]):
        ArticleHits.objects.create(article=article, hour=timezone.now().replace(minute=0, second=0, microsecond=0),
                                   count=10 - n)
    hot.refresh_hot(force=True)
    page.goto(site["url"] + "/")
    assert page.locator(".hot li").count() == 3
    assert page.evaluate(FIRST_SCREEN)["stories"] >= 5
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reading-home-phone.png"))


OPTIONS = "id => [...document.getElementById(id).options].map(o => o.value)"


def test_opening_the_filter_box_fills_the_tag_and_author_pickers_once(site, page):
    publish("草稿", tags=["未公开标签"], author="未公开作者", status="draft")
    choices = []
    page.on("request", lambda request: choices.append(request) if "/filters/choices/" in request.url else None)
    page.goto(site["url"] + "/")
    assert page.evaluate(OPTIONS, "filter-tags") == [] and choices == []  # nothing fetched before it is opened
    with page.expect_response(lambda response: "/filters/choices/" in response.url) as answered:
        page.locator(".filter-box summary").click()
    assert answered.value.status == 200
    page.wait_for_function("() => document.getElementById('filter-authors').options.length > 0")
    assert "券商" in page.evaluate(OPTIONS, "filter-tags")
    authors = page.evaluate(OPTIONS, "filter-authors")
    assert "财联社" in authors and "未公开作者" not in authors
    # Closed and opened again, or an input focused: no second request in this page view.
    page.locator(".filter-box summary").click()
    page.locator(".filter-box summary").click()
    page.locator("input[name=tag]").focus()
    page.wait_for_timeout(200)  # (a second request, if any, would be under way by now)
    assert len(choices) == 1
    # A picked (or typed) slug filters the listing.
    page.locator("input[name=tag]").fill("券商")
    page.locator(".filters button").click()
    page.wait_for_url("**/?*tag=*")
    assert page.locator(".card").count() >= 1
