import re

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path
from django.views.static import serve

from articles import sitemaps
from articles import urls as articles_urls
from articles.page_cache import public_page
from search import urls as search_urls



def media(request, path):
    """A stored media file (MEDIA_ROOT), served by the app in development only.

    `django.conf.urls.static.static()` does the same, but decides once, when
    the URLconf is imported; this asks on each request, so the setting (and a
    test's override of it) is what counts. In production the web server or
    the object store serves MEDIA_URL (docs/DEPLOY.md, "Media files").
    """
    if not settings.DEBUG:
        raise Http404("media files are served by the web server")
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", admin.site.urls),
    # set_language: the admin's language choice (a cookie), over the browser's Accept-Language.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("api.urls")),
    path("sitemap.xml", public_page(sitemaps.sitemap_index), name="sitemap-index"),
    path("sitemap-news.xml", public_page(sitemaps.news_sitemap, time_bucket=300), name="sitemap-news"),
    path("sitemap-<str:section>.xml", public_page(sitemaps.sitemap_section, query_params=("p",)), name="sitemap-section"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
    # The public site: the articles app's pages and the search page, in one
    # namespace so the search page keeps its name (articles:search).
    path("", include((articles_urls.urlpatterns + search_urls.urlpatterns, articles_urls.app_name))),
]

if settings.MEDIA_URL.startswith("/") and not settings.MEDIA_URL.startswith("//"):
    # Before the public site's catch-all patterns; an absolute MEDIA_URL (a CDN) is not ours to serve.
    urlpatterns.insert(0, re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media, name="media"))
