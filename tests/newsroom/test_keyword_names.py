"""Keyword suggestions never offer a number or a part of the author's, outlet's or a reporter's name (issue 19)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from newsroom import keywords
from articles.models import Article, TagSuggestion
from tests.factories import html, publish

# 财联社 is not in jieba's dictionary: it cuts it into 财 + 联社, and 联社 scores high.
DATELINE_STORY = ("财联社2月28日电，宁德时代今日发布公告，二〇二六年动力电池装车量十二万，３５００家。"
                  "财联社记者获悉，储能订单增长。")


@pytest.mark.parametrize("word", ["2022", "76.90", "3.5%", "十二", "十二万", "1-8月", "100亿元", "二〇二六",
                                  "３５００", "第三", "六年", "28日"])
def test_numbers_with_their_units_are_numbers(word):
    assert keywords.is_number(word)


@pytest.mark.parametrize("word", ["沪深300", "标普500", "A股", "百度", "万科", "季度", "宁德时代", "一带一路"])
def test_names_holding_numerals_are_not_numbers(word):
    assert not keywords.is_number(word)


def test_a_part_of_a_name_or_a_word_holding_one_is_a_name_part():
    names = ["财联社", "连润", "36Kr"]
    for word in ("联社", "财联", "财联社", "财联社记者", "连润", "36kr"):
        assert keywords.is_name_part(word, names), word
    for word in ("宁德时代", "联合", "社保", "润滑"):
        assert not keywords.is_name_part(word, names), word
    assert not keywords.is_name_part("联社", [])


@pytest.mark.parametrize("text, outlet", [
    ("财联社2月28日电，宁德时代", "财联社"),
    ("【2月M2数据出炉：同比增长4.27%】财联社2月28日电，今年以来", "财联社"),
    ("新华社北京12月6日电 记者", "新华社"),
    ("每经网1月28日讯（记者 张晓）", "每经网"),
    ("证券时报网3月5日讯", "证券时报网"),
    ("今日2月28日的行情", ""),
    ("没有电头的正文。", ""),
])
def test_the_outlet_opening_the_dateline(text, outlet):
    assert keywords.dateline_outlet(text) == outlet


@pytest.mark.django_db
def test_the_suggester_leaves_out_name_parts_and_numbers():
    engine = keywords.suggester()
    unguarded = [w for w, _ in engine.suggest("宁德时代发布公告", DATELINE_STORY, limit=10)]
    guarded = [w for w, _ in engine.suggest("宁德时代发布公告", DATELINE_STORY, names=["财联社"], limit=10)]
    assert "联社" in unguarded  # what the names guard against
    assert "联社" not in guarded and "宁德时代" in guarded
    assert not any(keywords.is_number(w) for w in unguarded + guarded)


@pytest.mark.django_db
def test_the_article_form_suggests_no_part_of_the_outlets_or_a_reporters_name(admin_client):
    # The outlet is the dateline's (the author is another) and a reporter is credited.
    article = publish("宁德时代发布公告", body=f"<p>{DATELINE_STORY}（记者 连润）</p>", author="中证网",
                      status=Article.Status.DRAFT)
    assert list(article.bylines.values_list("name", flat=True)) == ["连润"]
    keywords.suggest([article])
    page = html(admin_client.get(reverse("admin:articles_article_change", args=[article.pk])))
    suggested = re.findall(r'<span class="suggestion">([^<]+) <small>', page)
    assert "宁德时代" in suggested
    for word in suggested:
        assert not keywords.is_name_part(word, ["财联社", "连润", "中证网"]), word
        assert not keywords.is_number(word), word


@pytest.mark.django_db
def test_suggestions_stored_before_the_rule_are_not_offered_on_the_form(admin_client):
    article = publish("宁德时代发布公告", body=f"<p>{DATELINE_STORY}</p>", author="财联社", status=Article.Status.DRAFT)
    for name, score in (("宁德时代", 0.9), ("联社", 0.8), ("十二万", 0.7), ("储能", 0.6)):
        TagSuggestion.objects.create(article=article, name=name, score=score)
    page = html(admin_client.get(reverse("admin:articles_article_change", args=[article.pk])))
    assert re.findall(r'<span class="suggestion">([^<]+) <small>', page) == ["宁德时代", "储能"]
