"""Markdown post bodies (importing.markdown), rendered as Hexo's hexo-renderer-marked does, then sanitised."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.models import Article
from articles.sanitize import sanitize_body
from importing.markdown import MAX_NESTING, MarkedOptions, hexo_slug, is_html_body, render_markdown
from importing.parse import ImportFileError, parse_bytes
from tests import html_safety
from tests.factories import SHANGHAI, post
from tests.xss_corpus import file_vectors, scheme_spellings


def stored(body: str, name: str = "post.md", **parse_options) -> str:
    """The body an article gets from a post file `name` with this body: parsed, rendered, sanitised."""
    article = parse_bytes(post(body=body).encode(), path=name, tz=SHANGHAI, **parse_options)
    return sanitize_body(article.body)


# --- what Hexo renders ----------------------------------------------------------------------------


def test_headings_get_ids_as_hexo_makes_them():
    html = stored("## 市场 概况\n\n## 市场 概况\n\n### Café & *Crème*: Q&A?\n\n# 第一节.二\n")
    assert '<h2 id="市场-概况">市场 概况</h2>' in html
    assert '<h2 id="市场-概况-1">市场 概况</h2>' in html  # repeated: numbered, as marked does
    assert '<h3 id="Cafe-Creme-Q-A">Café &amp; <em>Crème</em>: Q&amp;A?</h3>' in html
    assert '<h1 id="第一节-二">' in html


def test_hexo_slug_is_hexo_utils_slugize():
    assert hexo_slug("  Hello, World! ") == "Hello-World"
    assert hexo_slug("a -- b__c") == "a-b-c"
    assert hexo_slug("Ünïcode résumé") == "Unicode-resume"
    assert hexo_slug("日本語のテキスト") == "日本語のテキスト"  # kana keep their marks
    assert hexo_slug("Hello World", transform=1) == "hello-world"
    assert hexo_slug("Hello World", transform=2) == "HELLO-WORLD"


def test_gfm_tables_strikethrough_and_autolinks():
    html = stored("| 代码 | 涨幅 |\n|:---|---:|\n| 600000 | 1% |\n\n~~旧消息~~ 见 https://www.cls.cn/a 与 www.sse.com.cn\n")
    assert '<th align="left">代码</th>' in html and '<td align="right">1%</td>' in html
    assert "<del>旧消息</del>" in html
    assert '<a href="https://www.cls.cn/a" rel="noopener noreferrer nofollow">https://www.cls.cn/a</a>' in html
    assert '<a href="http://www.sse.com.cn/" rel="noopener noreferrer nofollow">www.sse.com.cn</a>' in html


def test_fenced_code_keeps_its_language_and_text():
    html = stored("```python\n# 注释\nif a < b:\n    print('x -- y...')\n```\n")
    assert html == ('<pre><code class="language-python"># 注释\nif a &lt; b:\n'
                    "    print('x -- y...')\n</code></pre>")


def test_line_breaks_emphasis_and_lists():
    html = stored("**财联社4月29日讯**，第一行\n第二行\n\n- 一\n- 二\n\n1. 甲\n2. 乙\n\n> 引用\n")
    assert "<p><strong>财联社4月29日讯</strong>，第一行<br>\n第二行</p>" in html  # breaks: true
    assert "<ul>\n<li>一</li>\n<li>二</li>\n</ul>" in html
    assert "<ol>\n<li>甲</li>\n<li>乙</li>\n</ol>" in html
    assert "<blockquote>\n<p>引用</p>\n</blockquote>" in html


def test_smartypants_quotes_dashes_and_ellipses_but_not_in_code_or_urls():
    html = stored('He said "it\'s up" -- and --- then... `a -- "b"` https://x.example/a--b...\n')
    assert "He said “it’s up” – and — then…" in html
    assert "<code>a -- \"b\"</code>" in html or "<code>a -- &quot;b&quot;</code>" in html
    assert ">https://x.example/a--b</a>…" in html


def test_smartypants_curls_each_run_of_text_apart_as_marked_does():
    # What Hexo 8 made of hexo.io's own posts (tests/hexo/test_conformance.py): a quote that opens a
    # run of text (after bold, a link, a line break) opens, even where it closes a pair.
    html = render_markdown('The **`hash`**" was added; "node_modules/" and ".git/" folders\n"line"\n')
    assert "</strong>“ was added; “node_modules/“ and “.git/“ folders<br>\n“line”" in html
    html = render_markdown('\\"escaped\\" <kbd>"key"</kbd> it\'s \'single\'\n')
    assert '&quot;escaped&quot;' in html and '<kbd>&quot;key&quot;</kbd>' in html  # as written, as in marked
    assert "it’s ‘single’" in html


def test_a_hosts_url_gets_its_root_path_as_hexo_util_encodes_it():
    html = render_markdown("http://hexo.io [a](https://hexo.io?x=1) [b](https://hexo.io/docs) ![c](https://e.cn#t)\n")
    assert '<a href="http://hexo.io/">http://hexo.io</a>' in html
    assert 'href="https://hexo.io/?x=1"' in html and 'href="https://hexo.io/docs"' in html
    assert 'src="https://e.cn/#t"' in html


def test_bare_e_mail_addresses_are_linked_and_non_ascii_hosts_are_not_as_in_marked():
    html = render_markdown("联系 editor@example.com 或 http://例子.测试/路径 与 https://例子.cn/a\n")
    assert '<a href="mailto:editor@example.com">editor@example.com</a>' in html
    assert "<a" not in html.split("或", 1)[1]  # marked's URL pattern takes an ASCII host only


def test_description_lists_as_hexo_renderer_marked_writes_them():
    html = render_markdown("Term\n: definition\n\n第二段\n")
    assert html.startswith("<dl><dt>Term</dt><dd>definition</dd></dl><p>第二段</p>")
    assert "<dl>" not in render_markdown("Term\n: definition\n", MarkedOptions.from_config({"descriptionLists": False}))
    assert "<dl>" not in render_markdown("<p>Term<br>\n: definition</p>\n")  # raw HTML stays as written
    assert "<dl>" not in render_markdown("A\n: b\n")  # marked's pattern wants two characters either side


def test_images_and_links():
    html = stored('![K线图](https://img.cls.cn/a.png "日线") [财联社](https://www.cls.cn "首页")\n')
    assert '<img src="https://img.cls.cn/a.png" alt="K线图" title="日线" referrerpolicy="no-referrer" loading="lazy">' in html
    assert '<a href="https://www.cls.cn/" title="首页" rel="noopener noreferrer nofollow">财联社</a>' in html


def test_a_sites_marked_options_are_followed():
    body = '## 标题 One\n\n第一行\n第二行 "引号" https://www.cls.cn\n\n~~删~~\n'
    plain = MarkedOptions.from_config({"breaks": False, "headerIds": False, "smartypants": False,
                                       "autolink": False, "unknown": 1})
    html = stored(body, marked=plain)
    assert "<h2>标题 One</h2>" in html and "第一行\n第二行" in html and "<br>" not in html
    assert '"引号"' in html or "&quot;引号&quot;" in html
    assert "<a " not in html and "<del>删</del>" in html
    assert '<h2 id="标题-one">' in stored(body, marked=MarkedOptions.from_config({"modifyAnchors": 1}))
    html = stored(body, marked=MarkedOptions.from_config({"gfm": False}))
    assert "~~删~~" in html and "<a " not in html
    assert "«引号»" in stored(body, marked=MarkedOptions.from_config({"quotes": "«»‹›"}))
    assert MarkedOptions.from_config({"quotes": "bad"}) == MarkedOptions.from_config(None) == MarkedOptions()


# --- what stays as it is ----------------------------------------------------------------------------


MIRROR_BODY = ("<div>   \n【标题】财联社4月29日电，第一段。\n\n    缩进的一行，不是代码。\n\n"
               "        <p>再缩进的段落</p>\n# 不是标题的井号\n</div>")


def test_an_html_body_in_a_markdown_file_stays_html():
    assert is_html_body(MIRROR_BODY[: MIRROR_BODY.index("# ")])
    body = MIRROR_BODY.replace("# 不是标题的井号\n", "")
    assert stored(body) == sanitize_body(body) == stored(body, name="post.txt")
    assert "<pre" not in stored(body) and "<code" not in stored(body)
    assert stored("<!-- more -->\n<p>甲</p>\n\n    <p>乙</p>\n") == "<p>甲</p>\n\n    <p>乙</p>"


def test_a_markdown_post_that_opens_with_html_is_still_markdown():
    html = stored('<p align="center"><img src="https://img.cls.cn/a.png"></p>\n\n## 小标题\n\n**正文**\n')
    assert '<h2 id="小标题">小标题</h2>' in html and "<strong>正文</strong>" in html
    # ... but a `# comment` inside <pre> does not make an HTML body Markdown
    assert is_html_body("<p>代码：</p><pre>\n# 注释\n```\n</pre>")


def test_txt_files_and_other_suffixes_keep_todays_behaviour():
    body = "## 标题\n**粗体**\n第二行"
    assert stored(body, name="post.txt") == "<p>## 标题</p><p>**粗体**</p><p>第二行</p>"
    assert stored(body, name="post.html") == stored(body, name="post.txt")
    assert stored(body, name="post.MARKDOWN").startswith('<h2 id="标题">')
    assert stored(body, name="post.md", marked=None) == stored(body, name="post.txt")


@pytest.mark.corpus
def test_every_real_post_imports_with_the_body_it_had(corpus_dir):
    """The mirror bot's .md posts are HTML: the same body as before Markdown was rendered (marked=None)."""
    compared = 0
    for path in sorted(corpus_dir.glob("*.md")):
        data = path.read_bytes()
        try:
            before = parse_bytes(data, path=str(path), tz=SHANGHAI, marked=None)
        except ImportFileError:
            continue  # broken on purpose (SOURCES.md): it fails with or without Markdown
        now = parse_bytes(data, path=str(path), tz=SHANGHAI)
        assert sanitize_body(now.body) == sanitize_body(before.body), path.name
        assert "<pre" not in sanitize_body(now.body), path.name  # Hexo makes code of three of them
        compared += 1
    assert compared >= 140


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [">" * 100_000, "> " * 50_000 + "深", "- " * 50_000, "1. " * 30_000 + "x"])
def test_deep_nesting_is_capped(body):
    html = stored(body)
    assert html.count("<blockquote") <= MAX_NESTING and html.count("<ul") + html.count("<ol") <= MAX_NESTING
    assert len(html) < 2_000


