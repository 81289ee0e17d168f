"""The one HTML sanitiser of the project.

Every article body reaches the database through `sanitize_body`, whichever way
it came in (import, admin, shell): `Article.save()` and the bulk paths of the
importer call it, and nothing else in the project calls nh3.

nh3 (the Python binding of the Rust Ammonia sanitiser) parses with html5ever,
the same HTML5 algorithm browsers use, so entity-, whitespace- and
case-encoded tricks are decoded before the allow-list is applied.
"""

from __future__ import annotations

import difflib
import html
import re
import threading
import unicodedata

import nh3

ALLOWED_TAGS = frozenset(
    {
        # text structure
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
        # emphasis
        "strong", "b", "em", "i", "u", "s", "del", "ins", "mark", "sub", "sup",
        "small", "code", "abbr", "cite", "q",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # tables
        "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
        # media and links
        "figure", "figcaption", "img", "a",
        # Hexo's tag plugins (importing.tag_plugins): a quotation's attribution,
        # and the neutral block that keeps the content of a site's own tag.
        "footer", "section",
    }
)

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope", "align"},
    "td": {"colspan", "rowspan", "align"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed"},
    # What rendered Markdown needs (importing.markdown), each value checked by
    # `_filter_attribute`: a code block's language, a heading's anchor.
    "code": {"class"},
    "section": {"class"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}

# A code block's language, as Markdown's fenced code writes it.
_CODE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
# The block that keeps a Hexo tag plugin's content (importing.tag_plugins): its name.
_SECTION_CLASS = re.compile(r"hexo-tag hexo-tag-[A-Za-z0-9_-]{1,40}")
# A heading's id is a link target (`#标题`), kept only in the form Hexo gives
# it (hexo-util's slugize, importing.markdown.hexo_slug): words of anything
# but white space and punctuation, joined by single hyphens. So ids of other
# sources' HTML (`id="-"`, `id="_x"`) go as before, and so do the page's own
# ids (templates/), which a heading named "main" would otherwise take over
# (the skip link's target).
MAX_ID_CHARS = 200
PAGE_IDS = frozenset({"main", "content-main", "site-search", "related-heading", "language-form",
                      "language-choice", "import-run-link", "import-result",
                      "hot-heading", "filter-tags", "filter-authors",
                      "front-news-heading", "wire-heading", "desk", "desk-title",
                      # the article form's kept-draft banner, conflict and preview panel (#19)
                      "local-draft", "edit-conflict-heading", "article-preview-panel"})
_SLUG_WORD = r"[^\s~`!@#$%^&*()\-_+=\[\]{}|\\;:\"'<>,.?/\x00-\x1f]+"
_ID = re.compile(rf"{_SLUG_WORD}(?:-{_SLUG_WORD})*")
TABLE_ALIGNMENTS = frozenset({"left", "center", "right"})

# Source CDNs (img.cls.cn, sinaimg.cn, …) refuse hot-linked images that send a
# Referer, so every image is forced to `no-referrer`; `lazy` keeps long
# articles cheap to open. Added by `_force_image_attributes`, in this order.
FORCED_ATTRIBUTES = {"img": {"referrerpolicy": "no-referrer", "loading": "lazy"}}

# Tags dropped together with their content: their text is code or chrome, not
# article prose.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "textarea", "select", "iframe",
     "object", "embed", "svg", "math", "title", "noembed", "noframes", "xmp"}
)

URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# A head image or thumbnail, typed in the admin or read by the importer: an
# absolute http(s) URL or a path on this site. "//host/x.png" (and
# "/\host/x.png", which browsers read the same way) is another host's URL
# behind a site path's leading slash, so it is refused.
IMAGE_URL_PATTERN = r"^(?:https?://\S+|/(?![/\\])\S*)$"

