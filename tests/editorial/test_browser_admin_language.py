"""#19 in a real browser: the admin screens an Author and an Editor use are Chinese, labelled, accessible.

Each screen is opened in Chromium (tests/browsers.py) with a zh-CN browser, and
everything a reader can meet on it is scanned — the text, tooltips (title),
names for screen readers (aria-label), images' alt text, placeholders and buttons — for English
that we ship or that the packages we configure ship (SHIPPED_ENGLISH: what these
screens showed before #19), and for Django's "<Model> object (N)" labels. The
body editor's block menu and its table dialog are opened first, so their
entries are scanned too. Article text itself (the editor's content) is not
scanned: it is the newsroom's, not ours. axe-core (node_modules, as in
tests/articles/test_accessibility.py) then checks the Editor's screens for
critical and serious violations.
"""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from articles.models import Article, ImportRun
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import PROJECT, SEEDS, chain, publish, staff

AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = BROWSER_TESTS

# What these screens showed in English before #19 (django-axes' and django-tasks' sections,
# the editor's menus and dialogs, the import history's labels and error lines, Django's
# hidden table headings), and words of the same kind. Case-sensitive, whole words (a Chinese
# help text may name a term, as "头信息（front matter）" does).
SHIPPED_ENGLISH = (
    "Access attempts", "Access failures", "Access logs", "Axes", "AXES", "Task Results", "Tasks Database Backend",
    "Old URLs", "Model name", "Add link", "Change or view list link",
    "Paragraph", "Heading", "heading", "bold", "italic", "underline", "strike", "subscript", "superscript",
    "insert link", "remove link", "blockquote", "horizontal rule", "ordered list", "unordered list", "figure",
    "Insert table", "Insert Table", "Delete table", "Add row", "Add column", "Delete row", "Delete column", "Merge cells",
    "Split cell", "Rows", "Columns", "Include header row", "Yes", "No", "Table Properties", "List properties", "Cancel",
    "Created", "Updated", "Unchanged", "Failed", "created", "updated", "unchanged", "failed",
    "kept local edits", "front matter:", "invalid YAML", "file is binary", "not a text post",
    "Save", "Delete", "History", "Search", "Filter", "Status", "Title", "Import",
)
ENGLISH = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in SHIPPED_ENGLISH) + r")(?!\w)")
OBJECT_LABEL = re.compile(r"\w+ object \(\d+\)")

# Everything on the page a reader can meet, but the newsroom's own text (the article body)
# and the icon font's ligature names ("format_bold" draws the bold icon).
READABLE = """() => {
  const skipped = (el) => el.closest(".ProseMirror, .material-icons, script, style, textarea, noscript");
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    const text = walker.currentNode.textContent.trim();
    if (text && parent && !skipped(parent)) found.push(text);
  }
  document.querySelectorAll("[title], [aria-label], [placeholder], img[alt], input[type=submit], input[type=button]")
    .forEach((el) => {
      if (el.closest(".ProseMirror")) return;
      for (const name of ["title", "aria-label", "placeholder", "alt"]) {
        if (el.getAttribute(name)) found.push(el.getAttribute(name));
      }
      if (el.type === "submit" || el.type === "button") found.push(el.value);
    });
  return found;
}"""


def shipped_english(page) -> list[str]:
    """The readable strings on the page holding English we ship, or an "object (N)" label."""
    return sorted({text for text in page.evaluate(READABLE) if ENGLISH.search(text) or OBJECT_LABEL.search(text)})


@pytest.fixture
def newsroom(live_server, run_import, tmp_path) -> dict:
    """Seeds, an import with failures, an Author's draft, and the three kinds of user."""
    assert run_import(SEEDS).exit_code == 0
    bad = tmp_path / "posts"
    bad.mkdir()
    (bad / "broken.md").write_text("---\ntitle: [broken\n---\n正文", encoding="utf-8")
    (bad / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (bad / "ok.md").write_text("---\ntitle: 新到的稿件\ndate: 2024-01-02 09:00\n---\n正文", encoding="utf-8")
    run_import(bad)
    writer, desk = staff("writer", "Authors"), staff("desk", "Editors")
    User.objects.create_superuser("boss", password="pw-boss-2024")
    draft = publish("作者自己的草稿", status=Article.Status.DRAFT, categories=[chain("金融", "财联社", "深度")],
                    created_by=writer)
    published = Article.objects.filter(status=Article.Status.PUBLISHED).exclude(pk=draft.pk).first()
    published.categories.add(chain("金融", "证券"))
    return {"url": live_server.url, "draft": draft, "published": published, "run": ImportRun.objects.latest()}


@pytest.fixture
def page(browser):
    # CSP bypassed only so that axe-core can be injected; the pages' own scripts need no bypass.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True)
    only_the_live_server(context)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, site: str, username: str) -> None:
    page.goto(f"{site}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-2024")
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")


def open_editor_menus(page) -> None:
    """The block-type menu opened (its entries are in the page either way) and the table dialog shown."""
    page.locator(".ProseMirror[contenteditable=true]").wait_for()
    page.locator(".prose-menubar__selected").first.click()
    page.locator(".ProseMirror[contenteditable=true]").click()
    page.locator(".prose-menubar__button", has_text="grid_on").first.click()
    page.locator("dialog.prose-editor-dialog[open]").wait_for()


