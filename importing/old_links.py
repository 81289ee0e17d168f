"""After an import: links to an imported site's old addresses point at the articles themselves.

A Hexo post links to another with `{% post_link slug %}` (importing.site_links
renders it to that post's old address) or by writing the old address by
hand. Every old address answers with a 301 (articles.legacy_urls), but a
link that goes straight to the article spares readers the hop and search
engines the redirect. Only once the whole run is loaded are all the targets
known, so this runs over what the run wrote, at its end.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import unquote

from django.db import transaction

from articles.iterables import batched
from articles.models import Article, LegacyURL

# A root-relative href, with an optional #fragment kept aside.
_HREF = re.compile(r'href="(/[^"#?]*)((?:[?#][^"]*)?)"')
CHUNK = 500


def link_to_articles(article_ids: Iterable[int]) -> int:
    """Rewrite links to old addresses in these articles' bodies to the articles' URLs; returns how many
    articles changed. A link to a draft's old address is left: it leads nowhere public either way."""
    if not LegacyURL.objects.exists():
        return 0
    changed = 0
    for chunk in batched(sorted(set(article_ids)), CHUNK):
        with transaction.atomic():
            changed += _rewrite(Article.objects.filter(pk__in=chunk).only("id", "body"))
    return changed


def _rewrite(articles: Iterable[Article]) -> int:
    articles = [a for a in articles if 'href="/' in a.body]
    paths = {unquote(m.group(1)) for a in articles for m in _HREF.finditer(a.body)}
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
    changed = []
    for article in articles:
        body = _HREF.sub(lambda m: _replaced(m, targets), article.body)
        if body != article.body:
            article.body = body
            changed.append(article)
    Article.objects.bulk_update(changed, ["body"])
    return len(changed)


def _replaced(match: re.Match, targets: dict[str, str]) -> str:
    target = targets.get(unquote(match.group(1)))
    return match.group(0) if target is None else f'href="{target}{match.group(2)}"'
