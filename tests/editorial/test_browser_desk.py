"""The desk, the article list and the edit form as an Editor sees them: Chromium at 1280×900, in Chinese (issue 19).

Through Playwright (tests/browsers.py), on the live server: the desk's queues,
one-line status badges and titles of at most two lines in the list, and the
edit form's layout (a full-width title, a body editor at least 400 px high
whose toolbar stays in view, tags and categories beside the text).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import chain, publish, staff

pytestmark = BROWSER_TESTS

# Titles as long as the wire's: 24 to 34 characters.
TITLES = [
    "中国神华21.94亿元合作落地，意在深度布局数据中台？",
    "科大讯飞2月归母净利润同比增长158.4% 高股息板块午后走强",
    "“信息技术服务”之战升级：东北证券与百度牵手背后，券商数字化转型再提速",
    "工商银行拟定增募资不超过9849亿元 投向资管业务",
]
LONG_BODY = "".join(f"<p>第{n}段：北向资金今日净买入，券商板块午后拉升，市场情绪明显回暖。</p>" for n in range(60))


@pytest.fixture
def newsroom(live_server):
    editor = staff("desk", "Editors")
    author = staff("writer", "Authors")
    now = timezone.now()
    deep = chain("金融", "财联社", "深度")
    for title in TITLES:
        publish(title, now - dt.timedelta(hours=2), categories=[deep], author="财联社")
    review = publish("待审：券商板块午后拉升", status=Article.Status.REVIEW, created_by=author, author="财联社")
    draft = publish("编辑的草稿：北向资金净买入", status=Article.Status.DRAFT, created_by=editor,
                    body=LONG_BODY, categories=[deep], tags=["券商"])
    publish("作者的草稿不在编辑的草稿里", status=Article.Status.DRAFT, created_by=author)
    publish("三小时后发布的快讯", now + dt.timedelta(hours=3), author="财联社")
    return live_server.url, review, draft


@pytest.fixture
def page(browser, newsroom):
    site = newsroom[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    only_the_live_server(context)
    page = context.new_page()
    page.goto(f"{site}/admin/login/")
    page.fill("#id_username", "desk")
    page.fill("#id_password", "pw-desk-2024")
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")
    yield page
    context.close()


def test_the_desk_shows_the_queues_with_their_rows(newsroom, page):
    review = page.locator("#desk-review")
    assert "待审：券商板块午后拉升" in review.inner_text() and "审核中" in review.inner_text()
    mine = page.locator("#desk-mine").inner_text()
    assert "编辑的草稿：北向资金净买入" in mine and "作者的草稿不在编辑的草稿里" not in mine
    assert "三小时后发布的快讯" in page.locator("#desk-scheduled").inner_text()
    assert TITLES[0] in page.locator("#desk-today").inner_text()
    assert page.locator("#desk-imports").is_visible()
    # A queue's heading opens the list filtered to it.
    page.locator("#desk-review h3 a").click()
    page.wait_for_url("**/admin/articles/article/?queue=review")
    assert page.locator("#result_list tbody tr").count() == 1


def lines_of(locator) -> int:
    """How many lines an inline element's text takes (one client rect per line)."""
    return locator.evaluate("el => new Set([...el.getClientRects()].map(r => Math.round(r.top))).size")


def test_the_list_keeps_badges_on_one_line_and_titles_on_two(newsroom, page):
    site = newsroom[0]
    page.goto(f"{site}/admin/articles/article/")
    badges = page.locator("#result_list .status-badge")
    assert badges.count() == 8
    published = page.locator("#result_list .status-badge.status-published").first
    assert published.inner_text() == "已发布"
    for i in range(badges.count()):
        assert lines_of(badges.nth(i)) == 1
    titles = page.locator("#result_list .field-title a")
    assert titles.count() == 8
    for i in range(titles.count()):
        assert lines_of(titles.nth(i)) <= 2, titles.nth(i).inner_text()
    # The quick filters are above the list.
    assert page.locator(".quick-filters a").all_inner_texts()[1:] == ["我的草稿", "待审核", "定时发布", "今日发布"]


def test_the_edit_form_gives_the_text_room_and_puts_tags_and_categories_beside_it(newsroom, page):
    site, _review, draft = newsroom
    page.goto(f"{site}/admin/articles/article/{draft.pk}/change/")
    editor = page.locator(".field-body .ProseMirror[contenteditable=true]")
    editor.wait_for()

    title = page.locator("#id_title").bounding_box()
    head = page.locator("fieldset.article-head").bounding_box()
    assert title["width"] >= 0.6 * head["width"]
    assert title["x"] + title["width"] >= head["x"] + head["width"] - 40  # to the fieldset's right edge

    body = editor.bounding_box()
    assert body["height"] >= 400
    for side in ("fieldset.article-tags", "#articlecategory_set-group"):
        box = page.locator(side).bounding_box()
        assert box["x"] >= body["x"] + body["width"], side  # to the right of the body
        assert box["y"] < body["y"] + body["height"], side  # beside it, not below

    # Scrolled into the middle of a long body, the toolbar is still in view at the top.
    page.mouse.wheel(0, body["y"] + 900)
    page.wait_for_function("() => window.scrollY > 900")
    toolbar = page.locator(".field-body .prose-menubar").bounding_box()
    assert 0 <= toolbar["y"] <= 5 and toolbar["height"] > 20
    assert page.evaluate("() => document.querySelector('.field-body .ProseMirror[contenteditable=true]').getBoundingClientRect().top") < 0
