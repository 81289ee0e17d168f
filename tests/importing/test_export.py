"""export_articles: Hexo posts that import back into the same articles."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st
from taggit.models import Tag

from bench.corpus import write_corpus
from importing.hexo_export import MAX_NAME_BYTES, safe_filename
from articles.models import Article, ArticleByline, Author, Category, ImportedFile
from importing.parse import parse_bytes
from tests.factories import SEEDS, SHANGHAI, chain, post, publish

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, dict]:
    """Every article by import key, with everything an article is (not ids, times of writing or file names)."""
    articles = {}
    for a in Article.objects.select_related("author").order_by("pk"):
        articles[a.import_key] = {
            "title": a.title, "slug": a.slug, "body": a.body, "excerpt": a.excerpt,
            "published_at": a.published_at, "published_date": a.published_date, "status": a.status,
            "author": a.author.name if a.author else None, "head_image": a.head_image,
            "thumbnail": a.thumbnail, "comments_enabled": a.comments_enabled,
            "extra_front_matter": a.extra_front_matter,
            "categories": sorted((c.path, tuple(c.path_names)) for c in a.categories.all()),
            "tags": sorted(a.tags.names()),
            "bylines": list(a.byline_links.order_by("position").values_list("role", "author__name")),
            "bylines_edited": a.bylines_edited,
        }
    return articles


def empty_database() -> None:
    Article.objects.all().delete()
    for category in Category.objects.order_by("-path"):  # children first: parents are protected
        category.delete()
    Author.objects.all().delete()
    Tag.objects.all().delete()
    ImportedFile.objects.all().delete()


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_articles", *map(str, args), stdout=out)
    return out.getvalue()


def assert_round_trip(run_import, out_dir: Path) -> dict[str, dict]:
    """Export, then import into an empty database: the same articles. Returns the snapshot."""
    count = Article.objects.count()
    assert f"exported {count} article(s)" in export(out_dir)
    before = snapshot()  # after the export, which gives articles written in the admin an import key
    assert len(before) == count and None not in before
    assert len(list(out_dir.iterdir())) == len(before)
    empty_database()
    result = run_import(out_dir)
    assert result.exit_code == 0, result.stderr
    assert f"created {len(before)}, updated 0, unchanged 0, failed 0" in result.stdout
    after = snapshot()
    assert after.keys() == before.keys()
    for key, article in before.items():
        assert after[key] == article, article["title"]
    return before


def edit_like_an_editor() -> None:
    """Changes the import cannot know: a correction, a new slug, a draft, tags, a second chain."""
    first, *others = Article.objects.order_by("published_at", "pk")
    link = ArticleByline.objects.filter(article=first).first()
    ArticleByline.objects.filter(article=first).delete()
    ArticleByline.objects.create(article=first, author=Author.objects.create(name="改正者"), role="实习记者")
    if link:
        ArticleByline.objects.create(article=first, author=link.author, role="编辑", position=1)
    first.bylines_edited = True
    first.slug = "editors-own-slug"
    first.save()
    first.tags.add("人工标签", "AI")
    first.categories.add(chain("专题", "两会"))
    if others:
        draft = others[-1]
        draft.status = Article.Status.DRAFT
        draft.bylines_edited = True  # corrected to "no bylines at all"
        draft.save()
        ArticleByline.objects.filter(article=draft).delete()


def test_round_trip_of_the_seeds_with_an_editors_changes(run_import, tmp_path):
    assert run_import(SEEDS).exit_code == 0
    edit_like_an_editor()
    before = assert_round_trip(run_import, tmp_path / "out")
    edited = next(a for a in before.values() if a["slug"] == "editors-own-slug")
    assert edited["bylines"][0] == ("实习记者", "改正者") and ("专题/两会", ("专题", "两会")) in edited["categories"]
    assert any(a["status"] == "draft" and a["bylines_edited"] and not a["bylines"] for a in before.values())


@pytest.mark.slow
def test_round_trip_of_the_real_corpus(run_import, corpus_dir, tmp_path):
    run_import(corpus_dir)  # a few files of the corpus are broken on purpose: they fail both times
    assert Article.objects.count() > 100
    edit_like_an_editor()
    assert_round_trip(run_import, tmp_path / "out")


@pytest.mark.slow
def test_round_trip_of_a_generated_corpus(run_import, tmp_path):
    summary = write_corpus(tmp_path / "corpus", 300, seed=17)
    assert run_import(tmp_path / "corpus").exit_code == 0
    assert Article.objects.count() == summary.stories
    edit_like_an_editor()
    assert_round_trip(run_import, tmp_path / "out")


AWKWARD_EXTRA = """\
permalink: /2022/04/30/awkward/
numbers: ['1.5e3', '012', '0x1F', 'yes', 'NO', 'null', '~', '2022-04-30', '12:30']
real_numbers: [1.5e3, 12, -0.5, true]
nested: {a: [1, {b: c}], 'key: colon': "x # not a comment", empty: {}}
when: 2022-04-30 09:33:09
multiline: "line one\\n---\\nline three"
nothing: null
"""


def test_round_trip_of_awkward_front_matter(run_import, write_post, tmp_path):
    write_post("in/a.md", post(title="'引号 \"双\" 和 ''单'' : 冒号 # 井号'", date="2022-04-30 09:33:09",
                               categories="[[金融, 财联社], [金融, 财联社, 深度], [科技]]",
                               tags="[AI, ai, 芯片]", published="false") + "")
    text = post(title="'带 permalink 的稿件'", body="<p>中证网讯（记者 连润）走高。</p>")
    write_post("in/b.md", text.replace("---\n\n", AWKWARD_EXTRA + "---\n\n"))
    write_post("in/c.json.md", ';;;\n"title": "JSON 稿件", "date": "2021-03-22T08:00:00+08:00", '
                               '"tags": ["债券"], "custom": {"list": [1, 2]}\n;;;\n<p>正文</p>\n')
    write_post("in/d.md", post(title="'没有正文'", body=""))
    assert run_import(tmp_path / "in", "--timezone", "America/New_York").exit_code == 0
    # Written in the admin (no import key), to the second as the admin's form sets times.
    publish("后台写的稿件", dt.datetime(2023, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
            body="<p>本报讯（记者 张三、李四）后台撰写。</p>", author="本报")
    assert_round_trip(run_import, tmp_path / "out")
    b = Article.objects.get(title="带 permalink 的稿件")
    assert b.extra_front_matter["numbers"][0] == "1.5e3" and b.extra_front_matter["real_numbers"][0] == 1500.0


def test_exported_post_is_plain_hexo(run_import, tmp_path):
    run_import(SEEDS)
    deep = Article.objects.get(title__startswith="涨停有因")
    deep.categories.add(chain("科技", "金融科技"))
    export(tmp_path)
    text = (tmp_path / f"2022-04-30-{deep.slug}.md").read_text(encoding="utf-8")
    front, body = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S).groups()
    assert "&" not in front.replace("&amp;", "") and "*" not in front and "!!" not in front  # no aliases or tags
    meta = yaml.safe_load(front)
    assert meta["date"] == "Sat, 30 Apr 2022 01:33:09 GMT"
    assert meta["categories"] == [["科技", "金融科技"], ["金融", "财联社", "深度"]]
    assert meta["author"] == "财联社" and meta["comments"] is False and "published" not in meta
    assert meta["headimg"] == meta["thumbnail"] == "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg"
    assert "bylines" not in meta  # detected again from the dateline on import
    assert body.strip() == deep.body
    # The importer's own parser reads it back as the same story.
    parsed = parse_bytes(text.encode(), path="x.md", tz=SHANGHAI)
    assert parsed.import_key == deep.import_key and parsed.title == deep.title

    other = Article.objects.exclude(pk=deep.pk).get()
    flat = yaml.safe_load((tmp_path / f"{other.published_date:%Y-%m-%d}-{other.slug}.md")
                          .read_text(encoding="utf-8").split("---\n")[1])
    assert flat["categories"] == [c.name for c in other.category_trail]  # one chain: a flat list


def test_reimporting_an_export_into_its_own_database_creates_nothing(run_import, tmp_path):
    run_import(SEEDS)
    written = publish("后台写的稿件", body="<p>本报讯（记者 张三）后台撰写。</p>")
    written.edited_locally = True
    written.save()
    assert "1 written in the admin were given an import key" in export(tmp_path / "out")
    written.refresh_from_db()
    assert written.import_key
    before = snapshot()
    result = run_import(tmp_path / "out")
    assert result.exit_code == 0 and "created 0" in result.stdout and "kept local edits 1" in result.stdout
    assert snapshot() == before


def test_in_review_exports_as_a_draft(tmp_path):
    publish("审核中", status=Article.Status.REVIEW)
    export(tmp_path)
    (only,) = tmp_path.iterdir()
    assert yaml.safe_load(only.read_text(encoding="utf-8").split("---\n")[1])["published"] is False


def test_selection_by_category_and_since(run_import, tmp_path):
    run_import(SEEDS)
    publish("科技稿", categories=[chain("科技", "芯片")])
    assert "exported 2 article(s)" in export(tmp_path / "fin", "--category", "金融")
    assert "exported 1 article(s)" in export(tmp_path / "chips", "--category", "科技/芯片/")
    assert "exported 1 article(s)" in export(tmp_path / "new", "--since", "2023-01-01")
    assert "exported 0 article(s)" in export(tmp_path / "none", "--since", "2999-01-01")


@pytest.mark.parametrize("args, message", [
    (["--category", "没有/这个"], "--category: no category with the path '没有/这个'"),
    (["--since", "昨天"], "--since: '昨天' is not a date"),
])
def test_bad_options_are_named(tmp_path, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        export(tmp_path, *args)


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CommandError, match="exists and is not a directory"):
        export(tmp_path / "file")


def test_same_slug_differing_in_case_gets_distinct_files(tmp_path):
    a = publish("A", slug="Report")
    b = publish("B", a.published_at, slug="report")
    assert a.slug != b.slug and a.slug.casefold() == b.slug.casefold()
    export(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and len({n.casefold() for n in names}) == 2
    assert any(n.endswith(f"-{b.pk}.md") for n in names)


# --- file names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem, expected", [
    ("2022-04-30-涨停有因", "2022-04-30-涨停有因.md"),
    ('a:b/c\\d?e*f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j.md"),
    ("CON", "_CON.md"),
    ("nul.tar", "_nul.tar.md"),
    ("line\nbreak\ttab\x00nul", "line_break_tab_nul.md"),
    ("  trailing dots... ", "trailing dots.md"),
    ("", "post.md"),
])
def test_safe_filename(stem, expected):
    assert safe_filename(stem) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_safe_filename_is_safe_everywhere(stem):
    name = safe_filename(stem)
    assert len(name.encode()) <= MAX_NAME_BYTES and name.endswith(".md")
    assert not re.search(r'[<>:"/\\|?*\x00-\x1f\x7f]', name)
    assert name[:-3] and not name[:-3].endswith((" ", "."))
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert safe_filename(stem) == name  # deterministic


def test_long_names_are_cut_on_a_character_and_stay_apart():
    one, two = safe_filename("长" * 200 + "甲"), safe_filename("长" * 200 + "乙")
    assert one != two and len(one.encode()) <= MAX_NAME_BYTES and len(two.encode()) <= MAX_NAME_BYTES
    one.encode().decode()  # no cut-off UTF-8 sequence
