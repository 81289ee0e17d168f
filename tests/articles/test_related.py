"""Related articles on the article page (issue #14, item 16).

Ranked by what articles share — tags, keyword suggestions, reporters, the
depth of a shared category — then by recency; never the same list for every
article of a category, and a fixed number of queries however much an
article carries.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import timezone

from articles.content_version import content_state
from articles.models import Article, ArticleByline, Author, TagSuggestion
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def related_titles(client, article: Article) -> list[str]:
    """The titles in the page's related-articles section, in order."""
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    section = re.search(r'<section class="related".*?</section>', response.content.decode(), re.S)
    return [unescape(t) for t in re.findall(r'<li><a href="[^"]*">([^<]*)</a>', section.group(0))] if section else []


def article(title: str, hours_ago: float, *, categories=(), tags=(), keywords=(), reporters=(), **fields) -> Article:
    made = publish(title, NOW - dt.timedelta(hours=hours_ago), categories=categories, tags=tags, **fields)
    for name in keywords:
        TagSuggestion.objects.create(article=made, name=name, score=1.0)
    for position, name in enumerate(reporters):
        ArticleByline.objects.create(article=made, author=Author.objects.get_or_create(name=name)[0],
                                     position=position)
    if reporters:  # a later save must not re-detect (and drop) these bylines
        Article.objects.filter(pk=made.pk).update(bylines_edited=True)
    return made


@pytest.fixture
def market():
    """One category: two stories on different subjects, an older article on each subject,
    and newer articles on neither (category membership only)."""
    leaf = chain("金融", "市场")
    solar = article("光伏行业观察", 1, categories=[leaf], keywords=["光伏", "硅料"])
    brokers = article("券商佣金下调", 2, categories=[leaf], keywords=["券商", "佣金"])
    solar_before = article("硅料价格回落", 300, categories=[leaf], keywords=["硅料"])
    brokers_before = article("券商降佣潮", 310, categories=[leaf], keywords=["券商", "佣金"])
    others = [article(f"市场杂讯{i}", 10 + i, categories=[leaf]) for i in range(8)]
    return {"solar": solar, "brokers": brokers, "solar_before": solar_before,
            "brokers_before": brokers_before, "others": others, "leaf": leaf}


def test_two_stories_of_one_category_get_different_lists(client, market):
    solar, brokers = related_titles(client, market["solar"]), related_titles(client, market["brokers"])
    assert len(solar) == len(brokers) == 5
    assert solar[0] == "硅料价格回落" and brokers[0] == "券商降佣潮"
    assert solar != brokers
    # After what the article shares, the category's most recent articles.
    assert solar[1:] == ["券商佣金下调", "市场杂讯0", "市场杂讯1", "市场杂讯2"]


@pytest.mark.parametrize("shared", ["tags", "keywords", "reporters"])
def test_a_shared_tag_keyword_or_reporter_outranks_category_membership(client, shared):
    leaf, elsewhere = chain("金融", "市场"), chain("科技")
    story = article("主文", 1, categories=[leaf], **{shared: ["共同点"]})
    for i in range(6):
        article(f"同栏目新文{i}", 2 + i, categories=[leaf])
    # Older, in another category, sharing only the one tag, keyword or reporter.
    article("旧而相关", 500, categories=[elsewhere], **{shared: ["共同点"]})
    titles = related_titles(client, story)
    assert titles[0] == "旧而相关" and titles[1:] == [f"同栏目新文{i}" for i in range(4)]


def test_tags_count_more_than_keywords_and_sharing_more_counts_more(client):
    story = article("主文", 1, tags=["新能源"], keywords=["电池", "锂矿"])
    article("共享关键词", 2, keywords=["电池"])
    article("共享标签", 50, tags=["新能源"])
    article("共享两个关键词", 100, keywords=["电池", "锂矿"])
    assert related_titles(client, story) == ["共享两个关键词", "共享标签", "共享关键词"]


def test_a_deeper_shared_category_counts_more_and_recency_breaks_ties(client):
    deep, sibling = chain("金融", "市场", "A股"), chain("金融", "基金")
    story = article("主文", 1, categories=[deep], tags=["指数"])
    article("同根不同枝", 2, categories=[sibling], tags=["指数"])
    article("同一叶栏目", 20, categories=[deep], tags=["指数"])
    article("同一叶栏目更早", 40, categories=[deep], tags=["指数"])
    assert related_titles(client, story) == ["同一叶栏目", "同一叶栏目更早", "同根不同枝"]


