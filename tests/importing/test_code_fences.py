"""Fenced code as Hexo 8's backtick_code_block filter reads it (importing/code_fences.py), through render_body."""

from __future__ import annotations

import pytest

from articles.sanitize import sanitize_body
from importing.code_fences import CodeBlock, split_code_blocks, strip_indent
from importing.parse import parse_bytes
from importing.tag_plugins import TagContext, render_body
from tests.factories import SHANGHAI
from tests.hexo.normalize import comparable_hexo, comparable_ours, without_code_languages
from tests.hexo_support import hexo_render

CTX = TagContext(path="source/_posts/a.md")


def html(text: str, ctx: TagContext = CTX) -> str:
    return render_body(text, ctx, markdown=True).html


def blocks(text: str) -> list[CodeBlock]:
    return [piece for piece in split_code_blocks(text) if isinstance(piece, CodeBlock)]


# --- where a fence is -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, prefix", [
    ("```js\nx\n```\n", ""),
    ("   ```js\n   x\n   ```\n", "   "),
    ("        ```js\n        x\n        ```\n", "        "),  # any indentation
    ("- ```js\n  x\n  ```\n", "- "),
    ("* ```js\n  x\n  ```\n", "* "),
    ("+ ```js\n  x\n  ```\n", "+ "),
    ("12. ```js\n    x\n    ```\n", "12. "),
    ("> ```js\n> x\n> ```\n", "> "),
    ("> > > ~~~js\n> > > x\n> > > ~~~\n", "> > > "),
])
def test_a_fence_is_found_after_a_list_marker_quotes_or_any_indentation(text, prefix):
    [block] = blocks(text)
    assert block.source == text and block.prefix == prefix
    assert block.html == '<pre><code class="language-js">x\n</code></pre>\n'


@pytest.mark.parametrize("text", [
    "  - ```js\n    x\n    ```\n",  # a marker only at the line's start
    "> > > > ```js\nx\n```\n",  # at most three `>`
    "1) ```js\nx\n```\n",
    "```js\nx\n````\n",  # a longer run does not close it
    "```js\nx\n```  \n",  # nor one followed by two spaces
    "```js`\nx\n```\n",  # arguments never end with a backtick
    "```js\nx\n~~~\n",
    "```js\nnever closed\n",
    "text ```js\nx\n```\n",
])
def test_what_is_not_a_fence_to_hexo(text):
    assert blocks(text) == [] or blocks(text)[0].source != text


def test_pieces_join_to_the_body_and_an_unclosed_fence_leaves_the_lines_after_it_to_be_read_again():
    text = "intro\n````a\nx\n```b\ncode\n```\n\nafter"
    pieces = split_code_blocks(text)
    assert "".join(p.source if isinstance(p, CodeBlock) else p for p in pieces) == text
    assert [p.source for p in pieces if isinstance(p, CodeBlock)] == ["```b\ncode\n```\n"]
    # the first line closing the same run ends a block, whatever its arguments
    assert [p.source for p in blocks("```a\n```b\ncode\n```\n")] == ["```a\n```b\ncode\n```\n"]


def test_a_fence_in_an_html_comment_or_with_highlight_false_is_left_to_markdown():
    [commented] = blocks("<!--\n```js\n{% x %}\n```\n-->\n")
    [plain] = blocks("```js highlight:false\nx\n```\n")
    assert commented.html is None and plain.html is None
    assert blocks("<!-- a -->\n```js\nx\n```\n<!-- b -->\n")[0].html is not None
    assert html("```js highlight:false\n{% raw %}\n```\n") == '<pre><code class="language-js">{% raw %}\n</code></pre>\n'


# --- what it becomes --------------------------------------------------------------------------------


@pytest.mark.parametrize("opening, caption", [
    ("``` diff package.json", "<span>package.json</span>"),
    ("```diff package.json", "<span>package.json</span>"),
    ("```diff 改动 说明", "<span>改动 说明</span>"),
    ("```diff Title https://hexo.io", '<span>Title</span><a href="https://hexo.io">link</a>'),
    ("```diff Title /docs/ 文档", '<span>Title</span><a href="/docs/">文档</a>'),
    ("```diff mark:1,3 line_number:true Title", "<span>Title</span>"),
    ("```diff=5 ignored", ""),
])
def test_language_and_caption_as_hexo_reads_them(opening, caption):
    code = '<pre><code class="language-diff">-a\n</code></pre>\n'
    expected = f"<figure><figcaption>{caption}</figcaption>{code}</figure>\n" if caption else code
    assert html(f"{opening}\n-a\n```\n") == expected


def test_a_titled_fence_in_a_list_item_keeps_the_list_loose_with_its_caption():
    body = "- 更新依赖\n\n  ``` diff package.json\n  -  \"hexo\": \"^4\"\n  +  \"hexo\": \"^5\"\n  ```\n\n- 完成\n"
    assert html(body) == (
        "<ul>\n<li>\n<p>更新依赖</p>\n"
        '<figure><figcaption><span>package.json</span></figcaption><pre><code class="language-diff">'
        '-  "hexo": "^4"\n+  "hexo": "^5"\n</code></pre>\n</figure>\n'
        "</li>\n<li>\n<p>完成</p>\n</li>\n</ul>\n")


def test_code_after_quotes_loses_their_marks_and_is_de_indented():
    assert html("> ```js\n> x\n>   y\n> ```\n") == (
        '<blockquote>\n<pre><code class="language-js">x\n  y\n</code></pre>\n</blockquote>\n')
    assert strip_indent("    a\n      b\n\n    c") == "a\n  b\n\nc"


