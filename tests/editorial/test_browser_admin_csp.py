"""The admin works in a real browser under the Content-Security-Policy.

Chromium reports every blocked script, style or image as a
`securitypolicyviolation` event; an init script (which the page's CSP does not
govern) records them, and the test fails on any.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from articles.models import Article, Category
from articles.slugs import SLUG_MAX_LENGTH, prepopulated_slug
from tests.browsers import BROWSER_TESTS

pytestmark = BROWSER_TESTS

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
    window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.fixture
def admin_page(browser, live_server):  # noqa: F811
    User.objects.create_superuser("chief", password="chief-password-2024")
    Category.objects.create(name="金融")
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.errors.append(msg.text))
    yield page, live_server.url
    context.close()


def violations(page) -> list[str]:
    return page.evaluate("window.__csp") + page.errors


def log_in(page, site: str) -> None:
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "chief-password-2024")
    page.click("input[type=submit]")
    page.wait_for_url(site + "/admin/")


def test_admin_login_add_article_autocomplete_and_save_under_the_csp(admin_page):
    page, site = admin_page
    log_in(page, site)
    assert violations(page) == []

    page.goto(site + "/admin/articles/article/add/")
    page.fill("#id_title", "浏览器里写的稿件")
    page.locator("#id_title").blur()
    # The slug is filled in by the admin's JavaScript: scripts run under the CSP.
    assert page.input_value("#id_slug") == "浏览器里写的稿件"
    page.click("#articlecategory_set-0 .select2-selection")  # select2 autocomplete, via fetch/XHR
    page.keyboard.type("金")
    page.locator(".select2-results__option", has_text="金融").click()
    page.locator(".ProseMirror[contenteditable=true]").click()  # the editor widget runs too
    page.keyboard.type("正文")
    page.click("input[name=_save]")
    page.wait_for_url(site + "/admin/articles/article/")
    assert "浏览器里写的稿件" in page.content()
    assert violations(page) == []


def test_a_slug_the_browser_fills_in_is_saved_by_the_sites_rule(admin_page):
    page, site = admin_page
    log_in(page, site)
    page.goto(site + "/admin/articles/article/add/")
    page.fill("#id_title", "沪指涨0.23% 创业板指跌-1.5%")
    page.locator("#id_title").blur()
    # Django's rule, in the browser (admin/js/urlify.js); the form knows it (articles.slugs.prepopulated_slug).
    assert page.input_value("#id_slug") == prepopulated_slug("沪指涨0.23% 创业板指跌-1.5%", SLUG_MAX_LENGTH)
    page.locator(".ProseMirror[contenteditable=true]").click()
    page.keyboard.type("正文")
    page.click("input[name=_save]")
    page.wait_for_url(site + "/admin/articles/article/")
    assert Article.objects.get().slug == "沪指涨0-23-pct-创业板指跌-minus-1-5-pct"
