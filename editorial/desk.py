"""The editor's desk: the admin's index as a set of work queues, and the article list's quick filters.

One definition of each queue (`queue_articles`), used by the article list's
quick filter (`?queue=mine|review|scheduled|today`, QueueFilter) and by the
desk on the admin's index (`desk_for`), whose lists link to that filter. So a
desk count and the list it links to always agree.

The desk's queries are few (a count and five rows a queue) and each is an
index range: status with the publication time (article_status_published_idx,
article_status_day_idx), the owner's foreign key, the run's start time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from articles.models import Article, ImportRun, local_date
from articles.permissions import can_publish, visible_to

QUEUE_PARAMETER = "queue"
DESK_ROWS = 5
SCHEDULED_WINDOW = dt.timedelta(hours=24)  # the desk shows what goes live within a day
FAILURES_PARAMETER = "failures"
DESK_FIELDS = ("id", "title", "status", "published_at", "author__name")


class Queue:
    MINE = "mine"
    REVIEW = "review"
    SCHEDULED = "scheduled"
    TODAY = "today"

    LABELS = {
        MINE: _("My drafts"),
        REVIEW: _("Awaiting review"),
        SCHEDULED: _("Scheduled"),
        TODAY: _("Published today"),
    }


def queues_for(user) -> list[str]:
    """The quick filters this user is offered: the review queue is the Editors' (who may publish)."""
    if can_publish(user):
        return [Queue.MINE, Queue.REVIEW, Queue.SCHEDULED, Queue.TODAY]
    return [Queue.MINE, Queue.SCHEDULED, Queue.TODAY]


def queue_articles(queue: str, user, queryset: QuerySet[Article], now: dt.datetime | None = None
                   ) -> QuerySet[Article]:
    """The articles of one queue, from `queryset` (already limited to what `user` may see)."""
    now = now or timezone.now()
    if queue == Queue.MINE:
        return queryset.filter(created_by=user, status=Article.Status.DRAFT)
    if queue == Queue.REVIEW:
        return queryset.filter(status=Article.Status.REVIEW)
    if queue == Queue.SCHEDULED:
        return queryset.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
    if queue == Queue.TODAY:
        return queryset.filter(Article.published_q(), published_date=local_date(now))
    raise ValueError(f"no such queue: {queue}")


def queue_url(queue: str) -> str:
    return reverse("admin:articles_article_changelist") + "?" + urlencode({QUEUE_PARAMETER: queue})


class QueueFilter(admin.SimpleListFilter):
    """The article list's quick filters; the desk's lists link to them."""

    title = _("quick filters")
    parameter_name = QUEUE_PARAMETER

    def lookups(self, request, model_admin):
        return [(queue, Queue.LABELS[queue]) for queue in queues_for(request.user)]

    def queryset(self, request, queryset):
        if self.value() in queues_for(request.user):
            return queue_articles(self.value(), request.user, queryset)
        return queryset


def failed_runs(queryset: QuerySet[ImportRun]) -> QuerySet[ImportRun]:
    """Import runs that did not import everything: files failed, or the run itself failed or stopped."""
    return queryset.filter(Q(failed__gt=0) | Q(status__in=(ImportRun.Status.FAILED, ImportRun.Status.INTERRUPTED)))


class FailuresFilter(admin.SimpleListFilter):
    """The import history's "with failures" filter; the desk's import list links to it."""

    title = _("failures")
    parameter_name = FAILURES_PARAMETER

    def lookups(self, request, model_admin):
        return [("1", _("With failures"))]

    def queryset(self, request, queryset):
        return failed_runs(queryset) if self.value() == "1" else queryset


def status_badge(article: Article, now: dt.datetime | None = None) -> str:
    """The article's status as a one-line badge, its colour and its text: a future publication is "scheduled"."""
    now = now or timezone.now()
    if article.status == Article.Status.PUBLISHED and article.published_at > now:
        state, label = "scheduled", Queue.LABELS[Queue.SCHEDULED]
    else:
        state, label = article.status, article.get_status_display()
    return format_html('<span class="status-badge status-{}">{}</span>', state, label)


# --- the desk on the admin's index ----------------------------------------------------------------


@dataclass
class DeskList:
    """One queue on the desk: a few rows, how many in all, and where the whole list is."""

    key: str
    title: str
    count: int
    url: str
    rows: list = field(default_factory=list)
    empty: str = ""
    count_label: str = _("in all")


def desk_for(request: HttpRequest) -> list[DeskList]:
    """The queues this user works from, in the order an editor looks at them."""
    user = request.user
    now = timezone.now()
    # What the rows show, not the bodies.
    articles = visible_to(user, Article.objects.select_related("author").only(*DESK_FIELDS))
    lists: list[DeskList] = []
    if can_publish(user):
        review = queue_articles(Queue.REVIEW, user, articles, now).order_by("-updated_at", "-id")
        lists.append(_article_list(Queue.REVIEW, _("Awaiting review"), review, _("Nothing awaits review.")))
    mine = queue_articles(Queue.MINE, user, articles, now).order_by("-updated_at", "-id")
    lists.append(_article_list(Queue.MINE, _("My drafts"), mine, _("You have no drafts.")))
    soon = (queue_articles(Queue.SCHEDULED, user, articles, now)
            .filter(published_at__lte=now + SCHEDULED_WINDOW).order_by("published_at", "id"))
    lists.append(_article_list(Queue.SCHEDULED, _("Scheduled in the next 24 hours"), soon,
                               _("Nothing is scheduled for the next 24 hours.")))
    # The rows are the latest whatever their day; the count and the link are today's (the quick filter).
    latest = articles.published().order_by("-published_at", "-id")
    recent = _article_list(Queue.TODAY, _("Recently published"), latest, _("Nothing published yet."),
                           count=queue_articles(Queue.TODAY, user, articles, now))
    recent.count_label = _("published today")
    lists.append(recent)
    if user.has_perm("articles.view_importrun"):
        lists.append(_import_list())
    return lists


def _count(rows: list, queryset: QuerySet) -> int:
    # Fewer rows than the desk shows: they are all there is, no count query needed.
    return len(rows) if len(rows) < DESK_ROWS else queryset.count()


def _article_list(queue: str, title: str, queryset: QuerySet[Article], empty: str, *,
                  count: QuerySet[Article] | None = None) -> DeskList:
    rows = list(queryset[:DESK_ROWS])
    for row in rows:
        row.badge = status_badge(row)
    total = _count(rows, queryset) if count is None else count.count()
    return DeskList(key=queue, title=title, count=total, url=queue_url(queue), rows=rows, empty=empty)


def _import_list() -> DeskList:
    runs = failed_runs(ImportRun.objects.select_related("user"))
    rows = list(runs.order_by("-started_at", "-id")[:DESK_ROWS])
    url = reverse("admin:articles_importrun_changelist") + "?" + urlencode({FAILURES_PARAMETER: "1"})
    return DeskList(key="imports", title=_("Recent imports with failures"), count=_count(rows, runs), url=url,
                    rows=rows, empty=_("No import has failed."))
