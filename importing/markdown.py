"""Markdown post bodies rendered to HTML the way Hexo's default renderer does.

Hexo renders `.md`/`.markdown` posts with hexo-renderer-marked (the `marked`
library with Hexo's options and renderer). This module does the same with
markdown-it-py, a CommonMark parser with GFM tables, strikethrough and
autolinks, and mdit-py-plugins' heading anchors, configured to Hexo's
defaults (`MarkedOptions`): GFM, `breaks`, smart punctuation, bare URLs
linked, heading ids made as hexo-util's `slugize` makes them.

The HTML made here is not safe yet: like every body, it goes through the
one sanitiser (`articles.sanitize.sanitize_body`) after this. Raw HTML in
Markdown is passed through for it to judge, as marked does.

A body that is already HTML (the mirror bot's posts: `<div>` and plain
lines, some indented) is left as it is (`is_html_body`): Hexo would turn
the indented lines into code blocks.

Pure Python, no Django: it runs in the import's worker processes
(the `pure-import-stages` contract).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, Mapping

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, mdTrim
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore, normalize
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin

# The suffixes Hexo hands to hexo-renderer-marked that this importer reads.
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})

# Block elements nested deeper than this (blockquotes, lists) are not nested
# further: their markers stay as text. markdown-it's own guard, so that
# 100,000 `>` render in linear time and to bounded HTML.
MAX_NESTING = 20


@dataclass(frozen=True)
class MarkedOptions:
    """hexo-renderer-marked's options that change the HTML, with the defaults Hexo ships.

    `from_config` reads a site's `marked:` section of `_config.yml`.
    """

    gfm: bool = True  # tables, strikethrough, bare URLs (with autolink)
    breaks: bool = True  # a single line break is a <br>
    smartypants: bool = True  # curly quotes, en and em dashes, ellipses
    quotes: str = "\u201c\u201d\u2018\u2019"  # the four quotes smartypants uses: “”‘’
    autolink: bool = True  # bare URLs become links (GFM)
    header_ids: bool = True  # headings get ids
    modify_anchors: int = 0  # heading ids: 0 as written, 1 lower case, 2 upper case
    description_lists: bool = True  # `term` + a line `: definition` is a <dl>

    _CONFIG_KEYS = {"gfm": "gfm", "breaks": "breaks", "smartypants": "smartypants", "quotes": "quotes",
                    "autolink": "autolink", "headerIds": "header_ids", "modifyAnchors": "modify_anchors",
                    "descriptionLists": "description_lists"}

    @classmethod
    def from_config(cls, marked: Mapping[str, Any] | None) -> MarkedOptions:
        """The options of a site's `marked:` settings; keys this renderer has no use for are ignored."""
        values: dict[str, Any] = {}
        for key, name in cls._CONFIG_KEYS.items():
            if marked and key in marked and marked[key] is not None:
                values[name] = marked[key]
        quotes = values.get("quotes")
        if not (isinstance(quotes, str) and len(quotes) == 4):
            values.pop("quotes", None)  # marked falls back to the default quotes too
        if "modify_anchors" in values:
            try:
                values["modify_anchors"] = int(values["modify_anchors"])
            except (TypeError, ValueError):
                values["modify_anchors"] = 0
        for item in fields(cls):
            if item.type == "bool" and item.name in values:
                values[item.name] = bool(values[item.name])
        return cls(**values)


HEXO_DEFAULTS = MarkedOptions()


# --- is the body HTML? ---------------------------------------------------------

# The block-level elements that open an HTML block in CommonMark (types 1 and
# 6), which is also where marked stops reading Markdown.
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|"
    "div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|"
    "legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|pre|script|search|section|"
    "style|summary|table|tbody|td|textarea|tfoot|th|thead|title|tr|track|ul"
)
_STARTS_WITH_BLOCK_TAG = re.compile(
    rf"\s*(?:<!--.*?-->\s*)*<(?:{_BLOCK_TAGS})(?:[\s/>]|$)", re.IGNORECASE | re.DOTALL)
# Markdown's own block syntax, which no HTML body has at the start of a line:
# an ATX heading or a code fence.
_MARKDOWN_BLOCK = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|```|~~~)", re.MULTILINE)
# Preformatted text, where such a line is code (`# comment`), not Markdown.
_PRE = re.compile(r"<pre\b.*?</pre\s*>", re.IGNORECASE | re.DOTALL)


