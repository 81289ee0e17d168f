"""Hexo's tag plugins (`{% … %}`) in post bodies (importing.tag_plugins), as Hexo 8 renders them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from articles.sanitize import sanitize_body
from importing.parse import parse_bytes
from importing.tag_plugins import PostRef, TagContext, render_body, split_args
from tests.factories import CORPUS, SHANGHAI, image_bytes, post
from tests.hexo_support import hexo_render

HEXO_SITE = CORPUS.parent / "hexo-site"
HEXO_DOCS = CORPUS.parent / "hexo-docs-zh"

CTX = TagContext(
    path="source/_posts/a.md",
    posts={"hello-world": PostRef(url="/2020/01/01/hello-world/", title="Hello <World>")},
    assets={"chart.png": "/media/posts/a/chart.png", "report.pdf": "/media/posts/a/report.pdf"},
)


def render(text: str, ctx: TagContext = CTX, markdown: bool = True):
    return render_body(text, ctx, markdown=markdown)


def html(text: str, ctx: TagContext = CTX) -> str:
    return render(text, ctx).html


def stored(body: str, name: str = "post.md", **front: str) -> str:
    article = parse_bytes(post(body=body, **front).encode(), path=name, tz=SHANGHAI)
    return sanitize_body(article.body)


# --- arguments ------------------------------------------------------------------------------------


def test_arguments_split_like_a_shell_with_quotes_removed():
    assert split_args('Hexo  https://hexo.io "Hexo 官网" \'a b\'') == ["Hexo", "https://hexo.io", "Hexo 官网", "a b"]
    assert split_args('title:"a b" lang:js') == ["title:a b", "lang:js"]  # adjacent pieces join, as in Nunjucks
    assert split_args(' "say \\"hi\\"" ') == ['say "hi"']
    assert split_args("") == []


# --- each tag -------------------------------------------------------------------------------------


def test_blockquote_forms_as_hexo_writes_them():
    assert html("{% blockquote %}\nplain\n{% endblockquote %}") == "<blockquote><p>plain</p>\n</blockquote>"
    assert "<footer><strong>David Levithan</strong><cite>Wide Awake</cite></footer>" in html(
        "{% blockquote David Levithan, Wide Awake %}\nDo not **seek** it.\n{% endblockquote %}")
    cited = html("{% quote @DevDocs https://twitter.com/devdocs/status/356095192085962752 %}\nx\n{% endquote %}")
    assert ('<footer><strong>@DevDocs</strong><cite><a href="https://twitter.com/devdocs/status/356095192085962752">'
            "twitter.com/devdocs/status/356095192085962752</a></cite></footer>") in cited
    titled = html("{% blockquote Seth Godin http://sethgodin.typepad.com/a.html Welcome to Island %}\nx\n"
                  "{% endblockquote %}")
    assert '<cite><a href="http://sethgodin.typepad.com/a.html">Welcome to Island</a></cite>' in titled


def test_block_content_is_markdown_and_its_html_is_not_read_again():
    out = html("前文\n\n{% blockquote 作者 %}\n**加粗**\n\n    缩进的一行\n{% endblockquote %}\n\n后文")
    assert "<blockquote><p><strong>加粗</strong></p>" in out
    assert out.startswith("<p>前文</p>") and out.endswith("<p>后文</p>\n")
    assert "<p><blockquote>" not in out  # a block tag alone on its lines is a block, not a paragraph


def test_codeblock_and_fenced_code_with_a_title():
    out = html("{% codeblock Array.map lang:js https://x.com/map.js 源码 %}\na < b {% link x https://y.z %}\n"
               "{% endcodeblock %}")
    assert out == ('<figure><figcaption><span>Array.map</span><a href="https://x.com/map.js">源码</a></figcaption>'
                   '<pre><code class="language-js">a &lt; b {% link x https://y.z %}\n</code></pre>\n</figure>\n')
    assert html("{% code lang:py %}\n  x = 1\n{% endcode %}") == '<pre><code class="language-py">x = 1\n</code></pre>\n'
    fenced = html("```js 标题 https://x.com 链接\nlet a = '{% img /x.png %}';\n```\n")
    assert "<figcaption><span>标题</span>" in fenced and "{% img /x.png %}" in fenced
    assert html("```js\nx\n```\n") == '<pre><code class="language-js">x\n</code></pre>\n'  # as Markdown alone


def test_tags_in_code_stay_as_written():
    assert "<code>{% img /a.png %}</code>" in html("行内 `{% img /a.png %}` 代码")
    assert "<pre><code>{% img /a.png %}\n</code></pre>" in html("段落\n\n    {% img /a.png %}\n")
    assert "{% img /b.png %}" in html("```\n{% img /b.png %}\n```\n")
    assert "<!-- {% img /c.png %} -->" in html("<!-- {% img /c.png %} -->\n\n正文")


def test_raw_runs_even_in_inline_code_as_in_hexo():
    # hexo.io's docs write `{% raw %}{{ now() }}{% endraw %}` to show the braces in code
    assert html("`提交信息 {% raw %}{{ now() }}{% endraw %}`") == "<p><code>提交信息 {{ now() }}</code></p>\n"
    assert html("`{% raw %}<b>{% endraw %}`") == "<p><code>&lt;b&gt;</code></p>\n"  # text, where Hexo puts HTML


def test_pullquote_img_link_raw():
    assert html("{% pullquote left %}\n*重点*\n{% endpullquote %}") == (
        '<blockquote class="pullquote left"><p><em>重点</em></p>\n</blockquote>')
    assert html('{% img left /images/a.png 200 100 \'"标题" "替代"\' %}') == (
        '<img src="/images/a.png" class="left" width="200" height="100" title="标题" alt="替代">')
    assert html('见 {% link 官网 https://hexo.io true 标题 %}。') == (
        '<p>见 <a href="https://hexo.io/" title="标题" target="_blank">官网</a>。</p>\n')
    assert html("{% link Hexo https://hexo.io/docs/ %}") == '<a href="https://hexo.io/docs/" title="" target="">Hexo</a>'
    assert html("{% raw %}\n<b>*不是强调*</b>\n{% endraw %}") == "\n<b>*不是强调*</b>\n"


def test_post_link_and_post_path_resolve_through_the_posts_given():
    # alone on its line, as in Hexo: an HTML block (no <p>)
    assert html("{% post_link hello-world %}") == (
        '<a href="/2020/01/01/hello-world/" title="Hello &lt;World&gt;">Hello &lt;World&gt;</a>')
    assert '<a href="/2020/01/01/hello-world/#part" title="Hello &lt;World&gt;">读这里</a>' in html(
        "{% post_link hello-world#part 读这里 %}")
    # in a Markdown link (Hexo 8 itself writes the placeholder there: `href="!--swig%EF%BF%BC0--"`)
    assert '<a href="/2020/01/01/hello-world/">x</a>' in html("[x]({% post_path hello-world %})")
    assert '<a href="/2020/01/01/hello-world/"' in html("{% post_link 'Hello <World>' %}")  # by title, as Hexo


def test_an_unknown_post_is_a_warning_and_its_text_is_kept():
    result = render("看 {% post_link no-such-post 那篇文章 %}。")
    assert result.html == "<p>看 那篇文章。</p>\n"
    assert result.warnings == (("source/_posts/a.md: {% post_link %}: no post 'no-such-post' in this import: "
                               "its text is kept without a link"),)
    assert "no-such" in render("{% post_path no-such %}").warnings[0]


def test_asset_tags_resolve_through_the_assets_given():
    assert html('{% asset_img chart.png "图表" %}') == '<img src="/media/posts/a/chart.png" class="" title="图表">'
    assert html("{% asset_link report.pdf 报告 %}") == (
        '<a href="/media/posts/a/report.pdf" title="报告">报告</a>')
    assert html("![x]({% asset_path chart.png %})") == '<p><img src="/media/posts/a/chart.png" alt="x"></p>\n'
    missing = render("{% asset_img missing.png %}")
    assert missing.html == "" and "source/_posts/a.md" in missing.warnings[0] and "missing.png" in missing.warnings[0]


def test_url_for_leaves_the_path():
    assert html("{% url_for 关于 /about/ %}\n下一行") == '<a href="/about/">关于</a>\n<p>下一行</p>\n'
    assert html("见 {% full_url_for 首页 /index.html %}") == '<p>见 <a href="/index.html">首页</a></p>\n'


@pytest.mark.parametrize(("tag", "url"), [
    ("{% youtube lJIrF4YjHfQ %}", "https://www.youtube.com/watch?v=lJIrF4YjHfQ"),
    ("{% youtube PL9hW1uS6HUfscJ9DHkOSoOX45MjXduUxo playlist %}",
     "https://www.youtube.com/playlist?list=PL9hW1uS6HUfscJ9DHkOSoOX45MjXduUxo"),
    ("{% vimeo 82090131 %}", "https://vimeo.com/82090131"),
    ("{% iframe https://www.example.com 520 360 %}", "https://www.example.com/"),
    ("{% jsfiddle ccWP7 %}", "https://jsfiddle.net/ccWP7/"),
    ("{% gist 996818 %}", "https://gist.github.com/996818"),
])
def test_embeds_become_links(tag, url):
    assert stored(tag) == f'<p><a href="{url}" rel="noopener noreferrer nofollow">{url}</a></p>'


def test_include_code_cannot_read_files_a_warning_and_its_title_only():
    result = render("{% include_code 示例 lang:javascript test.js %}")
    assert result.html == "<figure><figcaption><span>示例</span></figcaption></figure>"
    assert "include_code" in result.warnings[0] and "'test.js'" in result.warnings[0]


# --- what newsportal cannot run ---------------------------------------------------------------------


def test_an_unknown_block_tag_keeps_its_content_as_markdown_in_a_neutral_block():
    result = render("{% note warn 注意 %}\n**小心** {% post_link hello-world %}\n{% endnote %}")
    assert stored("{% note warn 注意 %}\n**小心**\n{% endnote %}") == (
        '<section class="hexo-tag hexo-tag-note"><p><strong>小心</strong></p>\n</section>')
    assert '<a href="/2020/01/01/hello-world/"' in result.html  # tags inside it are rendered
    assert result.warnings == (("source/_posts/a.md: {% note %} is not a tag plugin newsportal knows "
                               "(a site's own?): its content is kept, as Markdown, in a neutral block"),)


def test_unknown_inline_and_unterminated_tags_stay_as_text_with_a_warning():
    result = render("甲 {% mathjax x %} 乙\n\n{% blockquote 某人 %}\n没有结尾")
    assert "{% mathjax x %}" in result.html and "{% blockquote 某人 %}" in result.html
    assert [w.split(": ", 1)[1] for w in result.warnings] == [
        "{% mathjax %} is not a tag plugin newsportal knows (a site's own?): kept as text",
        "{% blockquote %} is never closed with {% endblockquote %}: kept as text",
    ]
    assert "closes no tag" in render("{% endnote %}").warnings[0]


def test_template_comments_go_and_variables_stay_as_text():
    result = render("甲{# 注释 #}乙 {{ page.title }}")
    assert result.html == "<p>甲乙 {{ page.title }}</p>\n"
    assert "'{{ page.title }}'" in result.warnings[0]


def test_the_sanitiser_keeps_only_the_neutral_blocks_class():
    assert sanitize_body('<section class="hexo-tag hexo-tag-note">x</section>') == (
        '<section class="hexo-tag hexo-tag-note">x</section>')
    assert sanitize_body('<section class="evil" onclick="x()">x</section>') == "<section>x</section>"
    assert sanitize_body('<pre><code class="hexo-tag hexo-tag-x">y</code></pre>') == "<pre><code>y</code></pre>"


# --- through the parser ---------------------------------------------------------------------------


def test_disable_nunjucks_turns_tag_processing_off():
    body = "{% blockquote 某人 %}\n引文\n{% endblockquote %}"
    assert stored(body, disableNunjucks="true") == "<p>{% blockquote 某人 %}<br>\n引文<br>\n{% endblockquote %}</p>"
    assert stored(body).startswith("<blockquote><p>引文</p>")


def test_tags_are_rendered_in_html_bodies_but_not_in_txt_files():
    body = '<div><p>正文</p>\n{% link 官网 https://hexo.io %}</div>'
    assert stored(body) == '<p>正文</p>\n<a href="https://hexo.io/" title="" rel="noopener noreferrer nofollow">官网</a>'
    assert "{% link" in stored(body, name="post.txt")


def test_tag_warnings_reach_the_parsed_article():
    article = parse_bytes(post(body="{% note %}\nx\n{% endnote %}").encode(), path="p/n.md", tz=SHANGHAI)
    assert article.warnings == (("p/n.md: {% note %} is not a tag plugin newsportal knows (a site's own?): "
                                "its content is kept, as Markdown, in a neutral block"),)


@pytest.mark.django_db
def test_a_sites_posts_link_each_other_and_show_their_assets(run_import, media_root, tmp_path):
    """Through `import_articles SITE`: post_link finds the other post's old address, asset_img the stored image."""
    from articles.models import Article, ImportRun

    site = tmp_path / "site"
    posts = site / "source" / "_posts"
    (posts / "2021-03-10-follow-up").mkdir(parents=True)
    (site / "_config.yml").write_text("timezone: Asia/Shanghai\npermalink: :year/:month/:day/:title/\n"
                                      "new_post_name: :year-:month-:day-:title.md\npost_asset_folder: true\n",
                                      encoding="utf-8")
    (posts / "2021-03-09-rate-cut.md").write_text("---\ntitle: 央行降息\n---\n正文\n", encoding="utf-8")
    (posts / "2021-03-10-follow-up" / "chart.png").write_bytes(image_bytes())
    (posts / "2021-03-10-follow-up.md").write_text(
        "---\ntitle: 后续\n---\n见 {% post_link rate-cut %}。\n\n{% asset_img chart.png 走势 %}\n\n"
        "{% note info %}\n**注意**\n{% endnote %}\n", encoding="utf-8")

    result = run_import(site)

    assert result.exit_code == 0, result.stderr
    body = Article.objects.get(title="后续").body
    assert '见 <a href="/2021/03/09/rate-cut/" title="央行降息"' in body  # the old address: it answers with a 301
    assert re.search(r'<img alt="" src="/media/hexo-assets/[0-9a-f/]+\.png" title="走势"', body), body
    assert '<section class="hexo-tag hexo-tag-note"><p><strong>注意</strong></p>' in body
    warnings = ImportRun.objects.get().warnings
    assert any("2021-03-10-follow-up.md: {% note %} is not a tag plugin" in line for line in warnings), warnings
    assert not any("chart.png" in line for line in warnings), warnings


