"""After an import: links to an imported site's old addresses point at the articles themselves.

A Hexo post links to another with `{% post_link slug %}` (importing.site_links
renders it to that post's old address) or by writing the old address by
hand. Every old address answers with a 301 (articles.legacy_urls), but a
link that goes straight to the article spares readers the hop and search
engines the redirect. Only once the whole run is loaded are all the targets
known, so this runs over what the run wrote, at its end.
"""

from __future__ import annotations

from typing import Iterable
from urllib.parse import unquote, urlsplit

from django.db import transaction

from articles.iterables import batched
from articles.models import Article, LegacyURL
from importing.assets import rewrite_links

CHUNK = 500
ROOT_RELATIVE_LINK = 'href="/'


def link_to_articles(article_ids: Iterable[int]) -> int:
    """Rewrite links to old addresses in these articles' bodies to the articles' URLs; returns how many
    articles changed. A link to a draft's old address is left: it leads nowhere public either way."""
    if not LegacyURL.objects.exists():
        return 0
    changed = 0
    for chunk in batched(sorted(set(article_ids)), CHUNK):
        with transaction.atomic():
            changed += _rewrite(Article.objects.filter(pk__in=chunk, body__contains=ROOT_RELATIVE_LINK)
                                .only("id", "body"))
    return changed


def _old_path(kind: str, url: str) -> str | None:
    """The path an href names on this site (root-relative, no host), decoded; None for anything else."""
    if kind != "href" or not url.startswith("/") or url.startswith("//"):
        return None
    return unquote(urlsplit(url).path)


def _rewrite(articles: Iterable[Article]) -> int:
    articles = list(articles)
    paths: set[str] = set()
    for article in articles:
        rewrite_links(article.body, lambda kind, url: paths.add(_old_path(kind, url)))  # collects, changes nothing
    paths.discard(None)
    if not paths:
        return 0
    targets = {
        row.path: row.article.get_absolute_url()
        for row in LegacyURL.objects.filter(path__in=paths, article__status=Article.Status.PUBLISHED)
        .select_related("article").only("path", "article__published_date", "article__published_at",
                                         "article__slug")
    }
    if not targets:
        return 0

    def to_article(kind: str, url: str) -> str | None:
        target = targets.get(_old_path(kind, url))
        if target is None:
            return None
        rest = urlsplit(url)
        return target + (f"?{rest.query}" if rest.query else "") + (f"#{rest.fragment}" if rest.fragment else "")

    changed = []
    for article in articles:
        body = rewrite_links(article.body, to_article)
        if body != article.body:
            article.body = body
            changed.append(article)
    Article.objects.bulk_update(changed, ["body"])
    return len(changed)
