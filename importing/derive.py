"""What an article stores that is computed from its sanitised body.

The excerpt, the search index's tokens and the bylines credited in the
dateline all follow from the body alone: pure CPU, no database. The importer
computes them in its worker processes (importing.pipeline), beside parsing and
sanitising, so the one process that writes to the database does not have to:
it was the slower side of the import, and these took a tenth of its time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.tokens import Document, document_of_text

from newsroom import bylines
from articles.sanitize import (
    EXCERPT_LENGTH, excerpt_of_text, html_to_text, sanitize_body, strip_repeated_headline,
)


@dataclass(frozen=True)
class DerivedBody:
    """A sanitised body and what is derived from it."""

    html: str
    excerpt: str
    document: Document
    # (role, name) of each byline found in the dateline or sign-off, in order.
    dateline_bylines: tuple[tuple[str, str], ...]
    # The excerpt was given (front matter, or the body before `<!-- more -->`),
    # not cut from the body's start: saving the article keeps it.
    excerpt_explicit: bool = False


# Hexo's excerpt marker, exactly as hexo/lib/plugins/filter/after_post_render/excerpt.js
# finds it (the first one, in the rendered body): `<!-- more -->`, `<!--more-->`, any case.
_MORE = re.compile(r"<!-- ?more ?-->", re.IGNORECASE)


def excerpt_before_more(body_html: str) -> str | None:
    """The body before Hexo's `<!-- more -->`, trimmed; None when there is no marker.

    `body_html` is the body as HTML, before the sanitiser (which drops every
    comment): a Markdown body must be rendered first, so that a marker shown
    in code (`` `<!-- more -->` ``) is escaped text there, as it is for Hexo.
    """
    match = _MORE.search(body_html)
    return body_html[: match.start()].strip() if match else None


def derive_from_body(title: str, body_html: str, excerpt_html: str | None = None) -> DerivedBody:
    """Derive everything stored from `body_html`, which must be the sanitiser's output.

    `excerpt_html`, when given and not empty once sanitised, is the excerpt
    (as text, whole: Hexo does not shorten it); else the excerpt is the start
    of the body's text. Either way without a leading 【`title`】.
    """
    text = html_to_text(body_html)  # once, for the excerpt and the search index both
    given = html_to_text(sanitize_body(excerpt_html)) if excerpt_html else ""
    # Neither kind repeats the headline in 【】 under the title (articles.sanitize.strip_repeated_headline).
    excerpt = strip_repeated_headline(given, title) if given else excerpt_of_text(text, EXCERPT_LENGTH, title)
    return DerivedBody(
        html=body_html,
        excerpt=excerpt,
        document=document_of_text(title, text),
        dateline_bylines=tuple(bylines.credits(body_html)),
        excerpt_explicit=bool(given),
    )