def screens(newsroom: dict, *, editor: bool) -> dict[str, str]:
    article = newsroom["published"] if editor else newsroom["draft"]
    paths = {
        "index": reverse("admin:index"),
        "article list": reverse("admin:articles_article_changelist"),
        "add article": reverse("admin:articles_article_add"),
        "change article": reverse("admin:articles_article_change", args=[article.pk]),
        "article history": reverse("admin:articles_article_history", args=[article.pk]),
        "categories": reverse("admin:articles_category_changelist"),
        "tags": reverse("admin:taggit_tag_changelist"),
        "authors": reverse("admin:articles_author_changelist"),
    }
    if editor:
        paths |= {
            "import history": reverse("admin:articles_importrun_changelist"),
            "import run": reverse("admin:articles_importrun_change", args=[newsroom["run"].pk]),
            "upload": reverse("admin:articles_importrun_upload"),
            "delete article": reverse("admin:articles_article_delete", args=[article.pk]),
        }
    return paths


def english_on_screens(page, site: str, paths: dict[str, str]) -> dict[str, list[str]]:
    found = {}
    for name, path in paths.items():
        response = page.goto(site + path)
        assert response.status == 200, (name, response.status)
        if name in ("add article", "change article"):
            open_editor_menus(page)
        found[name] = shipped_english(page)
    return {name: texts for name, texts in found.items() if texts}


@pytest.mark.parametrize(("username", "editor"), [("writer", False), ("desk", True)])
def test_the_screens_hold_no_english_we_ship(newsroom, page, username, editor):
    log_in(page, newsroom["url"], username)
    found = english_on_screens(page, newsroom["url"], screens(newsroom, editor=editor))
    assert found == {}, "\n".join(f"{name}: {texts}" for name, texts in found.items())


def test_a_category_row_shows_its_path(newsroom, page):
    log_in(page, newsroom["url"], "writer")
    page.goto(newsroom["url"] + reverse("admin:articles_article_change", args=[newsroom["draft"].pk]))
    rows = page.locator("#articlecategory_set-group tr.has_original td.original p").all_inner_texts()
    assert "金融 › 财联社 › 深度" in rows


def test_a_superuser_finds_the_security_section_in_chinese(newsroom, page):
    log_in(page, newsroom["url"], "boss")
    section = page.locator(".app-axes")
    assert section.locator("caption").inner_text().strip() == "安全"
    assert section.get_by_role("link", name="登录尝试").count() == 1
    assert shipped_english(page) == []
    page.goto(newsroom["url"] + reverse("admin:axes_accessattempt_changelist"))
    assert shipped_english(page) == []


def test_an_english_reader_gets_the_editor_in_english(newsroom, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    only_the_live_server(context)
    page = context.new_page()
    try:
        page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
        log_in(page, newsroom["url"], "desk")
        page.goto(newsroom["url"] + reverse("admin:articles_article_change", args=[newsroom["published"].pk]))
        open_editor_menus(page)
        assert page.locator(".prose-menubar__button[title=bold]").count() == 1
        assert page.locator("dialog.prose-editor-dialog[open]").get_by_text("Include header row").count() == 1
    finally:
        context.close()


def test_the_block_menu_arrow_is_drawn_without_a_font(newsroom, page):
    log_in(page, newsroom["url"], "desk")
    page.goto(newsroom["url"] + reverse("admin:articles_article_add"))
    page.locator(".ProseMirror[contenteditable=true]").wait_for()
    arrow = page.locator(".prose-menubar__selected").first.evaluate(
        "el => getComputedStyle(el, '::after').content")
    assert arrow in ('""', "none", "normal"), arrow  # no character (the package's "⏷" has no glyph here)


@pytest.mark.skipif(not AXE.is_file() and not os.environ.get("CI"),
                    reason=f"axe-core not installed at {AXE} (make install runs npm ci; needs npm)")
def test_axe_finds_no_critical_or_serious_violation_on_the_editors_screens(newsroom, page):
    log_in(page, newsroom["url"], "desk")
    found = {}
    for name, path in screens(newsroom, editor=True).items():
        page.goto(newsroom["url"] + path)
        page.wait_for_load_state("load")  # the autocompletes have started
        page.wait_for_function(  # and the body editor, named by static/js/admin-labels.js
            "() => [...document.querySelectorAll('.ProseMirror[contenteditable]')].every(e => e.ariaLabel)")
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        blocking = [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
                    for v in results["violations"] if v["impact"] in ("critical", "serious")]
        if blocking:
            found[name] = blocking
    assert found == {}, "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)


def test_the_import_history_shows_status_and_failures_without_scrolling_sideways(newsroom, page):
    log_in(page, newsroom["url"], "desk")
    page.goto(newsroom["url"] + reverse("admin:articles_importrun_changelist"))
    visible = page.locator("#changelist .results").bounding_box()
    for column in ("run_status", "failed", "created"):
        cell = page.locator(f"#result_list tbody tr:first-child td.field-{column}")
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= visible["x"] + visible["width"], column
        lines = cell.evaluate("td => { const r = document.createRange(); r.selectNodeContents(td);"
                              " return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size; }")
        assert lines == 1, column  # "完成，部分文件出错" on one line, not four


def test_the_translated_table_dialog_still_inserts_a_header_row(newsroom, page):
    log_in(page, newsroom["url"], "desk")
    page.goto(newsroom["url"] + reverse("admin:articles_article_add"))
    open_editor_menus(page)
    dialog = page.locator("dialog.prose-editor-dialog[open]")
    dialog.locator("select").select_option(label="是")  # 包含表头行: "Yes", shown in Chinese
    dialog.get_by_role("button", name="插入表格").click()
    assert page.locator(".ProseMirror[contenteditable=true] table th").count() == 3
