"""Admin actions: each declares the permission it needs, and an Author can run none of them.

The actions are enumerated from the admin itself, so an action added later
without a permission fails these tests. An action without `permissions=[...]`
is offered to anyone who can open the list (view permission is enough): that
is how an Author merged outlets and tags before.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import serializers
from django.test import RequestFactory
from django.urls import reverse
from taggit.models import Tag

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from articles.models import (
    Article, ArticleByline, Author, Category, HeadlineSlot, ImportRun, KeywordTerm, LegacyURL, TagSuggestion,
)
from tests.factories import publish, staff

pytestmark = pytest.mark.django_db

# What Authors may run, on what they may change: deleting their own drafts
# (the delete permission of their role; it follows the article's own rules).
AUTHOR_ACTIONS = {(Article, "delete_selected")}


def actions_for(user: User) -> set[tuple[type, str]]:
    """(model, action name) of every action the admin offers `user`, over every registered model."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return {(model, name) for model, model_admin in admin.site._registry.items()
            for name in model_admin.get_actions(request)}


def database() -> str:
    """Every row of every model but the sessions, as text: what 'nothing changed' compares."""
    return "\n".join(serializers.serialize("json", model._default_manager.order_by("pk"))
                     for model in apps.get_models() if model is not Session)


@pytest.fixture
def one_of_everything():
    """An Author whose only article is published (so none is theirs to change), and one of everything."""
    writer, colleague = staff("writer", "Authors"), staff("colleague", "Authors")
    staff("desk", "Editors")
    category = Category.objects.create(name="要闻")
    mine = publish("我的已发表", author="财联社", tags=["券商"], categories=[category], created_by=writer)
    theirs = publish("同事的草稿", author="财联社 ", tags=["证券公司"], status=Article.Status.DRAFT,
                     created_by=colleague)
    ArticleByline.objects.create(article=mine, author=Author.objects.create(name="潇湘"), position=0)
    TagSuggestion.objects.create(article=mine, name="银行", score=0.9)
    TagSuggestion.objects.create(article=theirs, name="保险", score=0.8)
    KeywordTerm.objects.create(word="宁德时代")
    ImportRun.objects.create(origin="cli", time_zone="Asia/Shanghai")
    LegacyURL.objects.create(path="/news/2014/06/14/old/", article=mine)
    HeadlineSlot.objects.create(position=0, article=mine)
    Category.objects.create(name="财联社", parent=category)
    seen = {"username": "x", "ip_address": "127.0.0.1", "user_agent": "t", "http_accept": "*/*",
            "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    return writer


def test_every_action_declares_the_permission_it_needs(admin_user):
    undeclared = []
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        for name, (func, _name, _description) in model_admin.get_actions(request).items():
            if not getattr(func, "allowed_permissions", None):
                undeclared.append(f"{model._meta.label}.{name}")
    assert undeclared == []


def test_an_author_is_offered_no_action_but_deleting_their_own_drafts(one_of_everything, admin_user):
    every = actions_for(admin_user)
    assert {(Author, "merge"), (Tag, "merge"), (Article, "publish"), (Article, "accept_suggested_tags")} <= every
    assert actions_for(one_of_everything) <= AUTHOR_ACTIONS


def test_an_author_posting_any_action_is_refused_and_nothing_changes(client, one_of_everything, admin_user):
    client.force_login(one_of_everything)
    before = database()
    category = Category.objects.first()
    for model, name in sorted(actions_for(admin_user), key=lambda pair: (pair[0]._meta.label, pair[1])):
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        ids = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
        assert ids, f"no {model._meta.label} to select for {name}"
        response = client.post(changelist, {"action": name, "_selected_action": ids, "index": "0",
                                            "apply": "1", "category": str(category.pk), "post": "yes"})
        assert response.status_code in (200, 302, 403), (model, name, response.status_code)
        assert database() == before, f"{model._meta.label}: {name} changed something for an Author"


def test_an_editor_merging_authors_leaves_a_revision_on_every_article_and_a_log(client, one_of_everything):
    editor = User.objects.get(username="desk")
    mine = Article.objects.get(title="我的已发表")
    theirs = Article.objects.get(title="同事的草稿")
    keep, other, reporter = (Author.objects.get(name=n) for n in ("财联社", "财联社 ", "潇湘"))
    publish("多一篇", author="财联社")  # so 财联社 has the most articles and is kept
    Author.objects.filter(pk=reporter.pk).update(name="潇湘" * 45)  # a long name: the revision's reason is cut
    reporter.refresh_from_db()
    versions = {a.pk: a.version for a in (mine, theirs)}
    client.force_login(editor)
    client.post(reverse("admin:articles_author_changelist"),
                {"action": "merge", "_selected_action": [keep.pk, other.pk, reporter.pk]})
    assert list(Author.objects.values_list("name", flat=True)) == ["财联社"]
    for article in (mine, theirs):
        article.refresh_from_db()
        assert article.author == keep and article.version == versions[article.pk] + 1
        latest = article.history.latest()
        assert latest.history_user == editor and latest.author_id == keep.pk
    # The byline moved to the kept author, and the revision says so.
    assert [who for _role, who in mine.history.latest().byline_credits] == ["财联社"]
    # What theirs was before the merge is in its history, to go back to.
    assert theirs.history.filter(author_id=other.pk).exists()
    deleted = LogEntry.objects.filter(action_flag=DELETION, user=editor).values_list("object_repr", flat=True)
    assert sorted(deleted) == sorted(["财联社 ", "潇湘" * 45])
    reason = theirs.history.latest().history_change_reason
    assert reason.startswith("已将 财联社 , 潇湘潇湘") and len(reason) == 100


def test_an_editor_merging_tags_leaves_a_revision_on_every_article(client, one_of_everything):
    editor = User.objects.get(username="desk")
    publish("多一篇", tags=["券商"])
    client.force_login(editor)
    tags = Tag.objects.filter(name__in=["券商", "证券公司"])
    client.post(reverse("admin:taggit_tag_changelist"), {"action": "merge", "_selected_action": [t.pk for t in tags]})
    theirs = Article.objects.get(title="同事的草稿")
    assert list(theirs.tags.names()) == ["券商"]
    latest = theirs.history.latest()
    assert latest.history_user == editor and latest.tag_names == ["券商"]
    assert theirs.history.filter(tag_names=["证券公司"]).exists()
