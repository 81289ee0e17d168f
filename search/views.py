"""The search page: ranked results, highlighted, in the site's list layout."""

from __future__ import annotations

from django.utils.functional import cached_property

from articles.content_keys import show_names
from articles.sanitize import EXCERPT_LENGTH as EXCERPT_CHARS
from articles.models import Article
from articles.querysets import load_in_order
from articles.views import ArticleListView

from . import highlighting, query


class SearchView(ArticleListView):
    """Ranked search; the paginator pages ranked ids, then one page is loaded."""

    template_name = "articles/search.html"
    max_query_chars = 100
    query_params = ("q", *ArticleListView.query_params)
    listing_key = "search"  # any article published, changed or withdrawn may change the results

    @cached_property
    def query(self) -> str:
        return self.request.GET.get("q", "").replace("\x00", "").strip()[: self.max_query_chars]

    def get_queryset(self):
        if not self.query or not self.filters_valid:
            return []
        return query.search(self.query, queryset=self.filtered())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.query, result_count=len(self.object_list), highlighting=True,
                                           **kwargs)
        # Bodies stay in the database: a snippet needs only their start (highlighting.SNIPPET_SOURCE_CHARS).
        results = load_in_order(list(context["article_list"]), highlighting.with_snippet_source(Article.objects.all()))
        for article in results:
            article.highlighted_title = highlighting.highlight(article.title, self.query)
            article.highlighted_excerpt = highlighting.snippet(
                article.snippet_source, self.query, max_chars=EXCERPT_CHARS, title=article.title)
        context["article_list"] = context["object_list"] = results
        show_names(results)
        return context

    def show_cards(self, articles) -> None:
        """Ranked ids here: the loaded results are named in get_context_data."""

    def get_seo(self):
        return {"title": f"搜索：{self.query}" if self.query else "搜索", "noindex": True}
