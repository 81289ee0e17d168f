"""Dates, front matter and excerpts in the forms Hexo 8 reads (importing.parse, importing.derive): no database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from importing.derive import derive_from_body, excerpt_before_more
from importing.parse import ImportFileError, parse_bytes, split_front_matter
from articles.sanitize import sanitize_body
from tests.factories import PROJECT, SHANGHAI, post

UTC = dt.timezone.utc
HEXO_SITE = PROJECT.parent / "shared" / "corpus" / "hexo-site"
# 2024-05-01 10:00:00 UTC: a file's modification time in the tests below.
MTIME = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC).timestamp()


def parse(text: str, tz=SHANGHAI, modified: float | None = None, path: str = "post.md"):
    return parse_bytes(text.encode(), path=path, tz=tz, modified=modified)


def error_of(text: str, **kwargs) -> str:
    with pytest.raises(ImportFileError) as info:
        parse(text, **kwargs)
    message = str(info.value)
    assert message.startswith("post.md: ") and "\n" not in message, message
    return message


def hexo_site() -> Path:
    if not (HEXO_SITE / "source" / "_posts").is_dir():
        pytest.skip(f"the real Hexo site is not at {HEXO_SITE} (it lives in ../shared beside the project)")
    return HEXO_SITE


# --- dates ---------------------------------------------------------------------------

# Each form as it stands in the front matter, and the instant real Hexo 8.1.2 gives it
# (`new Date(text)`, or js-yaml for YAML timestamps) with the site's and the host's zone
# both UTC, the one setting in which Hexo reads every date as written.
HEXO_FORMS = [
    ("2013/7/13 20:46:25", dt.datetime(2013, 7, 13, 20, 46, 25)),  # the form in Hexo's own documentation
    ("2013/07/13", dt.datetime(2013, 7, 13)),
    ("2013/7/13 20:46", dt.datetime(2013, 7, 13, 20, 46)),
    ("2013-07-13", dt.datetime(2013, 7, 13)),
    ("2013-7-13", dt.datetime(2013, 7, 13)),
    ("2013-07-13 20:46", dt.datetime(2013, 7, 13, 20, 46)),
    ("2013-7-13 8:46", dt.datetime(2013, 7, 13, 8, 46)),
    ("2013-07-13T20:46:25", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("2013-07-13T20:46:25Z", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("2013-07-13T20:46:25+08:00", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("2013-07-13 20:46:25 +0800", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("2013-07-13 20:46:25+08", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("2013/7/13 20:46:25 +0800", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("2013/7/13 20:46:25 GMT+0800", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("Sat, 13 Jul 2013 20:46:25 +0800", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("Sat, 13 Jul 2013 20:46:25 GMT", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("13 Jul 2013 20:46:25", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("Jul 13 2013", dt.datetime(2013, 7, 13)),
    ("July 13, 2013", dt.datetime(2013, 7, 13)),
    ("July 13, 2013 20:46:25", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("July 13, 2013 8:46 PM", dt.datetime(2013, 7, 13, 20, 46)),
    ("Jul 13 2013 12:00 AM", dt.datetime(2013, 7, 13, 0, 0)),
    ("Saturday, July 13, 2013", dt.datetime(2013, 7, 13)),
    ("Sat Jul 13 2013 20:46:25 GMT+0800 (China Standard Time)", dt.datetime(2013, 7, 13, 12, 46, 25)),
    ("7/13/2013", dt.datetime(2013, 7, 13)),
    ("7/13/2013 20:46", dt.datetime(2013, 7, 13, 20, 46)),
    ("2013.07.13", dt.datetime(2013, 7, 13)),
    ("2013.7.13 20:46", dt.datetime(2013, 7, 13, 20, 46)),
    ("2013/07", dt.datetime(2013, 7, 1)),
    ("2013-07-13T20:46:25.123+0800", dt.datetime(2013, 7, 13, 12, 46, 25, 123000)),
    ("2013-07-13 20:46:25 UTC", dt.datetime(2013, 7, 13, 20, 46, 25)),
    ("Jul 13, 2013 20:46:25 PDT", dt.datetime(2013, 7, 14, 3, 46, 25)),
    ("13 July 2013 20:46 +0800", dt.datetime(2013, 7, 13, 12, 46)),
    ("2013-07-13 20:46:25.123", dt.datetime(2013, 7, 13, 20, 46, 25, 123000)),
    ("2013/7/13 20:46:25.500", dt.datetime(2013, 7, 13, 20, 46, 25, 500000)),
    ("2013-07-13 20:46:25 +08:00", dt.datetime(2013, 7, 13, 12, 46, 25)),
]


@pytest.mark.parametrize(("raw", "hexo_utc"), HEXO_FORMS)
def test_every_date_form_hexo_reads_gives_hexos_instant(raw, hexo_utc):
    assert parse(post(date=raw), tz=UTC).published_at == hexo_utc.replace(tzinfo=UTC)
    # Quoted, or in JSON front matter, it is the same date.
    assert parse(post(date=json.dumps(raw)), tz=UTC).published_at == hexo_utc.replace(tzinfo=UTC)


@pytest.mark.parametrize("raw", ["2013/7/13 20:46:25", "2013-07-13 20:46", "July 13, 2013 8:46 PM",
                                 "13 Jul 2013 20:46:25", "2013-07-13T20:46:25", "2013年7月13日 20:46:25"])
def test_a_date_without_an_offset_is_in_the_imports_time_zone(raw):
    expected = dt.datetime(2013, 7, 13, 20, 46, tzinfo=SHANGHAI)
    assert parse(post(date=raw)).published_at.replace(second=0) == expected


@pytest.mark.parametrize("raw", ["2013-07-13T20:46:25+08:00", "Sat, 13 Jul 2013 12:46:25 GMT",
                                 "2013-07-13 12:46:25Z", "Sat Jul 13 2013 20:46:25 GMT+0800 (China Standard Time)",
                                 "2013-07-13 07:46:25 -05:00"])
def test_a_date_with_an_offset_is_exactly_that_instant_whatever_the_imports_time_zone(raw):
    # Hexo 8 would shift these by the difference between its host's zone and the site's.
    instant = dt.datetime(2013, 7, 13, 12, 46, 25, tzinfo=UTC)
    for tz in (SHANGHAI, UTC, dt.timezone(dt.timedelta(hours=-7))):
        assert parse(post(date=raw), tz=tz).published_at == instant


def test_the_date_only_forms_are_midnight_in_the_imports_time_zone():
    for raw in ("2013-07-13", "'2013-07-13'", "2013/7/13", "July 13, 2013", "2013年7月13日"):
        assert parse(post(date=raw)).published_at == dt.datetime(2013, 7, 12, 16, tzinfo=UTC), raw


def test_a_number_is_milliseconds_since_1970_as_in_hexo():
    assert parse(post(date="1373719585000")).published_at == dt.datetime(2013, 7, 13, 12, 46, 25, tzinfo=UTC)
    assert parse(';;;\n"title": "x",\n"date": 1373719585000\n;;;\nbody').published_at.year == 2013


@pytest.mark.parametrize(("raw", "reason"), [
    ("2013/2/30", "day is out of range for month"),  # Hexo rolls it over to March 2
    ("2013-02-30 10:00", "day is out of range for month"),
    ("Feb 30, 2013", "day is out of range for month"),
    ("2013/13/1", "month must be in 1..12"),
    ("2013/7/13 25:00", "hour must be in 0..23"),
    ("2013/7/13 20:61", "minute must be in 0..59"),
    ("July 13, 2013 13:46 PM", "not a 12-hour clock hour"),
    ("Foo 13, 2013", "'foo' is not a month"),
    ("2013/7/13 20:46 +25:00", "UTC offset +25:00 is out of range"),
    ("2013-07-13 20:46:25 CST", "time zone 'CST' is unknown or ambiguous"),
    ("'2013'", "is not a date"),
    ("yesterday", "is not a date"),
    ("2013", "is a number, not a date"),
    ("20130713", "is a number, not a date"),  # YAML reads it as a number; Hexo as 1970-01-01 05:35
    ("true", "must be a date, not a boolean"),
    ("[2013-07-13]", "must be a date, not a list"),
])
def test_an_impossible_date_fails_its_file_in_one_line_naming_the_field(raw, reason):
    for field in ("date", "updated"):
        text = post(date=raw) if field == "date" else post(updated=raw)
        message = error_of(text)
        assert message.startswith(f"post.md: {field} ") and reason in message, message


def test_updated_is_read_in_every_form_date_is():
    article = parse(post(updated="2013/7/13 20:46:25"))
    assert article.updated == dt.datetime(2013, 7, 13, 12, 46, 25, tzinfo=UTC)
    assert parse(post(updated="'Sat, 13 Jul 2013 12:46:25 GMT'")).updated == article.updated
    assert parse(post()).updated is None
    assert parse(post(updated="")).updated is None
    assert "updated" not in article.extra  # the article's own last-modified time, not other front matter


# --- a post without a date -----------------------------------------------------------


def test_a_post_without_a_date_takes_its_files_modification_time_with_a_warning():
    text = "---\ntitle: 没有日期\n---\n正文"
    article = parse(text, modified=MTIME)
    assert article.published_at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert article.warnings == (
        "post.md: date is missing: dated by the file's modification time, 2024-05-01 18:00:00 +0800",)
    for blank in ("date:", "date: ''", "date: '  '"):
        assert parse(f"---\ntitle: x\n{blank}\n---\nbody", modified=MTIME).published_at == article.published_at
    # Where no file time is known (parsing bytes alone), a missing date is an error.
    assert "date is missing" in error_of(text)


def test_a_dated_post_has_no_warning():
    assert parse(post(), modified=MTIME).warnings == ()


def test_posts_without_dates_are_told_apart_by_file_name_not_by_folder_or_time():
    text = "---\ntitle: 同名\n---\nbody"
    first = parse(text, modified=MTIME, path="a/one.md")
    assert parse(text, modified=MTIME + 3600, path="elsewhere/one.md").import_key == first.import_key
    assert parse(text, modified=MTIME, path="a/two.md").import_key != first.import_key


# --- front matter as hexo-front-matter reads it ----------------------------------------


def test_tab_indented_front_matter_is_read_as_hexo_reads_it():
    text = "---\ntitle: 制表符\ndate: 2013/7/13 20:46:25\ntags:\n\t- 券商\n\t- 基金\ncategories:\n\t- [金融, 财联社]\n---\n正文"
    article = parse(text)
    assert article.tags == ("券商", "基金")
    assert article.category_chains == (("金融", "财联社"),)
    nested = parse("---\ntitle: x\ndate: 2022-01-01\nseo:\n\tkeywords:\n\t\t- a\n---\nbody")
    assert nested.extra == {"seo": {"keywords": ["a"]}}


@pytest.mark.parametrize("text", [
    "---\ntitle: 分隔线\ndate: 2013-07-13\n---\n正文",
    "-----\ntitle: 分隔线\ndate: 2013-07-13\n-----\n正文",
    "---\ntitle: 分隔线\ndate: 2013-07-13\n------\n正文",
    "title: 分隔线\ndate: 2013-07-13\n---\n正文",
    "title: 分隔线\ndate: 2013-07-13\n-----\n正文",
    ';;;\n"title": "分隔线",\n"date": "2013-07-13"\n;;;\n正文',
    ';;;;;\n"title": "分隔线",\n"date": "2013-07-13"\n;;;;;\n正文',
    '"title": "分隔线",\n"date": "2013-07-13"\n;;;\n正文',
])
def test_every_separator_form_hexo_reads(text):
    article = parse(text, path="post.txt")  # the body as written (a .md body is rendered: test_markdown)
    assert (article.title, article.body.strip()) == ("分隔线", "正文")
    assert article.published_at == dt.datetime(2013, 7, 12, 16, tzinfo=UTC)


def test_front_matter_without_an_opening_separator_ends_at_the_first_one():
    split = split_front_matter("title: x\ndate: 2013-07-13\n---\nbody\n\n---\n\nmore body", "post.md")
    assert split.front_matter.strip() == "title: x\ndate: 2013-07-13"
    assert split.body == "body\n\n---\n\nmore body"


# --- excerpts --------------------------------------------------------------------------


def derive(text: str, **kwargs):
    """What the importer stores for a post: its excerpt as importing.pipeline finds it."""
    article = parse(text, **kwargs)
    excerpt = article.excerpt if article.excerpt is not None else excerpt_before_more(article.body)
    return derive_from_body(article.title, sanitize_body(article.body), excerpt_html=excerpt)


def test_the_front_matters_excerpt_is_the_excerpt():
    body = derive(post(excerpt="'央行：保持流动性合理充裕'", description="'另一段描述'",
                       body="<p>正文第一段。</p>\n<!-- more -->\n<p>余下。</p>"))
    assert (body.excerpt, body.excerpt_explicit) == ("央行：保持流动性合理充裕", True)


def test_description_is_the_excerpt_when_there_is_no_excerpt():
    body = derive(post(description="'<b>摘要</b> &amp; 描述'"))
    assert (body.excerpt, body.excerpt_explicit) == ("摘要 & 描述", True)


@pytest.mark.parametrize("marker", ["<!-- more -->", "<!--more-->", "<!-- MORE -->", "<!-- more-->"])
def test_more_splits_the_excerpt_the_text_before_it_and_nothing_of_the_rest(marker):
    lead = "<p>第一段，" + "很长的导语" * 40 + "。</p>\n<p>第二段。</p>"
    body = derive(post(body=f"{lead}\n{marker}\n<p>不在摘要里。</p>"))
    assert body.excerpt_explicit
    assert body.excerpt.startswith("第一段，") and body.excerpt.endswith("第二段。")  # whole, not cut at 140
    assert "不在摘要里" not in body.excerpt
    assert "不在摘要里" in body.html and "more" not in body.html.lower()


def test_only_the_first_more_counts_and_a_marker_hexo_would_not_see_is_ignored():
    assert excerpt_before_more("<p>a</p><!--more--><p>b</p><!-- more --><p>c</p>") == "<p>a</p>"
    assert excerpt_before_more("<p>a</p><!--  more  --><p>b</p>") is None  # Hexo's pattern: one space at most
    # In a rendered Markdown body, a marker shown as code is escaped text, not a comment.
    assert excerpt_before_more("<p>在文章中使用 <code>&lt;!-- more --&gt;</code></p>") is None


def test_without_excerpt_description_or_more_the_excerpt_is_cut_from_the_body():
    body = derive(post(excerpt="''", description="", body="<p>" + "正文" * 100 + "</p>"))
    assert not body.excerpt_explicit
    assert len(body.excerpt) == 140 and body.excerpt.endswith("…")
    assert not derive(post(body="<!-- more --><p>正文</p>")).excerpt_explicit  # nothing before the marker


def test_an_excerpt_that_is_not_text_is_an_error_naming_it():
    assert error_of(post(excerpt="[a, b]")).startswith("post.md: excerpt must be text")
    assert error_of(post(description="{a: 1}")).startswith("post.md: description must be text")


# --- the real Hexo site ----------------------------------------------------------------


def test_every_post_of_the_real_hexo_site_parses_and_dated_ones_keep_their_instant():
    posts = sorted((hexo_site() / "source" / "_posts").glob("*.md"))
    assert len(posts) == 58
    dated = {}
    for path in posts:
        article = parse_bytes(path.read_bytes(), path=path.name, tz=UTC, modified=MTIME)
        # Tag plugin warnings (importing.tag_plugins: `note`, a missing asset, …) are tested there.
        date_warnings = tuple(warning for warning in article.warnings if "{%" not in warning)
        if date_warnings:
            assert date_warnings == (f"{path.name}: date is missing: dated by the file's modification time, "
                                     "2024-05-01 10:00:00 +0000",)
        else:
            dated[path.name] = article.published_at
    # Three posts have a `date` (`2019-01-11 22:13`, …); the site's time zone is UTC.
    assert dated == {
        "2019-01-11-hexo-deployer-git-1.0.0_released.md": dt.datetime(2019, 1, 11, 22, 13, tzinfo=UTC),
        "2019-05-22-hexo-renderer-marked-1-0-0_1_0_1-released.md": dt.datetime(2019, 5, 22, 23, 59, tzinfo=UTC),
        "2019-06-01-hexo-cli-2-0-0-released.md": dt.datetime(2019, 6, 1, 15, 40, tzinfo=UTC),
    }
