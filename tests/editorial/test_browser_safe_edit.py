"""No lost work, in a real browser (zh-hans): local drafts, the conflict of two saves, the preview beside the form.

An Author writes, saves, leaves and comes back (the kept draft is offered, never
applied unasked), reloads with unsaved edits, submits for review; an Editor
publishes it from the review queue and it is on the site. Two editors save the
same article; the second sees what the first changed and keeps their text. The
preview beside the form shows the unsaved title and body as the public page does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from articles.models import Article
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import chain, staff

pytestmark = BROWSER_TESTS

DRAFT_KEYS = "() => Object.keys(localStorage).filter(k => k.startsWith('newsportal:draft:'))"
ANY_DRAFT = "() => Object.keys(localStorage).some(k => k.startsWith('newsportal:draft:'))"


def new_page(browser, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    only_the_live_server(context)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.dialogs = []

    def answer(dialog):  # "leave the page?": recorded, then left
        page.dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    return page


def log_in(page, site: str, username: str, then: str) -> None:
    page.goto(f"{site}/admin/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-2024")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{then}")


def type_body(page, text: str) -> None:
    editor = page.locator(".ProseMirror[contenteditable=true]")
    editor.wait_for()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def drafts(page) -> list[str]:
    """The kept drafts' keys, once the page's scripts have run (they settle a save on DOMContentLoaded)."""
    page.wait_for_load_state("load")
    return page.evaluate(DRAFT_KEYS)


def kept(page) -> None:
    """Wait until the draft of what was typed is in localStorage (kept half a second after the last key)."""
    page.wait_for_function(ANY_DRAFT)  # a function, not a string to eval: the CSP forbids eval
    page.wait_for_timeout(700)  # the last keys' copy


@pytest.fixture
def people(live_server):
    return live_server.url, staff("writer", "Authors"), staff("desk", "Editors")


def test_an_authors_draft_survives_leaving_and_reloading_then_an_editor_publishes_it(people, browser):
    site, writer, _desk = people
    chain("金融", "证券")
    page = new_page(browser)
    add = "/admin/articles/article/add/"
    log_in(page, site, "writer", add)
    assert page.locator("#local-draft").is_hidden()  # nothing kept yet: nothing offered
    page.fill("#id_title", "券商板块午后拉升")
    type_body(page, "第一版正文。")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    article = Article.objects.get(title="券商板块午后拉升")
    assert article.created_by == writer and drafts(page) == []
    change = f"/admin/articles/article/{article.pk}/change/"

    # Write, then leave without saving: the browser asks first; the text is kept.
    page.goto(site + change)
    page.fill("#id_title", "券商板块午后大幅拉升")
    type_body(page, "改写后尚未保存的正文。")
    kept(page)
    page.goto(f"{site}/admin/articles/article/")
    assert page.dialogs == ["beforeunload"]

    # Coming back: offered, not applied.
    page.goto(site + change)
    banner = page.locator("#local-draft")
    banner.wait_for(state="visible")
    assert "本浏览器保留了尚未保存的修改" in banner.inner_text() and "本机保存于" in banner.inner_text()
    assert page.input_value("#id_title") == "券商板块午后拉升"
    banner.get_by_role("button", name="恢复").click()
    assert banner.is_hidden()
    assert page.input_value("#id_title") == "券商板块午后大幅拉升"
    assert "改写后尚未保存的正文。" in page.locator(".ProseMirror[contenteditable=true]").inner_text()

    # A reload with unsaved edits (a crash is the same, minus the question): offered again, restored.
    page.fill("#id_title", "券商板块午后大幅拉升，成交放量")
    kept(page)
    page.reload()
    banner.wait_for(state="visible")
    assert page.input_value("#id_title") == "券商板块午后拉升"
    banner.get_by_role("button", name="恢复").click()
    assert page.input_value("#id_title") == "券商板块午后大幅拉升，成交放量"

    # Submitted for review: saved, and the kept copy is gone. Submitting asks nothing.
    dialogs = len(page.dialogs)
    page.select_option("#id_status", "review")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert len(page.dialogs) == dialogs and drafts(page) == []
    article.refresh_from_db()
    assert (article.title, article.status) == ("券商板块午后大幅拉升，成交放量", "review")
    assert "改写后尚未保存的正文。" in article.body
    page.goto(site + change)
    assert page.locator("#local-draft").is_hidden()
    assert page.console_errors == []
    page.context.close()

    # The Editor finds it on the desk's review queue, publishes it from the queue; it is on the site.
    desk = new_page(browser)
    log_in(desk, site, "desk", "/admin/")
    review = desk.locator("#desk-review")
    assert "券商板块午后大幅拉升，成交放量" in review.inner_text()
    review.locator("h3 a").click()
    desk.wait_for_url("**/admin/articles/article/?queue=review")
    desk.get_by_role("link", name="券商板块午后大幅拉升，成交放量").click()
    desk.wait_for_url(f"**{change}?_changelist_filters=*")  # the queue's filter kept
    desk.select_option("#id_status", "published")
    desk.fill("#id_published_at_0", timezone.localtime(timezone.now() - dt.timedelta(minutes=5)).strftime("%Y-%m-%d"))
    desk.fill("#id_published_at_1", timezone.localtime(timezone.now() - dt.timedelta(minutes=5)).strftime("%H:%M:%S"))
    desk.click("input[name=_save]")
    desk.wait_for_selector(".messagelist .success")
    article.refresh_from_db()
    assert article.is_published
    desk.goto(site + article.get_absolute_url())
    assert desk.locator("h1").inner_text() == "券商板块午后大幅拉升，成交放量"
    assert "改写后尚未保存的正文。" in desk.locator(".article-body").inner_text()
    assert desk.console_errors == []
    desk.context.close()


def test_the_second_of_two_saves_shows_what_changed_and_keeps_its_text(people, browser):
    site, _writer, _desk = people
    staff("night", "Editors")
    article = Article.objects.create(title="原标题", body="<p>原正文。</p>",
                                     published_at=timezone.now() - dt.timedelta(hours=1))
    change = f"/admin/articles/article/{article.pk}/change/"
    first, second = new_page(browser), new_page(browser)
    log_in(first, site, "night", change)
    log_in(second, site, "desk", change)

    first.fill("#id_title", "夜班改过的标题")
    first.click("input[name=_save]")
    first.wait_for_selector(".messagelist .success")

    type_body(second, "白班写的正文。")
    second.click("input[name=_save]")
    conflict = second.locator(".edit-conflict")
    conflict.wait_for()
    assert "其他人已保存了这篇文章" in second.locator(".errorlist.nonfield").inner_text()
    assert "night" in conflict.inner_text() and "夜班改过的标题" in conflict.inner_text()
    assert "白班写的正文。" in second.locator(".ProseMirror[contenteditable=true]").inner_text()  # their text stays
    # Kept in this browser too, under the version the form is now based on.
    article.refresh_from_db()
    assert drafts(second) == [f"newsportal:draft:article:{article.pk}:v{article.version}"]

    second.click("input[name=_save]")  # having looked
    second.wait_for_selector(".messagelist .success")
    article.refresh_from_db()
    assert article.body == "<p>白班写的正文。</p>" and drafts(second) == []
    assert first.console_errors == [] and second.console_errors == []
    first.context.close()
    second.context.close()


def test_the_preview_opens_beside_the_form_and_shows_the_unsaved_text(people, browser):
    site, _writer, _desk = people
    article = Article.objects.create(title="预览前的标题", body="<p>预览前的正文。</p>",
                                     published_at=timezone.now() - dt.timedelta(hours=1))
    article.categories.add(chain("金融", "证券"))
    change = f"/admin/articles/article/{article.pk}/change/"
    page = new_page(browser)
    log_in(page, site, "desk", change)
    panel = page.locator("#article-preview-panel")
    assert panel.is_hidden()
    page.get_by_role("button", name="并排预览").click()
    panel.wait_for(state="visible")
    frame = page.frame_locator("iframe[name=article-preview]")
    assert frame.locator("h1").inner_text() == "预览前的标题"

    # Beside the form: the panel on the right, the form still on the left, both in view.
    box, form = panel.bounding_box(), page.locator("#article_form").bounding_box()
    assert box["x"] >= form["x"] + form["width"] - 1 and box["x"] + box["width"] <= 1280

    page.fill("#id_title", "预览里的新标题")
    type_body(page, "还没保存的新正文。")
    frame.locator("h1", has_text="预览里的新标题").wait_for()
    assert "还没保存的新正文。" in frame.locator(".article-body").inner_text()
    assert "证券" in frame.locator("nav.breadcrumbs").inner_text()  # the public page's breadcrumb

    assert frame.locator("nav.breadcrumbs a").first.get_attribute("target") == "_blank"  # links leave the frame
    iframe = page.locator("iframe[name=article-preview]")
    assert iframe.evaluate("f => f.getBoundingClientRect().width") < 1280  # the desktop page, scaled in
    assert iframe.evaluate("f => f.style.width") == "1280px"
    page.get_by_role("button", name="手机").click()
    assert iframe.evaluate("f => f.style.width") == "390px"
    page.get_by_role("button", name="关闭").click()
    assert panel.is_hidden()

    article.refresh_from_db()
    assert article.title == "预览前的标题"  # the preview saved nothing
    assert page.console_errors == []
    page.context.close()
