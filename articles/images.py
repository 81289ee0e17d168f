"""Which of an article's images are worth showing: not a placeholder service's.

The mirror bot that fed the archive gave stories without a picture a random
`picsum.photos` image as their `headimg` and `thumbnail`: a different landscape
on every crawl, unrelated to the story. Listings give such a story a text card
and its page no head image. The hosts are NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS.
Body images are the article's content and are always kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def is_placeholder(url: str) -> bool:
    """Whether `url` is on a placeholder image host (or a subdomain of one)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:  # an unreadable URL (a bad IPv6 literal) is no picture of the story either
        return True
    return any(host == h or host.endswith("." + h) for h in _hosts())


def usable_image(*urls: str) -> str:
    """The first of `urls` that is set and not a placeholder; "" if none is."""
    return next((url for url in urls if url and not is_placeholder(url)), "")


def _hosts() -> list[str]:
    return [host.lower().strip(".") for host in settings.NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS]