def is_html_body(body: str) -> bool:
    """Whether a Markdown file's body is HTML, to be kept as it is rather than rendered.

    It is when it starts with a block-level tag (after white space and
    comments) and has no Markdown heading or code fence outside `<pre>`. So
    the mirror bot's `<div>`-wrapped bodies stay HTML, with their indented
    lines as text, and so do bodies `export_articles` wrote; a Markdown post
    that opens with an HTML block (a centred image, say) but has headings or
    code below is still Markdown.
    """
    if not _STARTS_WITH_BLOCK_TAG.match(body):
        return False
    if "<pre" in body or "<PRE" in body:
        body = _PRE.sub("", body)
    return not _MARKDOWN_BLOCK.search(body)


# --- heading ids as hexo-util's slugize makes them ---------------------------------

# hexo-util's slugize: these characters (and runs of them) become one '-'.
_SLUG_SPECIAL = re.compile(r"[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:\"'<>,.?/]+")
_SLUG_CONTROL = re.compile(r"[\u0000-\u001f]")


def _without_diacritic(char: str) -> str:
    """A Latin letter with diacritics as its base letter (é → e), as hexo-util's escapeDiacritic does."""
    if char.isascii():
        return char
    decomposed = unicodedata.normalize("NFD", char)
    if decomposed[0].isascii() and all(unicodedata.combining(c) for c in decomposed[1:]):
        return decomposed[0]
    return char


def hexo_slug(text: str, transform: int = 0) -> str:
    """A heading's id as hexo-renderer-marked makes it (hexo-util's `slugize`): Chinese is kept."""
    text = "".join(_without_diacritic(c) for c in text.strip())
    slug = _SLUG_SPECIAL.sub("-", _SLUG_CONTROL.sub("", text)).strip("-")
    if transform == 1:
        return slug.lower()
    if transform == 2:
        return slug.upper()
    return slug


# --- the renderer -----------------------------------------------------------------

# marked's smartypants (hexo-renderer-marked's copy, lib/renderer.js), applied
# as marked applies it: to each run of inline text on its own, so a quote at
# the start of a run (after `**bold**`, a link, a line break) opens, whatever
# follows. markdown-it's smartquotes pairs quotes across a paragraph instead,
# which gave `**a**" b` a straight quote and `"x/"` a closing one.
_OPENING_SINGLE = re.compile(r"""(^|[-\u2014/(\[{"\s])'""")
_OPENING_DOUBLE = re.compile(r'(^|[-\u2014/(\[{\u2018\s])"')
# Inline HTML inside which marked leaves text as written (its `inRawBlock`).
_RAW_OPEN = re.compile(r"<(pre|code|kbd|script)[\s>]", re.IGNORECASE)
_RAW_CLOSE = re.compile(r"</(pre|code|kbd|script)[\s>]", re.IGNORECASE)


def smartypants(text: str, quotes: str = "\u201c\u201d\u2018\u2019") -> str:
    """marked's smartypants on one run of text: dashes, quotes (`quotes`: “”‘’ in that order), ellipses."""
    open_double, close_double, open_single, close_single = quotes
    text = text.replace("---", "\u2014").replace("--", "\u2013")
    text = _OPENING_SINGLE.sub(lambda m: m.group(1) + open_single, text).replace("'", close_single)
    text = _OPENING_DOUBLE.sub(lambda m: m.group(1) + open_double, text).replace('"', close_double)
    return text.replace("...", "\u2026")


def _marked_smartypants(state: StateCore) -> None:
    quotes = state.md.options["quotes"]
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        in_autolink = False  # a URL shown as its own text keeps its dashes and dots, as in marked
        in_raw = False
        for child in token.children:
            if child.type == "link_open":
                in_autolink = child.markup in ("linkify", "autolink")
            elif child.type == "link_close":
                in_autolink = False
            elif child.type == "html_inline":
                in_raw = bool(_RAW_OPEN.match(child.content)) or (in_raw and not _RAW_CLOSE.match(child.content))
            # `text` only: an escaped character (`\"`, text_special until text_join) stays as written
            elif child.type == "text" and not in_autolink and not in_raw:
                child.content = smartypants(child.content, quotes)