# --- bounded ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "{%" * 100_000,
    "{% x %}" * 50_000,
    "{% note %}" * 30_000 + "{% endnote %}" * 30_000,
    "{% note %}{% endnote %}" * 30_000,
    "{{" * 100_000 + "}}",
    "`" * 50_000 + "{% img /a.png %}",
    "```\n" * 30_000,
    "<!--" * 50_000 + "{% img /a.png %}",
    "{% raw %}" * 50_000,
    "`" + "{% raw %}" * 50_000 + "`",
    "`" + "{% raw %}{% endraw %}" * 30_000 + "`",
])
def test_hostile_bodies_render_in_bounded_time_and_size(body):
    result = render(body)
    assert len(result.html) < 4 * len(body) + 1_000
    assert len(result.warnings) <= 21


# --- the real corpora -------------------------------------------------------------------------------


def _posts(folder: Path) -> list[Path]:
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder} (it lives in ../shared beside the project)")
    return sorted(folder.rglob("*.md"))


EXPECTED_WARNINGS = re.compile(
    r"\{% (?:note|include_code|mathjax|katex|foo|for|plugin_name|endfoo|endplugin_name|endfor|post_link|post_path"
    r"|asset_img|asset_link|asset_path) %\}|template variable|closes no tag")


@pytest.mark.corpus
@pytest.mark.parametrize("folder", [HEXO_SITE / "source" / "_posts", HEXO_DOCS])
def test_the_hexo_corpora_import_with_tag_warnings_only_for_what_cannot_run(folder):
    rendered = 0
    for path in _posts(folder):
        article = parse_bytes(path.read_bytes(), path=str(path), tz=SHANGHAI, modified=0.0)
        body = sanitize_body(article.body)
        for warning in article.warnings:
            if "date is missing" in warning:
                continue
            assert EXPECTED_WARNINGS.search(warning), warning
        if "{%" in path.read_text(encoding="utf-8"):
            rendered += 1
            prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", body, flags=re.DOTALL)  # tags in code stay
            assert "{% blockquote" not in prose and "{% youtube" not in prose, path.name
    assert rendered >= 5