@pytest.mark.parametrize("body", ["[" * 100_000, "](" * 50_000, "![[" * 30_000, "x" + "`" * 100_000])
def test_unclosed_brackets_render_as_text(body):
    html = stored(body)
    assert html == f"<p>{body}</p>"  # the text itself: no link, nothing nested, nothing lost


def test_a_long_run_of_markers_renders_to_bounded_html():
    body = "*_" * 50_000
    html = stored(body)
    assert html.startswith("<p><em>") and len(html) <= len(body) * 4  # a few tags a character at most


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("#>*_-+=|`~[]()!<>:/\\ \n\t\"'&;.1aé中") + ["```", "http://", "<p>"]),
                max_size=200).map("".join))
def test_any_markdown_renders_and_is_safe(body):
    html = sanitize_body(render_markdown(body))
    assert html_safety.problems(html) == []
    assert sanitize_body(html) == html


# --- what the sanitiser still removes ------------------------------------------------------------------


MARKDOWN_VECTORS = [
    "[x]({url})",
    "[x]( {url} )",
    "[x](<{url}>)",
    "![x]({url})",
    "[x][ref]\n\n[ref]: {url}",
    "<{url}>",
    '[x](https://ok.example "t\\" onclick=\\"alert(1)")',
    '```js" onclick="alert(1)\ncode\n```',
    "# <img src=x onerror=alert(1)>",
    "## [x]({url})",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "> <iframe src={url}></iframe>",
    "    <script>alert(1)</script>",  # an indented code block: shown as text
]


