"""Excerpts never repeat the headline in 【】: derived, imported, and stored before (refresh_excerpts)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from articles.models import Article
from articles.sanitize import repeats_headline, strip_repeated_headline
from importing.derive import derive_from_body
from tests.factories import post, publish

TITLE = "央行：加大稳健货币政策实施力度"
WIRE = f"<p>【{TITLE}】财联社6月11日电，央行表示将加大稳健货币政策实施力度。</p>"


@pytest.mark.parametrize("lead", [
    TITLE,
    "央行:加大稳健货币政策实施力度 ",  # half-width punctuation, a space
    "央行加大稳健货币政策实施力度",  # punctuation dropped
    "央行：加大稳健货币政策实施的力度",  # nearly the same
])
def test_a_lead_repeating_the_title_is_taken_off(lead):
    assert strip_repeated_headline(f"【{lead}】财联社6月11日电，正文", TITLE) == "财联社6月11日电，正文"


@pytest.mark.parametrize("text", [
    "【财联社早知道】央行：加大稳健货币政策实施力度",  # a column's name, not the headline
    "【央行】财联社6月11日电",  # a much shorter lead
    f"财联社6月11日电，【{TITLE}】",  # not leading
    "正文",
])
def test_other_text_is_kept(text):
    assert strip_repeated_headline(text, TITLE) == text


def test_empty_titles_repeat_nothing():
    assert not repeats_headline("", "")
    assert strip_repeated_headline("【】正文", "") == "【】正文"


def test_derived_excerpts_leave_out_the_headline():
    assert derive_from_body(TITLE, WIRE).excerpt == "财联社6月11日电，央行表示将加大稳健货币政策实施力度。"


def test_given_excerpts_leave_it_out_too_and_stay_given():
    derived = derive_from_body(TITLE, WIRE, excerpt_html=f"【{TITLE}】摘要")
    assert (derived.excerpt, derived.excerpt_explicit) == ("摘要", True)


def test_the_excerpt_is_still_full_length_after_the_headline():
    body = f"<p>【{TITLE}】{'字' * 300}</p>"
    excerpt = derive_from_body(TITLE, body).excerpt
    assert excerpt.startswith("字") and len(excerpt) == 140


@pytest.mark.django_db
def test_saving_derives_an_excerpt_without_the_headline_and_follows_a_new_title():
    article = publish(TITLE, body=WIRE)
    assert article.excerpt.startswith("财联社6月11日电")
    article.title = "完全不同的标题"
    article.save()
    assert article.excerpt.startswith(f"【{TITLE}】")


@pytest.mark.django_db
def test_import_derives_excerpts_without_the_headline(run_import, write_post):
    path = write_post("wire.md", post(title=f"'{TITLE}'", body=WIRE))
    assert run_import(path).exit_code == 0
    assert Article.objects.get().excerpt.startswith("财联社6月11日电")


@pytest.mark.django_db
def test_refresh_excerpts_fixes_stored_rows_and_only_those():
    stale = publish(TITLE, body=WIRE)
    given = publish(TITLE, body=WIRE)
    other = publish("其他", body="<p>【财联社早知道】今日要闻</p>")
    # As stored before excerpts left the headline out.
    Article.objects.filter(pk=stale.pk).update(excerpt=f"【{TITLE}】财联社6月11日电，央行表示")
    Article.objects.filter(pk=given.pk).update(excerpt=f"【{TITLE}】给定摘要", excerpt_explicit=True)
    dry = io.StringIO()
    call_command("refresh_excerpts", "--dry-run", stdout=dry)
    assert "examined 3 excerpts beginning with 【, would change 2" in dry.getvalue()
    assert Article.objects.get(pk=stale.pk).excerpt.startswith("【")

    out = io.StringIO()
    call_command("refresh_excerpts", "--batch-size", "1", stdout=out)
    assert "changed 2" in out.getvalue()
    assert Article.objects.get(pk=stale.pk).excerpt == "财联社6月11日电，央行表示将加大稳健货币政策实施力度。"
    assert Article.objects.get(pk=given.pk).excerpt == "给定摘要"
    assert Article.objects.get(pk=other.pk).excerpt == "【财联社早知道】今日要闻"
    again = io.StringIO()
    call_command("refresh_excerpts", stdout=again)
    assert "changed 0" in again.getvalue()


@pytest.mark.django_db
def test_search_snippets_leave_out_the_headline_too(client):
    publish(TITLE, body=WIRE)
    page = client.get("/search/", {"q": "货币政策"}).content.decode()
    snippet = re.search(r'<p class="excerpt">(.*?)</p>', page, re.S).group(1)
    assert "【" not in snippet and snippet.startswith("财联社6月11日电")
    assert "<mark>货币政策</mark>" in snippet
