"""The editor's desk on the admin's index and the article list's quick filters (editorial.desk), through HTTP."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ImportRun
from editorial.desk import desk_for
from tests.factories import changelist, html, publish, staff

pytestmark = pytest.mark.django_db


def today_earlier() -> dt.datetime:
    """A moment that has passed and is on today's Beijing date whatever the hour."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + (now - midnight) / 2


@pytest.fixture
def newsroom():
    """An Editor, an Author and an article in every state, owned by one or the other."""
    editor, author = staff("desk", "Editors"), staff("writer", "Authors")
    now = timezone.now()
    made = {
        "in review": publish("待审的稿件", status=Article.Status.REVIEW, created_by=author),
        "editor's draft": publish("编辑自己的草稿", status=Article.Status.DRAFT, created_by=editor),
        "author's draft": publish("作者自己的草稿", status=Article.Status.DRAFT, created_by=author),
        "in 3 hours": publish("三小时后发布", now + dt.timedelta(hours=3), created_by=editor),
        "in 2 days": publish("两天后发布", now + dt.timedelta(days=2), created_by=editor),
        "today": publish("今天发布的新闻", today_earlier()),
        "last year": publish("去年的旧闻", now - dt.timedelta(days=400)),
    }
    return editor, author, made


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def desk_section(page: str, key: str) -> str | None:
    """The HTML of one queue on the desk, or None if the desk has no such queue."""
    found = re.search(rf'<section class="module desk-queue" id="desk-{key}".*?</section>', page, re.S)
    return found.group(0) if found else None


def test_an_editors_desk_shows_each_queue_with_its_rows_and_links(newsroom):
    editor, _author, _made = newsroom
    page = html(logged_in(editor).get(reverse("admin:index")))

    review = desk_section(page, "review")
    assert "待审的稿件" in review and "编辑自己的草稿" not in review and "今天发布的新闻" not in review
    assert 'href="/admin/articles/article/?queue=review"' in review

    mine = desk_section(page, "mine")
    assert "编辑自己的草稿" in mine and "作者自己的草稿" not in mine
    scheduled = desk_section(page, "scheduled")
    assert "三小时后发布" in scheduled and "两天后发布" not in scheduled  # the desk: the next 24 hours
    recent = desk_section(page, "today")
    assert "今天发布的新闻" in recent and "去年的旧闻" in recent and "三小时后发布" not in recent
    assert 'href="/admin/articles/article/?queue=today"' in recent
    assert desk_section(page, "imports") is not None
    assert 'id="content-main"' in page  # the list of models stays, below the desk


def test_the_desks_counts_say_how_many_beyond_the_rows_shown(newsroom):
    editor, author, _made = newsroom
    for n in range(7):
        publish(f"排队待审 {n}", status=Article.Status.REVIEW, created_by=author)
    review = desk_section(html(logged_in(editor).get(reverse("admin:index"))), "review")
    assert review.count("<li>") == 5
    assert re.search(r'class="desk-count"[^>]*>.*?8</span>', review, re.S)


def test_an_authors_desk_has_their_own_drafts_and_no_review_queue_or_imports(newsroom):
    _editor, author, _made = newsroom
    page = html(logged_in(author).get(reverse("admin:index")))
    assert desk_section(page, "review") is None and desk_section(page, "imports") is None
    mine = desk_section(page, "mine")
    assert "作者自己的草稿" in mine and "编辑自己的草稿" not in mine
    assert "待审的稿件" not in desk_section(page, "mine")
    # Scheduled and published articles the author does not own are not theirs to see.
    assert "三小时后发布" not in page and "今天发布的新闻" not in page


