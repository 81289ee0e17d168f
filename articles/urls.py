from django.urls import path, register_converter

from . import feeds, views
from .converters import CategoryPathConverter, TwoDigitConverter, UnicodeSlugConverter, YearConverter

register_converter(UnicodeSlugConverter, "uslug")
register_converter(CategoryPathConverter, "catpath")
register_converter(YearConverter, "yyyy")
register_converter(TwoDigitConverter, "mm")

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("category/", views.CategoryIndexView.as_view(), name="category-index"),
    path("category/<catpath:path>/", views.CategoryView.as_view(), name="category"),
    path("tag/<uslug:slug>/", views.TagView.as_view(), name="tag"),
    path("author/<uslug:slug>/", views.AuthorView.as_view(), name="author"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("archive/", views.ArchiveIndexView.as_view(), name="archive"),
    path("archive/<yyyy:year>/", views.YearArchive.as_view(), name="archive-year"),
    path("archive/<yyyy:year>/<mm:month>/", views.MonthArchive.as_view(), name="archive-month"),
    path("archive/<yyyy:year>/<mm:month>/<mm:day>/", views.DayArchive.as_view(), name="archive-day"),
    path("<yyyy:year>/<mm:month>/<mm:day>/<uslug:slug>/", views.ArticleDetailView.as_view(), name="article"),
    path("preview/<int:pk>/", views.PreviewView.as_view(), name="preview"),
    # Feeds live under /feed/ so that no category or tag name can shadow them.
    path("feed/", feeds.LatestArticlesFeed(), name="feed"),
    path("feed/atom/", feeds.LatestArticlesAtomFeed(), name="feed-atom"),
    path("feed/category/<catpath:path>/", feeds.CategoryFeed(), name="category-feed"),
    path("feed/atom/category/<catpath:path>/", feeds.CategoryAtomFeed(), name="category-feed-atom"),
    path("feed/tag/<uslug:slug>/", feeds.TagFeed(), name="tag-feed"),
    path("feed/atom/tag/<uslug:slug>/", feeds.TagAtomFeed(), name="tag-feed-atom"),
    path("feed/author/<uslug:slug>/", feeds.AuthorFeed(), name="author-feed"),
    path("feed/atom/author/<uslug:slug>/", feeds.AuthorAtomFeed(), name="author-feed-atom"),
]
