"""/api/v1/: the endpoints (a router), the OpenAPI schema and its browsable docs."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from api import views

app_name = "api"


class Router(DefaultRouter):
    # JSON is the only format: no /articles.json suffix routes.
    include_format_suffixes = False


router = Router()
router.register("articles", views.ArticleViewSet, basename="article")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("tags", views.TagViewSet, basename="tag")
router.register("authors", views.AuthorViewSet, basename="author")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