# What marked's GFM autolinks recognise in plain text: URLs with a scheme,
# `www.` addresses and e-mail addresses (linkify-it also links bare
# `example.com`, which marked leaves as text).
# marked's own patterns (its `url` and e-mail rules) take ASCII only: `http://例子.测试`
# stays text, `editor@example.com` is linked.
_GFM_AUTOLINK_TEXT = re.compile(r"(?:(?:https?|ftp)://|www\.)[a-z0-9-]|[a-z0-9._+-]+@[a-z0-9_-]+\.", re.IGNORECASE)
_AUTOLINK_HINTS = ("://", "www.", "WWW.", "@")


# An http(s)/ftp URL of a host alone (`https://hexo.io`, `https://hexo.io?x`):
# hexo-renderer-marked writes every link and image URL through hexo-util's
# encodeURL, whose WHATWG URL parser gives such a URL its path, `/`.
_BARE_HOST_URL = re.compile(r"((?:https?|ftp)://[^/?#\s]+)([?#]\S*)?", re.IGNORECASE)


def _with_root_path(url: str) -> str:
    match = _BARE_HOST_URL.fullmatch(url)
    return f"{match.group(1)}/{match.group(2) or ''}" if match else url


def _marked_markup(state: StateCore) -> None:
    """Mark up what marked marks up differently.

    `<del>` for ~~strike~~, `align` on table cells, only the bare URLs
    marked links, and a host's URL with its root path.
    """
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if isinstance(style, str) and style.startswith("text-align:"):
                token.attrs.pop("style")
                token.attrSet("align", style.removeprefix("text-align:"))
        elif token.type == "inline" and token.children:
            children = token.children
            for child in children:
                if child.type in ("s_open", "s_close"):
                    child.tag = "del"
                elif child.type in ("link_open", "image"):
                    name = "href" if child.type == "link_open" else "src"
                    url = child.attrGet(name)
                    if isinstance(url, str) and "://" in url:
                        child.attrSet(name, _with_root_path(url))
            if any(child.markup == "linkify" for child in children):
                token.children = _without_fuzzy_links(children)


def _without_fuzzy_links(children: list) -> list:
    kept = []
    index = 0
    while index < len(children):
        child = children[index]
        if (child.type == "link_open" and child.markup == "linkify" and index + 2 < len(children)
                and not _GFM_AUTOLINK_TEXT.match(children[index + 1].content)):
            kept.append(children[index + 1])  # the text, without the link around it
            index += 3
            continue
        kept.append(child)
        index += 1
    return kept


# A Markdown link's destination, `](https://…)`: a URL already linked.
_LINK_DESTINATION = re.compile(r"\]\([^()\s]*\)")


def _quick_pretest(pretest):
    """linkify-it's pretest, skipped for text with no hint of a bare link (most paragraphs: it is slow)."""
    def pretest_if_hinted(text: str) -> bool:
        if not any(hint in text for hint in _AUTOLINK_HINTS):
            return False
        if "](" in text:
            text = _LINK_DESTINATION.sub("]", text)
            if not any(hint in text for hint in _AUTOLINK_HINTS):
                return False
        return pretest(text)
    return pretest_if_hinted


# --- shortcuts for plain text, proven to give the parser's tokens ------------------------
#
# Most of a newsroom post is paragraphs of plain prose. markdown-it tries
# every block rule on each paragraph and stops its text rule at every `%`,
# `-` or `#` to try every inline rule there, which is where a Markdown import
# spent most of its time. `_add_plain_text_shortcuts` skips that work where
# nothing could come of it and gives the very HTML the parser gives
# (tests/importing/test_markdown_fast.py compares both renderers on
# property-based, generated and real posts):
#
# - `_plain_paragraph_block`: a top-level paragraph whose lines cannot open
#   or interrupt any block is made at once, and rendered straight to
#   `<p>…</p>` when its text has no inline markup either;
# - `_inline_with_plain_text`: other inline content without markup (most
#   headings) becomes its text and line breaks without the inline parser;
# - `_TEXT_STOPS`: the text rule stops only where one of our rules can start;
# - `_normalize_if_needed`: line endings rewritten only where there are CRs.