def test_tags_in_fences_stay_as_written_and_tags_around_fences_still_run():
    body = "{% blockquote %}\n```js 标题\n{% img /a.png %}\n```\n{% endblockquote %}\n"
    assert html(body) == (
        '<blockquote><figure><figcaption><span>标题</span></figcaption><pre><code class="language-js">'
        "{% img /a.png %}\n</code></pre>\n</figure></blockquote>\n")
    assert html("{% raw %}\n```js\nx\n```\n{% endraw %}\n").strip() == '<pre><code class="language-js">x\n</code></pre>'


def test_fences_are_read_without_tags_and_with_disable_nunjucks():
    assert html("```js 标题\nx\n```\n").startswith("<figure><figcaption><span>标题</span></figcaption>")
    article = parse_bytes("---\ntitle: t\ndate: 2020-01-01\ndisableNunjucks: true\n---\n"
                          "- a\n\n  ```js 标题\n  {% x %}\n  ```\n".encode(), path="a.md", tz=SHANGHAI)
    assert sanitize_body(article.body) == (
        "<ul>\n<li>\n<p>a</p>\n<figure><figcaption>标题</figcaption>"
        '<pre><code class="language-js">{% x %}\n</code></pre>\n</figure>\n</li>\n</ul>')


# --- bounded ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "`" * 100_000,
    ">" * 100_000 + "```\nx\n```\n",
    "> " * 100_000 + "```\n",
    "```\n" * 30_000,
    "```js\n" * 50_000,
    "``` " + "` " * 50_000 + "\n```\n",
    "```" + " " * 100_000 + "x`\n```\n",
    "```a " + "a " * 50_000 + "\n```\n",
    ("```a " + "b " * 999 + "\nx\n```\n") * 50,
    " " * 100_000 + "```\n" + " " * 100_000 + "```\n",
    "1" * 100_000 + "```\n```\n",
    "> > > ```\n" + ("> " * 50_000 + "\n") * 2 + "> > > ```\n",
    "<!--" * 50_000 + "\n```\nx\n```\n",
    "- ```\n  x\n  ```\n" * 20_000,
    "~" * 100_000 + "\n" + "~" * 100_000 + "\n",
])
def test_hostile_fences_render_in_bounded_time_and_size(body):
    assert len(html(body)) < 4 * len(body) + 1_000


# --- real Hexo --------------------------------------------------------------------------------------

# Bodies both render alike (after Hexo's highlight tables are mapped to our code
# blocks and both go through the sanitiser; tests/hexo/normalize.py).
SAME_AS_HEXO = [
    "1. foo\n  ```js\n  x = 1\n  ```\n2. bar\n",
    "1. foo\n\n   ```js\n   x = 1\n   ```\n2. bar\n",
    "1. step\n```\ncode\n```\n2. next\n",
    "- ```js\n  x\n  ```\n- b\n",
    "- a\n\n  ``` diff package.json\n  -a\n  +b\n  ```\n\n- b\n",
    "- a\n    ```\n    b\n    ```\n- c\n",
    "- a\n\n  ```\n  b\n  ```\n\n  text\n- c\n",
    "* a\n* ```\n  b\n  ```\n",
    "+ a\n+ ```js\n  x\n  ```\n+ c\n",
    "10. a\n11. ```\n    b\n    ```\n",
    "1. a\n\t```js\n\tx\n\t```\n2. b\n",
    "1. a\n   - b\n     ```js\n     c\n     ```\n",
    "> ```js\n> x\n>   y\n> ```\n",
    "> > ```\n> > a\n> b\n  c\n> > ```\n",
    "> ```\n> a\nlazy\n> ```\n",
    "> - a\n>   ```js\n>   x\n>   ```\n> - b\n",
    "text\n```js\nx\n```\nmore\n",
    "```js Title https://hexo.io link text\nx\n```\n",
    "```js Title /path\nx\n```\n",
    "```js=5 T\nx\n```\n",
    "``` js mark:1 T\nx\n```\n",
    "```js <b>T</b>\nx\n```\n",
    "   ```   js   T  \nx\n   ```  \n```\n",
    "<!--\n```js\nx\n```\n-->\nafter\n",
    "<!-- a -->\n```js\nx\n```\n<!-- b -->\n",
    "```\n````\n```\n",
    "````md\n```js\nx\n```\n````\n",
    "~~~\na\n~~~\n",
    "```js\n\n```\n",
    "```js\n```\n",
    "```js T\n  a\n    b\n```\n",
    "    ```js\n    x\n    ```\n",
    "para\n    ```js\n    x\n    ```\n",
    "```js `x`\ny\n```\n",
    "```\nunclosed\n",
    "```a\n```b\nc\n```\n",
    "```js\nx\n```x\n```\n",
    "Text `inline ```code```` here\n```\nblock\n```\n",
    "{% blockquote %}\n```js T\nx\n```\n{% endblockquote %}\n",
    "{% blockquote %}\n- a\n  ```js\n  {% img /a.png %}\n  ```\n{% endblockquote %}\n\n```js\n{% raw %}\n```\n",
    "```\n{% codeblock %}\nx\n{% endcodeblock %}\n```\n\n{% link a https://a.org %}\n",
    "{% raw %}\n```js\nx\n```\n{% endraw %}\n",
]
LANGUAGES = frozenset({"js", "diff", "md"})  # known to Hexo's highlight.js; others it writes as plaintext


@pytest.mark.slow
@pytest.mark.hexo
def test_fences_render_as_real_hexo_renders_them(tmp_path):
    theirs = hexo_render(SAME_AS_HEXO, tmp_path / "site")
    for body, hexo_html in zip(SAME_AS_HEXO, theirs, strict=True):
        ours = without_code_languages(comparable_ours(sanitize_body(html(body))), LANGUAGES)
        assert ours == without_code_languages(comparable_hexo(hexo_html), LANGUAGES), body