# --- real Hexo --------------------------------------------------------------------------------------


def normalised(markup: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", sanitize_body(markup))).strip()


# Bodies whose rendering both agree on (after our sanitiser, white space normalised).
SAME_AS_HEXO = [
    "{% blockquote %}\n简单引文\n{% endblockquote %}",
    "{% blockquote David Levithan, Wide Awake %}\nDo not just seek **happiness**.\n{% endblockquote %}",
    ("{% blockquote @DevDocs https://twitter.com/devdocs/status/356095192085962752 %}\nNew features\n"
    "{% endblockquote %}"),
    ("{% blockquote Seth Godin http://sethgodin.typepad.com/seths_blog/2009/07/welcome-to-island-marketing.html "
    "Welcome to Island Marketing %}\nEvery interaction\n{% endblockquote %}"),
    "前文\n\n{% pullquote left %}\n*重点*\n{% endpullquote %}\n\n后文",
    "{% img left /images/a.png 200 100 '\"标题\" \"替代\"' %}",
    "见 {% link 官网 https://hexo.io true 标题 %} 和 {% link Hexo https://hexo.io/docs/ %}。",
    "{% raw %}\n<p>原样 *不渲染*</p>\n{% endraw %}",
    "行内 `{% img /a.png %}` 与\n\n    {% img /b.png %}\n",
    "{% url_for 关于 /about/ %}",
    "甲{# 注释 #}乙\n\n- 列表 {% link x https://x.org %}\n- *二*",
    "`Site updated: {% raw %}{{ now('YYYY-MM-DD HH:mm:ss') }}{% endraw %}`",
    "[`{% raw %} {# {% endraw %}`](https://x.org) 与 | `{% raw %}{{ y }}{% endraw %}` |",
]


@pytest.mark.slow
@pytest.mark.hexo
def test_tags_render_as_real_hexo_renders_them(tmp_path):
    theirs = hexo_render(SAME_AS_HEXO, tmp_path / "site")
    for body, hexo_html in zip(SAME_AS_HEXO, theirs, strict=True):
        assert normalised(render(body).html) == normalised(hexo_html), body


@pytest.mark.slow
@pytest.mark.hexo
def test_the_real_sites_note_tag_keeps_its_content_as_hexo_does(tmp_path):
    if not (HEXO_SITE / "scripts" / "tags.js").is_file():
        pytest.skip(f"corpus not found at {HEXO_SITE}")
    site = tmp_path / "site"
    (site / "scripts").mkdir(parents=True)
    shutil.copy(HEXO_SITE / "scripts" / "tags.js", site / "scripts" / "tags.js")
    body = "{% note info 提示 %}\n**注意** 这一段\n{% endnote %}"
    [theirs] = hexo_render([body], site)
    # Hexo: <blockquote class="note info"><strong class="note-title">提示</strong><p>…</p></blockquote>;
    # ours keeps the same content (not the title argument) in a neutral block.
    ours = normalised(render(body).html)
    assert "<p><strong>注意</strong> 这一段</p>" in normalised(theirs)
    assert ours == '<section class="hexo-tag hexo-tag-note"><p><strong>注意</strong> 这一段</p></section>'
