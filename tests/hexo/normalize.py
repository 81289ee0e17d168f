"""Bodies made comparable: what real Hexo rendered beside what newsportal stored.

Three steps, each a function of its own (tests/hexo/test_normalize.py):

1. `map_hexo_html`: Hexo's markup that newsportal writes another way on purpose
   (docs/HEXO.md, "Markdown") is rewritten to ours — the empty heading anchor
   `<a href="#x" class="headerlink" title="…"></a>` is dropped, and a highlight.js
   table `<figure class="highlight LANG">[<figcaption>…</figcaption>]<table>…
   <td class="code"><pre><span class="line">…</span><br>…</pre>…</figure>` becomes
   `<pre><code class="language-LANG">…</code></pre>` (inside `<figure>` with its
   `<figcaption>` when it has one; `plaintext` is no language).
2. Both bodies go through our one sanitiser (`articles.sanitize.sanitize_body`),
   so what it removes anyway (classes, `<span>`, frames) is no difference.
3. `canonical`: a small walk over the HTML (the standard library's parser) that
   writes one tag or text run per line, attributes sorted, white space collapsed
   outside `<pre>` and dropped beside block tags, character references decoded:
   two bodies that a browser shows the same give the same lines, and a
   difference diffs line by line (`body_diff`).
"""

from __future__ import annotations

import difflib
import html
import re
from html.parser import HTMLParser

from articles.sanitize import sanitize_body

_HEADERLINK = re.compile(r'<a href="[^"]*" class="headerlink" title="[^"]*"></a>')
_HIGHLIGHT = re.compile(r'<figure class="highlight(?: ([^"\s]*))?">(.*?)</figure>', re.DOTALL)
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.DOTALL)
_CODE_CELL = re.compile(r'<td class="code"><pre>(.*?)</pre></td>', re.DOTALL)
_SPAN = re.compile(r"</?span\b[^>]*>")
# highlight.js's name for "no language", which Hexo also writes for a language it does not know
NO_LANGUAGE = frozenset({"", "plaintext"})
_CODE_LANGUAGE = re.compile(r'<code class="language-([^"]*)">')

# Elements whose start and end stand on lines of their own: white space beside
# them is layout, not text. Everything else (a, em, code, img, br …) is inline.
BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "caption", "col", "colgroup", "dd", "details", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def _code_block(match: re.Match) -> str:
    language, inner = match.group(1) or "", match.group(2)
    cell = _CODE_CELL.search(inner)
    if cell is None:  # not a highlight table we know: leave it to show as a difference
        return match.group(0)
    code = _SPAN.sub("", cell.group(1).replace("<br>", "\n"))
    attrs = "" if language.lower() in NO_LANGUAGE else f' class="language-{language}"'
    block = f"<pre><code{attrs}>{code}</code></pre>"
    caption = _CAPTION.search(inner)
    if caption is None:
        return block
    return f"<figure><figcaption>{caption.group(1)}</figcaption>{block}</figure>"


def map_hexo_html(rendered: str) -> str:
    """Hexo's heading anchors and highlight tables written as newsportal writes them."""
    return _HIGHLIGHT.sub(_code_block, _HEADERLINK.sub("", rendered))


class _Tokens(HTMLParser):
    """The body as a list of ("tag", text) and ("text", text) tokens, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str]] = []
        self.pre = 0  # depth of <pre>: text inside keeps its white space

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pairs = sorted((name, value or "") for name, value in attrs)
        self.tokens.append(("tag", f"<{tag}" + "".join(f' {n}="{html.escape(v)}"' for n, v in pairs) + ">"))
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        self.tokens.append(("tag", f"</{tag}>"))
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        kind = "pre" if self.pre else "text"
        if self.tokens and self.tokens[-1][0] == kind:  # one run, however the parser split it
            data = self.tokens.pop()[1] + data
        self.tokens.append((kind, data))


def _is_break(token: tuple[str, str] | None) -> bool:
    """A block tag's start or end, <br>, or the body's edge: white space beside it is layout."""
    if token is None:
        return True
    kind, text = token
    name = re.match(r"</?([a-z0-9]+)", text) if kind == "tag" else None
    return bool(name) and (name.group(1) in BLOCK or name.group(1) == "br")


def canonical(body: str) -> str:
    """`body` as lines, one tag or text run each, attributes sorted, white space collapsed (not in <pre>)."""
    parser = _Tokens()
    parser.feed(body)
    parser.close()
    tokens = parser.tokens
    lines: list[str] = []
    for i, (kind, text) in enumerate(tokens):
        if kind == "tag":
            lines.append(text)
            continue
        if kind == "pre":  # code keeps its white space, but not the newline(s) before </pre>
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if after is not None and after[1] in ("</code>", "</pre>"):
                text = text.rstrip("\n")
            if text:
                lines.append(html.escape(text, quote=False))
            continue
        text = re.sub(r"\s+", " ", text)
        if _is_break(tokens[i - 1] if i else None):
            text = text.lstrip()
        if _is_break(tokens[i + 1] if i + 1 < len(tokens) else None):
            text = text.rstrip()
        if text:
            lines.append(html.escape(text, quote=False))
    return "\n".join(lines)


def comparable_hexo(rendered: str) -> str:
    """What Hexo rendered, mapped, sanitised and made canonical."""
    return canonical(sanitize_body(map_hexo_html(rendered)))


def comparable_ours(body: str) -> str:
    """A stored body, sanitised again (a no-op for stored bodies) and made canonical."""
    return canonical(sanitize_body(body))


def without_code_languages(canonical_body: str, known: frozenset[str] = frozenset()) -> str:
    """A canonical body without the code blocks' languages that are not in `known`.

    Hexo writes `plaintext` for a language its highlighting does not know
    (```ejs, ```plain), where newsportal keeps the language the author wrote:
    with Hexo's list as `known`, our body shows the languages as Hexo's does.
    """
    def kept(match: re.Match) -> str:
        return match.group(0) if match.group(1).lower() in known else "<code>"

    return _CODE_LANGUAGE.sub(kept, canonical_body)


# An image newsportal stored from a post asset folder: content-addressed (importing/assets.py)
_OUR_ASSET = re.compile(r'"/media/hexo-assets/[0-9a-f]{2}/([0-9a-f]{64})\.[a-z0-9]+"')


def with_asset_tokens(canonical_body: str, hexo_urls: dict[str, str] | None = None) -> str:
    """Post-asset URLs written as `asset:<sha256>`, on either side.

    Hexo serves a post's assets under the post's URL by name
    (`/news/2014/07/13/hexo-2-8-released/generate-console.png`); newsportal stores
    them by content (`/media/hexo-assets/ab/ab…ef.png`). `hexo_urls` maps each of
    Hexo's asset URLs to its file's SHA-256; ours carry theirs in the name.
    """
    body = _OUR_ASSET.sub(lambda m: f'"asset:{m.group(1)}"', canonical_body)
    for url, digest in (hexo_urls or {}).items():
        body = body.replace(f'"{html.escape(url)}"', f'"asset:{digest}"')
    return body


def body_diff(hexo: str, ours: str, context: int = 1, limit: int = 12) -> str:
    """A short unified diff of two canonical bodies (Hexo's first), at most `limit` changed lines."""
    lines = list(difflib.unified_diff(hexo.splitlines(), ours.splitlines(), "hexo", "newsportal",
                                      n=context, lineterm=""))
    changed = lines[2:]
    if limit and len(changed) > limit:
        changed = changed[:limit] + [f"… ({len(lines) - 2 - limit} more diff lines)"]
    return "\n".join(changed)
