"""Unit tests of importing.parse: pure Python, no database."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from importing.parse import ImportFileError, parse_bytes
from tests.factories import SEEDS, SHANGHAI, post

UTC = dt.timezone.utc


def parse(text: str | bytes, tz=SHANGHAI):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_bytes(data, path="post.md", tz=tz)


def error_of(text: str | bytes) -> str:
    with pytest.raises(ImportFileError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith("post.md"), message
    assert "\n" not in message
    return message


# --- front-matter forms ---------------------------------------------------


def test_seed_file_fields():
    article = parse((SEEDS / "000_a0c2001c312cffc3.txt").read_bytes())
    assert article.title.startswith("涨停有因？华林证券又有新动作")
    assert article.published_at == dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)
    assert article.category_chains == (("金融", "财联社", "深度"),)
    assert article.author == "财联社"
    assert article.comments_enabled is False
    assert article.head_image == "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg"
    assert article.thumbnail == article.head_image
    assert "华林证券继续加码IT投入" in article.body


def test_yaml_with_leading_blank_lines_bom_and_crlf():
    text = "\n\n" + post(title="'CRLF 文章'").replace("\n", "\r\n")
    article = parse(b"\xef\xbb\xbf" + text.encode())
    assert article.title == "CRLF 文章"
    assert "\r" not in article.body


def test_yaml_with_only_closing_separator():
    article = parse("title: 只有结尾分隔线\ndate: 2022-04-30 09:33:09\n---\n<p>正文</p>\n")
    assert article.title == "只有结尾分隔线"
    assert article.body.strip() == "<p>正文</p>"


def test_json_front_matter_between_semicolons():
    text = ';;;\n"title": "JSON 文章",\n"date": "2022-04-30T09:33:09+08:00",\n"tags": ["券商"]\n;;;\n<p>正文</p>'
    article = parse(text)
    assert article.title == "JSON 文章"
    assert article.published_at == dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)
    assert article.tags == ("券商",)


def test_json_front_matter_with_braces():
    article = parse(';;;\n{"title": "带括号", "date": "2022-04-30 09:00:00"}\n;;;\nbody')
    assert article.title == "带括号"


def test_body_may_contain_separator_lines():
    article = parse(post(body="<p>上</p>\n---\n<p>下</p>"))
    assert "<p>下</p>" in article.body


# --- dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected_utc",
    [
        ("Sat, 30 Apr 2022 01:33:09 GMT", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        ("Sat, 30 Apr 2022 09:33:09 +0800", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        ("'2022-04-30T09:33:09+08:00'", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        ("'2022-04-30T01:33:09Z'", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        # naive: read in --timezone (Asia/Shanghai here), both as YAML timestamp and as text
        ("2022-04-30 09:33:09", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        ("'2022-04-30 09:33:09'", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
        ("2022-04-30", dt.datetime(2022, 4, 29, 16, 0, tzinfo=UTC)),
    ],
)
def test_date_forms(raw, expected_utc):
    assert parse(post(date=raw)).published_at == expected_utc


def test_naive_date_uses_given_timezone():
    article = parse(post(date="2022-04-30 09:33:09"), tz=dt.timezone.utc)
    assert article.published_at == dt.datetime(2022, 4, 30, 9, 33, 9, tzinfo=UTC)


def test_rfc2822_just_before_beijing_midnight_is_next_day_in_beijing():
    article = parse(post(date="Fri, 26 Mar 2021 23:59:58 GMT"))
    assert article.published_at.astimezone(SHANGHAI).date() == dt.date(2021, 3, 27)


@pytest.mark.parametrize("raw", ["Invalid Date", "'明天'", "'2022-13-45 25:61:00'", "[2022]", "'99999-01-01'"])
def test_unparseable_date_is_an_error(raw):
    assert "date" in error_of(post(date=raw))


@pytest.mark.parametrize(("raw", "reason"), [
    ("2021-02-30", "day is out of range for month"),
    ("2021-13-01", "month must be in 1..12"),
    ("2021-01-01 25:00:00", "hour must be in 0..23"),
    ("0000-01-01", "year 0 is out of range"),
    ("2021-01-01 10:00:00 +25:00", "UTC offset +25:00 is out of range"),
    ("!!timestamp 'not a date'", "not a valid date"),
])
def test_a_date_that_does_not_exist_is_one_line_naming_the_field(raw, reason):
    # PyYAML's YAML 1.1 timestamps raised a bare ValueError here, which stopped the whole import.
    message = error_of(post(date=raw))
    assert message.startswith("post.md: date ") and reason in message, message


def test_an_updated_date_that_does_not_exist_is_an_error_naming_updated():
    message = error_of(post(updated="2021-02-30 10:00:00"))
    assert message.startswith("post.md: updated ") and "day is out of range for month" in message, message


def test_impossible_dates_in_other_keys_stay_text_and_real_ones_are_stored_as_before():
    article = parse(post(custom="2021-02-30", when="[2021-01-01 25:00:00, 2022-4-5 1:02:03.1234567 +8]",
                         quoted="'2022-05-01 10:00:00'", day="2022-05-01"))
    assert article.extra == {
        "custom": "2021-02-30", "when": ["2021-01-01 25:00:00", "2022-04-05T01:02:03.123456+08:00"],
        "quoted": "2022-05-01 10:00:00", "day": "2022-05-01"}


@pytest.mark.parametrize(("raw", "expected_utc"), [
    ("2022-4-5 1:02:03", dt.datetime(2022, 4, 4, 17, 2, 3, tzinfo=UTC)),
    ("2022-04-30 09:33:09.1234567", dt.datetime(2022, 4, 30, 1, 33, 9, 123456, tzinfo=UTC)),
    ("2022-04-30 09:33:09 +8", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
    ("2022-04-30t01:33:09 Z", dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=UTC)),
])
def test_yaml_11_timestamp_forms_still_import(raw, expected_utc):
    assert parse(post(date=raw)).published_at == expected_utc


# --- categories, tags, author -----------------------------------------------


def test_flat_category_list_is_one_chain():
    article = parse(post(categories="\n - 金融\n - 财联社\n - 深度"))
    assert article.category_chains == (("金融", "财联社", "深度"),)


def test_list_of_lists_is_several_chains_and_bare_string_is_top_level():
    article = parse(post(categories="\n - [金融, 财联社]\n - [科技, 36kr]\n - 快讯"))
    assert article.category_chains == (("金融", "财联社"), ("科技", "36kr"), ("快讯",))


def test_category_string_and_alias():
    assert parse(post(categories="金融")).category_chains == (("金融",),)
    assert parse(post(category="[金融, 券商]")).category_chains == (("金融", "券商"),)


def test_category_names_are_trimmed_and_nfkc_normalised():
    article = parse(post(categories="\n - ' 金融 '\n - '新浪财经－国內'\n - 'ＡＢＣ'"))
    assert article.category_chains == (("金融", "新浪财经-国內", "ABC"),)


def test_tags_string_list_alias_and_dedup():
    assert parse(post(tags="券商")).tags == ("券商",)
    assert parse(post(tag="[券商, 腾讯, ' 券商 ', ETF, etf]")).tags == ("券商", "腾讯", "ETF")


def test_author_is_trimmed():
    assert parse(post(author="'  财联社 '")).author == "财联社"


def test_unknown_keys_are_kept_as_json():
    # `updated` was kept here until it became the article's last-modified time (ParsedArticle.updated).
    article = parse(post(layout="post", updated="2022-05-01 10:00:00", custom="{a: [1, 2]}"))
    assert article.extra == {"layout": "post", "custom": {"a": [1, 2]}}


def test_yaml_12_scalars_like_hexo():
    # js-yaml (Hexo) reads these as strings; PyYAML's YAML 1.1 would not.
    assert parse(post(title="NO")).title == "NO"
    assert parse(post(title="12:30")).title == "12:30"
    assert parse(post(title="010")).title == "010"


def test_published_false_makes_a_draft():
    assert parse(post(published="false")).published is False
    assert parse(post()).published is True


# --- identity ---------------------------------------------------------------


def test_import_key_ignores_file_name_and_uses_identity_fields():
    a = parse_bytes(post().encode(), path="a.md", tz=SHANGHAI)
    b = parse_bytes(post().encode(), path="renamed/b.md", tz=SHANGHAI)
    assert a.import_key == b.import_key
    c = parse(post(permalink="https://example.com/p/1"))
    d = parse(post(title="'改了标题'", permalink="https://example.com/p/1"))
    assert c.import_key == d.import_key != a.import_key


def test_import_key_changes_with_title_author_or_time():
    base = parse(post()).import_key
    assert parse(post(title="'另一篇'")).import_key != base
    assert parse(post(author="某人")).import_key != base
    assert parse(post(date="Sat, 30 Apr 2022 01:33:10 GMT")).import_key != base


# --- bad input: each is one clear line naming the file and the problem ------


def test_invalid_yaml_reports_its_line():
    message = error_of("\n---\ntitle: \"\"\"\"'第10集'\"\"\"\"\ndate: 2021-03-22 04:50:47\n---\nbody")
    assert "invalid YAML at line 3" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<p>just a body, no front matter</p>\n", "no front matter"),
        ("---\ntitle: x\ndate: 2022-01-01\n<p>never closed</p>\n", "never closed"),
        ("---\n- a\n- b\n---\nbody", "must be a mapping"),
        ("---\njust text\n---\nbody", "must be a mapping"),
        ("---\n\n---\nbody", "front matter: is empty"),
        (post(title="' '"), "title is blank"),
        ("---\ndate: 2022-01-01\n---\nbody", "title is missing"),
        ("---\ntitle: x\n---\nbody", "date is missing"),
        (post(title="[a, b]"), "title must be text"),
        (post(categories="{a: 1}"), "categories must be a string or a list, not a mapping"),
        (post(categories="[[a, [b]]]"), "categories a chain may hold only names"),
        (post(tags="{a: 1}"), "tags must be a string or a list"),
        (post(tags="[" + ", ".join(f"t{i}" for i in range(1000)) + "]"), "tags has 1000 entries"),
        (post(categories="[" + ", ".join(f"[c{i}]" for i in range(1000)) + "]"), "categories has 1000 chains"),
        (post(headimg="'javascript:alert(1)'"), "headimg"),
        (post(thumbnail="'data:image/png;base64,AAAA'"), "thumbnail"),
        (post(comments="maybe"), "comments must be true or false"),
        (post(title="'" + "长" * 600 + "'"), "title is 600 characters"),
        (";;;\n\"title\": \"x\",\n;;;\nbody", "invalid JSON"),
    ],
)
def test_bad_front_matter(text, expected):
    assert expected in error_of(text)


def test_blank_title_and_invalid_date_are_both_reported_on_one_line():
    message = error_of(post(title="' '", date="Invalid Date"))
    assert "title is blank" in message and "'Invalid Date' is not a date" in message


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "file is empty"),
        (b"  \n\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("---\ntitle: 中文\ndate: 2022-01-01\n---\n正文".encode("gbk"), "not UTF-8"),
    ],
)
def test_bad_bytes(data, expected):
    assert expected in error_of(data)


def test_python_tags_are_refused():
    message = error_of(post(title="!!python/object/apply:os.system ['echo pwned']"))
    assert "invalid YAML" in message


def test_billion_laughs_ends_quickly_with_an_error():
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "---\ntitle: x\ndate: 2022-01-01\n" + "\n".join(levels) + "\n---\nbody"
    start = time.monotonic()
    message = error_of(text)
    assert time.monotonic() - start < 2
    assert "aliases" in message or "values" in message


def test_merge_key_bomb_ends_quickly_with_an_error():
    lines = ["a0: &a0 {k0: 1, k1: 2}"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} {{<<: [" + ",".join([f"*a{i - 1}"] * 9) + f"], x{i}: 1}}")
    start = time.monotonic()
    error_of("---\ntitle: x\ndate: 2022-01-01\n" + "\n".join(lines) + "\n---\nbody")
    assert time.monotonic() - start < 2


def test_few_aliases_within_the_budget_are_fine():
    article = parse(post(base="&b 金融", categories="[*b, 财联社]"))
    assert article.category_chains == (("金融", "财联社"),)


@pytest.mark.parametrize("depth", [50, 3_000, 40_000])
def test_deep_nesting_is_an_error_not_a_crash(depth):
    text = "---\ntitle: x\ndate: 2022-01-01\nx: " + "[" * depth + "]" * depth + "\n---\nbody"
    assert "front matter" in error_of(text)


def test_huge_front_matter_is_refused():
    text = "---\ntitle: x\ndate: 2022-01-01\nx: '" + "a" * 100_000 + "'\n---\nbody"
    assert "front matter: is over 64 KiB" in error_of(text)


# --- fuzzing: whatever the bytes, a clean error or an article ---------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_yaml_bits = st.sampled_from(
    ["---\n", ";;;\n", "title: ", "date: ", "categories: ", "tags: ", "- ", "[", "]", "{", "}", "&a ", "*a",
     "!!python/object:os.system ", "'", '"', ":", "\n", "  ", "2022-04-30 09:33:09", "Invalid Date", "金融",
     "\x00", "\ufeff", "\r\n", "null", "<<: *a", "!!binary aGk=", "!!set {a, b}"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(_yaml_bits, max_size=40).map(lambda p: "".join(p).encode())))
def test_fuzzed_input_gives_an_article_or_one_clean_error(data):
    try:
        article = parse(data)
    except ImportFileError as exc:
        assert str(exc).startswith("post.md") and "\n" not in str(exc)
    else:
        assert article.title.strip() and article.published_at.tzinfo is not None


def test_non_finite_numbers_in_extra_fields_are_kept_as_text():
    article = parse_bytes(post(ratio=".inf", low="-.inf", odd=".nan").encode(), path="post.md", tz=SHANGHAI)
    assert article.extra == {"ratio": ".inf", "low": "-.inf", "odd": ".nan"}
