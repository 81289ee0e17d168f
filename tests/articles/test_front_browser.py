"""The front page, the wire and the channel bar in a real browser (Playwright + Debian's Chromium).

At a phone's (390×844) and a desktop's (1280×900) size, every request but the live
server's failing: the front page's blocks are there, the wire shows its times, the
channel bar scrolls sideways on a phone while the page never does.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from articles.models import HeadlineSlot
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import chain, publish

pytestmark = BROWSER_TESTS

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
CHANNELS = ["金融", "科技", "证券", "基金", "期货", "宏观", "公司", "海外", "地产", "汽车", "能源", "消费"]


@pytest.fixture
def site(live_server) -> str:
    now = timezone.now()
    for n, name in enumerate(CHANNELS):
        for k in range(3):
            publish(f"{name}频道的报道{k}", now - dt.timedelta(hours=n * 3 + k + 5), categories=[chain(name)],
                    thumbnail=f"https://cdn.example.com/{n}-{k}.jpg")
    wire = chain("金融", "财联社", "电报")
    for n in range(10):
        publish(f"电报{n}", now - dt.timedelta(minutes=10 * n + 1), categories=[wire],
                body=f"<p>【第{n}条快讯的标题】财联社电，快讯正文内容。</p>")
    lead = publish("编辑选定的头条新闻", now - dt.timedelta(days=2), categories=[chain("科技")],
                   thumbnail="https://cdn.example.com/lead.jpg")
    HeadlineSlot.objects.create(position=0, article=lead)
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN")
    only_the_live_server(context)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_front_page_blocks_and_the_channel_bar(site, page, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(site + "/")
    assert page.locator(".lead-story h3").inner_text() == "编辑选定的头条新闻"
    assert page.locator(".headlines li").count() == 4
    times = page.locator(".wire-column time").all_inner_texts()
    # HH:MM, under the day where it changes (the first item's included).
    assert len(times) == 8 and all(re.fullmatch(r"(\d+月\d+日\s*)?\d\d:\d\d", t) for t in times), times
    assert re.fullmatch(r"\d+月\d+日\s*\d\d:\d\d", times[0]), times
    assert page.locator(".wire-column a").first.inner_text() == "第0条快讯的标题"
    assert page.locator(".channel-section").count() >= 1
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    bar = page.locator(".channel-bar ul")
    overflowing = bar.evaluate("el => el.scrollWidth > el.clientWidth")
    if viewport == "phone":
        # Twelve channels do not fit a phone: the bar scrolls sideways by itself, on one line.
        assert overflowing
        assert bar.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        heights = {round(box["y"]) for box in bar.locator("a").evaluate_all(
            "links => links.map(a => a.getBoundingClientRect())")}
        assert len(heights) == 1, heights
    page.locator(".wire-column .more a").click()
    page.wait_for_url("**/wire/")
    assert page.locator(".wire-page li").count() == 10
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_the_current_channel_is_marked(site, page):
    page.goto(site + "/category/%E7%A7%91%E6%8A%80/")
    current = page.locator(".channel-bar a[aria-current]")
    assert current.count() == 1 and current.inner_text() == "科技"
    assert current.get_attribute("aria-current") == "page"
    page.locator(".card h2 a").first.click()
    page.wait_for_load_state()
    assert page.locator(".channel-bar a[aria-current='true']").inner_text() == "科技"
