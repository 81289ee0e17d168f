"""Fenced code blocks taken out of a Markdown body before Markdown reads it, as Hexo 8 does.

Hexo's `backtick_code_block` filter (hexo 8.1.2,
`plugins/filter/before_post_render/backtick_code_block.js`) runs before the
Markdown renderer: its regular expression `rBacktick` finds every fence in
the raw text — at the start of any line, after up to three `>`, after a list
marker (`-`, `*`, `+`, `1.`) or indented by any amount — replaces it by its
highlighted HTML in a one-line placeholder, and keeps what stood before the
fence on its line (`> `, `- `, the indentation). So marked never sees the
fence: a fence in a list item, even one indented less than the item's text,
does not end the list, and its title (```` ``` diff package.json ````) becomes a
caption. `split_code_blocks` does the same, line by line: `rBacktick`'s lazy
`[\\s\\S]*?` parts would backtrack for ever on 100,000 backticks, so the
closing lines are indexed once and each opening finds its own by bisection
(linear time in the size of the body).

What it keeps from `rBacktick` and its helpers, exactly:
- an opening line: `(?:[ws]*>){0,3}`, or a list marker `-`, `*`, `+`, `N.` at
  the line's start, white space, three or more backticks or tildes, then
  arguments that do not end with a backtick;
- the closing line: the same run (not longer), after up to three `>` and any
  indentation, followed by at most one white-space character;
- a fence inside an HTML comment (`<!-- … -->` around it) is left as text;
- `highlight:false` in the arguments leaves the fence to the Markdown renderer;
- after a `>`, the code's lines lose as many `>` as the opening had, and one
  space (`PR #3765`); the code is then de-indented (hexo-util's `stripIndent`);
- the language and caption by `rAllOptions`/`rLangCaption`: ```` ```js Title ````,
  ```` ```js Title https://… link text ````; the part after `=` (a first line
  number) and the highlighter's options (`mark:`, `line_number:` …) are not
  shown (our code blocks have no line numbers).

The code becomes `<pre><code class="language-js">` (in a `<figure>` with Hexo's
`<figcaption>` when it has a title), as our Markdown renderer writes code, not
highlight.js's table: docs/HEXO.md, Markdown.

Pure Python, no Django: it runs in the import's worker processes (the
`pure-import-stages` contract).
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

# JavaScript's `\s` without `\r` and `\n` (`[^\S\r\n]` in Hexo's expressions);
# Python's own `\s` differs from it in a few control and format characters.
_WS_CHARS = "\t\v\f \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = f"[{_WS_CHARS}]"
_JS_SPACE = _WS_CHARS + "\r\n"  # JavaScript's `\s`

# What may stand before a fence on its line (rBacktick's first group); the
# lookahead finds the one place a fence can start (the prefix holds only white
# space and `>`, or is a list marker), so nothing here backtracks far.
_OPEN_PREFIX = re.compile(rf"(?:(?:{_WS}*>){{0,3}}|[-*+]|[0-9]+\.){_WS}*(?=```|~~~)")
_CLOSE_PREFIX = re.compile(rf"(?:{_WS}*>){{0,3}}{_WS}*(?=```|~~~)")
_RUN = re.compile(r"`+|~+")
# parseArgs' options for the highlighter, and the caption's two forms.
_ADDITIONAL_OPTIONS = re.compile(
    rf"[{_JS_SPACE}]((?:line_number|line_threshold|first_line|wrap|mark|language_attr|highlight):[^{_JS_SPACE}]+)")
_ALL_OPTIONS = re.compile(rf"([^{_JS_SPACE}]+)[{_JS_SPACE}]+(.+?)[{_JS_SPACE}]+(https?://[^{_JS_SPACE}]+|/[^{_JS_SPACE}]+)"
                          rf"[{_JS_SPACE}]*(.+)?")
_LANG_CAPTION = re.compile(rf"([^{_JS_SPACE}]+)[{_JS_SPACE}]*(.+)?")
# An opening line's arguments longer than this are not parsed for a caption
# link (rAllOptions would backtrack over them): the first word is the language.
MAX_ARGS_CHARS = 2_000
_INDENT = re.compile(r"^[ \t]*(?=\S)", re.MULTILINE)
_NEWLINES = re.compile(r"\n*")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block of a body, opening line to closing line."""

    source: str  # as written, with the newline after the closing line (if any)
    prefix: str  # what stands before the fence on its first line (`> `, `- `, indentation): kept in the text
    html: str | None  # its HTML; None: left to the Markdown renderer (in an HTML comment, `highlight:false`)


def code_block_html(code: str, lang: str | None, caption: str = "") -> str:
    """A code block as our Markdown renderer writes one, in a `<figure>` with a caption if it has one."""
    language = f' class="language-{html.escape(lang, quote=True)}"' if lang else ""
    block = f"<pre><code{language}>{html.escape(code, quote=False)}\n</code></pre>\n"
    return f"<figure><figcaption>{caption}</figcaption>{block}</figure>\n" if caption else block


def strip_indent(text: str) -> str:
    """hexo-util's `stripIndent` (the strip-indent package): the smallest indentation of a line removed."""
    indents = _INDENT.findall(text)
    if not indents:
        return text
    shortest = min(len(indent) for indent in indents)
    return re.sub(rf"^[ \t]{{{shortest}}}", "", text, flags=re.MULTILINE) if shortest else text


