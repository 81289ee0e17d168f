"""#19: what an editor reads in the admin is Chinese, and every row is labelled by what it is.

The security section (django-axes) is 安全 and shown to superusers alone; import
runs label their counts as counts, put status and failures first, link the
articles they wrote and show their error lines in the reader's language; rows
are named by their content ("金融 › 财联社 › 深度"), never "ArticleCategory object (4)".
The browser-side part (the body editor's menus, a scan of whole pages) is
tests/editorial/test_browser_admin_language.py.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from articles.models import Article, ImportRun
from tests.factories import chain, change_url, changelist, html, publish, staff

pytestmark = pytest.mark.django_db

OBJECT_LABEL = re.compile(r"\w+ object \(\d+\)")


def test_the_security_section_is_chinese_and_for_superusers_only(editor, client):
    index = editor.get(reverse("admin:index")).content.decode()
    assert "安全" in index and "登录尝试" in index and "登录失败" in index and "登录记录" in index
    assert "Access attempts" not in index and "Axes" not in index and "AXES" not in index
    # after the newsroom's own sections
    assert index.index("文章管理") < index.index("安全")

    attempts = editor.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "尝试时间" in attempts and "Attempt Time" not in attempts

    desk = staff("desk", "Editors")
    # Even given django-axes' permissions, an Editor does not see its records.
    desk.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    client.force_login(desk)
    assert "登录尝试" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert client.get(reverse("admin:axes_accesslog_changelist")).status_code == 403


def test_the_task_results_section_has_a_chinese_name(editor):
    index = editor.get(reverse("admin:index")).content.decode()
    assert "后台任务" in index and "任务结果" in index
    assert "Tasks Database Backend" not in index and "Task Results" not in index


def test_the_index_tables_hidden_headings_are_chinese(editor):
    index = editor.get(reverse("admin:index")).content.decode()
    assert "模型名称" in index and "Model name" not in index


def test_a_category_row_on_the_article_form_shows_its_path(editor):
    article = publish("券商板块午后拉升", categories=[chain("金融", "财联社", "深度")])
    page = editor.get(change_url(article)).content.decode()
    assert "金融 › 财联社 › 深度" in page
    assert not OBJECT_LABEL.search(page), OBJECT_LABEL.search(page).group(0)


def test_the_delete_confirmation_names_every_row(editor):
    article = publish("券商板块午后拉升", categories=[chain("金融", "证券")], tags=["券商"])
    article.slug = article.slug + "-new"
    article.save()  # an old address that now redirects
    page = editor.get(reverse("admin:articles_article_delete", args=[article.pk])).content.decode()
    assert "金融 › 证券" in page and "文章旧地址" in page
    assert not OBJECT_LABEL.search(page), OBJECT_LABEL.search(page).group(0)


@pytest.fixture
def finished_run(run_import, write_post, tmp_path) -> ImportRun:
    write_post("new.md", "---\ntitle: 新的稿件\ndate: 2024-01-02 09:00\n---\n正文")
    write_post("broken.md", "---\ntitle: [broken\n---\n正文")
    run_import(tmp_path)
    write_post("new.md", "---\ntitle: 新的稿件\ndate: 2024-01-02 09:00\n---\n改过的正文")  # an update
    write_post("second.md", "---\ntitle: 第二篇\ndate: 2024-01-03 09:00\n---\n正文")
    run_import(tmp_path)
    return ImportRun.objects.latest()


def test_the_run_page_labels_counts_links_articles_and_shows_failures_in_chinese(editor, finished_run):
    page = editor.get(reverse("admin:articles_importrun_change", args=[finished_run.pk])).content.decode()
    updated, created = Article.objects.get(title="新的稿件"), Article.objects.get(title="第二篇")
    assert f'href="{change_url(created)}"' in page and f'href="{change_url(updated)}"' in page
    # the created article under 新建, the updated one under 更新
    assert page.index("新建 (1)") < page.index("第二篇") < page.index("更新 (1)") < page.index("新的稿件")
    assert "失败的文件" in page and "broken.md：文章头信息：第 3 行 YAML 无效" in page
    assert "invalid YAML" not in page
    # the failures come before how the run was made
    assert page.index("失败的文件") < page.index("来源文件")
    labels = re.findall(r'<label>([^<]*):</label>', page)
    assert {"新建", "更新", "未变", "保留本地修改", "失败"} <= set(labels)
    assert "创建时间" not in labels and "更新时间" not in labels

    english = editor.get(reverse("admin:articles_importrun_change", args=[finished_run.pk]),
                         HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "broken.md: front matter: invalid YAML at line 3" in english


def test_the_run_progress_json_has_the_translated_errors(editor, finished_run):
    state = editor.get(reverse("admin:articles_importrun_progress", args=[finished_run.pk])).json()
    assert any("文章头信息" in line for line in state["errors"])


def test_the_history_puts_status_and_failures_first_and_labels_counts(editor, finished_run):
    page = html(editor.get(changelist("importrun")))
    headings = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headings[:4] == ["started_at", "run_status", "failed", "created"], headings
    for label in ("新建", "更新", "未变", "保留本地修改", "失败"):
        assert f">{label}<" in page, label
    assert "创建时间" not in page and "更新时间" not in page


def test_a_dry_run_links_no_articles(run_import, write_post, tmp_path):
    write_post("a.md", "---\ntitle: 试一试\ndate: 2024-01-02\n---\n正文")
    run_import("--dry-run", tmp_path)
    assert ImportRun.objects.latest().written == []


def test_the_editor_scripts_catalogue_has_the_menus_chinese(editor):
    catalogue = editor.get(reverse("admin:jsi18n")).content.decode()
    for text in ("加粗", "插入链接", "2 级标题", "正文段落", "插入表格", "替代文字"):
        assert json.dumps(text)[1:-1] in catalogue, text  # the catalogue is JSON, non-ASCII escaped
    english = editor.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert json.dumps("加粗")[1:-1] not in english


def test_the_body_editor_loads_its_translations_and_arrow(editor):
    page = editor.get(reverse("admin:articles_article_add")).content.decode()
    assert "js/admin-editor-i18n.js" in page and "css/admin-editor.css" in page
    assert page.index("jsi18n") < page.index("js/admin-editor-i18n.js")  # window.gettext is there first


def test_cleaning_up_attempts_says_so_in_chinese(editor):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1", user_agent="x",
                                           http_accept="*/*", path_info="/admin/login/", get_data="",
                                           post_data="", failures_since_start=1)
    response = editor.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]}, follow=True)
    assert "条过期的登录尝试。" in response.content.decode()
