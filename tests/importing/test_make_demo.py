"""`manage.py make_demo` (importing.demo): a generated archive through the real import, slots and 热门 reads."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Max, Sum

from articles import front
from articles.models import Article, ArticleByline, ArticleHits, Category, HeadlineSlot, ImportRun
from articles.sanitize import split_leading_headline

pytestmark = pytest.mark.django_db
# Two imports of a small archive: a few seconds.
slow = pytest.mark.slow

COUNT = 150


def make_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("make_demo", "--count", str(COUNT), "--workers", "0", *args, stdout=out)
    return out.getvalue()


def state() -> dict:
    """What a second run must leave as it is."""
    return {
        "articles": Article.objects.count(),
        "updated": Article.objects.aggregate(last=Max("updated_at"))["last"],
        "slots": list(HeadlineSlot.objects.values_list("pk", "position", "article_id", "starts_at", "ends_at")),
        "reads": ArticleHits.objects.aggregate(n=Sum("count"))["n"],
        "categories": Category.objects.count(),
    }


@slow
def test_make_demo_fills_channels_years_wire_slots_and_hot_and_a_second_run_changes_nothing(client):
    said = make_demo()
    assert f"created {COUNT}, updated 0, unchanged 0, failed 0" in said
    assert "placed 4 headline slots" in said

    published = Article.objects.published()
    assert published.count() == COUNT
    # Several channels (top-level categories) and several years.
    channels = Category.objects.filter(parent__isnull=True, articles__in=published).distinct()
    assert channels.count() >= 3
    assert len({a.published_at.year for a in published}) >= 5
    # Reporters from the datelines, and tags.
    assert ArticleByline.objects.filter(role=ArticleByline.Role.REPORTER).exists()
    assert published.filter(tags__isnull=False).exists()
    # Wire items opening with a 【headline】: the wire shows it as the item's title, and the
    # excerpt does not repeat it.
    wire = list(front.wire_articles())
    bracketed = [a for a in wire if f"【{a.title}】" in a.body[:400]]
    assert bracketed
    for article in bracketed:
        item = front.wire_item(article)
        assert item.headline == article.title
        assert split_leading_headline(item.text)[0] == ""
        assert item.text.startswith("财联社")

    # The slots are live and the home page shows them, with the hot list.
    slotted = list(HeadlineSlot.objects.live().order_by("position").values_list("article__title", flat=True))
    assert len(slotted) == 4
    home = client.get("/")
    assert home.status_code == 200
    page = home.content.decode()
    for title in slotted:
        assert title in page
    assert ArticleHits.objects.aggregate(n=Sum("count"))["n"] > 0
    hot_page = client.get("/hot/").content.decode()
    hottest = Article.objects.filter(hits__isnull=False).annotate(reads=Sum("hits__count")).order_by("-reads").first()
    assert hottest.title in hot_page

    before = state()
    runs = ImportRun.objects.count()
    again = make_demo()
    assert f"created 0, updated 0, unchanged {COUNT}, failed 0" in again
    assert "headline slots already live" in again and "none added" in again
    assert state() == before
    assert ImportRun.objects.count() == runs + 1  # the real import path: each run is recorded


@slow
def test_the_same_seed_gives_the_same_archive_and_another_seed_another():
    make_demo("--seed", "5")
    titles = sorted(Article.objects.values_list("title", flat=True))
    Article.objects.all().delete()
    make_demo("--seed", "5")
    assert sorted(Article.objects.values_list("title", flat=True)) == titles
    Article.objects.all().delete()
    make_demo("--seed", "6")
    assert sorted(Article.objects.values_list("title", flat=True)) != titles


def test_the_demo_corpus_has_no_repeated_stories_and_the_benchmarks_share_its_generator(tmp_path):
    from bench import corpus as bench_corpus
    from importing import corpus

    assert bench_corpus.write_corpus is corpus.write_corpus  # one generator, not two
    plain = corpus.write_corpus(tmp_path / "bench", 200, 3)
    demo = corpus.write_corpus(tmp_path / "demo", 200, 3, duplicates=False)
    assert plain.duplicates > 0
    assert (demo.files, demo.stories, demo.duplicates) == (200, 200, 0)
    assert len(list((tmp_path / "demo").rglob("*.txt"))) == 200