@dataclass(frozen=True)
class _Opening:
    prefix: str
    fence: str
    args: str


def _opening(line: str) -> _Opening | None:
    """The line as rBacktick's opening reads it, or None."""
    prefix = _OPEN_PREFIX.match(line)
    if prefix is None:
        return None
    fence = _RUN.match(line, prefix.end())[0]
    args = line[prefix.end() + len(fence):].strip(_WS_CHARS)
    if args.endswith("`") or "\r" in args:  # `(?:.*?[^`\s])?`: the arguments never end with a backtick
        return None
    return _Opening(prefix[0], fence, args)


def _closing_fence(line: str) -> str | None:
    """The run of backticks or tildes that closes a fence on this line, or None."""
    prefix = _CLOSE_PREFIX.match(line)
    if prefix is None:
        return None
    fence = _RUN.match(line, prefix.end())[0]
    rest = line[prefix.end() + len(fence):]
    return fence if rest == "" or (len(rest) == 1 and rest in _WS_CHARS) else None


def _comment_spans(text: str) -> tuple[list[int], list[int]]:
    """Where the HTML comments start and end (rCommentEscape, `<!--[\\s\\S]*?-->`), left to right."""
    starts: list[int] = []
    ends: list[int] = []
    position = text.find("<!--")
    while position != -1:
        close = text.find("-->", position + 4)
        if close == -1:
            break
        starts.append(position)
        ends.append(close + 3)
        position = text.find("<!--", close + 3)
    return starts, ends


def _in_comment(starts: list[int], ends: list[int], start: int, end: int) -> bool:
    index = bisect.bisect_left(ends, start + 1)  # the first comment that ends after the block starts
    return index < len(starts) and starts[index] < start and ends[index] > end


def _lang_and_caption(args: str) -> tuple[str | None, str]:
    """The language and the `<figcaption>` content, as the filter reads them (rAllOptions, rLangCaption)."""
    args = args.split("=", 1)[0]
    if not args:
        return None, ""
    # The arguments start with their first word, so the first place these unanchored
    # expressions can match is the start, and if they match anywhere they match there.
    match = (_ALL_OPTIONS.match(args) if len(args) <= MAX_ARGS_CHARS else None) or _LANG_CAPTION.match(args)
    if match is None:
        return None, ""
    caption = ""
    if match[2]:
        caption = f"<span>{match[2]}</span>"
        if match.re is _ALL_OPTIONS and match[3]:
            caption += f'<a href="{html.escape(match[3], quote=True)}">{match[4] or "link"}</a>'
    return match[1], caption


def _code_html(opening: _Opening, code: str) -> str | None:
    options = _ADDITIONAL_OPTIONS.findall(opening.args)
    if any(option.split(":")[0] == "highlight" and option.split(":")[1] != "true" for option in options):
        return None  # Hexo leaves it to marked
    args = _ADDITIONAL_OPTIONS.sub("", opening.args)
    lang, caption = _lang_and_caption(args)
    if ">" in opening.prefix:  # PR #3765: the code's own `>` (as many as the opening's) and a space go
        depth = opening.prefix.count(">")
        code = re.sub(rf"^(?:{_WS}*>){{0,{depth}}}(?:{_WS}|$)", "", code, flags=re.MULTILINE)
    return code_block_html(strip_indent(code), lang, caption)


def split_code_blocks(text: str) -> list[str | CodeBlock]:
    """The body as pieces: text, and each fenced code block as Hexo's backtick_code_block finds it.

    Joining the pieces' text and the blocks' `source` gives `text` back. A
    line is an opening if rBacktick's first line matches it; its block ends at
    the next line closing the same run; an opening without one is text (and
    the lines after it are read for fences again, as the regex does).
    """
    if "```" not in text and "~~~" not in text:
        return [text] if text else []
    lines = text.split("\n")
    offsets = [0]
    for line in lines[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    closings: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        if ("```" in line or "~~~" in line) and (fence := _closing_fence(line)):
            closings.setdefault(fence, []).append(number)
    comment_starts, comment_ends = _comment_spans(text) if "<!--" in text else ([], [])
    pieces: list[str | CodeBlock] = []
    copied = 0  # offset of the text not yet in a piece
    number = 0
    while number < len(lines) - 1:  # an opening needs a line after it
        line = lines[number]
        opening = _opening(line) if ("```" in line or "~~~" in line) else None
        candidates = closings.get(opening.fence, []) if opening else []
        after = bisect.bisect_right(candidates, number)
        if opening is None or after == len(candidates):
            number += 1
            continue
        end = candidates[after]
        start = offsets[number]
        stop = offsets[end] + len(lines[end]) + (1 if end + 1 < len(lines) else 0)
        code = "\n".join(lines[number + 1:end])
        # rBacktick's match ends after all the newlines that follow the closing line
        match_end = _NEWLINES.match(text, stop).end()
        in_comment = _in_comment(comment_starts, comment_ends, start, match_end)
        markup = None if in_comment else _code_html(opening, code)
        if start > copied:
            pieces.append(text[copied:start])
        pieces.append(CodeBlock(text[start:stop], opening.prefix, markup))
        copied = stop
        number = end + 1
    if copied < len(text):
        pieces.append(text[copied:])
    return pieces
