from django.contrib import admin
from django.urls import include, path

from articles import sitemaps
from articles import urls as articles_urls
from articles.page_cache import public_page
from search import urls as search_urls

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
