"""A reader's walk through the site in a real browser (Playwright + Debian's Chromium).

Screenshots of the home and an article page, at desktop and phone widths, are
saved under tests/artifacts/ (git-ignored) for people to look at.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from articles.models import Article
from tests.browsers import ARTIFACTS, BROWSER_TESTS, only_the_live_server
from tests.factories import CORPUS, SEEDS

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = BROWSER_TESTS


@pytest.fixture
def site(live_server, run_import):
    run_import(SEEDS)
    if CORPUS.is_dir():
        run_import(CORPUS)
    article = Article.objects.get(title__startswith="涨停有因")
    article.tags.add("券商", "火山引擎")
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN")
    only_the_live_server(context)  # the articles' image CDNs are not reachable here
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and "net::ERR_FAILED" not in msg.text and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for label, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=False)
    page.set_viewport_size(VIEWPORTS["desktop"])


def test_reader_walks_the_site(site, page):
    page.goto(site + "/")
    # The front page's blocks: 要闻 (a lead story), the 快讯 wire with its times, the channel bar.
    assert page.locator(".lead-story h3 a").count() == 1
    assert page.locator(".channel-bar a").count() >= 1
    if CORPUS.is_dir():
        assert page.locator(".wire time").count() >= 1
    assert page.locator("li.card").count() == 20 if CORPUS.is_dir() else 2
    shoot(page, "home")

    # home → category
    page.goto(site + "/category/")
    page.get_by_role("link", name="深度", exact=True).first.click()
    assert unquote(page.url).endswith("/category/金融/财联社/深度/")
    assert page.locator("nav.breadcrumbs").inner_text().replace("\n", "").startswith("首页")

    # category → article
    page.get_by_role("link", name="涨停有因？华林证券又有新动作", exact=False).first.click()
    page.wait_for_load_state()
    assert "华林证券继续加码IT投入" in page.locator(".article-body").inner_text()
    assert page.locator(".article-body img").first.get_attribute("referrerpolicy") == "no-referrer"
    shoot(page, "article")

    # article → tag
    page.get_by_role("link", name="券商", exact=True).click()
    assert unquote(page.url).endswith("/tag/券商/")
    assert page.locator("li.card").count() >= 1

    # tag → archive
    page.get_by_role("link", name="归档").first.click()
    page.get_by_role("link", name="2022年").first.click()
    assert unquote(page.url).endswith("/archive/2022/")
    page.get_by_role("link", name="4月", exact=False).first.click()
    assert "华林证券" in page.content()

    assert page.console_errors == []


def test_search_from_the_header(site, page):
    page.goto(site + "/")
    page.get_by_placeholder("搜索新闻").fill("火山引擎")
    page.get_by_placeholder("搜索新闻").press("Enter")
    page.wait_for_load_state()
    assert "/search/" in page.url
    first = page.locator("li.card").first
    assert "华林证券" in first.inner_text()
    assert first.locator("mark").count() >= 1
    assert page.console_errors == []


def test_pages_work_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/search/?q=券商")
    assert page.locator("li.card").count() >= 1
    context.close()


def test_keyboard_users_can_skip_to_content(site, page):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "跳到正文"
