"""The Markdown renderer's shortcuts for plain text (importing.markdown) give exactly the parser's HTML.

`render_markdown(text)` takes the shortcuts: whole plain bodies made into
paragraphs directly, top-level plain paragraphs as one token, plain inline
text without the inline parser, and fewer stops for markdown-it's text rule.
`render_markdown(text, fast_path=False)` is markdown-it with none of them.
Every test here renders the same text both ways and compares the HTML.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importing.markdown import MarkedOptions, _renderer, render_markdown
from importing.parse import ImportFileError, split_front_matter

SHARED_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

# Pieces of text that each open, close or interrupt something in Markdown, or
# come close to it, beside plain Chinese and Latin text, so that generated
# bodies mix plain paragraphs with every block and inline construct.
MARKDOWN_PIECES = [
    "中文", "段落", "ab", "Q1", "2019年", "8%", "3.5", "：", "，", "。", "“", "”", "\u3000", "\u00a0", "\u2000",
    " ", "  ", "\t", "\n", "\n\n", "  \n", " \n", "\n ", "\n   ", "\n    ", "\r\n", "\x0b", "\x00",
    "# ", "## ", "#", "> ", ">", "- ", "* ", "+ ", "1. ", "2) ", "10.", "-", "--", "---", "***", "___", "===",
    "```", "~~~", "```python\n", "    code", "|", " | ", "|---|", "| --- | :-: |", ":-",
    "[", "]", "(", ")", "](", "[x]", "[x]: /u", "![图](a.png)", "[详情](https://www.cls.cn/detail/1)",
    "<", ">", "<div>", "</div>", "<!-- more -->", "<br>", "<https://a.cn>", "&", "&amp;", "&#39;", "&copy",
    "*", "**", "_", "__", "~", "~~", "`", "``", "\\", "\\*", "'", '"', "...", "!", "@", "a@b.cn",
    ":", "://", "http://x.cn/a-b", "www.example.com", "WwW.", "example.com", "%", "$", "{", "}", "^", "+", "=",
    "{% note %}", "{{ x }}",
]

OPTION_SETS = [
    MarkedOptions(),
    MarkedOptions(breaks=False),
    MarkedOptions(smartypants=False, autolink=False),
    MarkedOptions(gfm=False, header_ids=False),
]


def assert_same_html(text: str, options: MarkedOptions = MarkedOptions()) -> None:
    assert render_markdown(text, options) == render_markdown(text, options, fast_path=False), repr(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=40).map("".join), st.sampled_from(OPTION_SETS))
def test_any_mix_of_markdown_and_plain_text_renders_as_the_parser_renders_it(text, options):
    assert_same_html(text, options)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(OPTION_SETS))
def test_any_text_at_all_renders_as_the_parser_renders_it(text, options):
    assert_same_html(text, options)


@pytest.mark.parametrize("text", [
    "段落一\n第二行  \n第三行 \n   第四行\n\n段落二",  # soft and hard breaks, leading spaces skipped
    "段落\n===\n\n段落\n---\n",  # setext headings: the underline makes it a heading
    "段落\n- 列表\n\n段落\n> 引用\n\n段落\n# 标题\n\n段落\n```\ncode\n```",  # blocks that interrupt
    "甲 | 乙\n--- | ---\n1 | 2\n",  # a table's header line
    "> 引用\n懒惰的续行\n\n- 项\n  续行\n\n  项内段落",  # lazy and nested paragraphs
    "[ref]\n\n[ref]: https://a.cn\n",  # a reference defined after its use
    "利率上调0.25%至3.5%，涨幅-2%：{x} $y$ ^z^ a+b=c #标签 @某人",  # characters no rule here starts at
    "<div>\n\nHTML 块\n\n</div>\n\n<!--\n\n注释里的段落\n\n-->\n段落",
    "术语\n: 定义\n\n段落\n:不是定义",  # a description list: marked's <dl>
])
def test_the_cases_the_shortcuts_must_leave_to_the_parser(text):
    for options in OPTION_SETS:
        assert_same_html(text, options)


def test_the_shortcuts_are_taken_for_a_newsroom_post():
    """Not only equal: the plain paragraphs of a typical post really skip the parser."""
    body = "## 市场概况\n\n沪指涨0.5%，成交额8000亿元。\n北向资金净买入。\n\n**重点**：券商板块走强。\n"
    tokens = _renderer(MarkedOptions(), True).parse(body)
    assert [token.type for token in tokens].count("plain_paragraph") == 1
    heading_text = tokens[1].children
    assert [(child.type, child.content) for child in heading_text] == [("text", "市场概况")]
    assert "plain_paragraph" not in [token.type for token in _renderer(MarkedOptions(), False).parse(body)]
    assert_same_html(body)


def test_a_generated_markdown_corpus_renders_as_the_parser_renders_it():
    from bench.corpus import iter_corpus

    for _, data in iter_corpus(400, 5, markdown=True):
        assert_same_html(data.decode().split("\n---\n", 2)[2])


def _shared_markdown_bodies() -> list[tuple[str, str]]:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {SHARED_CORPUS} (it lives in ../shared beside the project)")
    bodies = []
    for path in sorted(SHARED_CORPUS.rglob("*.md")):
        if path.name in ("SOURCES.md", "README.md"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            bodies.append((str(path), split_front_matter(text, str(path)).body))
        except ImportFileError:
            bodies.append((str(path), text))  # a page without front matter: all of it is the body
    return bodies


def test_the_real_posts_and_docs_render_as_the_parser_renders_them():
    bodies = _shared_markdown_bodies()
    assert len(bodies) > 50
    for options in OPTION_SETS[:2]:
        for name, body in bodies:
            assert render_markdown(body, options) == render_markdown(body, options, fast_path=False), name