# Invisible characters hidden inside a scheme ("java\u200bscript:") and
# full-width look-alikes ("ｊａｖａｓｃｒｉｐｔ:") make a URL that Ammonia reads
# as relative and harmless; a browser or a later tool that normalises the text
# (NFKC, as our own importer does for names) may not. Such URLs are dropped.
_HIDDEN_SCHEME = re.compile(r"^(?:javascript|vbscript|data|file|about):")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """An attribute's value as kept, or None to drop the attribute."""
    if attribute == "class":  # only on <code> and <section>
        pattern = _SECTION_CLASS if tag == "section" else _CODE_CLASS
        return value if pattern.fullmatch(value) else None
    if attribute == "id":  # only on headings; the first of two the same keeps it
        ok = len(value) <= MAX_ID_CHARS and _ID.fullmatch(value) and value not in PAGE_IDS
        seen = _ids_seen.ids
        if not ok or value in seen:
            return None
        seen.add(value)
        return value
    if attribute == "align":  # only on table cells
        return value.lower() if value.lower() in TABLE_ALIGNMENTS else None
    return _drop_hidden_schemes(attribute, value)


def _drop_hidden_schemes(attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not value.isascii():
        visible = "".join(
            ch for ch in unicodedata.normalize("NFKC", value)
            if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs")
        )
        if _HIDDEN_SCHEME.match(visible.lower()):
            return None
    return value


_cleaner = nh3.Cleaner(
    attribute_filter=_filter_attribute,
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)

# An <img> start tag as nh3 writes it: every value double-quoted, with `"`
# escaped; `>` may appear raw inside a value.
_IMG_TAG_END = re.compile(r'(<img(?:\s[^\s="/>]+="[^"]*")*)(\s*/?>)')
_FORCED_IMG_MARKUP = "".join(f' {name}="{value}"' for name, value in FORCED_ATTRIBUTES["img"].items())


def _force_image_attributes(cleaned: str) -> str:
    """Add FORCED_ATTRIBUTES to every image, always in the same order.

    Not nh3's `set_tag_attribute_values`: Ammonia keeps them in a Rust
    HashMap, seeded at random in each process, so the same body came out with
    `loading` and `referrerpolicy` in either order — different bytes between
    two imports, and a phantom body change in the history when an admin save
    re-sanitised a body another process had written. Neither is in
    ALLOWED_ATTRIBUTES, so the cleaner has removed any the input had.
    """
    return _IMG_TAG_END.sub(lambda m: m.group(1) + _FORCED_IMG_MARKUP + m.group(2), cleaned)


# The ids kept so far in the body being cleaned (one body at a time per thread).
_ids_seen = threading.local()


def _clean(raw: str) -> str:
    _ids_seen.ids = set()
    return _force_image_attributes(_cleaner.clean(raw))


# A body with none of these is plain text (wire stories with raw line breaks),
# possibly wrapped in a <div> or with inline links and emphasis.
_BLOCK_TAG = re.compile(
    r"<(?:p|h[1-6]|ul|ol|dl|table|blockquote|pre|figure|br|hr)\b", re.IGNORECASE
)
_EMPTY_PARAGRAPH = re.compile(r"<p>(?:\s|&nbsp;|<br>)*</p>")
_BLOCK_BOUNDARY = re.compile(
    r"</?(?:p|h[1-6]|li|dt|dd|tr|td|th|caption|blockquote|pre|figure|figcaption|br|hr|img)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
# An <img> tag as nh3 serialises it: every attribute value double-quoted, with
# no raw `"` inside (a `>` may be), so the attributes can be told apart.
_IMG_TAG = re.compile(r'<img((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>')
_ALT_ATTRIBUTE = re.compile(r'\salt(?:=|\s|$)')
_SPACE = re.compile(r"\s+")

# U+3000 (ideographic space) is how Chinese sources indent paragraphs; CSS
# indents ours, so it is trimmed like ASCII white space.
_TRIM = " \t\r\n\f\v\u00a0\u3000"


def sanitize_body(raw: str) -> str:
    """Return `raw` as safe HTML for an article body.

    Idempotent: sanitising an already sanitised body returns it unchanged, so
    `Article.save()` can call it on every save.
    """
    if not raw or not raw.strip(_TRIM):
        return ""
    cleaned = _EMPTY_PARAGRAPH.sub("", _clean(raw))
    if not _BLOCK_TAG.search(cleaned):
        cleaned = _EMPTY_PARAGRAPH.sub("", _clean(_lines_to_paragraphs(cleaned)))
    return _with_alt(cleaned.strip())


def _with_alt(cleaned: str) -> str:
    """Give every image without an `alt` an empty one.

    HTML requires the attribute, and screen readers read out the file name of
    an image without it; the sources' body images are illustrations whose
    text, if any, is in the paragraphs around them. An existing alt is kept
    (a forced value would overwrite it).
    """
    # First, not last: nh3 keeps the allowed attributes in their order and
    # `_force_image_attributes` appends its own, so sanitising the result
    # again changes nothing.
    return _IMG_TAG.sub(
        lambda tag: tag[0] if _ALT_ATTRIBUTE.search(tag[1]) else f'<img alt=""{tag[1]}>', cleaned)


def _lines_to_paragraphs(cleaned: str) -> str:
    lines = (line.strip(_TRIM) for line in cleaned.splitlines())
    return "".join(f"<p>{line}</p>" for line in lines if line)


def html_to_text(body_html: str) -> str:
    """Plain text of sanitised HTML, white space collapsed (for excerpts and search)."""
    # Block boundaries become spaces; inline tags vanish, since Chinese puts no
    # space around <strong>财联社</strong>.
    text = _TAG.sub("", _BLOCK_BOUNDARY.sub(" ", body_html))
    return _SPACE.sub(" ", html.unescape(text)).strip(_TRIM)


# Characters of text in an article's excerpt (about two lines of a listing).
EXCERPT_LENGTH = 140


def make_excerpt(body_html: str, length: int = EXCERPT_LENGTH, title: str = "") -> str:
    """The first `length` characters of the body's text, without a leading 【`title`】.

    Cut by characters, not words: Chinese has no spaces between words.
    """
    return excerpt_of_text(html_to_text(body_html), length, title)


def excerpt_of_text(text: str, length: int = EXCERPT_LENGTH, title: str = "") -> str:
    """`make_excerpt` for a body whose `html_to_text` is already known (the importer needs both)."""
    text = strip_repeated_headline(text, title)
    if len(text) <= length:
        return text
    return text[: length - 1].rstrip(_TRIM) + "…"


# A wire story opens with its headline in 【】 ("【央行：加大稳健货币政策实施力度】财联社6月11日电，…"):
# under the same headline on a card, the excerpt would say it twice.
_LEADING_BRACKETED = re.compile(r"^[\s\u3000]*【([^【】]{1,300})】[\s\u3000]*")
# How alike a bracketed lead and the title must be to count as the same headline
# (difflib's ratio): an edited title ("…力度" for "…力度 财联社") still matches,
# a different lead ("【财联社早知道】") does not.
HEADLINE_SIMILARITY = 0.8


def _comparable(text: str) -> str:
    """`text` without spaces, punctuation and symbols, NFKC-normalised and case-folded."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", text).casefold()
        if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZ"
    )


def repeats_headline(lead: str, title: str) -> bool:
    """Whether `lead` says what `title` says: the same, one inside the other, or nearly the same."""
    a, b = _comparable(lead), _comparable(title)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if shorter in longer and len(shorter) >= HEADLINE_SIMILARITY * len(longer):
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= HEADLINE_SIMILARITY


def strip_repeated_headline(text: str, title: str) -> str:
    """`text` without a leading 【…】 that repeats (or nearly repeats) `title`; otherwise `text` as it is."""
    match = _LEADING_BRACKETED.match(text) if title else None
    if match and repeats_headline(match.group(1), title):
        return text[match.end():]
    return text


def split_leading_headline(text: str) -> tuple[str, str]:
    """A wire item's 【headline】 and the text after it: ("央行：…", "财联社6月11日电，…"); ("", text) without one."""
    match = _LEADING_BRACKETED.match(text)
    if not match:
        return "", text
    return match.group(1).strip(), text[match.end():]
