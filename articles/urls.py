from django.urls import path, register_converter

from articles import feeds
from articles import views
from articles.page_cache import public_page
from articles.converters import CategoryPathConverter, TwoDigitConverter, UnicodeSlugConverter, YearConverter

register_converter(UnicodeSlugConverter, "uslug")
register_converter(CategoryPathConverter, "catpath")
register_converter(YearConverter, "yyyy")
register_converter(TwoDigitConverter, "mm")

app_name = "articles"

# Every public page goes through public_page (articles.content_version): cached for
# anonymous readers, keyed by the content version, with ETag/Last-Modified.
# Previews are for staff and never cached.
urlpatterns = [
    path("", public_page(views.HomeView.as_view()), name="home"),
    path("category/", public_page(views.CategoryIndexView.as_view()), name="category-index"),
    path("category/<catpath:path>/", public_page(views.CategoryView.as_view()), name="category"),
    path("tag/<uslug:slug>/", public_page(views.TagView.as_view()), name="tag"),
    path("author/<uslug:slug>/", public_page(views.AuthorView.as_view()), name="author"),
    path("wire/", public_page(views.WireView.as_view()), name="wire"),
    path("archive/", public_page(views.ArchiveIndexView.as_view()), name="archive"),
    path("archive/<yyyy:year>/", public_page(views.YearArchive.as_view()), name="archive-year"),
    path("archive/<yyyy:year>/<mm:month>/", public_page(views.MonthArchive.as_view()), name="archive-month"),
    path("archive/<yyyy:year>/<mm:month>/<mm:day>/", public_page(views.DayArchive.as_view()), name="archive-day"),
    path("<yyyy:year>/<mm:month>/<mm:day>/<uslug:slug>/", public_page(views.ArticleDetailView.as_view()), name="article"),
    path("hot/", public_page(views.HotView.as_view()), name="hot"),
    # The filter form's tag and author suggestions (static/js/filters.js), cached as a public page.
    path("filters/choices/", public_page(views.filter_choices), name="filter-choices"),
    # The reading beacon (articles.hot): POST only, never cached, no cookie.
    path("hit/<int:pk>/", views.hit, name="hit"),
    path("preview/<int:pk>/", views.PreviewView.as_view(), name="preview"),
    # Feeds live under /feed/ so that no category or tag name can shadow them.
    path("feed/", public_page(feeds.LatestArticlesFeed()), name="feed"),
    path("feed/atom/", public_page(feeds.LatestArticlesAtomFeed()), name="feed-atom"),
    path("feed/wire/", public_page(feeds.WireFeed()), name="wire-feed"),
    path("feed/atom/wire/", public_page(feeds.WireAtomFeed()), name="wire-feed-atom"),
    path("feed/category/<catpath:path>/", public_page(feeds.CategoryFeed()), name="category-feed"),
    path("feed/atom/category/<catpath:path>/", public_page(feeds.CategoryAtomFeed()), name="category-feed-atom"),
    path("feed/tag/<uslug:slug>/", public_page(feeds.TagFeed()), name="tag-feed"),
    path("feed/atom/tag/<uslug:slug>/", public_page(feeds.TagAtomFeed()), name="tag-feed-atom"),
    path("feed/author/<uslug:slug>/", public_page(feeds.AuthorFeed()), name="author-feed"),
    path("feed/atom/author/<uslug:slug>/", public_page(feeds.AuthorAtomFeed()), name="author-feed-atom"),
]