def test_unpublished_articles_and_rejected_suggestions_never_count(client):
    story = article("主文", 1, tags=["机密"], keywords=["并购"])
    article("草稿", 2, tags=["机密"], status=Article.Status.DRAFT)
    article("定时", -24, tags=["机密"])
    rejected = article("被拒关键词", 3, keywords=["并购"])
    TagSuggestion.objects.filter(article=rejected).update(state=TagSuggestion.State.REJECTED)
    assert related_titles(client, story) == []


@pytest.mark.slow
def test_the_query_count_does_not_grow_with_what_an_article_carries(client, django_assert_max_num_queries):
    leaf = chain("金融", "市场")
    plain = article("简单文章", 1, categories=[leaf], tags=["单一"])
    article("另一篇", 2, categories=[leaf], tags=["单一"])
    content_state()  # the process learns what the writes changed once per change, not per page (content_keys)
    with django_assert_max_num_queries(100) as few:
        related_titles(client, plain)
    tags, keywords, reporters = [f"标签{i}" for i in range(12)], [f"关键词{i}" for i in range(5)], ["甲", "乙", "丙"]
    rich = article("丰富文章", 1, categories=[leaf], tags=tags, keywords=keywords, reporters=reporters)
    for i in range(60):
        article(f"候选{i}", 2 + i, categories=[leaf], tags=tags[i % 12:i % 12 + 2],
                keywords=keywords[i % 5:i % 5 + 1], reporters=reporters[i % 3:i % 3 + 1])
    cache.clear()
    content_state()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(related_titles(client, rich)) == 5


def test_a_reporters_candidates_are_their_latest_articles_by_publication_time_even_after_a_move(
        client, monkeypatch):
    """The reporter signal reads the bylines' copy of the publication time (articles.models.stamp_links):
    an article moved to a later time through the newsroom's save becomes one of the reporter's latest."""
    from articles import related
    from newsroom.operations import save_as_edit

    monkeypatch.setattr(related, "CANDIDATES_PER_SIGNAL", 2)
    story = article("主文", 1, reporters=["记者甲"])
    article("较新", 10, categories=[chain("科技")], reporters=["记者甲"])
    article("较旧", 20, categories=[chain("汽车")], reporters=["记者甲"])
    oldest = article("最旧", 30, categories=[chain("地产")], reporters=["记者甲"])
    assert related_titles(client, story) == ["较新", "较旧"]

    oldest.published_at = NOW - dt.timedelta(hours=5)
    save_as_edit(oldest, user=None, fields=["published_at"])
    cache.clear()
    content_state()
    assert related_titles(client, story) == ["最旧", "较新"]
    assert set(ArticleByline.objects.values_list("published_at", flat=True)) == {
        a.published_at for a in Article.objects.all()}


def neighbour_titles(client, article: Article) -> tuple[str | None, str | None]:
    """The titles the page links to as 上一篇 (older) and 下一篇 (newer)."""
    page = client.get(article.get_absolute_url()).content.decode()
    older = re.search(r'<a rel="prev" href="([^"]*)">([^<]*)</a>', page)
    newer = re.search(r'<a rel="next" href="([^"]*)">([^<]*)</a>', page)
    return (unescape(older.group(2)) if older else None, unescape(newer.group(2)) if newer else None)


def test_neighbours_are_the_published_articles_next_in_time_ties_broken_by_id(client):
    """Drafts and scheduled articles are skipped; articles of the same second are ordered by id."""
    same_second = NOW - dt.timedelta(hours=5)
    oldest = article("最早的文章", 9)
    first_tied = publish("同一秒之一", same_second)
    second_tied = publish("同一秒之二", same_second)
    draft = publish("未发布的草稿", NOW - dt.timedelta(hours=4))
    Article.objects.filter(pk=draft.pk).update(status=Article.Status.DRAFT)
    newest = article("最新的文章", 1)
    publish("定时发布的文章", NOW + dt.timedelta(hours=3))  # a schedule: not yet anyone's neighbour

    assert neighbour_titles(client, oldest) == (None, "同一秒之一")
    assert neighbour_titles(client, first_tied) == ("最早的文章", "同一秒之二")
    assert neighbour_titles(client, second_tied) == ("同一秒之一", "最新的文章")
    assert neighbour_titles(client, newest) == ("同一秒之二", None)
    older_link = re.search(r'<a rel="prev" href="([^"]*)"', client.get(newest.get_absolute_url()).content.decode())
    assert unescape(older_link.group(1)) == second_tied.get_absolute_url()
