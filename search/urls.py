"""The search page's URL.

Its name stays ``articles:search`` (templates, tests and bookmarks use it):
newsportal/urls.py includes these patterns in the ``articles`` namespace, so
the articles app need not know about search.
"""

from django.urls import path

from articles.page_cache import public_page

from .views import SearchView

urlpatterns = [
    path("search/", public_page(SearchView.as_view()), name="search"),
]