def test_imports_with_failures_are_on_the_desk_and_the_history_filters_them(newsroom):
    editor, _author, _made = newsroom
    common = {"origin": ImportRun.Origin.COMMAND, "time_zone": "Asia/Shanghai", "finished_at": timezone.now()}
    failed = ImportRun.objects.create(status=ImportRun.Status.WITH_ERRORS, failed=3, sources=["坏文件夹/"], **common)
    crashed = ImportRun.objects.create(status=ImportRun.Status.FAILED, sources=["崩溃的导入/"], **common)
    fine = ImportRun.objects.create(status=ImportRun.Status.SUCCEEDED, created=5, sources=["好文件夹/"], **common)
    client = logged_in(editor)
    imports = desk_section(html(client.get(reverse("admin:index"))), "imports")
    for run in (failed, crashed):
        assert reverse("admin:articles_importrun_change", args=[run.pk]) in imports
    assert reverse("admin:articles_importrun_change", args=[fine.pk]) not in imports
    assert 'href="/admin/articles/importrun/?failures=1"' in imports

    history = html(client.get(changelist("importrun"), {"failures": "1"}))
    assert "坏文件夹/" in history and "崩溃的导入/" in history and "好文件夹/" not in history


@pytest.mark.parametrize("queue, shown, hidden", [
    ("mine", {"编辑自己的草稿"}, {"作者自己的草稿", "待审的稿件", "今天发布的新闻"}),
    ("review", {"待审的稿件"}, {"编辑自己的草稿", "今天发布的新闻"}),
    ("scheduled", {"三小时后发布", "两天后发布"}, {"今天发布的新闻", "编辑自己的草稿"}),
    ("today", {"今天发布的新闻"}, {"去年的旧闻", "三小时后发布", "待审的稿件"}),
])
def test_the_quick_filters_list_their_queue(newsroom, queue, shown, hidden):
    editor, _author, _made = newsroom
    page = html(logged_in(editor).get(changelist("article"), {"queue": queue}))
    assert all(title in page for title in shown), queue
    assert not any(title in page for title in hidden), queue
    assert f'href="?queue={queue}"' in page or f'href="/admin/articles/article/?queue={queue}"' in page


def test_an_author_is_offered_no_review_queue_and_their_drafts_are_their_own(newsroom):
    _editor, author, _made = newsroom
    client = logged_in(author)
    page = html(client.get(changelist("article")))
    assert "?queue=mine" in page and "?queue=review" not in page
    mine = html(client.get(changelist("article"), {"queue": "mine"}))
    assert "作者自己的草稿" in mine and "编辑自己的草稿" not in mine and "待审的稿件" not in mine


def test_the_list_shows_50_rows_a_page_with_one_line_status_badges(newsroom):
    editor, _author, _made = newsroom
    for n in range(50):
        publish(f"批量稿件 {n:02d}", timezone.now() - dt.timedelta(days=3, minutes=n))
    page = html(logged_in(editor).get(changelist("article")))
    assert len(re.findall(r'<td class="action-checkbox">', page)) == 50
    assert '<span class="status-badge status-scheduled">' in page
    assert '<span class="status-badge status-review">' in page


def test_the_desk_reads_few_rows_in_few_queries(newsroom, django_assert_max_num_queries):
    editor, author, _made = newsroom
    now = timezone.now()
    for n in range(6):  # every queue fuller than the desk shows: a count query each
        publish(f"待审 {n}", status=Article.Status.REVIEW, created_by=author)
        publish(f"草稿 {n}", status=Article.Status.DRAFT, created_by=editor)
        publish(f"定时 {n}", now + dt.timedelta(hours=1, minutes=n))
        publish(f"今日 {n}", today_earlier() - dt.timedelta(seconds=n))
        ImportRun.objects.create(origin=ImportRun.Origin.COMMAND, time_zone="Asia/Shanghai", failed=1,
                                 status=ImportRun.Status.WITH_ERRORS)
    request = RequestFactory().get("/admin/")
    request.user = editor
    editor.has_perm("articles.view_importrun")  # the index has loaded the user's permissions already
    with django_assert_max_num_queries(10):
        lists = desk_for(request)
    assert [(d.key, len(d.rows)) for d in lists] == [
        ("review", 5), ("mine", 5), ("scheduled", 5), ("today", 5), ("imports", 5)]
    assert [d.count for d in lists] == [7, 7, 7, lists[3].count, 6] and lists[3].count >= 6
