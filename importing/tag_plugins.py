"""Post bodies rendered with Hexo's tag plugins (`{% … %}`), the way Hexo 8's post renderer does.

Hexo (`lib/hexo/post.ts`, `Post.render`) renders a post in four steps:

1. fenced code blocks are set aside (`backtick_code_block` filter): tags in code
   are shown, not run; so are tags in inline code spans and HTML comments;
2. every `{% … %}` tag (a block tag with its body and `{% end… %}`), `{{ … }}`
   and `{# … #}` is replaced by a placeholder, `<!--swig￼N-->`;
3. the body is rendered as Markdown, the placeholders passing through as HTML
   comments (alone on a line, an HTML block: no `<p>` around it);
4. the tags are rendered by Nunjucks and put back where the placeholders are,
   so a tag's HTML is never read as Markdown.

This module does the same in Python for Hexo's built-in tags (`TAGS`) and the
common embeds, which become links (frames never pass the sanitiser). A tag it
cannot run (a site's own, from its `scripts/`) is reported, and its content
kept: rendered as Markdown in a neutral block. docs/HEXO.md ("Tag plugins")
lists what each tag becomes and where that differs from Hexo.

Bounded: the scanner moves forward only, every search for a closing `%}` or
`{% end… %}` is remembered, and block tags nest at most `MAX_DEPTH` deep, so a
body of 100,000 `{%` renders in linear time to HTML no larger than itself.

Pure Python, no Django: it runs in the import's worker processes
(the `pure-import-stages` contract).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from importing.code_fences import CodeBlock, code_block_html, split_code_blocks, strip_indent
from importing.hexo_site import PostRef  # a post `post_link` names: its URL and title
from importing.markdown import HEXO_DEFAULTS, MarkedOptions, render_markdown

# A tag's opening `{% … %}` longer than this is not a tag (it is text): real
# tags are one line of arguments.
MAX_TAG_CHARS = 2_000
# Block tags inside block tags deeper than this stay as text.
MAX_DEPTH = 8
# At most this many warnings per post; the rest are counted in one line.
MAX_WARNINGS = 20


@dataclass(frozen=True)
class TagContext:
    """What the tags of one post can refer to."""

    path: str  # the file's name, for warnings
    marked: MarkedOptions = HEXO_DEFAULTS
    # Hexo post slug (file name, no suffix) or title -> ref (importing.site_links.link_index)
    posts: Mapping[str, PostRef] = field(default_factory=dict)
    # name in the post's asset folder -> its stored URL (importing.assets.PostAssets.urls)
    assets: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True  # False: the front matter says `disableNunjucks: true`


@dataclass(frozen=True)
class RenderedBody:
    html: str
    warnings: tuple[str, ...]


# --- arguments ----------------------------------------------------------------------

_ARG_TOKEN = re.compile(r"""\s+|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|[^\s"']+|["']""", re.DOTALL)
_STRING_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def split_args(text: str) -> list[str]:
    """A tag's arguments as Hexo reads them (Nunjucks' lexer): split at white space, quotes removed.

    `"a b"` and `'a b'` are one argument; a quoted part and the text next to
    it make one argument (`title:"a b"` → `title:a b`), as Hexo joins
    adjacent tokens.
    """
    args: list[str] = []
    current: list[str] = []
    for token in _ARG_TOKEN.finditer(text):
        piece = token.group(0)
        if piece.isspace():
            if current:
                args.append("".join(current))
                current = []
        elif token.group(1) is not None or token.group(2) is not None:
            quoted = token.group(1) if token.group(1) is not None else token.group(2)
            current.append(_STRING_ESCAPE.sub(r"\1", quoted))
        else:
            current.append(piece)
    if current:
        args.append("".join(current))
    return [arg.strip() for arg in args if arg.strip()]


# --- the tags ------------------------------------------------------------------------


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


_BARE_ORIGIN = re.compile(r"^https?://[^/?#\s]+$", re.IGNORECASE)


def _encode_url(url: str) -> str:
    """A URL as hexo-util's encodeURL writes it into `href`/`src`: a bare origin gets its `/`."""
    return url + "/" if _BARE_ORIGIN.match(url) else url


def _html_tag(tag: str, attrs: Mapping[str, str | None], text: str | None = None) -> str:
    """hexo-util's `htmlTag`: attributes that are None are left out (empty ones are written)."""
    markup = "".join(f' {name}="{_attr(_encode_url(value) if name in ("href", "src") else value)}"'
                     for name, value in attrs.items() if value is not None)
    return f"<{tag}{markup}>" if text is None else f"<{tag}{markup}>{text}</{tag}>"


# Octopress' footer rules, as Hexo's blockquote tag has them.
_FULL_CITE_WITH_TITLE = re.compile(r"(\S.*)\s+(https?://\S+)\s+(.+)", re.IGNORECASE)
_FULL_CITE = re.compile(r"(\S.*)\s+(https?://\S+)", re.IGNORECASE)
_AUTHOR_TITLE = re.compile(r"([^,]+),\s*([^,]+)")
_SOURCE_SHOWN = re.compile(r"^https?://|/(?:index\.html?)?$")


def _blockquote_footer(args: list[str]) -> str:
    text = " ".join(args)
    if not text:
        return ""
    author, source, title = text, "", ""
    if match := _FULL_CITE_WITH_TITLE.search(text):
        author, source, title = match.groups()
    elif match := _FULL_CITE.search(text):
        author, source = match.groups()
    elif match := _AUTHOR_TITLE.search(text):
        author, title = match.groups()
    footer = f"<strong>{author}</strong>" if author else ""
    if source:
        footer += f'<cite><a href="{_attr(source)}">{title or _SOURCE_SHOWN.sub("", source)}</a></cite>'
    elif title:
        footer += f"<cite>{title}</cite>"
    return footer


_CAPTION_URL_TITLE = re.compile(r"(\S[\S\s]*)\s+(https?://\S+)\s+(.+)", re.IGNORECASE)
_CAPTION_URL = re.compile(r"(\S[\S\s]*)\s+(https?://\S+)", re.IGNORECASE)


def _caption(text: str) -> str:
    """A code block's caption as Hexo writes it: `<span>title</span>` and a link."""
    if match := _CAPTION_URL_TITLE.search(text):
        return f'<span>{match[1]}</span><a href="{_attr(match[2])}">{match[3]}</a>'
    if match := _CAPTION_URL.search(text):
        return f'<span>{match[1]}</span><a href="{_attr(match[2])}">link</a>'
    return f"<span>{text.strip()}</span>" if text.strip() else ""


def _codeblock(args: list[str], content: str) -> str:
    lang = None
    rest = []
    for arg in args:
        key, colon, value = arg.partition(":")
        if not colon:
            rest.append(arg)
        elif key == "highlight" and value != "true":
            return f"<pre><code>{html.escape(content, quote=False)}</code></pre>\n"
        elif key == "lang":
            lang = value
        elif key not in ("highlight", "line_number", "line_threshold", "first_line", "wrap", "mark",
                         "language_attr"):
            rest.append(arg)
    return code_block_html(content, lang, _caption(" ".join(rest)))


# hexo's rUrl (tags img and link): what looks like a URL.
_URL = re.compile(
    r"((([A-Za-z]{3,9}:(?://)?)(?:[-;:&=+$,\w]+@)?[A-Za-z0-9.-]+|(?:www.|[-;:&=+$,\w]+@)[A-Za-z0-9.-]+)"
    r"((?:/[+~%/.\w\-_]*)?\??(?:[-+=&;%@.\w_]*)#?(?:[.!/\\w]*))?)")
_NOT_DIGITS = re.compile(r"\D")
_META_DOUBLE = r'"?([^"]+)?"?'
_META_SINGLE = r"'?([^']+)?'?"


def _img(args: list[str]) -> str:
    args = list(args)
    classes, src, width, height, title, alt = [], None, None, None, None, None
    while args:
        item = args.pop(0)
        if _URL.search(item) or item.startswith("/"):
            src = item
            break
        classes.append(item)
    if args:
        if not _NOT_DIGITS.search(args[0]):
            width = args.pop(0)
            if args and not _NOT_DIGITS.search(args[0]):
                height = args.pop(0)
        meta = " ".join(args)
        title_rx = _META_DOUBLE if meta.startswith('"') else _META_SINGLE
        alt_rx = _META_DOUBLE if meta.endswith('"') else _META_SINGLE
        if match := re.search(rf"{title_rx}\s*{alt_rx}", meta):
            title, alt = match[1], match[2]
    return _html_tag("img", {"src": src, "class": " ".join(classes), "width": width, "height": height,
                             "title": title, "alt": alt})


def _link(args: list[str]) -> str:
    text, url, index = [], "", 0
    for index, item in enumerate(args):
        if _URL.search(item):
            url = item
            break
        text.append(item)
    else:
        index = len(args)
    rest = args[index + 1:]
    external = False
    if rest and rest[0] in ("true", "false"):
        external = rest.pop(0) == "true"
    return _html_tag("a", {"href": url, "title": " ".join(rest), "target": "_blank" if external else ""},
                     " ".join(text))


def _url_for(args: list[str]) -> str:
    text = args[0] if args else ""
    path = args[1] if len(args) > 1 else ""
    return _html_tag("a", {"href": path}, text)


# Embeds: the page they would frame, as a link. Hexo 8 has only `iframe` built in;
# the others come from hexo-tag-embed and similar plugins that most sites install.
def _embed_url(name: str, args: list[str]) -> str:
    first = args[0] if args else ""
    if name == "youtube":
        if len(args) > 1 and args[1] == "playlist":
            return f"https://www.youtube.com/playlist?list={first}"
        return f"https://www.youtube.com/watch?v={first}"
    if name == "vimeo":
        return f"https://vimeo.com/{first}"
    if name == "jsfiddle":
        return first if first.startswith(("http://", "https://")) else f"https://jsfiddle.net/{first}/"
    if name == "gist":
        return f"https://gist.github.com/{first}"
    if name == "bilibili":
        return f"https://www.bilibili.com/video/{first}"
    return first  # iframe, video, audio, …: the URL itself


EMBED_TAGS = frozenset({"iframe", "youtube", "vimeo", "jsfiddle", "gist", "video", "audio", "bilibili"})


class _Renderer:
    """Renders one post's tags; collects its warnings."""

    def __init__(self, ctx: TagContext) -> None:
        self.ctx = ctx
        self.warnings: list[str] = []
        self._seen: set[str] = set()
        self._titles: dict[str, PostRef] | None = None
        # What the placeholders stand for: (HTML, the source as written — None for a code
        # block); one list for the whole post, as a block tag's content holds placeholders too.
        self.stored: list[tuple[str, str | None]] = []
        self.kept: list[str] = []  # fences left to Markdown (`_KEPT` tokens), out of the tags' way

    def warn(self, message: str) -> None:
        line = f"{self.ctx.path}: {message}"
        if line not in self._seen:
            self._seen.add(line)
            self.warnings.append(line)

    def markdown(self, text: str, depth: int) -> str:
        """A block tag's content: its own tags rendered, then Markdown (Hexo: `renderSync` of the body)."""
        return _render(text, self, markdown=True, depth=depth + 1)

    # inline tags: (args) -> html; block tags: (args, content, depth) -> html
    def inline(self, name: str, args: list[str]) -> str | None:
        """An inline tag's HTML; None for a tag that is not Hexo's (kept as text)."""
        if name in ("img", "image"):
            return _img(args)
        if name in ("link", "a", "anchor"):
            return _link(args)
        if name in ("url_for", "full_url_for"):
            return _url_for(args)
        if name in ("post_link", "post_path"):
            return self.post(name, args)
        if name in ("asset_img", "asset_image", "asset_link", "asset_path"):
            return self.asset(name, args)
        if name in ("include_code", "include-code", "include_file"):
            return self.include_code(name, args)
        if name in EMBED_TAGS:
            url = _encode_url(_embed_url(name, args))
            return f'<a href="{_attr(url)}">{html.escape(url)}</a>' if url else ""
        return None

    def block(self, name: str, args: list[str], content: str, depth: int) -> str | None:
        """A block tag's HTML; None for one that is not Hexo's."""
        if name in ("blockquote", "quote"):
            footer = _blockquote_footer(args)
            return (f"<blockquote>{self.markdown(content, depth)}"
                    f"{f'<footer>{footer}</footer>' if footer else ''}</blockquote>")
        if name == "pullquote":
            classes = " ".join(["pullquote", *args])
            return f'<blockquote class="{_attr(classes)}">{self.markdown(content, depth)}</blockquote>'
        if name in ("code", "codeblock"):
            return _codeblock(args, content)
        if name == "raw":
            return content
        return None

    def post(self, name: str, args: list[str]) -> str:
        slug = args[0] if args else ""
        target, hash_ = (slug.split("#") + [""])[:2] if slug.count("#") == 1 else (slug, "")
        ref = self.ctx.posts.get(target) or self._by_title(target)
        if name == "post_path":
            if ref is None:
                self.warn(f"{{% post_path %}}: no post {slug!r} in this import: the path is left empty")
                return ""
            return html.escape(ref.url)
        rest = args[1:]
        escape = True
        if rest and rest[-1] in ("true", "false"):
            escape = rest.pop() == "true"
        if ref is None:
            self.warn(f"{{% post_link %}}: no post {slug!r} in this import: its text is kept without a link")
            text = " ".join(rest) or target
            return html.escape(text) if escape else text
        text = " ".join(rest) or ref.title or target
        url = ref.url + (f"#{hash_}" if hash_ else "")
        return f'<a href="{_attr(url)}" title="{_attr(ref.title or target)}">{html.escape(text) if escape else text}</a>'

    def _by_title(self, title: str) -> PostRef | None:
        """Hexo finds a post by its title when no slug matches."""
        if self._titles is None:
            self._titles = {}
            for ref in self.ctx.posts.values():
                self._titles.setdefault(ref.title, ref)
        return self._titles.get(title)

    def _asset_url(self, name: str) -> str | None:
        # Names are compared in NFC, as importing.assets stores them (a folder unpacked on macOS).
        return self.ctx.assets.get(name) or self.ctx.assets.get(unicodedata.normalize("NFC", name))

    def asset(self, name: str, args: list[str]) -> str:
        if name in ("asset_img", "asset_image"):
            for index, arg in enumerate(args):
                if (url := self._asset_url(arg)) is not None:
                    return _img([*args[:index], url, *args[index + 1:]])
            self.warn(f"{{% {name} %}}: asset {(args[0] if args else '')!r} is not in the post's asset folder: "
                      "the image is left out")
            return ""
        slug = args[0] if args else ""
        url = self._asset_url(slug)
        if url is None:
            self.warn(f"{{% {name} %}}: asset {slug!r} is not in the post's asset folder: it is left out")
            return ""
        if name == "asset_path":
            return html.escape(url)
        rest = args[1:]
        escape = True
        if rest and rest[-1] in ("true", "false"):
            escape = rest.pop() == "true"
        title = " ".join(rest) or slug
        return f'<a href="{_attr(url)}" title="{_attr(title)}">{html.escape(title) if escape else title}</a>'

    def include_code(self, name: str, args: list[str]) -> str:
        text = " ".join(args)
        text = re.sub(r"\s*(?:lang|from|to):\S+", "", text, flags=re.IGNORECASE)
        match = re.search(r"(.*)?(?:\s+|^)(/*\S+)$", text)
        path = match[2] if match else text
        title = (match[1] or "").strip() if match else ""
        self.warn(f"{{% {name} %}}: cannot include {path!r} (a file outside the post): "
                  "only its title is kept")
        return f"<figure><figcaption><span>{html.escape(title or path.rsplit('/', 1)[-1])}</span>"\
               "</figcaption></figure>"

    def unknown_block(self, name: str, content: str, depth: int) -> str:
        self.warn(f"{{% {name} %}} is not a tag plugin newsportal knows (a site's own?): "
                  "its content is kept, as Markdown, in a neutral block")
        return f'<section class="hexo-tag hexo-tag-{_attr(name)}">{self.markdown(content, depth)}</section>'


# --- the scanner ---------------------------------------------------------------------

# What can start something the scanner must look at: inline code, an HTML
# comment, a tag, a variable or a template comment.
_INTERESTING = re.compile(r"`+|<!--|\{[%{#]")
_TAG_NAME = re.compile(r"\s*([^\s%]+)")
# A placeholder as Markdown passes it on: as HTML, escaped (in code), or URL-encoded
# in a link's destination (`[x]({% post_path a %})`, which Hexo 8 itself breaks).
_PLACEHOLDER = re.compile("(?:<|&lt;)!--swig\ufffc(\\d+)--(?:>|&gt;)|!--swig%EF%BF%BC(\\d+)--")
_END_TAG = "{{%\\s*end{name}\\s*%}}"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class _Finder:
    """`str.find` that remembers: searched from left to right, the scan stays linear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._last: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, start: int) -> int:
        known = self._last.get(needle)
        if known is not None:
            searched_from, found = known
            if searched_from <= start and (found == -1 or found >= start):
                return found
        found = self.text.find(needle, start)
        self._last[needle] = (start, found)
        return found

    def search(self, key: str, pattern: re.Pattern, start: int) -> re.Match | None:
        known = self._last.get(key)
        if known is not None:
            searched_from, found = known
            if searched_from <= start and (found == -1 or found >= start):
                return pattern.search(self.text, found) if found != -1 else None
        match = pattern.search(self.text, start)
        self._last[key] = (start, match.start() if match else -1)
        return match


def _strip_indent(text: str) -> str:
    """hexo-util's stripIndent, then a leading and a trailing newline dropped (Hexo's `trimBody`)."""
    return strip_indent(text).removeprefix("\n").removesuffix("\n")


def _scan(text: str, renderer: _Renderer, depth: int, stored: list[tuple[str, str | None]]) -> str:
    """`text` with its tags replaced by placeholders whose HTML is in `stored`."""
    output: list[str] = []
    finder = _Finder(text)
    position = 0
    cursor = 0  # where the text not yet copied to `output` starts

    def hold(markup: str, source: str, start: int, end: int) -> None:
        nonlocal cursor
        output.append(text[cursor:start])
        stored.append((markup, source))
        output.append(f"<!--swig\ufffc{len(stored) - 1}-->")
        cursor = end

    while (found := _INTERESTING.search(text, position)) is not None:
        start, token = found.start(), found.group(0)
        if token[0] == "`":
            position = _skip_code_span(text, found, finder)
            if position > found.end() and "{%" in text[found.end():position]:
                _raw_in_code(text, found.end(), position, hold)
        elif token == "<!--":
            close = finder.find("-->", start + 4)
            position = len(text) if close == -1 else close + 3
        elif token == "{#":
            close = finder.find("#}", start + 2)
            if close == -1:
                position = start + 2
            else:  # a template comment: Hexo drops it
                output.append(text[cursor:start])
                cursor = position = close + 2
        elif token == "{{":
            close = finder.find("}}", start + 2)
            if close == -1 or close - start > MAX_TAG_CHARS:
                position = start + 2
            else:
                renderer.warn(f"template variable {text[start:close + 2]!r} is not rendered: kept as text")
                position = close + 2
        else:
            position = _tag(text, start, finder, renderer, depth, hold)
    output.append(text[cursor:])
    return "".join(output)


# Hexo runs `{% raw %}…{% endraw %}` even in inline code (escapeAllSwigTags, STATE_INLINE_CODE):
# the code shows what is inside (`{% raw %}{{ x }}{% endraw %}` → `{{ x }}`). Spaces only, as there.
_RAW_OPEN = re.compile(r"\{% *raw *%\}")
_RAW_CLOSE = re.compile(r"\{% *endraw *%\}")


def _raw_in_code(text: str, start: int, end: int, hold: Callable[[str, str, int, int], None]) -> None:
    """The raw tags in the code span text[start:end] held as placeholders showing their content."""
    while (opening := _RAW_OPEN.search(text, start, end)) is not None:
        closing = _RAW_CLOSE.search(text, opening.end(), end)
        if closing is None:
            return  # no later raw tag in the span can close either
        content = text[opening.end():closing.start()]
        hold(content, content, opening.start(), closing.end())  # in code: shown escaped, as written
        start = closing.end()


def _skip_code_span(text: str, found: re.Match, finder: _Finder) -> int:
    """After an inline code span (`…`): tags in it are not run; an unclosed run of backticks is text."""
    ticks = found.group(0)
    end = found.end()
    while True:
        close = finder.find(ticks, end)
        if close == -1:
            return found.end()
        # a longer run of backticks does not close it
        if text.startswith("`", close + len(ticks)) or (close > 0 and text[close - 1] == "`"):
            end = close + len(ticks)
            while end < len(text) and text[end] == "`":
                end += 1
            continue
        if _BLANK_LINE.search(text, found.end(), close):
            return found.end()  # code spans do not cross a paragraph
        return close + len(ticks)


def _tag(text: str, start: int, finder: _Finder, renderer: _Renderer, depth: int,
         hold: Callable[[str, str, int, int], None]) -> int:
    """Handle the `{%` at `start`; returns where scanning goes on."""
    close = finder.find("%}", start + 2)
    if close == -1 or close - start > MAX_TAG_CHARS:
        return start + 2  # no tag: `{%` is text
    inner = text[start + 2:close]
    name_match = _TAG_NAME.match(inner)
    if name_match is None:
        return close + 2
    name = name_match[1]
    args = split_args(inner[name_match.end():])
    source = text[start:close + 2]
    end_of_open = close + 2
    if name.startswith("end"):
        renderer.warn(f"{source!r} closes no tag: kept as text")
        return end_of_open
    html_ = renderer.inline(name, args)
    if html_ is not None:
        if name in EMBED_TAGS and _alone_on_its_line(text, start, end_of_open):
            html_ = f"<p>{html_}</p>"  # a paragraph of its own, as a link Markdown would make
        hold(html_, source, start, end_of_open)
        return end_of_open
    end_pattern = re.compile(_END_TAG.format(name=re.escape(name)))
    ending = finder.search(f"end:{name}", end_pattern, end_of_open)
    if ending is None:
        if name in ("blockquote", "quote", "pullquote", "code", "codeblock", "raw"):
            renderer.warn(f"{{% {name} %}} is never closed with {{% end{name} %}}: kept as text")
        else:
            renderer.warn(f"{{% {name} %}} is not a tag plugin newsportal knows (a site's own?): kept as text")
        return end_of_open
    if depth >= MAX_DEPTH:
        renderer.warn(f"{{% {name} %}} is nested more than {MAX_DEPTH} deep: kept as text")
        return end_of_open
    content = text[end_of_open:ending.start()]
    # Nunjucks' own `raw` keeps its content as written; Hexo's block tags get it trimmed.
    if name == "raw":  # a code block in it (set aside before the tags) is shown as the code block
        markup = _PLACEHOLDER.sub(lambda m: _restore(m, renderer.stored), content)
    else:
        markup = renderer.block(name, args, _strip_indent(content), depth)
    if markup is None:
        markup = renderer.unknown_block(name, content, depth)
    hold(markup, text[start:ending.end()], start, ending.end())
    return ending.end()


# A fence the Markdown renderer is left to render (in an HTML comment, `highlight:false`), while
# the tags are read: Hexo escapes its braces there, so no tag in it runs.
_KEPT = re.compile("\ufffcfence(\\d+)\ufffc")


def _render(text: str, renderer: _Renderer, *, markdown: bool, depth: int) -> str:
    # Hexo's order: fenced code out first (backtick_code_block, importing.code_fences), then
    # the tags (unless `disableNunjucks`), then Markdown, then everything put back.
    stored = renderer.stored
    if markdown and ("```" in text or "~~~" in text):
        pieces = []
        for piece in split_code_blocks(text):
            if not isinstance(piece, CodeBlock):
                pieces.append(piece)
            elif piece.html is None:
                renderer.kept.append(piece.source)
                pieces.append(f"\ufffcfence{len(renderer.kept) - 1}\ufffc")
            else:
                stored.append((piece.html.removesuffix("\n"), None))  # the placeholder's line ends it
                newline = "\n" if piece.source.endswith("\n") else ""
                pieces.append(f"{piece.prefix}<!--swig\ufffc{len(stored) - 1}-->{newline}")
        text = "".join(pieces)
    escaped = _scan(text, renderer, depth, stored) if renderer.ctx.enabled else text
    if renderer.kept:
        escaped = _restore_kept(escaped, renderer)
    rendered = render_markdown(escaped, renderer.ctx.marked) if markdown else escaped
    if not stored:
        return rendered
    return _PLACEHOLDER.sub(lambda m: _restore(m, stored), rendered)


def _restore_kept(text: str, renderer: _Renderer) -> str:
    return _KEPT.sub(lambda m: renderer.kept[int(m[1])] if int(m[1]) < len(renderer.kept) else m[0], text)


def _restore(match: re.Match, stored: list[tuple[str, str | None]]) -> str:
    index = int(match[1] or match[2])
    if index >= len(stored):
        return match[0]
    markup, source = stored[index]
    # A code block (source None) is put back even where Markdown escaped its
    # placeholder (an indented code block), as Hexo's restoreCodeBlocks does.
    if source is not None and match[0].startswith("&lt;"):
        # Markdown escaped it: it was in code (an indented block), where Hexo shows the tag as written.
        return html.escape(source, quote=False)
    return markup


def _alone_on_its_line(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return not text[line_start:start].strip() and not text[end:len(text) if line_end == -1 else line_end].strip()


_HAS_TEMPLATE = re.compile(r"\{[%{#]")


def render_body(text: str, ctx: TagContext, *, markdown: bool) -> RenderedBody:
    """A post's body as HTML, with Hexo's tag plugins rendered (not yet sanitised).

    `markdown`: render the body as Markdown too (a `.md` post whose body is not
    HTML); otherwise the tags are rendered in the body as written, as Hexo
    renders them in every post. With `ctx.enabled` False (`disableNunjucks`), or
    without any `{%`, `{{`, `{#`, the body is what the Markdown renderer alone makes.
    """
    fenced = markdown and ("```" in text or "~~~" in text)
    if not fenced and (not ctx.enabled or not _HAS_TEMPLATE.search(text)):
        return RenderedBody(render_markdown(text, ctx.marked) if markdown and text.strip() else text, ())
    renderer = _Renderer(ctx)
    body = _render(text, renderer, markdown=markdown, depth=0)
    if renderer.kept:  # a kept fence inside a tag that shows its content as written (`raw`)
        body = _restore_kept(body, renderer)
    warnings = renderer.warnings
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS],
                    f"{ctx.path}: … and {len(warnings) - MAX_WARNINGS} more tag plugin warnings"]
    return RenderedBody(body, tuple(warnings))
