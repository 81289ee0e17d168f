"""An editor's day in a real browser: log in, write in the editor widget, publish, see it live.

Drives Debian's Chromium through Playwright (tests/browsers.py). The admin's change
page is saved as tests/artifacts/admin-article.png (docs/screenshots/admin-article.png
is a copy).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from articles.models import Article
from tests.browsers import ARTIFACTS, BROWSER_TESTS, only_the_live_server
from tests.factories import chain, editorial_group

pytestmark = BROWSER_TESTS

TYPED = "编辑在浏览器里写下的新正文"
BOLD = "重点句子"


def editors_group() -> Group:
    return editorial_group("Editors")


@pytest.fixture
def draft_on_the_live_server(live_server):
    editor = User.objects.create_user("desk", password="desk-password-1", is_staff=True)
    editor.groups.add(editors_group())
    draft = Article.objects.create(
        title="券商板块午后拉升", body="<p>导入的旧正文</p>", status=Article.Status.DRAFT,
        published_at=timezone.now() - dt.timedelta(hours=1),
    )
    draft.categories.add(chain("金融", "证券"))
    draft.tags.add("券商")
    return live_server.url, draft


@pytest.fixture
def page(browser):  # noqa: F811  (the shared fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    only_the_live_server(context)  # the editor must need no CDN
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def test_editor_writes_in_the_widget_publishes_and_the_public_sees_it(draft_on_the_live_server, page):
    site, draft = draft_on_the_live_server
    change_url = f"/admin/articles/article/{draft.pk}/change/"
    page.goto(f"{site}/admin/login/?next={change_url}")
    page.fill("#id_username", "desk")
    page.fill("#id_password", "desk-password-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{change_url}")

    editor = page.locator(".ProseMirror[contenteditable=true]")
    editor.wait_for()
    assert page.locator("textarea#id_body").is_hidden()  # no HTML to type
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(TYPED)
    page.keyboard.press("Enter")
    page.keyboard.press("Control+B")
    page.keyboard.type(BOLD)
    page.keyboard.press("Control+B")
    page.select_option("#id_status", "published")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-article.png"), full_page=False)

    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    draft.refresh_from_db()
    assert draft.status == Article.Status.PUBLISHED
    assert TYPED in draft.body and f"<strong>{BOLD}</strong>" in draft.body
    assert "导入的旧正文" not in draft.body

    page.goto(site + draft.get_absolute_url())
    body = page.locator(".article-body")
    assert TYPED in body.inner_text() and body.locator("strong").inner_text() == BOLD
    page.goto(site + "/")
    assert page.get_by_role("link", name="券商板块午后拉升").count() >= 1

    # the save is a revision the editor can browse
    page.goto(f"{site}/admin/articles/article/{draft.pk}/history/")
    assert "desk" in page.locator("#change-history").inner_text()
    assert page.console_errors == []
