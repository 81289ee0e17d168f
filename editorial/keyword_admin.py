"""The admin of keyword suggestions: the dictionary editors extend, and the suggestions they decide on."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from newsroom import operations
from articles.models import Article, KeywordTerm, TagSuggestion
from articles.permissions import can_edit, visible_to


@admin.register(KeywordTerm)
class KeywordTermAdmin(admin.ModelAdmin):
    list_display = ("word", "kind", "updated_at")
    list_filter = ("kind",)
    search_fields = ("word",)
    fields = ("word", "kind")
    list_per_page = 100


def decision_buttons(suggestion: TagSuggestion, *, name: str = "", formaction: bool = True) -> str:
    """Accept and Reject as one-click buttons.

    On the suggestions' list they post the page's own form (it carries the
    CSRF token) to the suggestion's accept or reject URL; on an article's page
    (`formaction=False`) they submit the article's form, saving it as well.
    """
    if suggestion.state != TagSuggestion.State.PENDING:
        return suggestion.get_state_display()
    if formaction:
        accept = reverse("admin:articles_tagsuggestion_accept", args=[suggestion.pk])
        reject = reverse("admin:articles_tagsuggestion_reject", args=[suggestion.pk])
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post">{}</button> '
            '<button type="submit" class="button" formaction="{}" formmethod="post">{}</button>',
            accept, _("Accept"), reject, _("Reject"))
    return format_html(
        '<span class="suggestion">{} <small>({})</small> '
        '<button type="submit" class="button" name="_accept_suggestion" value="{}" title="{}">✓</button> '
        '<button type="submit" class="button" name="_reject_suggestion" value="{}" title="{}">✗</button></span>',
        name or suggestion.name, f"{suggestion.score:.2f}", suggestion.pk, _("Accept"), suggestion.pk, _("Reject"))


@admin.register(TagSuggestion)
class TagSuggestionAdmin(admin.ModelAdmin):
    list_display = ("name", "article_link", "score", "state", "decide", "decided_by", "decided_at")
    list_filter = ("state", "created_at")
    search_fields = ("name", "article__title")
    list_select_related = ("article", "decided_by")
    readonly_fields = ("article", "name", "score", "state", "created_at", "decided_at", "decided_by")
    actions = ("accept_selected", "reject_selected")
    ordering = ("-created_at", "article", "-score")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TagSuggestion]:
        return super().get_queryset(request).filter(article__in=visible_to(request.user, Article.objects.all()))

    @admin.display(description=_("article"), ordering="article__title")
    def article_link(self, suggestion: TagSuggestion) -> str:
        url = reverse("admin:articles_article_change", args=[suggestion.article_id])
        return format_html('<a href="{}">{}</a>', url, suggestion.article.title)

    @admin.display(description=_("decide"))
    def decide(self, suggestion: TagSuggestion) -> str:
        return decision_buttons(suggestion)

    def get_urls(self):
        return [
            path("<int:pk>/accept/", self.admin_site.admin_view(self.decide_view), {"accept": True},
                 name="articles_tagsuggestion_accept"),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.decide_view), {"accept": False},
                 name="articles_tagsuggestion_reject"),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int, accept: bool):
        """One suggestion accepted or rejected (POST only; admin_view checks CSRF and login)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        suggestion = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, suggestion) or not can_edit(request.user, suggestion.article):
            raise PermissionDenied
        if accept:
            operations.accept_suggestions([suggestion], request.user)
            self.message_user(request, _("Tag “%(name)s” added to “%(title)s”.") % {
                "name": suggestion.name, "title": suggestion.article.title}, messages.SUCCESS)
        else:
            operations.reject_suggestions([suggestion], request.user)
            self.message_user(request, _("Suggestion “%(name)s” rejected.") % {"name": suggestion.name},
                              messages.SUCCESS)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:articles_tagsuggestion_changelist")
        return HttpResponseRedirect(back)

    def _editable(self, request: HttpRequest, queryset: QuerySet[TagSuggestion]) -> list[TagSuggestion]:
        return [s for s in queryset.select_related("article") if can_edit(request.user, s.article)]

    @admin.action(description=_("Accept selected suggestions (add them as tags)"), permissions=["change"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[TagSuggestion]) -> None:
        count = operations.accept_suggestions(self._editable(request, queryset), request.user)
        self.message_user(request, ngettext("%d tag added.", "%d tags added.", count) % count, messages.SUCCESS)

    @admin.action(description=_("Reject selected suggestions"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[TagSuggestion]) -> None:
        count = operations.reject_suggestions(self._editable(request, queryset), request.user)
        self.message_user(request, ngettext("%d suggestion rejected.", "%d suggestions rejected.", count) % count,
                          messages.SUCCESS)
