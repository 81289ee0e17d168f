"""Full-text search (the search app): Chinese words of any length, ranking,
visibility, keeping the index in sync, hostile input and highlighting.

Runs on SQLite (FTS5) and on PostgreSQL (tsvector + GIN) alike.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.models import Article
from articles.sanitize import html_to_text
from search import highlighting
from search import index as search_index
from search import query as search_query
from search import tokens as search_tokens
from search.backends import postgres as postgres_backend
from search.backends import sqlite as sqlite_backend
from tests.factories import SEEDS, post, publish

pytestmark = pytest.mark.django_db(transaction=False)

HOUR = dt.timedelta(hours=1)


@pytest.fixture(params=["walk", "sort"])
def pg_candidates(request, monkeypatch) -> str:
    """Both ways PostgreSQL finds a common word's candidates: walking the newest
    articles (a word in most of them) or sorting every match (any other word).
    They must give the same results; SQLite ignores the setting."""
    monkeypatch.setattr(postgres_backend, "POSTGRES_WALK_MIN_DENSITY", 0.0 if request.param == "walk" else 2.0)
    return request.param


def indexed_ids() -> set[int]:
    """The article ids the index holds, read from the backend's own table."""
    table, column = (
        (sqlite_backend.SQLITE_TABLE, "rowid") if connection.vendor == "sqlite" else (postgres_backend.POSTGRES_TABLE, "article_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return {row[0] for row in cursor.fetchall()}


# --- Tokenising (no database) ---------------------------------------------------


def test_cjk_runs_become_bigrams_and_their_last_character():
    assert search_tokens.document_tokens("火山引擎") == ["火山", "山引", "引擎", "擎"]
    assert search_tokens.document_tokens("涨。") == ["涨"]


def test_words_are_lower_cased_and_nfkc_normalised():
    assert search_tokens.document_tokens("ＴｉｋＴｏｋ与A股，２０２２年") == ["tiktok", "与", "a", "股", "2022", "年"]


def _tokens_of_normalised_text(text: str) -> list[str]:
    """The tokeniser's definition, the slow way: normalise everything, then cut runs."""
    tokens = []
    for cjk, word in search_tokens.RUN.findall(search_tokens.normalize(text)):
        if cjk:
            tokens += [a + b for a, b in zip(cjk, cjk[1:])] + [cjk[-1]]
        else:
            tokens.append(word[: search_tokens.MAX_WORD_CHARS])
    return tokens


def test_document_tokens_match_the_definition_for_every_character():
    """Indexing normalises only the characters that can change a token, and
    cuts long texts with numpy; for every Unicode character, beside CJK, a
    word or itself, both must give the tokens of the fully normalised text."""
    # Unassigned, private-use and surrogate code points have no decomposition or case.
    characters = (c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(c) not in ("Cn", "Co", "Cs"))
    text = " ".join(f"中{char}a{char}中{char}{char}" for char in characters)
    expected = _tokens_of_normalised_text(text)
    assert search_tokens.document_tokens(text) == expected
    assert search_tokens.document_text(text) == " ".join(expected)


@pytest.mark.parametrize("text", [
    "", "，。 ", "中", "a", "中文", "A股", "x" * 63, "x" * 64, "x" * 65, "中" + "y" * 130 + "文",
    "ＴｉｋＴｏｋ与A股，２０２２年", "a\ud800b中文",  # a lone surrogate cannot take the numpy path
])
@pytest.mark.parametrize("padding", [0, search_tokens.VECTORISED_MIN_CHARS])
def test_document_text_joins_the_document_tokens(text, padding):
    """Short texts take the regex, long ones numpy: the same string either way."""
    text = "，" * padding + text + "。" * padding
    assert search_tokens.document_text(text) == " ".join(_tokens_of_normalised_text(text))


def test_long_words_are_cut_and_mixed_scripts_split():
    text = "ＡＢ" + "x" * 70 + "中文" + "Y" * 64 + "，ⅷ㎏℃①"
    assert search_tokens.document_tokens(text) == _tokens_of_normalised_text(text)
    assert search_tokens.document_tokens(text)[:2] == ["ab" + "x" * 62, "中文"]


def test_query_terms_are_phrases_with_a_prefix_for_a_trailing_single_character():
    assert search_tokens.query_terms("火山引擎") == [search_tokens.Term(("火山", "山引", "引擎"), prefix=False)]
    assert search_tokens.query_terms("A股") == [search_tokens.Term(("a", "股"), prefix=True)]
    assert search_tokens.query_terms("涨") == [search_tokens.Term(("涨",), prefix=True)]
    # A CJK run followed by more of the term keeps its lone last character.
    assert search_tokens.query_terms("5亿元 券商A") == [
        search_tokens.Term(("5", "亿元"), prefix=False),
        search_tokens.Term(("券商", "商", "a"), prefix=False),
    ]


@pytest.mark.parametrize("query", ["", "   ", "，。！", "\x00", "\u200f", "___"])
def test_queries_with_nothing_to_search_have_no_terms(query):
    assert search_tokens.query_terms(query) == []


def _phrase_matches(tokens: list[str], term: search_tokens.Term) -> bool:
    """What FTS5 and tsquery do with a phrase, in Python."""
    n = len(term.tokens)
    for i in range(len(tokens) - n + 1):
        window = tokens[i:i + n]
        if window[:-1] == list(term.tokens[:-1]) and (
            window[-1].startswith(term.tokens[-1]) if term.prefix else window[-1] == term.tokens[-1]
        ):
            return True
    return False


_WORD_CHARS = "abＡ1"
_TEXT = st.text(alphabet="券商腾讯火山引擎涨股" + _WORD_CHARS + " ，-", max_size=40)


def _cuts_a_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and text[at - 1] in _WORD_CHARS and text[at] in _WORD_CHARS


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, data=st.data())
def test_any_substring_not_cutting_a_word_is_found_and_highlighted(text, data):
    """Exact-substring semantics: index and query tokenisation agree, and so does highlight."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    piece = text[start:end]
    terms = search_tokens.query_terms(piece)
    if not terms or _cuts_a_word(text, start) or _cuts_a_word(text, end):
        return
    tokens = search_tokens.document_tokens(text)
    assert all(_phrase_matches(tokens, term) for term in terms), (text, piece, tokens, terms)
    assert "<mark>" in highlighting.highlight(text, piece)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, query=_TEXT)
def test_whatever_search_matches_highlight_marks(text, query):
    terms = search_tokens.query_terms(query)
    tokens = search_tokens.document_tokens(text)
    if terms and all(_phrase_matches(tokens, term) for term in terms):
        assert "<mark>" in highlighting.highlight(text, query), (text, query)


# --- Searching ------------------------------------------------------------------


@pytest.mark.parametrize("word", ["券商", "腾讯"])
def test_two_character_words_match(word):
    hit = publish(f"关于{word}的报道", body=f"<p>今日{word}板块走强。</p>")
    body_only = publish("无关标题", body=f"<p>据悉，{word}人士表示。</p>")
    publish("其他新闻", body="<p>今日大盘震荡。</p>")
    assert set(search_query.search(word)) == {hit.id, body_only.id}


def test_seed_article_is_found_by_a_four_character_phrase(run_import):
    assert run_import(SEEDS).exit_code == 0
    ids = search_query.search("火山引擎")
    assert ids and Article.objects.get(pk=ids[0]).title.startswith("涨停有因？华林证券又有新动作")


def test_phrase_needs_its_characters_adjacent(pg_candidates):
    together = publish("火山引擎合作", body="<p>与火山引擎合作。</p>")
    publish("火山与引擎", body="<p>火山喷发，引擎故障。</p>")
    assert search_query.search("火山引擎") == [together.id]


def test_one_character_query_finds_every_position(pg_candidates):
    end_of_run = publish("大盘", body="<p>三大指数集体大涨。</p>")
    middle = publish("行情", body="<p>股价涨停。</p>")
    alone = publish("快讯", body="<p>涨！</p>")
    publish("无关", body="<p>下跌。</p>")
    assert set(search_query.search("涨")) == {end_of_run.id, middle.id, alone.id}


def test_mixed_latin_and_chinese_terms(pg_candidates):
    article = publish("A股走强", body="<p>TikTok与火山引擎合作，金额5亿元。</p>")
    for query in ("A股", "a股", "ＴｉｋＴｏｋ", "tiktok 火山", "5亿元", "亿元"):
        assert search_query.search(query) == [article.id], query
    assert search_query.search("tik") == []  # words match whole, not inside
    assert search_query.search("tiktok 区块链") == []  # every term must match


def test_an_article_about_the_term_ranks_above_a_passing_mention():
    about = publish("券商数字化转型", body="<p>" + "券商加大投入。" * 8 + "</p>")
    mention = publish("市场综述", body="<p>今日大盘震荡，" + "板块轮动。" * 8 + "券商板块小幅上涨。</p>")
    assert search_query.search("券商") == [about.id, mention.id]


def test_title_match_ranks_above_body_match():
    body = publish("市场综述", body="<p>腾讯发布财报。其他内容若干。</p>")
    title = publish("腾讯发布财报", body="<p>详情如下，其他内容若干。</p>")
    assert search_query.search("腾讯")[0] == title.id and body.id in search_query.search("腾讯")


def test_drafts_and_scheduled_articles_are_never_returned(pg_candidates):
    draft = Article.objects.create(title="券商草稿", body="<p>券商</p>", published_at=timezone.now() - HOUR)
    scheduled = publish("券商定时", body="<p>券商</p>", when=timezone.now() + HOUR)
    visible = publish("券商已发布", body="<p>券商</p>")
    assert search_query.search("券商") == [visible.id]
    # They are indexed, for the admin's sake, and show through a wider queryset.
    assert {draft.id, scheduled.id} <= indexed_ids()
    assert set(search_query.search("券商", Article.objects.all())) == {draft.id, scheduled.id, visible.id}


def test_queryset_restricts_and_limit_caps():
    articles = [publish(f"券商{i}", body="<p>券商</p>") for i in range(5)]
    assert len(search_query.search("券商", limit=2)) == 2
    assert search_query.search("券商", limit=0) == []
    some = Article.objects.filter(pk__in=[articles[0].id, articles[3].id])
    assert set(search_query.search("券商", some)) == {articles[0].id, articles[3].id}
    newest_two = Article.objects.published().order_by("-id")[:2]  # a sliced queryset works too
    assert set(search_query.search("券商", newest_two)) == {articles[4].id, articles[3].id}


@pytest.mark.parametrize("join_limit", [10_000, 0], ids=["lookups", "gathered-scope"])
def test_a_narrow_queryset_gets_its_matches_even_below_the_best(monkeypatch, join_limit, pg_candidates):
    """Both backends rank (or shortlist) first and apply the queryset to the top;
    when the queryset excludes the top they apply it first instead (SQLite by
    lookups or, above SQLITE_JOIN_LIMIT matches, by gathering the queryset's
    ids). Every path gives the same answer."""
    monkeypatch.setattr(sqlite_backend, "SQLITE_JOIN_LIMIT", join_limit)
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 1)
    best = [publish(f"券商{i}", body="<p>券商，券商，券商。</p>") for i in range(4)]
    weak = publish("其他", body="<p>一家券商。</p>")
    Article.objects.create(title="券商草稿", body="<p>券商</p>", published_at=timezone.now() - HOUR)
    assert search_query.search("券商", Article.objects.filter(pk=weak.id), limit=1) == [weak.id]
    assert search_query.search("券商", limit=2) == search_query.search("券商")[:2]
    assert set(search_query.search("券商")) == {*(a.id for a in best), weak.id}


def test_when_matches_are_cut_for_ranking_title_matches_are_kept(monkeypatch, pg_candidates):
    """PostgreSQL ranks only the best candidates of a very common word; a title match is one."""
    about = publish("券商年报", body="<p>券商</p>", when=timezone.now() - 100 * HOUR)
    for i in range(4):  # newer, and only mention it
        publish(f"新闻{i}", body="<p>提及券商。</p>")
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 1)
    assert search_query.search("券商", limit=1) == [about.id]
    assert len(search_query.search("券商", limit=3)) == 3


def test_a_very_common_word_ranks_its_newest_matches_and_its_title_matches(monkeypatch, pg_candidates):
    """Above SQLITE_RANK_ALL_LIMIT matches SQLite ranks only candidates, as
    PostgreSQL does: the newest matches and the newest title matches. An
    older article that only mentions the word often drops out of the top;
    a title match stays; with room for every match, every match is found."""
    monkeypatch.setattr(sqlite_backend, "SQLITE_RANK_ALL_LIMIT", 2)
    monkeypatch.setattr(sqlite_backend, "SQLITE_RANKED_CANDIDATES", 1)
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 1)
    about = publish("券商年报", body="<p>券商</p>", when=timezone.now() - 100 * HOUR)
    old_strong = publish("旧闻", body="<p>" + "券商加大投入。" * 8 + "</p>", when=timezone.now() - 90 * HOUR)
    mentions = [publish(f"新闻{i}", body="<p>提及券商。</p>") for i in range(4)]
    assert search_query.search("券商", limit=1) == [about.id]
    assert search_query.search("券商", limit=2) == [about.id, mentions[-1].id]
    assert old_strong.id not in search_query.search("券商", limit=2)
    assert set(search_query.search("券商")) == {about.id, old_strong.id, *(m.id for m in mentions)}
    # A narrow queryset still gets its matches, from outside the candidates too.
    assert search_query.search("券商", Article.objects.filter(pk=old_strong.id), limit=1) == [old_strong.id]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cut of candidates")
def test_postgres_candidates_are_the_newest_title_matches_then_the_newest_other_matches(monkeypatch, pg_candidates):
    """With room for 5 candidates (limit 4): the newest title matches first
    (a draft's too: the queryset applies after the cut), then the newest
    articles that only mention the word; an older article that mentions it
    often is not a candidate, however well it would rank."""
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 4)
    now = timezone.now()
    old_title = publish("券商年报", body="<p>券商</p>", when=now - 100 * HOUR)
    publish("旧闻", body="<p>" + "券商加大投入。" * 8 + "</p>", when=now - 90 * HOUR)
    mentions = [publish(f"新闻{i}", body="<p>提及券商。</p>", when=now - (10 - i) * HOUR) for i in range(5)]
    Article.objects.create(title="券商草稿", body="<p>券商</p>", published_at=now - HOUR / 2)
    publish("无关", body="<p>下跌。</p>")
    newest_three = [m.id for m in mentions[:1:-1]]
    assert search_query.search("券商", limit=4) == [old_title.id, *newest_three]
    # Title matches beyond the room leave none for mere mentions.
    titles = [publish(f"券商快讯{i}", body="<p>券商</p>", when=now - (50 + i) * HOUR) for i in range(5)]
    assert set(search_query.search("券商", limit=4)) <= {t.id for t in titles}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cut of candidates")
def test_a_word_common_only_lately_still_gets_its_older_candidates(monkeypatch):
    """The newest articles all mention the word, so PostgreSQL walks back
    for candidates; the walk stops after a window of articles (here 10) and,
    having found too few there, every match is sorted instead."""
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 4)  # room for 5
    monkeypatch.setattr(postgres_backend, "POSTGRES_DENSITY_SAMPLE", 4)
    now = timezone.now()
    old_strong = publish("旧闻", body="<p>" + "券商加大投入。" * 8 + "</p>", when=now - 90 * HOUR)
    for i in range(6):
        publish(f"其他{i}", body="<p>下跌。</p>", when=now - (20 + i) * HOUR)
    mentions = [publish(f"新闻{i}", body="<p>提及券商。</p>", when=now - (5 - i) * HOUR) for i in range(4)]
    assert search_query.search("券商", limit=4) == [old_strong.id, *(m.id for m in mentions[:0:-1])]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cut of candidates")
def test_postgres_walk_keeps_phrase_and_prefix_semantics(monkeypatch, pg_candidates):
    """The walk tests each document for every token; the phrase (and a
    trailing character as a prefix) is still checked on the candidates."""
    monkeypatch.setattr(postgres_backend, "POSTGRES_RANKED_CANDIDATES", 4)
    together = publish("合作", body="<p>与火山引擎合作。</p>", when=timezone.now() - 5 * HOUR)
    publish("新闻", body="<p>火山喷发，引擎故障。</p>")  # newer, every token, not the phrase
    stock = publish("行情", body="<p>A股走强。</p>", when=timezone.now() - 9 * HOUR)
    publish("公告", body="<p>a 大股东减持。</p>")  # newer, both tokens, 股 not right after a
    assert search_query.search("火山引擎", limit=1) == [together.id]
    assert search_query.search("A股", limit=1) == [stock.id]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_search_leaves_the_planner_settings_as_they_were():
    from django.db import transaction

    publish("券商", body="<p>券商</p>")
    with transaction.atomic(), connection.cursor() as cursor:
        search_query.search("券商")
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"


def test_a_queryset_whose_joins_repeat_an_article_gives_it_once():
    from articles.models import Category

    parent = Category.objects.create(name="金融")
    child = Category.objects.create(name="券商", parent=parent)
    article = publish("券商新闻", body="<p>券商</p>")
    article.categories.add(parent, child)
    repeated = Article.objects.published().filter(categories__path__startswith="金融")
    assert repeated.count() == 2  # the join yields the article twice
    assert search_query.search("券商", repeated) == [article.id]
    assert search_query.search("券商", repeated, limit=1) == [article.id]


def test_search_is_served_by_the_index_not_like():
    publish("券商研报", body="<p>券商</p>")
    for query in ("券商", "涨", "火山引擎", "a"):
        with CaptureQueriesContext(connection) as queries:
            search_query.search(query)
        assert queries.captured_queries, query
        assert not any(re.search(r"\bLIKE\b", q["sql"], re.IGNORECASE) for q in queries.captured_queries)


HOSTILE = [
    '"', '""', '"券商', "*", "券商*", "OR", "券商 OR 腾讯", "NOT 券商", "AND", "NEAR(", "NEAR(券商 腾讯, 2)",
    ")", "(", "title:券商", "^券商", "-券商", "券商 & 腾讯", "券商 <-> 腾讯", "!券商", "'", "\\", "%", "_",
    "券商\x00腾讯", "\x00", "\u200f券商\u200e", "\u202e商券", "券" * 10_000, "a" * 10_000, "券商 " * 3000,
    "🙂", "𠀀𠀁", "ﷺ", "\u0301", "é", "İ", "\ufeff", "\r\n\t",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_return_a_list(query):
    article = publish("券商与腾讯 OR NEAR", body="<p>券商和腾讯。</p>")
    result = search_query.search(query)
    assert isinstance(result, list) and set(result) <= {article.id}


def test_long_query_is_cut_to_100_characters():
    article = publish("券商", body="<p>券商</p>")
    assert search_query.search("券商" + " " * 98 + "区块链") == [article.id]  # 区块链 falls past the cut


def test_blank_and_unsearchable_queries_give_nothing():
    publish("券商", body="<p>券商</p>")
    assert search_query.search("") == [] and search_query.search("   ") == [] and search_query.search("。，") == []


def test_queryset_of_another_model_is_refused():
    from articles.models import Author

    with pytest.raises(TypeError):
        search_query.search("券商", Author.objects.all())


# --- Keeping the index in sync ---------------------------------------------------


def test_saving_an_article_updates_the_index():
    article = publish("旧标题", body="<p>这是腾讯的新闻。</p>")
    assert search_query.search("腾讯") == [article.id]
    article.title = "新标题"
    article.body = "<p>这是券商的新闻。</p>"
    article.save()
    assert search_query.search("腾讯") == [] and search_query.search("旧标题") == []
    assert search_query.search("券商") == [article.id] and search_query.search("新标题") == [article.id]


def test_a_save_that_does_not_touch_title_or_body_keeps_the_index():
    article = Article.objects.create(title="券商草稿", body="<p>x</p>", published_at=timezone.now() - HOUR)
    assert search_query.search("券商") == []
    article.status = Article.Status.PUBLISHED
    article.save(update_fields=["status"])
    assert search_query.search("券商") == [article.id]


def test_deleting_an_article_removes_it_from_the_index():
    article = publish("券商", body="<p>券商</p>")
    kept = publish("券商二", body="<p>券商</p>")
    article_id = article.id
    article.delete()
    assert article_id not in indexed_ids() and search_query.search("券商") == [kept.id]
    Article.objects.filter(pk=kept.id).delete()  # the queryset path sends post_delete too
    assert indexed_ids() == set()


def test_reimporting_a_changed_file_updates_the_index(run_import, write_post):
    path = write_post("story.md", post(title="'公告'", body="<p>今日腾讯发布公告。</p>"))
    assert run_import(path).exit_code == 0
    [article_id] = search_query.search("腾讯")
    # Same title, author and date: the same story, its body revised.
    path.write_text(post(title="'公告'", body="<p>今日券商发布公告。</p>"), encoding="utf-8")
    run = run_import(path)
    assert run.exit_code == 0 and Article.objects.count() == 1
    assert search_query.search("腾讯") == [] and search_query.search("券商") == [article_id]


def test_import_indexes_every_batch(write_post):
    from importing.pipeline import find_source_files, import_files
    from tests.factories import SHANGHAI

    paths = [
        write_post(f"p{i}.md", post(title=f"'券商新闻{i}'", date=f"2022-04-0{i + 1} 10:00:00", body=f"<p>第{i}篇</p>"))
        for i in range(7)
    ]
    files, _ = find_source_files([paths[0].parent])
    report = import_files(files, tz=SHANGHAI, batch_size=3)
    assert report.created == 7 and len(search_query.search("券商")) == 7


def test_rebuild_reindexes_everything_and_drops_stale_rows():
    first, second = publish("券商", body="<p>券商</p>"), publish("腾讯", body="<p>腾讯</p>")
    search_index.remove_articles([first.id])
    Article.objects.filter(pk=second.id).update(title="京东", body="<p>京东</p>")  # behind the signals' back
    assert search_query.search("券商") == [] and search_query.search("京东") == []
    call_command("rebuild_search_index", verbosity=0)
    assert search_query.search("券商") == [first.id] and search_query.search("京东") == [second.id]
    assert search_query.search("腾讯") == [] and indexed_ids() == {first.id, second.id}
    assert search_index.rebuild() == 2


def _sqlite_index_settings() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT k, v FROM {sqlite_backend.SQLITE_TABLE}_config WHERE k != 'version'")
        return dict(cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="FTS5 settings exist on SQLite only")
def test_sqlite_index_settings_survive_a_rebuild():
    """The migration sets them; a rebuild recreates the table and must set them again."""
    assert _sqlite_index_settings() == sqlite_backend.SQLITE_SETTINGS
    publish("券商", body="<p>券商</p>")
    search_index.rebuild()
    assert _sqlite_index_settings() == sqlite_backend.SQLITE_SETTINGS and search_query.search("券商")


def test_an_empty_index_is_filled_after_migrate():
    """Migrations only create the index; post_migrate indexes what is already there."""
    article = publish("券商", body="<p>券商</p>")
    search_index.remove_articles([article.id])
    call_command("migrate", verbosity=0)
    assert indexed_ids() == {article.id} and search_query.search("券商") == [article.id]
    assert search_index.fill_if_empty(connection.alias) == 0  # a filled index is left alone


def test_index_articles_drops_ids_that_no_longer_exist():
    article = publish("券商", body="<p>券商</p>")
    Article.objects.filter(pk=article.id)._raw_delete(Article.objects.db)  # no signal
    assert article.id in indexed_ids()
    search_index.index_articles([article.id])
    assert article.id not in indexed_ids()


def test_a_huge_body_is_indexed_without_error():
    body = "<p>开头有券商。</p>" + "<p>" + "各类资产价格波动加剧，市场情绪谨慎。" * 12_000 + "</p>"
    article = publish("长文", body=body)
    assert search_query.search("券商") == [article.id]
    assert search_query.search("市场情绪") == [article.id]


# --- Highlighting ----------------------------------------------------------------


def test_highlight_marks_matches_and_escapes_everything_else():
    text = '<script>alert("券商")</script> 券商与腾讯 & A股'
    html = highlighting.highlight(text, "券商 a股")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert html.count("<mark>券商</mark>") == 2 and "<mark>A股</mark>" in html
    assert "&quot;" in html
    assert str(html) == html and hasattr(html, "__html__")  # a SafeString


def test_highlight_marks_whole_words_only():
    assert str(highlighting.highlight("AI said: ai-driven", "ai")) == "<mark>AI</mark> said: <mark>ai</mark>-driven"


def test_highlight_marks_full_width_text_in_place():
    assert str(highlighting.highlight("ＴｉｋＴｏｋ火山", "tiktok")) == "<mark>ＴｉｋＴｏｋ</mark>火山"
    # Characters that normalise to several (㈱ → (株), ﬁ → fi) keep the offsets right.
    assert str(highlighting.highlight("㈱腾讯与ﬁnance", "腾讯 finance")) == "㈱<mark>腾讯</mark>与<mark>ﬁnance</mark>"


def test_highlight_marks_a_phrase_split_by_punctuation_in_the_query_alike():
    assert str(highlighting.highlight("日期2022/04/29发布", "2022-04-29")) == "日期<mark>2022/04/29</mark>发布"


def test_highlight_window_around_the_first_match():
    text = "前文" * 200 + "券商<b>" + "后文" * 200
    snippet = str(highlighting.highlight(text, "券商", max_chars=60))
    assert "<mark>券商</mark>" in snippet and "&lt;b&gt;" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(re.sub("&lt;|&gt;", "x", re.sub("</?mark>", "", snippet))) == 62  # 60 and two …
    assert str(highlighting.highlight("短文", "券商", max_chars=60)) == "短文"
    assert str(highlighting.highlight("无匹配" * 50, "券商", max_chars=10)) == "无匹配无匹配无匹配无…"


@pytest.mark.parametrize("query", ["", "   ", '"', "\x00", "<mark>"])
def test_highlight_without_terms_only_escapes(query):
    assert str(highlighting.highlight("<b>券商</b>", query)) == "&lt;b&gt;券商&lt;/b&gt;"


# --- The real corpus ---------------------------------------------------------------


@pytest.mark.corpus
def test_real_corpus_search_returns_only_articles_containing_the_word(corpus_dir, run_import):
    run_import(corpus_dir)
    ids = search_query.search("券商")
    assert len(ids) >= 3
    for article in Article.objects.filter(pk__in=ids):
        text = search_tokens.normalize(article.title + " " + html_to_text(article.body))
        assert "券商" in text, article.title
    # ...and nothing that contains it is missed.
    containing = {
        a.id for a in Article.objects.published()
        if "券商" in search_tokens.normalize(a.title + " " + html_to_text(a.body))
    }
    assert set(ids) == containing
