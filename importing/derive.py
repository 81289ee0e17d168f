"""What an article stores that is computed from its sanitised body.

The excerpt, the search index's tokens and the bylines credited in the
dateline all follow from the body alone: pure CPU, no database. The importer
computes them in its worker processes (importing.pipeline), beside parsing and
sanitising, so the one process that writes to the database does not have to:
it was the slower side of the import, and these took a tenth of its time.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.tokens import Document, document_of_text

from newsroom import bylines
from articles.sanitize import EXCERPT_LENGTH, excerpt_of_text, html_to_text


@dataclass(frozen=True)
class DerivedBody:
    """A sanitised body and what is derived from it."""

    html: str
    excerpt: str
    document: Document
    # (role, name) of each byline found in the dateline or sign-off, in order.
    dateline_bylines: tuple[tuple[str, str], ...]


def derive_from_body(title: str, body_html: str) -> DerivedBody:
    """Derive everything stored from `body_html`, which must be the sanitiser's output."""
    text = html_to_text(body_html)  # once, for the excerpt and the search index both
    return DerivedBody(
        html=body_html,
        excerpt=excerpt_of_text(text, EXCERPT_LENGTH),
        document=document_of_text(title, text),
        dateline_bylines=tuple(bylines.credits(body_html)),
    )
