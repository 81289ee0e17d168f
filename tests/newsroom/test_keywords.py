"""Keyword tag suggestions: the suggester, suggest_tags, the admin and import --accept-suggested-tags.

As background tasks (after a save, after an import): tests/newsroom/test_keyword_tasks.py.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from newsroom import keywords
from articles.models import Article, KeywordTerm, TagSuggestion
from tests.factories import SEEDS, change_form, publish, staff

pytestmark = pytest.mark.django_db

BATTERY = (
    "<p>中证网讯（记者 连润）宁德时代今日发布公告，公司动力电池装车量继续领跑。宁德时代表示，"
    "动力电池与储能业务增长强劲，储能订单同比增长。分析人士认为，宁德时代在动力电池领域优势明显，"
    "储能将成为第二增长曲线。比亚迪动力电池装车量位居第二。2022年1-8月，宁德时代动力电池装车量76.90GWh。</p>"
)


def names(pairs) -> list[str]:
    return [name for name, _ in pairs]


def test_suggestions_name_the_story_and_skip_noise():
    article = publish("宁德时代动力电池装车量领跑 储能业务增长强劲", body=BATTERY, author="中证网", tags=["新能源"])
    found = keywords.suggestions_for(article)
    words = names(found)
    assert 1 <= len(words) <= keywords.MAX_SUGGESTIONS
    assert {"宁德时代", "动力电池", "储能"} <= set(words)
    for word in words:
        assert not re.fullmatch(r"[\d.%GWh年月-]+", word)
        assert word not in {"中证网", "连润", "新能源", "表示", "同比"}
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


@pytest.mark.slow
def test_the_dictionary_is_loaded_once_and_again_after_an_editor_extends_it():
    first = keywords.suggester()
    assert keywords.suggester() is first
    text = "星矿云图发布新一代产品，星矿云图的用户数快速增长，星矿云图估值提升。"
    assert "星矿云图" not in names(first.suggest("星矿云图发布新品", text))
    KeywordTerm.objects.create(word="星矿云图", kind=KeywordTerm.Kind.COMPANY)
    second = keywords.suggester()
    assert second is not first
    assert names(second.suggest("星矿云图发布新品", text))[0] == "星矿云图"
    KeywordTerm.objects.create(word="星矿云图新品", kind=KeywordTerm.Kind.STOP)
    KeywordTerm.objects.filter(word="星矿云图").update(kind=KeywordTerm.Kind.STOP)
    KeywordTerm.objects.get(word="星矿云图").save()  # a change in the admin touches updated_at
    assert "星矿云图" not in names(keywords.suggester().suggest("星矿云图发布新品", text))


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_default_import_suggests_nothing_and_suggest_tags_fills_in(run_import):
    assert run_import(SEEDS).exit_code == 0
    assert not TagSuggestion.objects.exists()
    out = run("suggest_tags")
    assert re.search(r"suggested \d+ tag\(s\) for 2 article\(s\) \([\d.]+ ms an article", out)
    feature = Article.objects.get(title__startswith="涨停有因")
    pending = list(feature.tag_suggestions.values_list("name", "state"))
    assert 1 <= len(pending) <= 5 and all(state == "pending" for _, state in pending)
    assert "华林证券" in [name for name, _ in pending]
    assert feature.tags.count() == 0  # suggestions are not tags until accepted
    assert "for 0 article(s)" in run("suggest_tags")

    # --all computes the pending ones again; a rejected one is not suggested again.
    rejected = feature.tag_suggestions.get(name="华林证券")
    keywords.reject([rejected])
    run("suggest_tags", "--all")
    assert feature.tag_suggestions.get(name="华林证券").state == "rejected"
    assert feature.tag_suggestions.filter(name="华林证券").count() == 1


def test_import_can_accept_suggestions_at_once(run_import):
    result = run_import(SEEDS, "--accept-suggested-tags")
    assert result.exit_code == 0 and re.search(r"added \d+ suggested tag\(s\)", result.stdout)
    feature = Article.objects.get(title__startswith="涨停有因")
    accepted = set(feature.tag_suggestions.filter(state="accepted").values_list("name", flat=True))
    assert accepted and accepted <= set(feature.tags.names())
    assert not feature.edited_locally  # the import wrote them: a changed file still updates the article
    assert not TagSuggestion.objects.filter(state="pending").exists()


def test_one_click_accept_and_reject_in_the_suggestions_list(admin_client, run_import):
    run_import(SEEDS)
    run("suggest_tags")
    feature = Article.objects.get(title__startswith="涨停有因")
    first, second, *_ = feature.tag_suggestions.order_by("-score")
    listing = admin_client.get(reverse("admin:articles_tagsuggestion_changelist")).content.decode()
    accept_url = reverse("admin:articles_tagsuggestion_accept", args=[first.pk])
    assert f'formaction="{accept_url}"' in listing and "csrfmiddlewaretoken" in listing

    assert admin_client.get(accept_url).status_code == 405
    response = admin_client.post(accept_url, HTTP_REFERER="http://testserver/admin/articles/tagsuggestion/?state=pending")
    assert response.status_code == 302 and response["Location"].endswith("?state=pending")
    feature.refresh_from_db()
    assert first.name in feature.tags.names() and feature.edited_locally
    first.refresh_from_db()
    assert first.state == "accepted" and first.decided_by.is_superuser

    admin_client.post(reverse("admin:articles_tagsuggestion_reject", args=[second.pk]))
    second.refresh_from_db()
    assert second.state == "rejected" and second.name not in feature.tags.names()


def test_bulk_actions(admin_client):
    article = publish("宁德时代动力电池装车量领跑", body=BATTERY)
    keywords.suggest([article])
    pks = list(article.tag_suggestions.values_list("pk", flat=True))
    response = admin_client.post(reverse("admin:articles_tagsuggestion_changelist"),
                                 {"action": "reject_selected", "_selected_action": pks[:2]})
    assert response.status_code == 302
    response = admin_client.post(reverse("admin:articles_tagsuggestion_changelist"),
                                 {"action": "accept_selected", "_selected_action": pks[2:]})
    assert response.status_code == 302
    states = dict(article.tag_suggestions.values_list("pk", "state"))
    assert [states[pk] for pk in pks] == ["rejected"] * 2 + ["accepted"] * (len(pks) - 2)
    assert len(article.tags.names()) == len(pks) - 2

    other = publish("比亚迪储能订单增长", body=BATTERY)
    admin_client.post(reverse("admin:articles_article_changelist"),
                      {"action": "accept_suggested_tags", "_selected_action": [other.pk]})
    assert "宁德时代" in other.tags.names()


def test_article_page_shows_suggestions_and_accepts_with_its_own_save(admin_client):
    # Computed by a task worker after a save or an import (tests/newsroom/test_keyword_tasks.py).
    article = publish("宁德时代动力电池装车量领跑", body=BATTERY, status=Article.Status.DRAFT)
    keywords.suggest([article])
    url = reverse("admin:articles_article_change", args=[article.pk])
    page = admin_client.get(url).content.decode()
    best = article.tag_suggestions.order_by("-score").first()
    assert best is not None and best.name in {"宁德时代", "动力电池"}
    assert f'name="_accept_suggestion" value="{best.pk}"' in page
    data = change_form(article, title="宁德时代动力电池装车量继续领跑", _accept_suggestion=str(best.pk),
                       **{"byline_links-TOTAL_FORMS": "0"})
    article.refresh_from_db()
    data["version"] = str(article.version)
    response = admin_client.post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    article.refresh_from_db()
    assert article.title == "宁德时代动力电池装车量继续领跑"  # the form was saved too
    assert best.name in article.tags.names()
    assert article.tag_suggestions.get(pk=best.pk).state == "accepted"


def test_authors_cannot_decide_suggestions(client):
    writer = staff("writer", "Authors")
    article = publish("宁德时代", body=BATTERY)
    keywords.suggest([article])
    client.force_login(writer)
    suggestion = article.tag_suggestions.first()
    response = client.post(reverse("admin:articles_tagsuggestion_accept", args=[suggestion.pk]))
    assert response.status_code in (403, 404)
    suggestion.refresh_from_db()
    assert suggestion.state == "pending"


def test_editors_extend_the_dictionary_in_the_admin(client):
    editor = staff("desk", "Editors")
    client.force_login(editor)
    response = client.post(reverse("admin:articles_keywordterm_add"), {"word": " 星矿科技 ", "kind": "company"})
    assert response.status_code == 302
    assert KeywordTerm.objects.get().word == "星矿科技"
    assert client.get(reverse("admin:articles_keywordterm_changelist")).status_code == 200