@pytest.mark.parametrize("template", MARKDOWN_VECTORS)
def test_markdown_cannot_smuggle_script(template):
    for spelling in scheme_spellings("javascript")[:12] + ["vbscript:msgbox(1)", "data:text/html,<script>x</script>"]:
        url = spelling if ":" in spelling else spelling + "alert(1)"
        html = stored(template.replace("{url}", url))
        assert html_safety.problems(html) == [], (template, url, html)


@pytest.mark.parametrize("vector", file_vectors())
def test_raw_html_vectors_in_markdown_are_removed(vector):
    for body in (vector, f"## 标题\n\n{vector}\n\n正文 *强调*", f"- 列表 {vector}", f"> {vector}"):
        html = stored(body)
        assert html_safety.problems(html) == [], (vector, html)


# --- through the importer ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_markdown_post_imports_as_html(run_import, write_post):
    body = "## 要闻\n\n**财联社4月29日讯**，央行今日开展 *100亿元* 逆回购。\n\n| 期限 | 利率 |\n|---|:-:|\n| 7天 | 2.1% |\n"
    result = run_import(write_post("md/news.md", post(body=body)))
    assert result.exit_code == 0, result.stderr
    article = Article.objects.get()
    assert article.body.startswith('<h2 id="要闻">要闻</h2>\n<p><strong>财联社4月29日讯</strong>')
    assert '<td align="center">2.1%</td>' in article.body
    assert "**" not in article.excerpt and "##" not in article.excerpt
    assert article.excerpt.startswith("要闻 财联社4月29日讯，央行今日开展 100亿元 逆回购。")
    assert re.search(r"<h2[^>]*>", article.body)[0] == '<h2 id="要闻">'


