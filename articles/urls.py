from django.urls import path, register_converter

from . import views
from .converters import CategoryPathConverter, TwoDigitConverter, UnicodeSlugConverter, YearConverter

register_converter(UnicodeSlugConverter, "uslug")
register_converter(CategoryPathConverter, "catpath")
register_converter(YearConverter, "yyyy")
register_converter(TwoDigitConverter, "mm")

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("category/<catpath:path>/", views.CategoryView.as_view(), name="category"),
    path("author/<uslug:slug>/", views.AuthorView.as_view(), name="author"),
    path(
        "<yyyy:year>/<mm:month>/<mm:day>/<uslug:slug>/",
        views.ArticleDetailView.as_view(),
        name="article",
    ),
]