# A line that might open a block at the top level: indented (code), a heading,
# quote, list item, rule, fence, HTML block, reference, setext underline;
# `:`, a description list's definition line (`_mark_description_lists` needs
# the paragraph's tokens); and `{`, where Hexo's block tags (`{% note %}`)
# start, so that a rule for them sees its lines whatever its place.
_BLOCK_START = re.compile(r"[ \t#>*+\-_=`~<\[{:]|\d{1,9}[.)]")


def _plain_paragraph_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A top-level paragraph of plain lines, without trying every block rule on it first.

    Every rule tried before `paragraph` needs a line that starts with a
    block marker (`_BLOCK_START`) or, for a table, a `|` in the first line;
    a setext heading needs an underline, which starts with one too. So for
    such lines they would all decline, and none of them ends the paragraph
    early: it runs to the next blank line, as markdown-it's paragraph rule
    finds. Its text, when plain too (`_has_inline_markup`), is one
    `plain_paragraph` token rendered straight to `<p>…</p>`
    (`_render_plain_paragraph`) instead of three tokens and an inline parse;
    otherwise the three tokens markdown-it's paragraph rule makes.
    """
    if silent or state.level != 0 or state.blkIndent != 0:  # top level: not in a quote or list
        return False
    src, begins, ends = state.src, state.bMarks, state.eMarks
    line = start_line
    while line < end_line and not state.isEmpty(line):
        text = src[begins[line]:ends[line]]
        if _BLOCK_START.match(text) or "|" in text:
            return False
        line += 1
    content = mdTrim(state.getLines(start_line, line, 0, False))
    state.line = line
    if _has_inline_markup(content):
        # The three tokens markdown-it's paragraph rule makes, with the
        # content it would take again from the same lines.
        state.push("paragraph_open", "p", 1).map = [start_line, line]
        inline = state.push("inline", "", 0)
        inline.content, inline.map, inline.children = content, [start_line, line], []
        state.push("paragraph_close", "p", -1)
        return True
    token = state.push("plain_paragraph", "p", 0)
    token.content = content
    token.map = [start_line, line]
    return True


def _render_plain_paragraph(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """A `plain_paragraph` as markdown-it renders the paragraph and text tokens it stands for."""
    soft_break = ("<br />\n" if options.xhtmlOut else "<br>\n") if options.breaks else "\n"
    hard_break = "<br />\n" if options.xhtmlOut else "<br>\n"
    html = []
    for token in _plain_text_children(tokens[index].content):
        if token.type == "text":
            html.append(escapeHtml(token.content))
        else:
            html.append(soft_break if token.type == "softbreak" else hard_break)
    return f"<p>{''.join(html)}</p>\n"


# Inline content that some rule acts on: escapes, code, strikethrough,
# emphasis, links and images, autolinks and raw HTML, entities; bare URLs
# (linkify) and smart punctuation (quotes, dashes, ellipses).
_INLINE_MARKUP_CHARS = re.compile(r"""[\\`~*_\[\]!<&"'@\t]""")
_WWW = re.compile(r"www\.", re.IGNORECASE)


def _has_any(text: str, needles: tuple[str, ...]) -> bool:
    for needle in needles:
        if needle in text:
            return True
    return False


def _mentions_www(text: str) -> bool:
    return ("w" in text or "W" in text) and _WWW.search(text) is not None


def _has_inline_markup(text: str) -> bool:
    """Whether any inline or core rule could act on `text`; False means it is text and line breaks only.

    One character class and substring tests: a single regex with the
    multi-character cases as alternatives (and case-insensitive `www.`)
    tries them at every position, four times slower on a long paragraph.
    """
    return (_INLINE_MARKUP_CHARS.search(text) is not None or _has_any(text, ("--", "...", "://"))
            or _mentions_www(text))


def _plain_text_children(content: str) -> list[Token]:
    """The tokens markdown-it's inline parser makes of text without markup: text and line breaks.

    As its `newline` rule does: two or more spaces before a line break make a
    hard break (and are dropped), one space is dropped, and the next line's
    leading spaces are skipped.
    """
    children: list[Token] = []
    lines = content.split("\n")
    last = len(lines) - 1
    for index, line in enumerate(lines):
        if index:
            line = line.lstrip(" ")
        kind = ""
        if index < last:
            kind = "softbreak"
            if line.endswith("  "):
                line, kind = line.rstrip(" ") or line[:1], "hardbreak"
            elif line.endswith(" "):
                line = line[:-1]
        if line:
            token = Token("text", "", 0)
            token.content = line
            children.append(token)
        if kind:
            children.append(Token(kind, "br", 0))
    return children


# Where markdown-it's text rule must stop for this renderer's inline rules to
# see their markers: line breaks, `:` (a bare URL's `://`), escapes, code,
# strikethrough, emphasis, links and images (`]` ends a link's text),
# autolinks, raw HTML and entities. markdown-it also stops at `%`, `-`, `$`,
# `#`, `+`, `=`, `>`, `@`, `^` and braces, which no rule here starts at: it
# then tries all twelve rules on each of them and adds the character to the
# same text. Chinese financial copy is full of `%`.
_TEXT_STOPS = re.compile(r"[\n:\\`~*_\[\]!<&]")


def _normalize_if_needed(state: StateCore) -> None:
    """markdown-it's `normalize` (CR and CR LF to LF, NUL to U+FFFD), only for text that has either.

    Its regex rewrites every line ending, LF to LF too, on every body; the
    importer's bodies already have LF endings (importing.parse.decode_source).
    """
    if "\r" in state.src or "\0" in state.src:
        normalize(state)


def _inline_with_plain_text(state: StateCore) -> None:
    """markdown-it's core `inline` rule, with plain content (`_has_inline_markup`) made into text directly."""
    md, env = state.md, state.env
    for token in state.tokens:
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        if not token.children and not _has_inline_markup(token.content):
            token.children = _plain_text_children(token.content)
        else:
            md.inline.parse(token.content, md, env, token.children)


# marked's description lists (hexo-renderer-marked's paragraph renderer, after
# kramdown): a paragraph with `<br>: ` in it, a term and a line `: definition`,
# is written as `<dl><dt>term</dt><dd>definition</dd></dl>` instead. The
# paragraphs that may be one are marked while parsing, and rewritten once
# rendered, with marked's own pattern (the first such pair only, as marked).
_DL_MARK = "data-marked-dl"
_DL_CANDIDATE = re.compile(r"\n:\s")
_DL_PARAGRAPH = re.compile(rf'<p {_DL_MARK}="">(.*?)</p>\n', re.DOTALL)
_DL_SYNTAX = re.compile(r"(?:^|\s)(\S.+)<br>:\s+(\S.+)")


def _mark_description_lists(state: StateCore) -> None:
    tokens = state.tokens
    for index, token in enumerate(tokens[:-1]):
        if token.type == "paragraph_open" and _DL_CANDIDATE.search(tokens[index + 1].content):
            token.attrSet(_DL_MARK, "")


def _description_list(match: re.Match) -> str:
    text = match.group(1).replace("<br>\n", "<br>")  # marked writes no line end after <br>
    if not _DL_SYNTAX.search(text):
        return f"<p>{match.group(1)}</p>\n"
    return _DL_SYNTAX.sub(r"<dl><dt>\1</dt><dd>\2</dd></dl>", text, count=1)


@functools.lru_cache(maxsize=16)
def _renderer(options: MarkedOptions, shortcuts: bool = True) -> MarkdownIt:
    """The renderer for `options`, made once per process; `shortcuts`: with the plain-text rules above."""
    md = MarkdownIt(
        "gfm-like" if options.gfm else "commonmark",
        {
            "html": True,  # raw HTML is kept, as marked keeps it: the sanitiser judges it
            "breaks": options.breaks,
            "linkify": options.gfm and options.autolink,
            "typographer": options.smartypants,
            "quotes": options.quotes,
            "xhtmlOut": False,  # <br>, as marked writes it
            "maxNesting": MAX_NESTING,
        },
    )
    if options.gfm and options.autolink:
        md.linkify.pretest = _quick_pretest(md.linkify.pretest)
    else:
        md.disable("linkify", ignoreInvalid=True)
    if options.smartypants:
        md.core.ruler.before("text_join", "marked_smartypants", _marked_smartypants)
    md.core.ruler.push("marked_markup", _marked_markup)
    if options.description_lists:
        md.core.ruler.push("marked_description_lists", _mark_description_lists)
    if options.header_ids:
        anchors_plugin(md, min_level=1, max_level=6,
                       slug_func=functools.partial(hexo_slug, transform=options.modify_anchors))
    if shortcuts:
        _add_plain_text_shortcuts(md)
    return md


def _add_plain_text_shortcuts(md: MarkdownIt) -> None:
    """The shortcuts above, installed last: a rule added after them that starts at a character
    outside `_TEXT_STOPS` registers it with `md.inline.add_terminator_char` (which rebuilds the
    stops from markdown-it's defaults: correct, only slower)."""
    md.block.ruler.before(md.block.ruler.get_all_rules()[0], "plain_paragraph", _plain_paragraph_block)
    md.core.ruler.at("normalize", _normalize_if_needed)
    md.core.ruler.at("inline", _inline_with_plain_text)
    md.add_render_rule("plain_paragraph", _render_plain_paragraph)
    md.inline.terminator_re = _TEXT_STOPS


# Plain text: no character that can start Markdown syntax, an entity, smart
# punctuation or a link, no indented line, no line that could open a list.
# Such a body is paragraphs and line breaks only, made by `_plain_paragraphs`
# exactly as markdown-it makes them (tests/importing/test_markdown.py checks
# the two agree) at a tenth of the cost: wire copy is mostly such text.
_NOT_PLAIN_CHARS = re.compile(
    r"""[\\`*_\[\]<>&!~|#=+"'@\t\r\x00\x0b\x0c\x1c-\x1f\x85\u1680\u2000-\u200a\u2028\u2029\u202f\u205f]""")
_LIST_OR_INDENT_LINE = re.compile(r"\n(?:[ :-]|\d{1,9}[.)])")
_ORDERED_ITEM = re.compile(r"\d{1,9}[.)]")


def _is_plain(text: str) -> bool:
    """Whether `text` is plain (see above); tested piece by piece, which is three times faster than one regex."""
    return not (_NOT_PLAIN_CHARS.search(text) or _has_any(text, ("--", "...", "://")) or _mentions_www(text)
                or text.startswith((" ", "-", ":")) or _ORDERED_ITEM.match(text) or _LIST_OR_INDENT_LINE.search(text))


_BLANK_LINES = re.compile(r"\n(?:[ ]*\n)+")


def _plain_paragraphs(text: str, breaks: bool) -> str | None:
    """What markdown-it makes of plain text (`_is_plain`), or None for anything else."""
    if not _is_plain(text):
        return None
    soft_break = "<br>\n" if breaks else "\n"
    html = []
    for block in _BLANK_LINES.split(text.strip(" \n")):
        if block.strip(" "):
            lines = block.strip().split("\n")  # str.strip(), as markdown-it-py's paragraph rule
            parts = []
            for line in lines[:-1]:
                # Two trailing spaces are a hard break, whatever `breaks` says.
                parts.append(line.strip(" ") + ("<br>\n" if line.endswith("  ") else soft_break))
            parts.append(lines[-1].strip(" "))
            html.append(f"<p>{''.join(parts)}</p>\n")
    return "".join(html)


def render_markdown(text: str, options: MarkedOptions = HEXO_DEFAULTS, *, fast_path: bool = True) -> str:
    """`text` as HTML, not yet sanitised. Never fails: what cannot be rendered is returned as it is.

    `fast_path=False` always runs the full parser (to compare the two).
    """
    if fast_path and (plain := _plain_paragraphs(text, options.breaks)) is not None:
        return plain
    try:
        html = _renderer(options, fast_path).render(text)
        return _DL_PARAGRAPH.sub(_description_list, html) if _DL_MARK in html else html
    except (RecursionError, ValueError, IndexError, KeyError, TypeError):  # pragma: no cover - a parser bug
        # The sanitiser then reads it as it read every body before Markdown
        # was rendered: broken Markdown never fails a file.
        return text


def body_html(body: str, options: MarkedOptions = HEXO_DEFAULTS) -> str:
    """A Markdown file's body as HTML: rendered, unless it is HTML already (`is_html_body`)."""
    if not body.strip() or is_html_body(body):
        return body
    return render_markdown(body, options)


def is_markdown_path(path: str) -> bool:
    """Whether a post file is Markdown to Hexo, by its suffix (`.md`, `.markdown`)."""
    dot = path.rfind(".")
    return dot != -1 and "/" not in path[dot:] and path[dot:].lower() in MARKDOWN_SUFFIXES
