"""Public pages. Everything here reads `Article.objects.published()`."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from .models import Article, Author, Category

PAGE_SIZE = 20


def listing(queryset):
    return queryset.select_related("author").order_by("-published_at", "-id")


class HomeView(ListView):
    template_name = "articles/article_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return listing(Article.objects.published())


class CategoryView(ListView):
    template_name = "articles/article_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.category = get_object_or_404(Category, path=self.kwargs["path"])
        # An article is linked to every node of its chains, so one category
        # id covers the whole subtree.
        return listing(Article.objects.published().filter(categories=self.category))

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.category.path_display, **kwargs)


class AuthorView(ListView):
    template_name = "articles/article_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return listing(Article.objects.published().filter(author=self.author))

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.author.name, **kwargs)


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"

    def get_object(self, queryset=None):
        try:
            day = dt.date(self.kwargs["year"], self.kwargs["month"], self.kwargs["day"])
        except ValueError as exc:
            raise Http404("No such date") from exc
        return get_object_or_404(
            Article.objects.published().select_related("author"),
            published_date=day, slug=self.kwargs["slug"],
        )