@pytest.mark.django_db
def test_a_generated_markdown_corpus_imports_as_markdown(run_import, tmp_path):
    from django.core.management import call_command

    from bench.corpus import revise_files

    out = tmp_path / "corpus"
    call_command("generate_corpus", "--count", "120", "--out", str(out), "--seed", "5", "--markdown", verbosity=0)
    files = sorted(out.rglob("*"))
    posts = [path for path in files if path.is_file()]
    assert posts and all(path.suffix == ".md" for path in posts)
    texts = [path.read_text(encoding="utf-8") for path in posts]
    assert not any("<div>" in text for text in texts)
    assert any("\n## " in text for text in texts) and any("\n|:---|" in text for text in texts)

    result = run_import(out)
    assert result.exit_code == 0, result.stderr
    assert "failed 0" in result.stdout
    bodies = list(Article.objects.values_list("body", flat=True))
    assert any('<h2 id="' in body for body in bodies) and any("<table>" in body for body in bodies)
    assert any("<strong>" in body for body in bodies) and any("<ul>" in body for body in bodies)
    assert not any(marker in body for body in bodies for marker in ("**", "\n## ", "|:---|"))

    edited = revise_files(posts, 0.05, seed=6)
    assert "updated 6," in run_import(out).stdout and len(edited) == 6


def test_only_the_bare_urls_marked_links_are_linked():
    html = stored("见 www.cls.cn 与 hexo.io ，邮箱 a@b.cn 。\n")
    assert '<a href="http://www.cls.cn/"' in html and '<a href="mailto:a@b.cn"' in html
    assert " hexo.io " in html and "http://hexo.io" not in html  # linkify-it's fuzzy links: not marked's


@pytest.mark.parametrize("stored_body", [
    "iOS 开发四年<br>\n<br>\n    年内的第一件事<br>\n# 不是标题",  # text and <br> lines, as a stored body can be
    "<p>甲</p>\n\n    <p>缩进的乙</p>",
    '<pre><code class="language-python"># 注释\nx = 1\n</code></pre>',
])
def test_an_exported_body_imports_back_unchanged(stored_body):
    from importing.hexo_export import render_post

    body = sanitize_body(stored_body)
    text = render_post({"title": "导出", "date": "2022-04-30 09:33:09"}, body)
    assert sanitize_body(parse_bytes(text.encode(), path="2022-04-30-x.md", tz=SHANGHAI).body) == body


PLAIN_PIECES = list("ab中文，。%()0123456789.-:： \n\u3000\u00a0") + ["\n\n", "  \n", "1.", "- ", "\n \n", " \u3000", "2)"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PLAIN_PIECES), max_size=40).map("".join), st.booleans())
def test_the_plain_text_fast_path_renders_as_the_parser_does(text, breaks):
    options = MarkedOptions(breaks=breaks)
    assert render_markdown(text, options) == render_markdown(text, options, fast_path=False)


def test_the_plain_text_fast_path_is_taken_for_wire_copy_and_renders_it_as_the_parser_does():
    from bench.corpus import iter_corpus
    from importing.markdown import _plain_paragraphs

    bodies = [data.decode().split("\n---\n", 2)[2] for _, data in iter_corpus(300, 9, markdown=True)]
    plain = [body for body in bodies if _plain_paragraphs(body, True) is not None]
    assert 0 < len(plain) < len(bodies)
    for body in bodies:
        assert render_markdown(body) == render_markdown(body, fast_path=False)
