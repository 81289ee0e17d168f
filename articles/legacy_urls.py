"""Old addresses of imported articles (LegacyURL) answering with a 301 to the article.

A moved Hexo site's links and search rankings survive: every post's old
address, from the site's `permalink` pattern or the post's own, was recorded
by the import. Like Django's RedirectFallbackMiddleware, this looks only at
requests that would otherwise be a 404, so it costs nothing on every other
page; unlike it, the redirect follows the article (its URL may change since)
and goes only to a published one: a draft or a future post has no public
address, old or new.
"""

from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from articles.models import Article, LegacyURL

MAX_PATH_CHARS = LegacyURL._meta.get_field("path").max_length


def candidate_paths(path: str) -> list[str]:
    """The forms an old address may be asked for: as recorded, and as static hosting also served it.

    `/a/b/` was the file `/a/b/index.html` on the old host; `/a/b.html` may
    have been linked without `.html` (Hexo's `pretty_urls`), and a link may
    lack the trailing slash.
    """
    forms = [path]
    if path.endswith("/index.html"):
        forms.append(path[: -len("index.html")])
    elif path.endswith(".html"):
        forms.append(path[: -len(".html")] + "/")
    elif path.endswith("/"):
        forms.extend([path + "index.html", path[:-1] + ".html"])
    else:
        forms.extend([path + "/", path + ".html"])
    return forms


def redirect_for(path: str) -> HttpResponsePermanentRedirect | None:
    """A 301 from an old address to its published article; None if there is none."""
    if "\x00" in path or len(path) > MAX_PATH_CHARS:
        return None  # no old address holds these, and PostgreSQL refuses a NUL in a query
    forms = candidate_paths(path)
    rows = {row.path: row for row in LegacyURL.objects.filter(path__in=forms).only("path", "article_id")}
    for form in forms:
        row = rows.get(form)
        if row is None:
            continue
        article = Article.objects.published().filter(pk=row.article_id).first()
        if article is None:
            return None
        target = article.get_absolute_url()
        return None if target == path else HttpResponsePermanentRedirect(target)
    return None


class LegacyURLMiddleware:
    """Turns a 404 for an imported article's old address into a 301 to the article."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        return redirect_for(request.path) or response
